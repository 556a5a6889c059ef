package integrations

import (
	"strings"
	"testing"
	"time"
)

func TestWindsurfSetup(t *testing.T) {
	env := Env{Home: t.TempDir()}
	const command = "/opt/rampart/bin/rampart hook windsurf"
	e, err := PlanWindsurf(env, command, false)
	if err != nil {
		t.Fatal(err)
	}
	got := applyEdit(t, e, time.Now())
	if !strings.HasPrefix(got, "{\n  \"hooks\": {\n    \"pre_run_command\": [\n      {\n        \"command\": \"/opt/rampart/bin/rampart hook windsurf\"\n      }\n    ],") ||
		strings.Count(got, command) != 4 || strings.Contains(got, "version") {
		t.Fatalf("hooks.json:\n%s", got)
	}
	if e, _ := PlanWindsurf(env, command, false); e.Changed {
		t.Fatal("second setup changed something")
	}
	hooks, err := windsurfFile(env).installed()
	if err != nil || len(hooks) != 4 || hooks[0].Event != "pre_run_command" || hooks[0].Binary != "/opt/rampart/bin/rampart" {
		t.Fatalf("installed: %+v %v", hooks, err)
	}
	e, _ = PlanWindsurfRemove(env, false)
	if !e.Remove {
		t.Fatalf("a file of Rampart's alone is removed: %+v", e)
	}
	if got := applyEdit(t, e, time.Now()); got != "" {
		t.Fatal(got)
	}

	// A user's file comes back byte for byte.
	const user = `{"hooks":{"post_write_code":[{"command":"prettier --write","show_output":true}]}}`
	writeFile(t, WindsurfHooksPath(env.Home), user, 0o644)
	e, _ = PlanWindsurf(env, command, false)
	if got := applyEdit(t, e, time.Now()); !strings.Contains(got, "prettier --write") || strings.Count(got, command) != 4 {
		t.Fatalf("install:\n%s", got)
	}
	e, _ = PlanWindsurfRemove(env, false)
	if got := applyEdit(t, e, time.Now().Add(time.Second)); got != user {
		t.Fatalf("remove:\n%s", got)
	}

	writeFile(t, WindsurfHooksPath(env.Home), "{nope", 0o644)
	var invalid *InvalidConfigError
	if _, err := PlanWindsurf(env, command, false); !errorsAs(err, &invalid) {
		t.Fatalf("invalid file: %v", err)
	}
}
