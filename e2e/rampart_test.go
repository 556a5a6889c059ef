//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The rampart binary under test, built once per test run from this checkout.
var rampartBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// rampartBinary builds ./cmd/rampart (once) and returns its absolute path.
func rampartBinary(t testing.TB) string {
	t.Helper()
	rampartBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "rampart-e2e-bin-")
		if err != nil {
			rampartBuild.err = err
			return
		}
		rampartBuild.dir = dir
		rampartBuild.path = filepath.Join(dir, "rampart")
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		// rampart-hook next to rampart, as make install puts them: setup
		// then installs hooks that run rampart-hook, the small program.
		for _, pkg := range []string{"rampart", "rampart-hook"} {
			cmd := exec.Command(goTool, "build", "-o", filepath.Join(dir, pkg), "./cmd/"+pkg)
			cmd.Dir = ".." // the module root
			if out, err := cmd.CombinedOutput(); err != nil {
				rampartBuild.err = errors.New("go build ./cmd/" + pkg + ": " + err.Error() + "\n" + string(out))
				return
			}
		}
	})
	if rampartBuild.err != nil {
		t.Fatal(rampartBuild.err)
	}
	return rampartBuild.path
}

// removeRampartBuild removes the binary [rampartBinary] built, if any.
func removeRampartBuild() {
	if rampartBuild.dir != "" {
		os.RemoveAll(rampartBuild.dir)
	}
}

// guarded is a sandbox whose Claude Code has Rampart's hook, installed by
// `rampart setup claude-code`.
type guarded struct {
	*sandbox
	rampart string
}

// newGuarded makes a sandbox and runs `rampart setup claude-code` in it.
func newGuarded(t *testing.T) *guarded {
	t.Helper()
	g := &guarded{sandbox: newSandbox(t, newFakeAPI(t)), rampart: rampartBinary(t)}
	out, err := g.rampartCmd("setup", "claude-code").CombinedOutput()
	if err != nil {
		t.Fatalf("rampart setup claude-code: %v\n%s", err, out)
	}
	settings, err := os.ReadFile(filepath.Join(g.claudeDir(), "settings.json"))
	if err != nil {
		t.Fatalf("rampart setup claude-code wrote no settings: %v\n%s", err, out)
	}
	if hook := g.rampart + "-hook claude-code"; !bytes.Contains(settings, []byte(hook)) {
		t.Fatalf("settings.json after rampart setup claude-code has no hook running %s:\n%s", hook, settings)
	}
	return g
}

// rampartCmd is the rampart binary with args, run in the sandbox's project
// with its environment.
func (g *guarded) rampartCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(g.rampart, args...)
	cmd.Dir = g.project
	cmd.Env = g.environ()
	return cmd
}

// decision is the engine's answer as `rampart check --json` prints it.
type decision struct {
	Decision string `json:"decision"`
	Policy   string `json:"policy"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
}

// check asks `rampart check --json args...` in the sandbox what the policy
// decides, and fails the test unless it is want. Every case checks its tool
// call this way before Claude Code may run it, so a policy change can never
// make a test run something it meant to be blocked.
func (g *guarded) check(want string, args ...string) decision {
	g.t.Helper()
	out, err := g.rampartCmd(append([]string{"check", "--json"}, args...)...).Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		g.t.Fatalf("rampart check %s: %v", strings.Join(args, " "), err)
	}
	var d decision
	if err := json.Unmarshal(out, &d); err != nil {
		g.t.Fatalf("rampart check %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if d.Decision != want {
		g.t.Fatalf("rampart check %s: %s (%s/%s), the test needs %s", strings.Join(args, " "), d.Decision, d.Policy, d.Rule, want)
	}
	return d
}

// auditRecords reads every record of $RAMPART_HOME/audit/*.jsonl.
func (g *guarded) auditRecords() []map[string]any {
	g.t.Helper()
	files, err := filepath.Glob(filepath.Join(g.rampartHome(), "audit", "*.jsonl"))
	if err != nil {
		g.t.Fatal(err)
	}
	var records []map[string]any
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			g.t.Fatal(err)
		}
		scanner := bufio.NewScanner(f)
		scanner.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
		for n := 1; scanner.Scan(); n++ {
			var rec map[string]any
			if err := json.Unmarshal(scanner.Bytes(), &rec); err != nil {
				g.t.Errorf("%s:%d: not a JSON record: %v", file, n, err)
				continue
			}
			records = append(records, rec)
		}
		f.Close()
		if err := scanner.Err(); err != nil {
			g.t.Fatalf("%s: %v", file, err)
		}
	}
	return records
}

// auditDecision returns the audit record of a decision on the call whose
// field (command or path) is value, failing the test if there is none.
func (g *guarded) auditDecision(tool, field, value string) map[string]any {
	g.t.Helper()
	records := g.auditRecords()
	for _, rec := range records {
		if rec["tool"] == tool && rec[field] == value && rec["decision"] != nil && rec["decision"] != "" {
			return rec
		}
	}
	for _, rec := range records {
		g.t.Logf("audit record: %v", rec)
	}
	g.t.Fatalf("no audit record of a decision on %s %s=%q among %d records", tool, field, value, len(records))
	return nil
}

// wantAudited checks that the audit trail holds d for the call.
func (g *guarded) wantAudited(d decision, tool, field, value string) {
	g.t.Helper()
	rec := g.auditDecision(tool, field, value)
	for key, want := range map[string]string{
		"decision": d.Decision, "policy": d.Policy, "rule": d.Rule, "agent": "claude-code",
	} {
		if got, _ := rec[key].(string); got != want {
			g.t.Errorf("audit record of %s %s: %s = %q, want %q", tool, value, key, got, want)
		}
	}
}

// wantBlocked checks that the model got an error tool_result for id that
// carries the deny's rule and message.
func (g *guarded) wantBlocked(id string, d decision) {
	g.t.Helper()
	res, ok := g.api.ToolResult(id)
	if !ok {
		g.t.Fatalf("the model never got a tool_result for %s", id)
	}
	g.t.Logf("tool_result of the denied call: %q", res.Text)
	if !res.IsError {
		g.t.Errorf("tool_result of the denied call is not an error: %q", res.Text)
	}
	for _, want := range []string{d.Policy + "/" + d.Rule, d.Message} {
		if !strings.Contains(res.Text, want) {
			g.t.Errorf("tool_result %q does not carry %q", res.Text, want)
		}
	}
}

// wantNeverSent fails the test if secret appears in any request that
// reached the fake API: the model must never see it.
func (g *guarded) wantNeverSent(secret string) {
	g.t.Helper()
	for i, r := range g.api.Requests() {
		if strings.Contains(r.Body, secret) {
			g.t.Errorf("request %d (%s %s) carries the secret %q", i+1, r.Method, r.Path, secret)
		}
	}
}

// fakeKey writes a fake SSH private key into the sandbox's ~/.ssh and
// returns its path and the unique marker string inside it.
func (g *guarded) fakeKey() (path, secret string) {
	g.t.Helper()
	secret = "RAMPART-E2E-SECRET-" + rand.Text()
	path = filepath.Join(g.home, ".ssh", "id_rsa")
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + secret + "\n-----END OPENSSH PRIVATE KEY-----\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
		g.t.Fatal(err)
	}
	return path, secret
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
