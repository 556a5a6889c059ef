//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// capturedShapes checks samples a capture hook saved against the samples in
// hooks/testdata/DIR: for each saved file, the captured input that fileFor
// names after it must have the same fields (and tool_input fields). Values
// differ from run to run; the names are what the decoders rely on.
func capturedShapes(t *testing.T, dir string, samples []hookSample, fileFor func(hookSample) string) {
	t.Helper()
	got := map[string][]byte{}
	for _, s := range samples {
		if name := fileFor(s); name != "" {
			if _, ok := got[name]; !ok {
				got[name] = s.Raw
			}
		}
	}
	saved, _ := filepath.Glob(filepath.Join("..", "hooks", "testdata", dir, "*.json"))
	if len(saved) == 0 {
		t.Fatalf("no samples in hooks/testdata/%s", dir)
	}
	for _, path := range saved {
		name := filepath.Base(path)
		raw, ok := got[name]
		if !ok {
			t.Errorf("%s: the CLI sent no such hook input this run", name)
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := sampleShape(t, raw), sampleShape(t, want); g != w {
			t.Errorf("%s: the CLI now sends %s, the saved sample has %s (capture the samples again: see hooks/testdata/%s/README.md)", name, g, w, dir)
		}
	}
}

// TestCodexCaptureHookInputs drives the real Codex CLI through the calls
// hooks/testdata/codex/ was captured from, with a hook on PreToolUse and
// PostToolUse that saves its stdin, and checks that the saved samples still
// have the fields this Codex sends. (The hook is trusted for this run with
// --dangerously-bypass-hook-trust: trust is not what is under test here.)
func TestCodexCaptureHookInputs(t *testing.T) {
	codex := agentBinary(t, "RAMPART_E2E_CODEX", "scripts/install-codex.sh")
	b := newAgentBox(t, "codex", "RAMPART_E2E_FAKE_KEY=dummy")
	home := filepath.Join(b.home, ".codex")
	b.env = append(b.env, "CODEX_HOME="+home)
	s := &sandbox{t: t, home: b.home}
	calls := map[string]string{"call_e2e_01": "exec", "call_e2e_02": "exec-fail", "call_e2e_03": "apply_patch-add",
		"call_e2e_04": "apply_patch-update", "call_e2e_05": "mcp"}
	api := newFakeResponses(t,
		codexCall{ID: "call_e2e_01", Name: "exec_command", Args: map[string]any{"cmd": "echo hello from exec"}},
		codexCall{ID: "call_e2e_02", Name: "exec_command", Args: map[string]any{"cmd": "ls /nonexistent-rampart-e2e", "workdir": b.home}},
		codexCall{ID: "call_e2e_03", Name: "apply_patch", Input: "*** Begin Patch\n*** Add File: notes.txt\n+hello\n+world\n*** End Patch\n"},
		codexCall{ID: "call_e2e_04", Name: "apply_patch", Input: "*** Begin Patch\n*** Update File: notes.txt\n*** Move to: moved.txt\n@@\n-hello\n+goodbye\n*** Delete File: gone.txt\n*** End Patch\n"},
		codexCall{ID: "call_e2e_05", Name: "echo", Namespace: "mcp__e2e", Args: map[string]any{"text": "hi"}},
	)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	mcp, _ := json.Marshal(self)
	config := "model = \"gpt-5.5\"\nmodel_provider = \"fake\"\ncheck_for_update_on_startup = false\n\n" +
		"[model_providers.fake]\nname = \"fake\"\nbase_url = \"" + api.BaseURL() + "\"\nwire_api = \"responses\"\nenv_key = \"RAMPART_E2E_FAKE_KEY\"\n\n" +
		"[mcp_servers.e2e]\ncommand = " + string(mcp) + "\nargs = [\"-test.run=^$\"]\nenv = { " + mcpServerEnv + " = \"1\" }\n"
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(home, "hooks.json"), map[string]any{"hooks": hookSettings("*", s.captureHook("codex"), "PreToolUse", "PostToolUse")})
	if err := os.WriteFile(filepath.Join(b.project, "gone.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	b.run(codexTimeout, codex, "exec", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox",
		"--dangerously-bypass-hook-trust", "Exercise every tool once.")

	capturedShapes(t, "codex", s.captured("codex"), func(h hookSample) string {
		if name, ok := calls[h.ToolUseID()]; ok {
			return lower(h.Event()) + "-" + name + ".json"
		}
		return ""
	})
}
