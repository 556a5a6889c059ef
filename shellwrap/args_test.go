package shellwrap

import (
	"slices"
	"testing"
)

func TestParseArgs(t *testing.T) {
	isFile := func(s string) bool { return s == "script.sh" || s == "./run" }
	tests := []struct {
		args         []string
		tty          bool
		mode         Mode
		command      string
		script       string
		login, inter bool
	}{
		{[]string{"-c", "echo hi"}, false, ModeCommand, "echo hi", "", false, false},
		{[]string{"-c", "echo $0 $1", "name", "one"}, false, ModeCommand, "echo $0 $1", "", false, false},
		{[]string{"-lc", "ls"}, false, ModeCommand, "ls", "", true, false},
		{[]string{"-c", "-l", "ls"}, false, ModeCommand, "ls", "", true, false},
		{[]string{"-l", "-c", "ls"}, false, ModeCommand, "ls", "", true, false},
		{[]string{"-ic", "ls"}, false, ModeCommand, "ls", "", false, true},
		{[]string{"--login", "-c", "ls"}, false, ModeCommand, "ls", "", true, false},
		{[]string{"-e", "-o", "pipefail", "-c", "false | true"}, false, ModeCommand, "false | true", "", false, false},
		{[]string{"-eo", "pipefail", "-c", "x"}, false, ModeCommand, "x", "", false, false},
		{[]string{"+o", "history", "-x", "-c", "x"}, false, ModeCommand, "x", "", false, false},
		{[]string{"-O", "extglob", "-c", "x"}, false, ModeCommand, "x", "", false, false},
		{[]string{"--norc", "--noprofile", "-c", "x"}, false, ModeCommand, "x", "", false, false},
		{[]string{"--rcfile", "/tmp/rc", "-c", "x"}, false, ModeCommand, "x", "", false, false},
		// bash's own spellings: + sets c, l and s too; long options with
		// one dash; a lone + is an empty option group; -o without a value.
		{[]string{"+c", "x"}, false, ModeCommand, "x", "", false, false},
		{[]string{"+", "-c", "x"}, false, ModeCommand, "x", "", false, false},
		{[]string{"+eo", "pipefail", "-c", "x"}, false, ModeCommand, "x", "", false, false},
		{[]string{"-noprofile", "-c", "x", "a", "b"}, false, ModeCommand, "x", "", false, false},
		{[]string{"-rcfile", "/tmp/rc", "-c", "x"}, false, ModeCommand, "x", "", false, false},
		{[]string{"-login", "-c", "x"}, false, ModeCommand, "x", "", true, false},
		{[]string{"+l", "-c", "x"}, false, ModeCommand, "x", "", true, false},
		{[]string{"-xec", "x"}, false, ModeCommand, "x", "", false, false},
		{[]string{"-o"}, false, ModeStdin, "", "", false, false},
		{[]string{"+O"}, false, ModeStdin, "", "", false, false},
		{[]string{"-i", "+i"}, false, ModeStdin, "", "", false, false},
		{[]string{"-s"}, true, ModeInteractive, "", "", false, false},
		{[]string{"", "a"}, false, ModeScript, "", "", false, false},
		{[]string{"script.sh", "a", "b"}, false, ModeScript, "", "script.sh", false, false},
		{[]string{"-e", "script.sh"}, false, ModeScript, "", "script.sh", false, false},
		{[]string{"--", "./run"}, false, ModeScript, "", "./run", false, false},
		{[]string{"missing.sh"}, false, ModeScript, "", "missing.sh", false, false},
		{[]string{}, false, ModeStdin, "", "", false, false},
		{[]string{"-s", "a", "b"}, false, ModeStdin, "", "", false, false},
		{[]string{}, true, ModeInteractive, "", "", false, false},
		{[]string{"-i"}, false, ModeInteractive, "", "", false, true},
		{[]string{"--login"}, true, ModeInteractive, "", "", true, false},
		// Claude Code's CLAUDE_CODE_SHELL_PREFIX: one argument, a command line.
		{[]string{"source /x/snap.sh && eval 'ls' < /dev/null && pwd -P >| /tmp/cwd"}, false, ModePrefix, "source /x/snap.sh && eval 'ls' < /dev/null && pwd -P >| /tmp/cwd", "", false, false},
	}
	for _, tt := range tests {
		inv, err := ParseArgs(tt.args, isFile, tt.tty)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if inv.Mode != tt.mode || inv.Command != tt.command || inv.Script != tt.script || inv.Login != tt.login || inv.Interactive != tt.inter || !slices.Equal(inv.Args, tt.args) {
			t.Errorf("%q: got %+v (mode %v)", tt.args, inv, inv.Mode)
		}
	}
	inv, err := ParseArgs([]string{"--version", "-c", "x"}, isFile, false)
	if err != nil || !inv.InfoOnly || inv.Command != "" {
		t.Errorf("--version: %+v, %v", inv, err)
	}
	inv, err = ParseArgs([]string{"-i", "-o", "posix"}, isFile, false)
	if err != nil || inv.StartupOption != "-o posix" {
		t.Errorf("-o posix: %+v, %v", inv, err)
	}
	for _, bad := range [][]string{{"-c"}, {"--rcfile"}, {"-lc"}, {"--nosuch", "-c", "x"}} {
		if _, err := ParseArgs(bad, isFile, false); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
