package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --check fails when the settings turn every hook off, though the hooks
// are there and answer: Claude Code would not run them.
func TestSetupClaudeCodeCheckHooksOff(t *testing.T) {
	proc, out, _ := testProcess(t, nil)
	home := proc.Home()
	bin := filepath.Join(home, "bin", "rampart")
	if err := os.MkdirAll(filepath.Dir(bin), 0o700); err != nil {
		t.Fatal(err)
	}
	deny := "#!/bin/sh\ncat >/dev/null\necho '{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"deny\"}}'\n"
	if err := os.WriteFile(bin, []byte(deny), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := setupClaudeCodeRun(&SetupClaudeCodeOptions{Proc: proc, Binary: bin}); err != nil {
		t.Fatal(err)
	}
	if err := setupClaudeCodeRun(&SetupClaudeCodeOptions{Proc: proc, Check: true}); err != nil {
		t.Fatalf("check of a working setup: %v\n%s", err, out)
	}

	path := filepath.Join(home, ".claude", "settings.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off := strings.Replace(string(data), "{", `{"disableAllHooks": true,`, 1)
	if err := os.WriteFile(path, []byte(off), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = setupClaudeCodeRun(&SetupClaudeCodeOptions{Proc: proc, Check: true})
	if err == nil || !strings.Contains(out.String(), "FAIL disableAllHooks is true") {
		t.Fatalf("check with disableAllHooks: %v\n%s", err, out)
	}

	// The project's personal settings (the current directory's) turn
	// them off as well.
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(home, ".claude", "settings.local.json")
	if err := os.WriteFile(local, []byte(`{"disableAllHooks": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = setupClaudeCodeRun(&SetupClaudeCodeOptions{Proc: proc, Check: true})
	if err == nil || !strings.Contains(out.String(), "FAIL disableAllHooks is true: Claude Code runs no hooks at all, in "+local) {
		t.Fatalf("check with disableAllHooks in the project's settings.local.json: %v\n%s", err, out)
	}
}
