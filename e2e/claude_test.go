//go:build e2e

// Package e2e runs the real Claude Code CLI headless against a fake Anthropic
// Messages API (see [fakeAPI]) to prove that Rampart's Claude Code hook
// stops what policy denies and lets the rest run.
//
// It only builds with the e2e tag: `make e2e` installs the pinned Claude Code
// (scripts/install-claude-code.sh), sets RAMPART_E2E_CLAUDE to its binary and
// runs `go test -tags e2e ./e2e/...`. Every run uses a throwaway HOME (and so
// a throwaway ~/.claude and ~/.rampart); nothing of the user's is read or
// written.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// claudeTimeout bounds one headless Claude Code run: a hang fails the test.
const claudeTimeout = 90 * time.Second

// claudeBinary returns the Claude Code executable named by RAMPART_E2E_CLAUDE,
// failing the test when there is none: the suite must not pass by testing
// nothing.
func claudeBinary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("RAMPART_E2E_CLAUDE")
	if path == "" {
		t.Fatal("RAMPART_E2E_CLAUDE is not set: run `make e2e`, or export RAMPART_E2E_CLAUDE=\"$(scripts/install-claude-code.sh)\"")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("RAMPART_E2E_CLAUDE: %v", err)
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		t.Fatalf("RAMPART_E2E_CLAUDE=%s is not an executable file", path)
	}
	return path
}

// sandbox is one throwaway world for Claude Code: a HOME of its own with a
// project directory in it, and the fake API it talks to.
type sandbox struct {
	t       testing.TB
	claude  string
	api     *fakeAPI
	home    string // the throwaway HOME
	project string // the working directory, $HOME/project
	caFile  string // the fake web server's certificate
	// extraEnv is added to the environment of every run.
	extraEnv []string
}

// newSandbox makes a throwaway HOME for a Claude Code run against api.
func newSandbox(t testing.TB, api *fakeAPI) *sandbox {
	t.Helper()
	s := &sandbox{t: t, claude: claudeBinary(t), api: api}
	// Resolve symlinks so the paths Claude Code reports are the ones we know.
	home, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.home = home
	s.project = filepath.Join(home, "project")
	for _, dir := range []string{s.project, s.claudeDir(), filepath.Join(home, "tmp")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.caFile = filepath.Join(home, "fake-api-ca.pem")
	if err := os.WriteFile(s.caFile, api.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// claudeDir is Claude Code's configuration directory in the sandbox.
func (s *sandbox) claudeDir() string { return filepath.Join(s.home, ".claude") }

// rampartHome is RAMPART_HOME in the sandbox.
func (s *sandbox) rampartHome() string { return filepath.Join(s.home, ".rampart") }

// environ is the whole environment of a run: nothing is inherited but PATH,
// so neither the user's CLAUDE_CONFIG_DIR nor their API key can leak in.
func (s *sandbox) environ() []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + s.home,
		"TMPDIR=" + filepath.Join(s.home, "tmp"),
		"SHELL=/bin/bash",
		"LANG=C.UTF-8",
		"RAMPART_HOME=" + s.rampartHome(),
		"ANTHROPIC_BASE_URL=" + s.api.URL(),
		"ANTHROPIC_API_KEY=dummy",
		"IS_SANDBOX=1", // lets root use --dangerously-skip-permissions
		"DISABLE_AUTOUPDATER=1",
		"DISABLE_TELEMETRY=1",
		"DISABLE_ERROR_REPORTING=1",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		// Offer every tool up front instead of behind ToolSearch, so the
		// fake model can call WebFetch and MCP tools directly.
		"ENABLE_TOOL_SEARCH=false",
		"NODE_EXTRA_CA_CERTS=" + s.caFile,
	}
	return append(env, s.extraEnv...)
}

// writeJSON writes v as indented JSON to path, making its directory.
func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// claudeResult is the outcome of one headless run.
type claudeResult struct {
	Stdout, Stderr string
	Elapsed        time.Duration
	// Output is the --output-format json document: "result", "is_error", ...
	Output map[string]any
}

// run runs `claude -p prompt --dangerously-skip-permissions --output-format
// json args...` in the project directory and fails the test if it does not
// finish within [claudeTimeout] or exits non-zero.
func (s *sandbox) run(prompt string, args ...string) claudeResult {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), claudeTimeout)
	defer cancel()
	argv := append([]string{"-p", prompt, "--dangerously-skip-permissions", "--output-format", "json"}, args...)
	cmd := exec.CommandContext(ctx, s.claude, argv...)
	cmd.Dir = s.project
	cmd.Env = s.environ()
	cmd.Stdin = nil // /dev/null: claude -p would add a piped stdin to the prompt
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its own process group, so a timeout also ends the hooks and shells it
	// started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	err := cmd.Run()
	res := claudeResult{Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		s.dumpRequests()
		s.t.Fatalf("claude did not finish within %v\nstdout:\n%s\nstderr:\n%s", claudeTimeout, res.Stdout, res.Stderr)
	}
	if err != nil {
		s.dumpRequests()
		s.t.Fatalf("claude %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(argv, " "), err, res.Stdout, res.Stderr)
	}
	if err := json.Unmarshal(stdout.Bytes(), &res.Output); err != nil {
		s.t.Fatalf("claude printed no JSON result: %v\nstdout:\n%s\nstderr:\n%s", err, res.Stdout, res.Stderr)
	}
	s.t.Logf("claude ran in %v (%d API requests)", res.Elapsed.Round(time.Millisecond), len(s.api.Requests()))
	return res
}

// dumpRequests logs the requests the fake API received, for a failing run.
func (s *sandbox) dumpRequests() {
	for i, r := range s.api.Requests() {
		s.t.Logf("request %d: %s %s model=%s stream=%v main=%v (%d bytes)", i+1, r.Method, r.Path, r.Model, r.Stream, r.Main, len(r.Body))
	}
}
