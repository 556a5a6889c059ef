//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var rampartShBuild = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(filepath.Dir(rampartBuild.path), "rampart-sh")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/rampart-sh")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{string(out), err}
	}
	return bin, nil
})

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string {
	return "go build ./cmd/rampart-sh: " + e.err.Error() + "\n" + e.out
}

// TestClaudeCodeShellPrefix runs the real Claude Code with
// CLAUDE_CODE_SHELL_PREFIX=rampart-sh and no hooks: Claude Code hands its
// whole wrapped command line to rampart-sh, which judges the model's
// command inside it. Allowed commands run as with bash; denied ones do not
// run and the model sees why.
func TestClaudeCodeShellPrefix(t *testing.T) {
	rampartBinary(t) // rampart-sh is built next to it
	sh, err := rampartShBuild()
	if err != nil {
		t.Fatal(err)
	}
	s := newSandbox(t, newFakeAPI(t))
	s.extraEnv = []string{"CLAUDE_CODE_SHELL_PREFIX=" + sh}
	ok := filepath.Join(s.home, "marker-allowed")
	bad := filepath.Join(s.home, "marker-denied")
	if err := os.MkdirAll(filepath.Join(s.home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.home, ".ssh", "id_rsa"), []byte("FAKE-KEY-E2E-PREFIX\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.api.SetScript(
		turn{toolUses: []toolUse{{ID: "toolu_prefix_ok", Name: "Bash", Input: map[string]any{
			"command": "touch " + ok + " && echo 'it ran' | tr a-z A-Z", "description": "allowed"}}}},
		turn{toolUses: []toolUse{{ID: "toolu_prefix_bad", Name: "Bash", Input: map[string]any{
			"command": "touch " + bad + " && cat ~/.ssh/id_rsa", "description": "denied"}}}},
	)
	s.run("Run two commands.")

	if !exists(ok) {
		t.Error("the allowed command did not run")
	}
	if res, found := s.api.ToolResult("toolu_prefix_ok"); !found || res.IsError || !strings.Contains(res.Text, "IT RAN") {
		t.Errorf("allowed tool_result: %+v", res)
	}
	if exists(bad) {
		t.Error("the denied command ran")
	}
	res, found := s.api.ToolResult("toolu_prefix_bad")
	if !found || !strings.Contains(res.Text, "rampart: blocked: touch "+bad+" && cat ~/.ssh/id_rsa") || strings.Contains(res.Text, "FAKE-KEY") {
		t.Errorf("denied tool_result: %+v", res)
	}
	// The trail holds the model's commands, unwrapped from Claude Code's
	// own wrapper.
	files, _ := filepath.Glob(filepath.Join(s.rampartHome(), "audit", "*.jsonl"))
	var trail strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		trail.Write(data)
	}
	for _, want := range []string{
		`"adapter":"shell/claude-code-prefix","agent":"claude-code"`,
		`"command":"touch ` + ok + ` \u0026\u0026 echo 'it ran' | tr a-z A-Z"`,
		`"decision":"deny","policy":"standard"`,
	} {
		if !strings.Contains(trail.String(), want) {
			t.Errorf("audit trail lacks %s:\n%s", want, trail.String())
		}
	}
	if strings.Contains(trail.String(), "shell-snapshots") {
		t.Errorf("the wrapper, not the model's command, was recorded:\n%s", trail.String())
	}
}
