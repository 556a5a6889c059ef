package integrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const geminiCommand = "/opt/rampart/bin/rampart hook gemini"

const geminiUserSettings = `{
  "model": {
    "name": "gemini-2.5-pro"
  },
  "hooks": {
    "BeforeTool": [
      {
        "matcher": "write_file|replace",
        "hooks": [
          {
            "name": "mine",
            "type": "command",
            "command": "/usr/local/bin/my-check",
            "timeout": 5000
          }
        ]
      }
    ]
  },
  "hooksConfig": {
    "notifications": false
  }
}
`

func writeGeminiSettings(t *testing.T, content string) string {
	t.Helper()
	path := GeminiSettingsPath(t.TempDir(), "", false)
	if content != "" {
		os.MkdirAll(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestGeminiSetupInstallReinstallRemove(t *testing.T) {
	path := writeGeminiSettings(t, geminiUserSettings)
	c, err := PlanGemini(path, geminiCommand, false)
	if err != nil || !c.Changed {
		t.Fatalf("plan: %v %v", c, err)
	}
	after := apply(t, c)
	installed, err := InstalledGeminiHooks([]byte(after))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range GeminiEvents {
		if len(installed[ev]) != 1 || installed[ev][0].Command != geminiCommand || !installed[ev][0].MatchesEveryTool() {
			t.Errorf("%s: %+v", ev, installed[ev])
		}
	}
	for _, want := range []string{`"name": "rampart"`, `"timeout": 30000`, `"name": "gemini-2.5-pro"`, `"notifications": false`, "my-check"} {
		if !strings.Contains(after, want) {
			t.Errorf("no %s in\n%s", want, after)
		}
	}
	if GeminiHooksOff([]byte(after), geminiCommand) != "" {
		t.Error("hooks reported off")
	}
	if again, err := PlanGemini(path, geminiCommand, false); err != nil || again.Changed {
		t.Fatalf("reinstall changed=%v err=%v", again.Changed, err)
	}
	rm, err := PlanGeminiRemove(path, false)
	if err != nil || !rm.Changed {
		t.Fatalf("remove: %v %v", rm, err)
	}
	if removed := apply(t, rm); removed != geminiUserSettings {
		t.Fatalf("after remove:\n%s\nwant the original bytes:\n%s", removed, geminiUserSettings)
	}
}

func TestGeminiSetupRefusesInvalid(t *testing.T) {
	// Gemini CLI reads comments; Rampart's editor would drop them.
	for _, bad := range []string{"{\n  // my model\n  \"model\": {}\n}\n", `{"hooks": "x"}`, `{"hooks": {"BeforeTool": 1}}`} {
		path := writeGeminiSettings(t, bad)
		var invalid *InvalidConfigError
		if _, err := PlanGemini(path, geminiCommand, false); !errorsAs(err, &invalid) {
			t.Errorf("%q: err = %v", bad, err)
		}
		if data, _ := os.ReadFile(path); string(data) != bad {
			t.Errorf("%q: the file was changed", bad)
		}
	}
}

func TestGeminiHooksOff(t *testing.T) {
	for data, want := range map[string]string{
		`{"hooksConfig": {"enabled": false}}`:                      "hooksConfig.enabled is false",
		`{"hooksConfig": {"disabled": ["rampart"]}}`:               `hooksConfig.disabled lists "rampart"`,
		`{"hooksConfig": {"disabled": ["` + geminiCommand + `"]}}`: "hooksConfig.disabled lists",
		`{"hooksConfig": {"enabled": true, "disabled": ["x"]}}`:    "",
		`{}`: "",
	} {
		if got := GeminiHooksOff([]byte(data), geminiCommand); !strings.HasPrefix(got, want) || (want == "" && got != "") {
			t.Errorf("%s: %q, want %q", data, got, want)
		}
	}
}

func TestGeminiPaths(t *testing.T) {
	if got := GeminiSettingsPath("/home/u", "/p", false); got != "/home/u/.gemini/settings.json" {
		t.Error(got)
	}
	if got := GeminiSettingsPath("/home/u", "/p", true); got != "/p/.gemini/settings.json" {
		t.Error(got)
	}
}
