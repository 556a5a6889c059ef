package integrations

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestClineSetup(t *testing.T) {
	home := t.TempDir()
	env := Env{Home: home}
	const command = "/opt/rampart/bin/rampart hook cline"
	e, err := PlanCline(env, command, false)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, "Documents", "Cline", "Hooks", "PreToolUse")
	if e.Path != path {
		t.Fatal(e.Path)
	}
	got := applyEdit(t, e, time.Now())
	want := "#!/bin/sh\n# Installed by \"rampart setup cline\": Cline asks Rampart before every tool.\n# Take it out with \"rampart setup cline --remove\".\nexec /opt/rampart/bin/rampart hook cline\n"
	if got != want {
		t.Fatalf("script:\n%s", got)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o755 {
		t.Errorf("the script is not executable: %v", st.Mode())
	}
	if e, _ := PlanCline(env, command, false); e.Changed {
		t.Fatal("second setup changed something")
	}
	hooks, err := clineInstalled(env)
	if err != nil || len(hooks) != 1 || hooks[0].Command != path || hooks[0].Binary != "/opt/rampart/bin/rampart" {
		t.Fatalf("installed: %+v %v", hooks, err)
	}
	// A script that lost its executable bit is broken: Cline skips it.
	os.Chmod(path, 0o644)
	if hooks, _ := clineInstalled(env); hooks[0].Binary != path {
		t.Fatalf("a script that cannot run must show as its own binary: %+v", hooks)
	}
	os.Chmod(path, 0o755)

	edits, err := PlanClineRemove(env, false)
	if err != nil || len(edits) != 1 || !edits[0].Remove {
		t.Fatalf("remove: %+v %v", edits, err)
	}
	applyEdit(t, edits[0], time.Now())
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("the script is still there")
	}
	if b := backups(path); len(b) != 0 {
		t.Errorf("backups of Rampart's own script: %v", b)
	}
	if edits, _ := PlanClineRemove(env, false); edits[0].Changed {
		t.Fatal("remove twice changed something")
	}
}

// A PreToolUse of the user's is never replaced without --force, and
// --remove puts it back.
func TestClineSetupKeepsTheUsersHook(t *testing.T) {
	home := t.TempDir()
	env := Env{Home: home}
	// Only the older folder exists: setup writes there.
	path := filepath.Join(home, "Documents", "Cline", "Rules", "Hooks", "PreToolUse")
	const mine = "#!/bin/bash\necho '{\"cancel\":false}'\n"
	writeFile(t, path, mine, 0o700)
	_, err := PlanCline(env, "/r/rampart hook cline", false)
	var conflict *ConflictError
	if !errorsAs(err, &conflict) {
		t.Fatalf("conflict: %v", err)
	}
	e, err := PlanCline(env, "/r/rampart hook cline", true)
	if err != nil || e.Path != path {
		t.Fatalf("--force: %+v %v", e, err)
	}
	applyEdit(t, e, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	edits, _ := PlanClineRemove(env, false)
	if got := applyEdit(t, edits[0], time.Now()); got != mine {
		t.Fatalf("remove did not put the user's hook back:\n%s", got)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o755 {
		t.Errorf("the restored hook is not executable: %v", st.Mode())
	}
}
