package integrations

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testCommand = "/opt/rampart/bin/rampart hook claude-code"

func writeSettings(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".claude", "settings.json")
	if content != "" {
		os.MkdirAll(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func apply(t *testing.T, c *Change) string {
	t.Helper()
	if _, err := Apply(c, time.Now()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(c.Path)
	if err != nil && c.Changed {
		t.Fatal(err)
	}
	return string(data)
}

const userSettings = `{
  "model": "opus",
  "permissions": {"allow": ["Bash(npm test)"], "deny": []},
  "hooks": {
    "PreToolUse": [
      {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo mine", "timeout": 5}]}
    ],
    "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
  },
  "env": {"BIG": 12345678901234567890}
}
`

func TestClaudeSetupKeepsEverythingElse(t *testing.T) {
	path := writeSettings(t, userSettings)
	c, err := PlanClaudeCode(path, testCommand, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Changed {
		t.Fatal("setup on a file without Rampart changed nothing")
	}
	after := apply(t, c)

	var got map[string]any
	if err := json.Unmarshal([]byte(after), &got); err != nil {
		t.Fatal(err)
	}
	// Other settings, in their order, with numbers as written.
	if !strings.Contains(after, `"BIG": 12345678901234567890`) {
		t.Errorf("a big number was rewritten:\n%s", after)
	}
	if i, j, k := strings.Index(after, `"model"`), strings.Index(after, `"permissions"`), strings.Index(after, `"env"`); !(i < j && j < k) {
		t.Errorf("settings reordered:\n%s", after)
	}
	hooks := got["hooks"].(map[string]any)
	pre := hooks["PreToolUse"].([]any)
	if len(pre) != 2 || !strings.Contains(after, `"command": "echo mine"`) {
		t.Fatalf("the user's PreToolUse hook was not kept: %v", pre)
	}
	ours := pre[1].(map[string]any)
	if ours["matcher"] != "*" {
		t.Errorf("matcher %v", ours["matcher"])
	}
	entry := ours["hooks"].([]any)[0].(map[string]any)
	if entry["command"] != testCommand || entry["type"] != "command" {
		t.Errorf("entry %v", entry)
	}
	for _, ev := range ClaudeCodeEvents {
		if _, ok := hooks[ev]; !ok {
			t.Errorf("no %s hook", ev)
		}
	}
	if _, ok := hooks["Stop"]; !ok {
		t.Error("the user's Stop hook is gone")
	}

	// A second run changes nothing.
	again, err := PlanClaudeCode(path, testCommand, "", false)
	if err != nil || again.Changed {
		t.Fatalf("second setup: changed=%v err=%v", again.Changed, err)
	}

	// Remove takes out exactly what setup added.
	rm, err := PlanClaudeCodeRemove(path, false)
	if err != nil || !rm.Changed {
		t.Fatalf("remove: %v %v", rm, err)
	}
	removed := apply(t, rm)
	if removed != userSettings {
		t.Fatalf("after remove:\n%s\nwant the original bytes:\n%s", removed, userSettings)
	}
	// The backups hold every earlier version.
	backups, _ := filepath.Glob(path + ".rampart-backup-*")
	if len(backups) != 2 {
		t.Fatalf("backups %v", backups)
	}
	first, _ := os.ReadFile(backups[0])
	if string(first) != userSettings {
		t.Errorf("first backup is not the original file")
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode changed to %v", st.Mode())
	}
}

func TestClaudeSetupNewFileAndMovedBinary(t *testing.T) {
	path := writeSettings(t, "")
	c, err := PlanClaudeCode(path, testCommand, "", false)
	if err != nil || !c.Changed {
		t.Fatal(err)
	}
	apply(t, c)
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("new settings file mode %v", st.Mode())
	}
	moved := "'/home/me/my tools/rampart' hook claude-code"
	c, _ = PlanClaudeCode(path, moved, "", false)
	after := apply(t, c)
	if strings.Count(after, "hook claude-code") != 3 || !strings.Contains(after, "my tools") {
		t.Fatalf("moved binary not updated in place:\n%s", after)
	}
	rm, _ := PlanClaudeCodeRemove(path, false)
	if after := apply(t, rm); strings.TrimSpace(after) != "{}" {
		t.Fatalf("after remove: %s", after)
	}
}

func TestClaudeSetupRefusesInvalidJSON(t *testing.T) {
	for _, bad := range []string{`{"model": "opus",}`, `[1,2]`, `{"hooks": []}`, `{"hooks": {"PreToolUse": {}}}`, `{} x`} {
		path := writeSettings(t, bad)
		_, err := PlanClaudeCode(path, testCommand, "", false)
		var invalid *InvalidConfigError
		if err == nil || !errorsAs(err, &invalid) {
			t.Errorf("%s: err = %v, want InvalidConfigError", bad, err)
			continue
		}
		data, _ := os.ReadFile(path)
		if string(data) != bad {
			t.Errorf("%s: the file was changed", bad)
		}
		c, err := PlanClaudeCode(path, testCommand, "", true)
		if err != nil || !c.Changed {
			t.Errorf("%s --force: %v", bad, err)
		}
	}
}

func TestIsRampartHook(t *testing.T) {
	for cmd, want := range map[string]bool{
		"/usr/local/bin/rampart hook claude-code":                 true,
		"'/home/me/my tools/rampart' hook claude-code":            true,
		"rampart hook --format claude-code":                       true,
		"rampart hook --explicit-allow claude-code":               true,
		"rampart hook codex":                                      false,
		"echo rampart hook claude-code":                           false,
		"/usr/bin/rampart-sh hook claude-code":                    false,
		"/usr/local/bin/rampart-hook claude-code":                 true,
		"rampart-hook --explicit-allow claude-code":               true,
		"rampart-hook codex":                                      false,
		"python3 /home/me/hooks/check.py":                         false,
		"RAMPART_MODE=monitor rampart hook claude-code (unparsed": false,
	} {
		if got := IsRampartHook(cmd, "claude-code"); got != want {
			t.Errorf("IsRampartHook(%q) = %v, want %v", cmd, got, want)
		}
	}
}

func TestHookCommandQuotes(t *testing.T) {
	if got := HookCommand("/usr/bin/rampart", "hook", "claude-code"); got != "/usr/bin/rampart hook claude-code" {
		t.Errorf("got %s", got)
	}
	if got := HookCommand("/home/o'neil/bin x/rampart", "hook", "claude-code"); got != `'/home/o'\''neil/bin x/rampart' hook claude-code` {
		t.Errorf("got %s", got)
	}
}

func TestClaudeSetupShellPrefix(t *testing.T) {
	path := writeSettings(t, `{"env": {"FOO": "1"}}`)
	c, err := PlanClaudeCode(path, testCommand, "/opt/rampart/bin/rampart-sh", false)
	if err != nil {
		t.Fatal(err)
	}
	after := apply(t, c)
	if !strings.Contains(after, `"CLAUDE_CODE_SHELL_PREFIX": "/opt/rampart/bin/rampart-sh"`) || !strings.Contains(after, `"FOO": "1"`) {
		t.Fatalf("after:\n%s", after)
	}
	rm, _ := PlanClaudeCodeRemove(path, false)
	if after := apply(t, rm); !sameJSON([]byte(after), []byte(`{"env": {"FOO": "1"}}`)) {
		t.Fatalf("after remove:\n%s", after)
	}
	// A prefix of the user's own is never replaced or removed.
	path = writeSettings(t, `{"env": {"CLAUDE_CODE_SHELL_PREFIX": "/usr/local/bin/audit-log"}}`)
	if _, err := PlanClaudeCode(path, testCommand, "/opt/rampart/bin/rampart-sh", false); err == nil {
		t.Fatal("replaced the user's own shell prefix")
	}
	rm, _ = PlanClaudeCodeRemove(path, false)
	if rm.Changed {
		t.Fatal("remove took out the user's own shell prefix")
	}
}

// With rampart-hook installed next to rampart, hooks run the small program.
func TestHookCommandPrefersRampartHook(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"rampart", "rampart-hook"} {
		os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755)
	}
	got := HookCommand(filepath.Join(dir, "rampart"), "hook", "claude-code")
	if want := filepath.Join(dir, "rampart-hook") + " claude-code"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !IsRampartHook(got, "claude-code") {
		t.Fatalf("%q is not recognised as Rampart's hook", got)
	}
}
