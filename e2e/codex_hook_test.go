//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// codexTimeout bounds one headless Codex run: a hang fails the test.
const codexTimeout = 90 * time.Second

// codexBox is an agentBox whose Codex talks to a fake Responses API and
// has Rampart's hooks, installed and trusted by `rampart setup codex`.
type codexBox struct {
	*agentBox
	codex string
	api   *fakeResponses
	// config is config.toml as written before setup trusted the hooks.
	config string
}

// newCodexBox writes Codex's config.toml (a model provider at the fake
// API, no update check, no analytics) and runs `rampart setup codex` with
// the real codex, which trusts the hooks through its app server: the runs
// use no --dangerously-bypass-hook-trust.
func newCodexBox(t *testing.T, script ...codexCall) *codexBox {
	t.Helper()
	codex := agentBinary(t, "RAMPART_E2E_CODEX", "scripts/install-codex.sh")
	api := newFakeResponses(t, script...)
	b := &codexBox{agentBox: newAgentBox(t, "codex", "RAMPART_E2E_FAKE_KEY=dummy"), codex: codex, api: api}
	b.env = append(b.env, "CODEX_HOME="+b.codexHome())
	config := fmt.Sprintf(`model = "gpt-5.5"
model_provider = "fake"
check_for_update_on_startup = false

[analytics]
enabled = false

[feedback]
enabled = false

[model_providers.fake]
name = "fake"
base_url = %q
wire_api = "responses"
env_key = "RAMPART_E2E_FAKE_KEY"
request_max_retries = 0
stream_max_retries = 0
`, api.BaseURL())
	b.config = config
	if err := os.MkdirAll(b.codexHome(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.codexHome(), "config.toml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	out := b.setup("--codex", codex)
	if !strings.Contains(out, "trusted 2 hook(s)") {
		t.Fatalf("rampart setup codex did not trust its hooks:\n%s", out)
	}
	return b
}

func (b *codexBox) codexHome() string { return filepath.Join(b.home, ".codex") }

// run runs `codex exec` headless, without sandbox or approvals (the hook is
// what stops calls), with --strict-config so a config key this Codex does
// not know fails the run.
func (b *codexBox) run(prompt string) runResult {
	b.t.Helper()
	return b.agentBox.run(codexTimeout, b.codex, "exec", "--strict-config", "--skip-git-repo-check",
		"--dangerously-bypass-approvals-and-sandbox", prompt)
}

// wantOutput returns what the model read as call id's output.
func (b *codexBox) wantOutput(id string) string {
	b.t.Helper()
	out, ok := b.api.Output(id)
	if !ok {
		b.t.Fatalf("the model never got an output for %s", id)
	}
	return out
}

// TestCodexHook runs the real Codex CLI with Rampart's hooks, as `rampart
// setup codex` installs and trusts them, and the standard profile: what the
// policy denies never runs and the model is told why, what it allows runs,
// a patch is judged file by file, and every decision is in the audit trail.
// Every tool call is checked with `rampart check` first; the commands are
// harmless even if they ran.
func TestCodexHook(t *testing.T) {
	t.Run("denied command does not run", func(t *testing.T) {
		marker := "marker-denied"
		b := newCodexBox(t)
		_, secret := b.fakeKey()
		command := "touch " + filepath.Join(b.home, marker) + " && cat ~/.ssh/id_rsa"
		d := b.check("deny", "--", command)
		b.api.setScript(codexCall{ID: "call_deny", Name: "exec_command", Args: map[string]any{"cmd": command}})

		b.run("Show me my SSH key.")

		if exists(filepath.Join(b.home, marker)) {
			t.Errorf("the denied command ran: %s exists", marker)
		}
		out := b.wantOutput("call_deny")
		if !strings.HasPrefix(out, "Command blocked by PreToolUse hook: Rampart blocked this Bash call") {
			t.Errorf("output of the denied call: %q", out)
		}
		wantReasonReached(t, out, d)
		if b.api.Sent(secret) {
			t.Error("the secret reached the model")
		}
		b.wantAudited(d, "exec", "command", command)
	})

	t.Run("allowed command runs", func(t *testing.T) {
		b := newCodexBox(t)
		marker := filepath.Join(b.home, "marker-allowed")
		command := "touch " + marker
		d := b.check("allow", "--", command)
		b.api.setScript(codexCall{ID: "call_allow", Name: "exec_command", Args: map[string]any{"cmd": command}})

		b.run("Create the marker file.")

		if !exists(marker) {
			t.Errorf("the allowed command did not run: %s is missing", marker)
		}
		if out := b.wantOutput("call_allow"); !strings.Contains(out, "Process exited with code 0") {
			t.Errorf("output of the allowed command: %q", out)
		}
		b.wantAudited(d, "exec", "command", command)
	})

	t.Run("a patch that writes a policy file does not apply", func(t *testing.T) {
		b := newCodexBox(t)
		policy := filepath.Join(b.rampartHome(), "policies", "relax.yaml")
		notes := filepath.Join(b.project, "notes.txt")
		d := b.check("deny", "--tool", "write", "--", policy)
		patch := "*** Begin Patch\n*** Add File: notes.txt\n+harmless\n*** Add File: " + policy + "\n+default_action: allow\n*** End Patch\n"
		b.api.setScript(codexCall{ID: "call_patch", Name: "apply_patch", Input: patch})

		b.run("Relax the Rampart policy.")

		for _, p := range []string{policy, notes} {
			if exists(p) {
				t.Errorf("the denied patch was applied: %s exists", p)
			}
		}
		wantReasonReached(t, b.wantOutput("call_patch"), d)
		b.wantAudited(d, "write", "path", policy)
		b.wantAudited(decision{Decision: "allow"}, "write", "path", notes)
	})

	t.Run("setup --remove takes the trust records out again", func(t *testing.T) {
		b := newCodexBox(t)
		config := filepath.Join(b.codexHome(), "config.toml")
		if data, _ := os.ReadFile(config); !strings.Contains(string(data), "trusted_hash") {
			t.Fatalf("no trust records in config.toml:\n%s", data)
		}
		b.setup("--remove", "--codex", b.codex)
		if data, _ := os.ReadFile(config); string(data) != b.config {
			t.Errorf("config.toml after remove:\n%s\nwant the original bytes:\n%s", data, b.config)
		}
		out, err := b.rampartCmd("setup", "codex", "--check", "--codex", b.codex).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "FAIL PreToolUse: no Rampart hook") {
			t.Errorf("--check after remove: %v\n%s", err, out)
		}
	})

	t.Run("an allowed patch applies", func(t *testing.T) {
		b := newCodexBox(t)
		notes := filepath.Join(b.project, "notes.txt")
		b.check("allow", "--tool", "write", "--", notes)
		b.api.setScript(codexCall{ID: "call_patch_ok", Name: "apply_patch", Input: "*** Begin Patch\n*** Add File: notes.txt\n+hello\n*** End Patch\n"})

		b.run("Write the notes.")

		if data, err := os.ReadFile(notes); err != nil || string(data) != "hello\n" {
			t.Errorf("the allowed patch was not applied: %q %v", data, err)
		}
	})
}
