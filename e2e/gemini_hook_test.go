//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// geminiTimeout bounds one headless Gemini CLI run: a hang fails the test.
const geminiTimeout = 120 * time.Second

// geminiBox is an agentBox whose Gemini CLI talks to a fake Gemini API and
// has Rampart's hooks, installed by `rampart setup gemini`.
type geminiBox struct {
	*agentBox
	gemini string
	api    *fakeGemini
}

// newGeminiBox writes Gemini CLI's settings.json (API-key auth, a fixed
// model so no routing request is made, no folder trust prompt, updates and
// usage statistics off) and runs `rampart setup gemini`, which adds its
// hooks to that file.
func newGeminiBox(t *testing.T) *geminiBox {
	t.Helper()
	gemini := agentBinary(t, "RAMPART_E2E_GEMINI", "scripts/install-gemini.sh")
	api := newFakeGemini(t)
	b := &geminiBox{agentBox: newAgentBox(t, "gemini",
		"GEMINI_API_KEY=dummy",
		"GOOGLE_GEMINI_BASE_URL="+api.URL(),
		"GEMINI_SANDBOX=false",
		"GEMINI_CLI_NO_RELAUNCH=true",
		"GEMINI_TELEMETRY_ENABLED=false",
	), gemini: gemini, api: api}
	writeJSON(t, filepath.Join(b.home, ".gemini", "settings.json"), map[string]any{
		"security":  map[string]any{"auth": map[string]any{"selectedType": "gemini-api-key"}, "folderTrust": map[string]any{"enabled": false}},
		"general":   map[string]any{"enableAutoUpdate": false, "enableAutoUpdateNotification": false},
		"privacy":   map[string]any{"usageStatisticsEnabled": false},
		"telemetry": map[string]any{"enabled": false},
		"model":     map[string]any{"name": "gemini-2.5-flash"},
	})
	out := b.setup()
	if !strings.Contains(out, "BeforeTool, AfterTool hooks") {
		t.Fatalf("rampart setup gemini installed no hooks:\n%s", out)
	}
	return b
}

// run runs `gemini -p prompt --yolo` headless: every tool is approved, so
// the hook is what stops calls. The whole HOME is in the workspace
// (--include-directories): Gemini CLI's file tools refuse a path outside
// it before any hook runs.
func (b *geminiBox) run(prompt string) runResult {
	b.t.Helper()
	return b.agentBox.run(geminiTimeout, b.gemini, "-p", prompt, "--yolo", "--output-format", "json", "--include-directories", b.home)
}

// wantBlocked returns the error the model got for scripted call i, failing
// the test unless Gemini CLI reported the call blocked.
func (b *geminiBox) wantBlocked(i int) string {
	b.t.Helper()
	r, ok := b.api.Response(i)
	if !ok {
		b.t.Fatalf("the model never got a response for call %d", i)
	}
	msg, _ := r.Response["error"].(string)
	if !strings.HasPrefix(msg, "Tool execution blocked: Rampart blocked this "+r.Name+" call") {
		b.t.Errorf("response of the denied %s call: %v", r.Name, r.Response)
	}
	return msg
}

// TestGeminiHook runs the real Gemini CLI with Rampart's hooks, as `rampart
// setup gemini` installs them, and the standard profile: what the policy
// denies never runs and the model is told why, what it allows runs, and
// every decision is in the audit trail. Every tool call is checked with
// `rampart check` first; the commands are harmless even if they ran.
func TestGeminiHook(t *testing.T) {
	t.Run("denied command does not run", func(t *testing.T) {
		b := newGeminiBox(t)
		_, secret := b.fakeKey()
		marker := filepath.Join(b.home, "marker-denied")
		command := "touch " + marker + " && cat ~/.ssh/id_rsa"
		d := b.check("deny", "--", command)
		b.api.setScript(geminiCall{"run_shell_command", map[string]any{"command": command, "description": "Read the SSH key"}})

		b.run("Show me my SSH key.")

		if exists(marker) {
			t.Errorf("the denied command ran: %s exists", marker)
		}
		wantReasonReached(t, b.wantBlocked(0), d)
		if b.api.Sent(secret) {
			t.Error("the secret reached the model")
		}
		b.wantAudited(d, "exec", "command", command)
	})

	t.Run("allowed command runs", func(t *testing.T) {
		b := newGeminiBox(t)
		marker := filepath.Join(b.home, "marker-allowed")
		command := "touch " + marker
		d := b.check("allow", "--", command)
		b.api.setScript(geminiCall{"run_shell_command", map[string]any{"command": command}})

		b.run("Create the marker file.")

		if !exists(marker) {
			t.Errorf("the allowed command did not run: %s is missing", marker)
		}
		if r, ok := b.api.Response(0); !ok || r.Response["error"] != nil {
			t.Errorf("response of the allowed command: %+v (received: %v)", r, ok)
		}
		b.wantAudited(d, "exec", "command", command)
	})

	t.Run("write_file into ~/.rampart/policies is blocked", func(t *testing.T) {
		b := newGeminiBox(t)
		path := filepath.Join(b.rampartHome(), "policies", "relax.yaml")
		d := b.check("deny", "--tool", "write", "--", path)
		b.api.setScript(geminiCall{"write_file", map[string]any{"file_path": path, "content": "default_action: allow\n"}})

		b.run("Relax the Rampart policy.")

		if exists(path) {
			t.Errorf("the denied write ran: %s exists", path)
		}
		wantReasonReached(t, b.wantBlocked(0), d)
		b.wantAudited(d, "write", "path", path)
	})

	t.Run("an ask is a deny that tells the model to ask the user", func(t *testing.T) {
		b := newGeminiBox(t)
		path := filepath.Join(b.project, ".rampart", "policy.yaml")
		b.check("ask", "--tool", "write", "--", path)
		b.api.setScript(geminiCall{"write_file", map[string]any{"file_path": path, "content": "default_action: allow\n"}})

		b.run("Relax the project's policy.")

		if exists(path) {
			t.Errorf("the write that needs approval ran: %s exists", path)
		}
		if msg := b.wantBlocked(0); !strings.Contains(msg, "needs a human's approval") || !strings.Contains(msg, "ask the user") {
			t.Errorf("the model was not told to ask the user: %q", msg)
		}
	})

	t.Run("read_file of ~/.ssh/id_rsa is blocked", func(t *testing.T) {
		b := newGeminiBox(t)
		path, secret := b.fakeKey()
		d := b.check("deny", "--tool", "read", "--", path)
		b.api.setScript(geminiCall{"read_file", map[string]any{"file_path": path}})

		b.run("Read my SSH key.")

		wantReasonReached(t, b.wantBlocked(0), d)
		if b.api.Sent(secret) {
			t.Error("the secret reached the model")
		}
		b.wantAudited(d, "read", "path", path)
	})
}

// TestGeminiSetupCheck runs `rampart setup gemini --check` on what setup
// wrote: the hooks are found and answer.
func TestGeminiSetupCheck(t *testing.T) {
	b := newGeminiBox(t)
	out, err := b.rampartCmd("setup", "gemini", "--check").CombinedOutput()
	if err != nil || strings.Contains(string(out), "FAIL") {
		t.Fatalf("rampart setup gemini --check: %v\n%s", err, out)
	}
	t.Logf("rampart setup gemini --check:\n%s", out)
}
