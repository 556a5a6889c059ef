package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// replaceSetupSub swaps the setup subcommand name for one built with runF.
func setupRoot(proc *Process, sub *cobra.Command) *cobra.Command {
	root := NewCmdRoot(proc)
	for _, c := range root.Commands() {
		if c.Name() != "setup" {
			continue
		}
		for _, s := range c.Commands() {
			if s.Name() == sub.Name() {
				c.RemoveCommand(s)
			}
		}
		c.AddCommand(sub)
	}
	return root
}

func TestSetupAgentFlags(t *testing.T) {
	for name, build := range map[string]func(*Process, func(*SetupAgentOptions) error) *cobra.Command{
		"cursor": NewCmdSetupCursor, "copilot": NewCmdSetupCopilot, "cline": NewCmdSetupCline, "windsurf": NewCmdSetupWindsurf,
	} {
		var got *SetupAgentOptions
		proc, _, errOut := testProcess(t, nil)
		root := setupRoot(proc, build(proc, func(o *SetupAgentOptions) error { got = o; return nil }))
		root.SetArgs([]string{"setup", name, "--remove", "--force", "--dry-run", "--rampart-path", "/x/rampart"})
		if err := root.Execute(); err != nil {
			t.Fatal(name, err, errOut)
		}
		if got.Agent != name || !got.Remove || !got.Force || !got.DryRun || got.Check || got.Binary != "/x/rampart" {
			t.Errorf("%s: %+v", name, got)
		}
		root.SetArgs([]string{"setup", name, "--check", "--remove"})
		if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "--check cannot be combined") {
			t.Errorf("%s --check --remove: %v", name, err)
		}
	}
}

func TestSetupAllFlags(t *testing.T) {
	var got *SetupAllOptions
	proc, _, _ := testProcess(t, nil)
	root := NewCmdRoot(proc)
	for _, c := range root.Commands() {
		if c.Name() == "setup" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newCmdSetupAll(proc, func(o *SetupAllOptions) error { got = o; return nil }))
	root.SetArgs([]string{"setup", "-y", "--dry-run", "--rampart-path", "/x/rampart"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.Yes || !got.DryRun || got.List || got.Binary != "/x/rampart" || got.Interactive == nil {
		t.Fatalf("%+v", got)
	}
}

// On a terminal setup asks, and only "y" or "yes" changes anything.
func TestSetupAllAsks(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		answer  string
		changed bool
	}{{"y\n", true}, {"YES\n", true}, {"\n", false}, {"no\n", false}, {"", false}} {
		proc, out, _ := testProcess(t, map[string]string{"PATH": ""})
		home := proc.Home()
		os.MkdirAll(filepath.Join(home, ".cursor"), 0o700)
		proc.In = strings.NewReader(tt.answer)
		err := setupAllRun(&SetupAllOptions{Proc: proc, Binary: self, Interactive: func() bool { return true }})
		if err != nil {
			t.Fatalf("%q: %v", tt.answer, err)
		}
		_, statErr := os.Stat(filepath.Join(home, ".cursor", "hooks.json"))
		if changed := statErr == nil; changed != tt.changed || !strings.Contains(out.String(), "Set up 1 agent? [y/N] ") {
			t.Errorf("%q: changed %v\n%s", tt.answer, changed, out)
		}
	}
}

// Every setup command refuses --check with a flag it would otherwise
// ignore, the same way, before touching anything.
func TestSetupCheckAlone(t *testing.T) {
	for _, agent := range []string{"claude-code", "codex", "gemini", "cursor", "copilot", "cline", "windsurf"} {
		for _, other := range []string{"--dry-run", "--remove", "--force"} {
			code, stderr := run(t, nil, "setup", agent, "--check", other)
			if code != ExitUsage || !strings.Contains(stderr, "--check cannot be combined with --remove, --force or --dry-run") {
				t.Errorf("setup %s --check %s: exit %d\n%s", agent, other, code, stderr)
			}
		}
	}
}
