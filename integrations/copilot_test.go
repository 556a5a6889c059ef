package integrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCopilotSetup(t *testing.T) {
	home := t.TempDir()
	env := Env{Home: home}
	const command = "/opt/rampart/bin/rampart hook copilot"
	e, err := PlanCopilot(env, command, false)
	if err != nil {
		t.Fatal(err)
	}
	if e.Path != filepath.Join(home, ".copilot", "hooks", "rampart.json") {
		t.Fatal(e.Path)
	}
	got := applyEdit(t, e, time.Now())
	want := `{
  "version": 1,
  "hooks": {
    "preToolUse": [
      {
        "type": "command",
        "bash": "/opt/rampart/bin/rampart hook copilot",
        "timeoutSec": 30
      }
    ],
    "postToolUse": [
      {
        "type": "command",
        "bash": "/opt/rampart/bin/rampart hook copilot",
        "timeoutSec": 30
      }
    ]
  }
}
`
	if got != want {
		t.Fatalf("rampart.json:\n%s", got)
	}
	// Hooks in the user's own files of the folder are seen too.
	writeFile(t, filepath.Join(home, ".copilot", "hooks", "mine.json"), `{"version":1,"hooks":{"sessionEnd":[{"type":"command","bash":"say bye"}],"preToolUse":[{"type":"command","bash":"/other/rampart hook copilot"}]}}`, 0o600)
	hooks, err := copilotInstalled(env)
	if err != nil || len(hooks) != 3 || hooks[0].Binary != "/other/rampart" {
		t.Fatalf("installed: %+v %v", hooks, err)
	}
	e, _ = PlanCopilotRemove(env, false)
	if !e.Remove || !e.Ours {
		t.Fatalf("remove: %+v", e)
	}
	applyEdit(t, e, time.Now())
	if _, err := os.Stat(filepath.Join(home, ".copilot", "hooks", "mine.json")); err != nil {
		t.Fatal("the user's file was touched")
	}

	// $COPILOT_HOME moves the folder.
	env.Getenv = func(k string) string {
		if k == "COPILOT_HOME" {
			return filepath.Join(home, "ch")
		}
		return ""
	}
	if p := CopilotHooksPath(env); p != filepath.Join(home, "ch", "hooks", "rampart.json") {
		t.Fatal(p)
	}
	if det := (Detector{EnvDirs: []string{"COPILOT_HOME"}}).Detect(env); det.Found {
		t.Fatal("a $COPILOT_HOME that does not exist is no evidence")
	}
	e, _ = PlanCopilot(env, command, false)
	if got := applyEdit(t, e, time.Now()); !strings.Contains(got, command) {
		t.Fatal(got)
	}
}
