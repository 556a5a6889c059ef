package cli

import (
	"strings"
	"testing"
)

func TestSetupCodexFlags(t *testing.T) {
	proc, _, _ := testProcess(t, nil)
	var got *SetupCodexOptions
	cmd := NewCmdSetupCodex(proc, func(o *SetupCodexOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--remove", "--dry-run", "--no-trust", "--codex", "/opt/codex", "--rampart-path", "/opt/rampart"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.Remove || !got.DryRun || !got.NoTrust || got.Codex != "/opt/codex" || got.Binary != "/opt/rampart" || got.Check || got.Force {
		t.Errorf("options %+v", got)
	}
	cmd = NewCmdSetupCodex(proc, func(*SetupCodexOptions) error { t.Error("ran"); return nil })
	cmd.SetArgs([]string{"--check", "--remove"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "--check cannot be combined") {
		t.Errorf("err = %v", err)
	}
}

func TestSetupCodexHooksPath(t *testing.T) {
	proc, _, _ := testProcess(t, map[string]string{"CODEX_HOME": "/srv/codex"})
	if p, err := (&SetupCodexOptions{Proc: proc}).hooksPath(); err != nil || p != "/srv/codex/hooks.json" {
		t.Errorf("%s %v", p, err)
	}
	proc, _, _ = testProcess(t, map[string]string{"HOME": ""})
	if _, err := (&SetupCodexOptions{Proc: proc}).hooksPath(); err == nil {
		t.Error("no error without HOME")
	}
}

func TestSetupGeminiFlags(t *testing.T) {
	proc, _, _ := testProcess(t, nil)
	var got *SetupGeminiOptions
	cmd := NewCmdSetupGemini(proc, func(o *SetupGeminiOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--project", "--force", "--rampart-path", "/opt/rampart"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.Project || !got.Force || got.Binary != "/opt/rampart" || got.Remove || got.Check {
		t.Errorf("options %+v", got)
	}
	proc, _, _ = testProcess(t, nil)
	p, err := (&SetupGeminiOptions{Proc: proc, Project: true}).settingsPath()
	if wd, _ := proc.Getwd(); err != nil || p != wd+"/.gemini/settings.json" {
		t.Errorf("%s %v", p, err)
	}
}
