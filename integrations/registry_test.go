package integrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRegistry(t *testing.T) {
	var names []string
	for _, a := range Agents() {
		names = append(names, a.Name)
		if a.Title == "" || len(a.Events) == 0 || a.Detect == nil || a.Plan == nil || a.PlanRemove == nil || a.Installed == nil ||
			a.Probe.Input == "" || a.Probe.Blocked == nil || a.Next == "" {
			t.Errorf("%s is incomplete: %+v", a.Name, a)
		}
	}
	for _, want := range []string{"claude-code", "cline", "copilot", "cursor", "gemini", "windsurf"} {
		if _, ok := LookupAgent(want); !ok {
			t.Errorf("%s is not registered (have %v)", want, names)
		}
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("not sorted: %v", names)
		}
	}
}

func TestDetect(t *testing.T) {
	home := t.TempDir()
	bin := filepath.Join(home, "bin")
	writeFile(t, filepath.Join(bin, "cursor-agent"), "#!/bin/sh\n", 0o755)
	writeFile(t, filepath.Join(bin, "windsurf"), "not executable", 0o644)
	os.MkdirAll(filepath.Join(home, ".vscode", "extensions", "saoudrizwan.claude-dev-3.36.0"), 0o700)
	env := Env{Home: home, Getenv: func(k string) string {
		if k == "PATH" {
			return "relative/bin:" + bin
		}
		return ""
	}}
	cursor, _ := LookupAgent("cursor")
	if det := cursor.Detect(env); !det.Found || len(det.Evidence) != 1 || det.Evidence[0] != "cursor-agent on PATH" {
		t.Errorf("cursor: %+v", det)
	}
	windsurf, _ := LookupAgent("windsurf")
	if det := windsurf.Detect(env); det.Found {
		t.Errorf("a file that is not executable is not a program: %+v", det)
	}
	cline, _ := LookupAgent("cline")
	if det := cline.Detect(env); !det.Found || det.Evidence[0] != "~/.vscode/extensions/saoudrizwan.claude-dev-3.36.0" {
		t.Errorf("cline: %+v", det)
	}
	if det := (Detector{Dirs: []string{".copilot"}}).Detect(Env{}); det.Found {
		t.Errorf("no home, no folders: %+v", det)
	}
}

// Check tells an agent set up with a working binary from one whose hooks
// are missing, incomplete or run a binary that is gone.
func TestCheck(t *testing.T) {
	home := t.TempDir()
	env := Env{Home: home}
	cursor, _ := LookupAgent("cursor")
	if s := cursor.Check(env); s.SetUp() || s.Protected() || s.Err != nil {
		t.Fatalf("nothing installed: %+v", s)
	}
	rampart := filepath.Join(home, "bin", "rampart")
	writeFile(t, rampart, "#!/bin/sh\n", 0o755)
	edits, _ := cursor.Plan(env, rampart, false)
	edits[0].Apply(time.Now())
	if s := cursor.Check(env); !s.Protected() || len(s.Hooks) != 4 {
		t.Fatalf("installed: %+v", s)
	}
	os.Remove(rampart)
	if s := cursor.Check(env); s.Protected() || len(s.Broken) != 4 {
		t.Fatalf("binary gone: %+v", s)
	}
	writeFile(t, CursorHooksPath(home), `{"version":1,"hooks":{"preToolUse":[{"command":"`+rampart+` hook cursor"}]}}`, 0o600)
	writeFile(t, rampart, "#!/bin/sh\n", 0o755)
	if s := cursor.Check(env); s.Protected() || len(s.Missing) != 3 {
		t.Fatalf("incomplete: %+v", s)
	}
	writeFile(t, CursorHooksPath(home), `{nope`, 0o600)
	if s := cursor.Check(env); s.Err == nil {
		t.Fatalf("invalid: %+v", s)
	}
}

// Hooks that are installed but turned off, or limited by a matcher, are
// not protection: Check reports them as problems.
func TestCheckProblems(t *testing.T) {
	home := t.TempDir()
	env := Env{Home: home}
	rampart := filepath.Join(home, "bin", "rampart")
	writeFile(t, rampart, "#!/bin/sh\n", 0o755)
	gemini, _ := LookupAgent("gemini")
	edits, err := gemini.Plan(env, rampart, false)
	if err != nil {
		t.Fatal(err)
	}
	edits[0].Apply(time.Now())
	if s := gemini.Check(env); !s.Protected() || len(s.Hooks) != 2 {
		t.Fatalf("installed: %+v", s)
	}
	path := GeminiSettingsPath(home, "", false)
	data, _ := os.ReadFile(path)
	writeFile(t, path, strings.Replace(string(data), "{", `{"hooksConfig": {"enabled": false},`, 1), 0o600)
	if s := gemini.Check(env); s.Protected() || len(s.Problems) != 1 || !strings.Contains(s.Problems[0], "hooksConfig.enabled is false") {
		t.Fatalf("hooks off: %+v", s)
	}

	claude, _ := LookupAgent("claude-code")
	edits, _ = claude.Plan(env, rampart, false)
	edits[0].Apply(time.Now())
	settings := ClaudeSettingsPath(home, "", "", false)
	data, _ = os.ReadFile(settings)
	writeFile(t, settings, strings.Replace(string(data), `"matcher": "*"`, `"matcher": "Bash"`, 1), 0o600)
	if s := claude.Check(env); s.Protected() || len(s.Problems) != 1 || !strings.Contains(s.Problems[0], `matcher "Bash" does not match every tool`) {
		t.Fatalf("matcher: %+v", s)
	}
	data, _ = os.ReadFile(settings)
	writeFile(t, settings, strings.Replace(string(data), `"matcher": "Bash"`, `"matcher": "*"`, 1), 0o600)
	if s := claude.Check(env); !s.Protected() {
		t.Fatalf("claude installed: %+v", s)
	}
	data, _ = os.ReadFile(settings)
	writeFile(t, settings, strings.Replace(string(data), "{", `{"disableAllHooks": true,`, 1), 0o600)
	if s := claude.Check(env); s.Protected() || len(s.Problems) != 1 || !strings.Contains(s.Problems[0], "disableAllHooks is true") {
		t.Fatalf("claude hooks off: %+v", s)
	}
}
