package integrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A settings file that is a link into a dotfiles repository stays a link:
// setup and --remove edit the file it links to, which keeps its mode, and
// the backup goes next to the link.
func TestApplyKeepsSymlinkedSettings(t *testing.T) {
	home := t.TempDir()
	dotfiles := filepath.Join(t.TempDir(), "dotfiles", "claude-settings.json")
	writeFile(t, dotfiles, userSettings, 0o640)
	path := ClaudeSettingsPath(home, "", "", false)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	// A relative link, as dotfile managers (stow) make them.
	rel, _ := filepath.Rel(filepath.Dir(path), dotfiles)
	if err := os.Symlink(rel, path); err != nil {
		t.Fatal(err)
	}

	assertLinked := func(step string) {
		t.Helper()
		st, err := os.Lstat(path)
		if err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("%s: %s is no longer a symlink (%v, %v)", step, path, st.Mode(), err)
		}
		if st, _ := os.Stat(dotfiles); st.Mode().Perm() != 0o640 {
			t.Fatalf("%s: the linked file's mode is %v, want 0640", step, st.Mode().Perm())
		}
	}

	c, err := PlanClaudeCode(path, testCommand, "", false)
	if err != nil {
		t.Fatal(err)
	}
	backup, err := Apply(c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	assertLinked("setup")
	if data, _ := os.ReadFile(dotfiles); !strings.Contains(string(data), testCommand) {
		t.Fatalf("the linked file did not get the hooks:\n%s", data)
	}
	if filepath.Dir(backup) != filepath.Dir(path) {
		t.Errorf("backup %s is not next to %s", backup, path)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dotfiles), ".*rampart-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	c, err = PlanClaudeCodeRemove(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(c, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	assertLinked("remove")
	if data, _ := os.ReadFile(dotfiles); string(data) != userSettings {
		t.Fatalf("remove did not give back the original:\n%s", data)
	}
}

// Setup writes the user's own hooks as they were: a shell command's &&, >
// and < stay as written, not as \u0026, \u003e and \u003c.
func TestSetupKeepsUserCommandText(t *testing.T) {
	const mine = `cd ~/src && make lint > /tmp/lint.log 2>&1 < /dev/null`
	settings := `{"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "` + mine + `"}]}]}, "env": {"X": "<a&b>"}}`
	for name, plan := range map[string]func(path string) (*Change, error){
		"claude-code": func(path string) (*Change, error) { return PlanClaudeCode(path, testCommand, "", false) },
		"codex":       func(path string) (*Change, error) { return PlanCodex(path, "/opt/rampart hook codex", false) },
		"gemini":      func(path string) (*Change, error) { return PlanGemini(path, "/opt/rampart hook gemini", false) },
	} {
		path := writeSettings(t, settings)
		c, err := plan(path)
		if err != nil {
			t.Fatal(name, err)
		}
		if got := string(c.After); !strings.Contains(got, mine) || !strings.Contains(got, `"<a&b>"`) || strings.Contains(got, `\u00`) {
			t.Errorf("%s: the user's settings were rewritten:\n%s", name, got)
		}
	}

	env := Env{Home: t.TempDir()}
	writeFile(t, CursorHooksPath(env.Home), `{"version": 1, "hooks": {"preToolUse": [{"command": "`+mine+`"}]}}`, 0o600)
	e, err := PlanCursor(env, cursorCommand, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(e.After); !strings.Contains(got, mine) || strings.Contains(got, `\u00`) {
		t.Errorf("cursor: the user's hook was rewritten:\n%s", got)
	}
}
