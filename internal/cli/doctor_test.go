package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDoctorFlags(t *testing.T) {
	var got *DoctorOptions
	proc, _, _ := testProcess(t, nil)
	root := NewCmdRoot(proc)
	for _, c := range root.Commands() {
		if c.Name() == "doctor" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(NewCmdDoctor(proc, func(o *DoctorOptions) error { got = o; return nil }))
	root.SetArgs([]string{"doctor", "--json"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.JSON || !got.Probe {
		t.Fatalf("%+v", got)
	}
}

// binaryVersion reads a Go binary's build information without running it.
func TestBinaryVersion(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := binaryVersion(self); err != nil || v == "" {
		t.Fatalf("%q %v", v, err)
	}
	script := filepath.Join(t.TempDir(), "rampart-sh")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	if _, err := binaryVersion(script); err == nil {
		t.Fatal("a shell script has no Go build information")
	}
}

// A rampart-sh that is not the same build as rampart fails the check.
func TestDoctorRampartShVersion(t *testing.T) {
	dir := t.TempDir()
	sh := filepath.Join(dir, "rampart-sh")
	os.WriteFile(sh, []byte("#!/bin/sh\n"), 0o755)
	proc, _, _ := testProcess(t, map[string]string{"PATH": dir})
	self, _ := os.Executable()
	if c := doctorRampartSh(proc, self); c.Status != doctorFail || c.Fix == "" {
		t.Fatalf("%+v", c)
	}
	proc, _, _ = testProcess(t, map[string]string{"PATH": t.TempDir()})
	if c := doctorRampartSh(proc, self); c.Status != doctorWarn {
		t.Fatalf("missing: %+v", c)
	}
}

// Doctor reports the warnings of every policy source it loads: *.yml user
// files and the project policy as well as *.yaml files.
func TestDoctorPolicyWarningsCoverEverySource(t *testing.T) {
	proc, _, _ := testProcess(t, nil)
	home := proc.Getenv("HOME")
	write := func(path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(home, ".rampart", "policies", "team.yml"), "version: \"1\"\nnotify: {}\n")
	project := filepath.Join(home, "project")
	write(filepath.Join(project, ".git", "HEAD"), "")
	write(filepath.Join(project, ".rampart", "policy.yaml"), `version: "1"
policies:
  - name: project-extra
    rules:
      - {action: allow, when: {command_name: [make]}}
`)
	proc.Getwd = func() (string, error) { return project, nil }
	c := doctorPolicies(proc)
	if c.Status != doctorWarn {
		t.Fatalf("status %v, want a warning: %+v", c.Status, c)
	}
	details := strings.Join(c.Details, "\n")
	for _, want := range []string{"team.yml:2:1: notify is ignored", "policy.yaml:5:9: allow rule ignored"} {
		if !strings.Contains(details, want) {
			t.Errorf("details %q\ndo not contain %q", details, want)
		}
	}
}
