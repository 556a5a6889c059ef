package shellwrap

import (
	"os"
	"path/filepath"
	"slices"
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

// Lines that history does not hold as a new entry are still checked: the
// first line of a session, lines after "set +o history" and lines that
// HISTCONTROL=ignorespace leaves out. Options that would replace the rc
// file that sets up the checking are refused, and login options are
// dropped instead of letting bash ignore it.
func TestInteractiveChecksLinesOutsideHistory(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	home, env := sandboxEnv(t)
	denied := "cat ~/.ssh/id_rsa"
	inputs := []string{
		denied + "\necho after\n",
		"echo first\nset +o history\n" + denied + "\necho after\n",
		"echo first\nHISTCONTROL=ignorespace\n " + denied + "\necho after\n",
	}
	for _, args := range [][]string{{"-i"}, {"-li"}, {"-login", "-i"}} {
		for _, input := range inputs {
			res := runShell(t, env, input, home, append([]string{sh}, args...)...)
			if strings.Contains(res.stdout, "FAKE-KEY") || !strings.Contains(res.stdout, "after") || !strings.Contains(res.stderr, "rampart: blocked: "+denied) {
				t.Errorf("%q %q: %+v", args, input, res)
			}
		}
	}
	for _, args := range [][]string{{"--norc", "-i"}, {"--rcfile", "/dev/null", "-i"}, {"-init-file", "/dev/null", "-i"}, {"--posix", "-i"}, {"-o", "posix", "-i"}} {
		res := runShell(t, env, denied+"\n", home, append([]string{sh}, args...)...)
		if res.code != ExitBlocked || strings.Contains(res.stdout, "FAKE-KEY") {
			t.Errorf("%q: %+v", args, res)
		}
	}
}

func TestWithoutLoginOptions(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"-li"}, []string{"-i"}},
		{[]string{"--login", "-i"}, []string{"-i"}},
		{[]string{"-login", "--noprofile", "-l", "-o", "vi", "+l"}, []string{"--noprofile", "-o", "vi"}},
		{[]string{"-lo", "emacs", "-s", "a", "-l"}, []string{"-o", "emacs", "-s", "a", "-l"}},
	}
	for _, tt := range tests {
		if got := withoutLoginOptions(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("withoutLoginOptions(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Nothing a session can name or set makes the trap skip a command: a
// command equal to PROMPT_COMMAND is checked (once per value), a function
// named like the trap's own is checked, a stream has no completion to
// skip, and the lines that would switch the trap off are refused.
func TestCheckingCannotBeSkipped(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	home, env := sandboxEnv(t)
	denied := "cat ~/.ssh/id_rsa"
	sessions := map[string]string{
		"PROMPT_COMMAND":   "PROMPT_COMMAND='" + denied + "'\n" + denied + "\necho after\n",
		"__rampart_ name":  "__rampart_x() { \"$@\"; }\n__rampart_x " + denied + "\necho after\n",
		"allowed prompt":   "PROMPT_COMMAND='true'\necho one\necho after\n",
		"COMP_LINE stream": "COMP_LINE=x\n" + denied + "\necho after\n",
		// What the trap cannot tell from its own work, the standard
		// profile refuses (protect-rampart/shell-check-trap*).
		"COMP_LINE":      "COMP_LINE=x\n" + denied + "\necho after\n",
		"trap - DEBUG":   "trap - DEBUG\n" + denied + "\necho after\n",
		"forged verdict": "x='\\#'; __rampart_line=$(( ${x@P} + 1 )); __rampart_status=0\n" + denied + "\necho after\n",
	}
	for name, input := range sessions {
		t.Run(name, func(t *testing.T) {
			var res shellResult
			if strings.Contains(name, "stream") {
				res = runStream(t, env, input, home, sh)
			} else {
				res = runShell(t, env, input, home, sh, "-i")
			}
			if strings.Contains(res.stdout+res.stderr, "FAKE-KEY") || !strings.Contains(res.stdout, "after") {
				t.Errorf("%+v", res)
			}
			if name != "allowed prompt" && !strings.Contains(res.stderr, "rampart: blocked: ") {
				t.Errorf("nothing blocked: %+v", res)
			}
		})
	}
}
