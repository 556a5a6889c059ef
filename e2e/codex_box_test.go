//go:build e2e

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

// agentBox is a throwaway world for an agent CLI other than Claude Code
// (Codex, Gemini CLI): a HOME of its own with a project directory in it,
// the rampart binary under test, and an environment built from scratch
// (nothing is inherited but PATH), so neither the user's config folders nor
// their API keys can leak in.
type agentBox struct {
	t       *testing.T
	agent   string // the agent's name in Rampart: codex, gemini
	home    string
	project string
	rampart string
	env     []string
}

// newAgentBox makes the throwaway HOME; extraEnv is added to the
// environment of every command run in it.
func newAgentBox(t *testing.T, agent string, extraEnv ...string) *agentBox {
	t.Helper()
	home, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := &agentBox{t: t, agent: agent, home: home, project: filepath.Join(home, "project"), rampart: rampartBinary(t)}
	for _, dir := range []string{b.project, filepath.Join(home, "tmp")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b.env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"TMPDIR=" + filepath.Join(home, "tmp"),
		"SHELL=/bin/bash",
		"LANG=C.UTF-8",
		"RAMPART_HOME=" + b.rampartHome(),
	}, extraEnv...)
	return b
}

func (b *agentBox) rampartHome() string { return filepath.Join(b.home, ".rampart") }

// rampartCmd is the rampart binary with args, run in the project with the
// box's environment.
func (b *agentBox) rampartCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(b.rampart, args...)
	cmd.Dir = b.project
	cmd.Env = b.env
	return cmd
}

// setup runs `rampart setup AGENT args...` and fails the test unless it
// succeeds.
func (b *agentBox) setup(args ...string) string {
	b.t.Helper()
	out, err := b.rampartCmd(append([]string{"setup", b.agent}, args...)...).CombinedOutput()
	if err != nil {
		b.t.Fatalf("rampart setup %s %s: %v\n%s", b.agent, strings.Join(args, " "), err, out)
	}
	b.t.Logf("rampart setup %s:\n%s", b.agent, out)
	return string(out)
}

// check asks `rampart check --json args...` what the policy decides, and
// fails the test unless it is want: no case may run a call it meant to be
// blocked because a policy changed.
func (b *agentBox) check(want string, args ...string) decision {
	b.t.Helper()
	out, err := b.rampartCmd(append([]string{"check", "--json"}, args...)...).Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		b.t.Fatalf("rampart check %s: %v", strings.Join(args, " "), err)
	}
	var d decision
	if err := json.Unmarshal(out, &d); err != nil {
		b.t.Fatalf("rampart check %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if d.Decision != want {
		b.t.Fatalf("rampart check %s: %s (%s/%s), the test needs %s", strings.Join(args, " "), d.Decision, d.Policy, d.Rule, want)
	}
	return d
}

// wantAudited checks that the audit trail holds d, decided for this agent,
// for the call whose field (command or path) is value.
func (b *agentBox) wantAudited(d decision, tool, field, value string) {
	b.t.Helper()
	g := &guarded{sandbox: &sandbox{t: b.t, home: b.home}}
	rec := g.auditDecision(tool, field, value)
	for key, want := range map[string]string{"decision": d.Decision, "policy": d.Policy, "rule": d.Rule, "agent": b.agent, "adapter": "hook/" + b.agent} {
		if got, _ := rec[key].(string); got != want {
			b.t.Errorf("audit record of %s %s: %s = %q, want %q", tool, value, key, got, want)
		}
	}
}

// fakeKey writes a fake SSH private key into the box's ~/.ssh and returns
// its path and the unique marker string inside it.
func (b *agentBox) fakeKey() (path, secret string) {
	g := &guarded{sandbox: &sandbox{t: b.t, home: b.home}}
	return g.fakeKey()
}

// runResult is the outcome of one headless agent run.
type runResult struct {
	Stdout, Stderr string
	Elapsed        time.Duration
}

// run runs argv in the project with the box's environment, in a process
// group of its own that is killed when timeout passes, and fails the test
// if it times out or exits non-zero.
func (b *agentBox) run(timeout time.Duration, argv ...string) runResult {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = b.project
	cmd.Env = b.env
	cmd.Stdin = nil // /dev/null
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	res := runResult{Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		b.t.Fatalf("%s did not finish within %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(argv[0]), timeout, res.Stdout, res.Stderr)
	}
	if err != nil {
		b.t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(argv, " "), err, res.Stdout, res.Stderr)
	}
	b.t.Logf("%s ran in %v", filepath.Base(argv[0]), res.Elapsed.Round(time.Millisecond))
	return res
}

// wantReasonReached checks that the text the model got back for a denied
// call carries the deny's rule and message.
func wantReasonReached(t *testing.T, got string, d decision) {
	t.Helper()
	t.Logf("what the model read for the denied call: %q", got)
	for _, want := range []string{d.Policy + "/" + d.Rule, d.Message} {
		if !strings.Contains(got, want) {
			t.Errorf("the model's tool output %q does not carry %q", got, want)
		}
	}
}

// agentBinary returns the executable named by env, failing the test when
// there is none: the suite must not pass by testing nothing.
func agentBinary(t *testing.T, env, install string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		t.Fatalf("%s is not set: run `make e2e`, or export %s=\"$(%s)\"", env, env, install)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		t.Fatalf("%s=%s is not an executable file", env, path)
	}
	return path
}
