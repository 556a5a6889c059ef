package shellwrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRealShell(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "rampart-sh")
	os.WriteFile(self, []byte("#!/bin/sh\n"), 0o755)
	// A shim folder: bash is a link to rampart-sh, zsh a copy (with the marker).
	shims := filepath.Join(dir, "shims")
	os.MkdirAll(shims, 0o755)
	os.Symlink(self, filepath.Join(shims, "bash"))
	os.WriteFile(filepath.Join(shims, "zsh"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(shims, ShimMarker), nil, 0o644)
	realDir := filepath.Join(dir, "real")
	os.MkdirAll(realDir, 0o755)
	for _, name := range []string{"bash", "zsh"} {
		os.WriteFile(filepath.Join(realDir, name), []byte("#!/bin/sh\n"), 0o755)
	}
	path := shims + ":" + realDir

	tests := []struct{ argv0, env, want string }{
		{filepath.Join(shims, "bash"), "", filepath.Join(realDir, "bash")},
		{"-bash", "", filepath.Join(realDir, "bash")},
		{"zsh", "", filepath.Join(realDir, "zsh")},
		{"rampart-sh", "", DefaultRealShell},
		{"bash", "/usr/bin/dash", "/usr/bin/dash"},
	}
	for _, tt := range tests {
		got, err := RealShell(tt.argv0, tt.env, path, self)
		if err != nil || got != tt.want {
			t.Errorf("RealShell(%q, %q) = %q, %v; want %q", tt.argv0, tt.env, got, err, tt.want)
		}
	}
	for _, bad := range []string{"bash", self} {
		if _, err := RealShell("bash", bad, path, self); err == nil {
			t.Errorf("RAMPART_REAL_SHELL=%s accepted", bad)
		}
	}
}

// An interactive session checks each command line before it runs.
func TestInteractiveChecksEachLine(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	home, env := sandboxEnv(t)
	marker := filepath.Join(home, "marker")
	input := "echo first\ntouch " + marker + " && cat ~/.ssh/id_rsa; echo same-line\necho 'last' | tr a-z A-Z\nexit 4\n"
	res := runShell(t, env, input, home, sh, "-i")
	if res.code != 4 {
		t.Fatalf("exit %d: %+v", res.code, res)
	}
	if res.stdout != "first\nLAST\n" {
		t.Errorf("stdout %q", res.stdout)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a denied line ran")
	}
	if !strings.Contains(res.stderr, "checked by Rampart before it runs") || !strings.Contains(res.stderr, "rampart: blocked: touch "+marker) {
		t.Errorf("stderr %q", res.stderr)
	}
	// The rc file removes itself.
	if m, _ := filepath.Glob(filepath.Join(home, ".rampart", "run", "bashrc-*")); len(m) != 0 {
		t.Errorf("rc files left: %v", m)
	}
}
