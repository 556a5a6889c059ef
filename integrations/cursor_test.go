package integrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const cursorCommand = "/opt/rampart/bin/rampart hook cursor"

// applyEdit applies e and returns the file's content afterwards ("" when
// it is gone).
func applyEdit(t *testing.T, e *Edit, now time.Time) string {
	t.Helper()
	if _, err := e.Apply(now); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(e.Path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func TestCursorSetupNewFile(t *testing.T) {
	env := Env{Home: t.TempDir()}
	e, err := PlanCursor(env, cursorCommand, false)
	if err != nil {
		t.Fatal(err)
	}
	got := applyEdit(t, e, time.Now())
	want := `{
  "version": 1,
  "hooks": {
    "preToolUse": [
      {
        "command": "/opt/rampart/bin/rampart hook cursor",
        "failClosed": true
      }
    ],
    "beforeShellExecution": [
      {
        "command": "/opt/rampart/bin/rampart hook cursor",
        "failClosed": true
      }
    ],
    "beforeMCPExecution": [
      {
        "command": "/opt/rampart/bin/rampart hook cursor",
        "failClosed": true
      }
    ],
    "beforeReadFile": [
      {
        "command": "/opt/rampart/bin/rampart hook cursor",
        "failClosed": true
      }
    ]
  }
}
`
	if got != want {
		t.Fatalf("hooks.json:\n%s", got)
	}
	if st, _ := os.Stat(e.Path); st.Mode().Perm() != 0o600 {
		t.Errorf("a new file is 0600, got %v", st.Mode())
	}
	// Again: nothing to change.
	if e, err := PlanCursor(env, cursorCommand, false); err != nil || e.Changed {
		t.Fatalf("second setup: %+v %v", e, err)
	}
	// Remove: the file was Rampart's alone, so it goes, without a backup.
	e, err = PlanCursorRemove(env, false)
	if err != nil || !e.Changed || !e.Remove {
		t.Fatalf("remove: %+v %v", e, err)
	}
	if got := applyEdit(t, e, time.Now()); got != "" {
		t.Fatalf("the file is still there: %s", got)
	}
	if b := backups(e.Path); len(b) != 0 {
		t.Errorf("backups of Rampart's own file: %v", b)
	}
	if e, err := PlanCursorRemove(env, false); err != nil || e.Changed {
		t.Fatalf("remove twice: %+v %v", e, err)
	}
}

// The user's own hooks, settings and formatting survive setup, and remove
// gives back their file byte for byte.
func TestCursorSetupKeepsTheUsersFile(t *testing.T) {
	env := Env{Home: t.TempDir()}
	const user = "{\"version\":1,\n    \"hooks\": {\"beforeShellExecution\": [{\"command\": \"./hooks/audit.sh\"}],\n\t\"stop\": [{\"command\": \"./hooks/stop.sh\"}]}, \"extra\": 12345678901234567890}\n"
	path := CursorHooksPath(env.Home)
	writeFile(t, path, user, 0o644)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e, err := PlanCursor(env, cursorCommand, false)
	if err != nil {
		t.Fatal(err)
	}
	got := applyEdit(t, e, t0)
	for _, s := range []string{`"command": "./hooks/audit.sh"`, `"stop": [`, `"extra": 12345678901234567890`, `"failClosed": true`} {
		if !strings.Contains(got, s) {
			t.Errorf("missing %s:\n%s", s, got)
		}
	}
	// Rampart's beforeShellExecution entry goes after the user's.
	if strings.Index(got, "audit.sh") > strings.Index(got, "hook cursor") && strings.Count(got, "hook cursor") != 4 {
		t.Errorf("entries:\n%s", got)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
	if b := backups(path); len(b) != 1 {
		t.Fatalf("backups %v", b)
	}

	// A moved binary is updated in place.
	e, _ = PlanCursor(env, "/new/rampart hook cursor", false)
	if !e.Changed {
		t.Fatal("a new binary path changed nothing")
	}
	got = applyEdit(t, e, t0.Add(time.Second))
	if strings.Contains(got, "/opt/rampart") || strings.Count(got, "/new/rampart hook cursor") != 4 {
		t.Fatalf("update:\n%s", got)
	}

	e, err = PlanCursorRemove(env, false)
	if err != nil || !e.Changed || e.Remove {
		t.Fatalf("remove: %+v %v", e, err)
	}
	if got := applyEdit(t, e, t0.Add(2*time.Second)); got != user {
		t.Fatalf("remove did not give back the original bytes:\n%q\nwant\n%q", got, user)
	}
}

// When the user changed the file after setup, remove keeps their change
// (and takes out only Rampart's entries).
func TestCursorRemoveKeepsLaterChanges(t *testing.T) {
	env := Env{Home: t.TempDir()}
	path := CursorHooksPath(env.Home)
	writeFile(t, path, `{"version":1,"hooks":{"stop":[{"command":"a"}]}}`, 0o600)
	e, _ := PlanCursor(env, cursorCommand, false)
	applyEdit(t, e, time.Now())
	data, _ := os.ReadFile(path)
	writeFile(t, path, strings.Replace(string(data), `"command": "a"`, `"command": "b"`, 1), 0o600)
	e, _ = PlanCursorRemove(env, false)
	got := applyEdit(t, e, time.Now())
	if !strings.Contains(got, `"command": "b"`) || strings.Contains(got, "rampart") {
		t.Fatalf("after remove:\n%s", got)
	}
}

func TestCursorSetupRefusesInvalidFiles(t *testing.T) {
	for _, content := range []string{`{"version":1,`, `[]`, `{"version":2,"hooks":{}}`, `{"hooks":[]}`, `{"hooks":{"preToolUse":{}}}`} {
		env := Env{Home: t.TempDir()}
		path := CursorHooksPath(env.Home)
		writeFile(t, path, content, 0o600)
		_, err := PlanCursor(env, cursorCommand, false)
		var invalid *InvalidConfigError
		if !errorsAs(err, &invalid) {
			t.Errorf("%s: %v", content, err)
			continue
		}
		e, err := PlanCursor(env, cursorCommand, true)
		if err != nil {
			t.Fatalf("%s --force: %v", content, err)
		}
		if got := applyEdit(t, e, time.Now()); !strings.Contains(got, `"version": 1`) || strings.Count(got, "hook cursor") != 4 {
			t.Errorf("%s --force:\n%s", content, got)
		}
	}
}
