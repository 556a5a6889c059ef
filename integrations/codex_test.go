package integrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const codexCommand = "/opt/rampart/bin/rampart hook codex"

// A hooks.json formatted the way setup writes (two spaces, a newline at
// the end), with a hook of the user's own.
const codexUserHooks = `{
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "/usr/local/bin/my-check",
            "timeout": 5
          }
        ]
      }
    ],
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "notify-send done"
          }
        ]
      }
    ]
  }
}
`

func writeCodexHooks(t *testing.T, content string) string {
	t.Helper()
	path := CodexHooksPath(t.TempDir(), "")
	if content != "" {
		os.MkdirAll(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestCodexSetupInstallReinstallRemove(t *testing.T) {
	path := writeCodexHooks(t, codexUserHooks)
	c, err := PlanCodex(path, codexCommand, false)
	if err != nil || !c.Changed {
		t.Fatalf("plan: %v %v", c, err)
	}
	after := apply(t, c)
	installed, err := InstalledCodexHooks([]byte(after))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range CodexEvents {
		if len(installed[ev]) != 1 || installed[ev][0].Command != codexCommand || !installed[ev][0].MatchesEveryTool() {
			t.Errorf("%s: %+v", ev, installed[ev])
		}
	}
	// The user's hook stays first, ours goes after it; Stop is kept.
	if i, j := strings.Index(after, "my-check"), strings.Index(after, codexCommand); !(i >= 0 && i < j) || !strings.Contains(after, "notify-send done") {
		t.Fatalf("after install:\n%s", after)
	}
	if !strings.Contains(after, `"timeout": 30`) {
		t.Errorf("no timeout:\n%s", after)
	}

	again, err := PlanCodex(path, codexCommand, false)
	if err != nil || again.Changed {
		t.Fatalf("reinstall changed=%v err=%v", again.Changed, err)
	}
	rm, err := PlanCodexRemove(path, false)
	if err != nil || !rm.Changed {
		t.Fatalf("remove: %v %v", rm, err)
	}
	// Formatted like our output, the original comes back byte for byte.
	if removed := apply(t, rm); removed != codexUserHooks {
		t.Fatalf("after remove:\n%s\nwant the original bytes:\n%s", removed, codexUserHooks)
	}
	if rm, _ := PlanCodexRemove(path, false); rm.Changed {
		t.Error("a second remove changed the file")
	}
}

func TestCodexSetupOtherFormattingAndNewFile(t *testing.T) {
	// Formatted otherwise, remove gives the same JSON, not the same bytes.
	orig := `{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"x"}]}]},"extra":12345678901234567890}`
	path := writeCodexHooks(t, orig)
	c, _ := PlanCodex(path, codexCommand, false)
	apply(t, c)
	rm, _ := PlanCodexRemove(path, false)
	if removed := apply(t, rm); !sameJSON([]byte(removed), []byte(orig)) || !strings.Contains(removed, "12345678901234567890") {
		t.Fatalf("after remove:\n%s", removed)
	}

	// No file: setup creates one (0600); remove leaves {}.
	path = writeCodexHooks(t, "")
	c, err := PlanCodex(path, codexCommand, false)
	if err != nil || !c.Changed {
		t.Fatal(err)
	}
	apply(t, c)
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	// A moved binary is updated in place.
	moved := "'/home/me/my tools/rampart' hook codex"
	c, _ = PlanCodex(path, moved, false)
	if after := apply(t, c); strings.Count(after, "hook codex") != 2 || !strings.Contains(after, "my tools") {
		t.Fatalf("moved:\n%s", after)
	}
	rm, _ = PlanCodexRemove(path, false)
	if after := apply(t, rm); strings.TrimSpace(after) != "{}" {
		t.Fatalf("after remove: %s", after)
	}
}

func TestCodexSetupRefusesInvalid(t *testing.T) {
	for _, bad := range []string{`{"hooks": {,}}`, `[]`, `{"hooks": []}`, `{"hooks": {"PreToolUse": {}}}`} {
		path := writeCodexHooks(t, bad)
		var invalid *InvalidConfigError
		if _, err := PlanCodex(path, codexCommand, false); !errorsAs(err, &invalid) {
			t.Errorf("%s: err = %v", bad, err)
		}
		if _, err := PlanCodexRemove(path, false); !errorsAs(err, &invalid) {
			t.Errorf("%s remove: err = %v", bad, err)
		}
		if c, err := PlanCodex(path, codexCommand, true); err != nil || !c.Changed {
			t.Errorf("%s --force: %v", bad, err)
		}
	}
}

func TestCodexPaths(t *testing.T) {
	if got := CodexHooksPath("/home/u", ""); got != "/home/u/.codex/hooks.json" {
		t.Error(got)
	}
	if got := CodexHooksPath("/home/u", "/srv/codex"); got != "/srv/codex/hooks.json" {
		t.Error(got)
	}
}
