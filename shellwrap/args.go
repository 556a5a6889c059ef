// Package shellwrap is rampart-sh: a stand-in for bash, sh or zsh that
// checks every command it is given with the policy engine and then hands it,
// untouched, to the real shell.
//
// It accepts the ways agents and scripts call a shell (see [ParseArgs]):
// "-c CMD [ARG0 ARGS...]" in all its spellings, a script file, a script on
// stdin, an interactive session, and Claude Code's CLAUDE_CODE_SHELL_PREFIX
// form, where the whole command line comes as one argument.
package shellwrap

import (
	"fmt"
	"strings"
)

// Mode is how the shell was asked to get its commands.
type Mode int

const (
	// ModeCommand: -c CMD.
	ModeCommand Mode = iota
	// ModeScript: a script file and its arguments.
	ModeScript
	// ModeStdin: the script is read from standard input (-s, or no
	// arguments with stdin not a terminal).
	ModeStdin
	// ModeInteractive: a terminal session.
	ModeInteractive
	// ModePrefix: Claude Code's CLAUDE_CODE_SHELL_PREFIX calling form,
	// "rampart-sh 'COMMAND LINE'".
	ModePrefix
)

func (m Mode) String() string {
	return [...]string{"command", "script", "stdin", "interactive", "prefix"}[m]
}

// Invocation is a shell command line, understood.
type Invocation struct {
	Mode Mode
	// Command is the -c string, or the prefix form's command line.
	Command string
	// Script is the script file (ModeScript).
	Script string
	// Interactive is true with -i.
	Interactive bool
	// Login is true with -l or --login.
	Login bool
	// InfoOnly is true with --help or --version: bash prints and exits
	// without running anything (Mode and Command are then unset).
	InfoOnly bool
	// StartupOption is the last option that changes which startup file an
	// interactive bash reads (--norc, --rcfile, --init-file, --posix,
	// -o posix), as given; "" without one.
	StartupOption string
	// Args are the original arguments (without argv[0]), passed to the
	// real shell unchanged.
	Args []string
}

// bashLongOptions are the long options bash reads before any other: true
// for those that take the next word as their value. bash accepts them with
// one dash as well as two (-norc, -rcfile FILE).
var bashLongOptions = map[string]bool{
	"debug": false, "debugger": false, "dump-po-strings": false, "dump-strings": false,
	"help": false, "init-file": true, "login": false, "noediting": false, "noprofile": false,
	"norc": false, "posix": false, "pretty-print": false, "rcfile": true, "restricted": false,
	"verbose": false, "version": false,
}

// ParseArgs reads a shell's arguments the way bash does: first its long
// options (--login, --norc, --rcfile FILE, also spelled with one dash),
// then single-letter options, combined or not, after - or + alike (+c still
// means -c; -o, +o, -O and +O take the next word as their value when there
// is one), up to "-", "--" or the first word that is not an option; then,
// with -c, the command string and $0 and the positional parameters;
// without it, a script file and its arguments, or nothing.
//
// isFile tells whether a word names an existing file: a single argument
// that is not a file but looks like a command line is Claude Code's prefix
// form. stdinIsTerminal decides between ModeStdin and ModeInteractive when
// there is no script.
func ParseArgs(args []string, isFile func(string) bool, stdinIsTerminal bool) (*Invocation, error) {
	inv := &Invocation{Args: args}
	i := 0
	for ; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		name, long := args[i][1:], false
		if strings.HasPrefix(name, "-") && len(name) > 1 {
			name, long = name[1:], true
		}
		takesValue, known := bashLongOptions[name]
		if !known {
			if long {
				return nil, fmt.Errorf("%s: invalid option", args[i])
			}
			break // single-letter options
		}
		switch {
		case name == "login":
			inv.Login = true
		case name == "help" || name == "version":
			inv.InfoOnly = true
		case name == "norc" || name == "posix":
			inv.StartupOption = args[i]
		case takesValue:
			if i+1 >= len(args) {
				return nil, fmt.Errorf("%s: option requires an argument", name)
			}
			inv.StartupOption = args[i]
			i++
		}
	}
	if inv.InfoOnly {
		return inv, nil // bash prints and exits before reading anything else
	}
	command, readStdin := false, false
	for i < len(args) {
		a := args[i]
		if a == "-" || a == "--" {
			i++
			break
		}
		if a == "" || a[0] != '-' && a[0] != '+' {
			break
		}
		next := i + 1
		for _, r := range a[1:] {
			switch r {
			case 'c':
				command = true
			case 'l':
				inv.Login = true
			case 's':
				readStdin = true
			case 'i':
				inv.Interactive = a[0] == '-'
			case 'o', 'O':
				// -eo pipefail: the value is the next word. Without one,
				// bash lists the options and goes on.
				if next < len(args) {
					if r == 'o' && a[0] == '-' && args[next] == "posix" {
						inv.StartupOption = "-o posix"
					}
					next++
				}
			}
		}
		i = next
	}
	rest := args[i:]
	switch {
	case command:
		if len(rest) == 0 {
			return nil, fmt.Errorf("-c: option requires an argument")
		}
		inv.Mode, inv.Command = ModeCommand, rest[0]
	case (readStdin || len(rest) == 0) && (inv.Interactive || stdinIsTerminal):
		inv.Mode = ModeInteractive
	case readStdin || len(rest) == 0:
		inv.Mode = ModeStdin
	case len(args) == 1 && !isFile(rest[0]) && looksLikeCommandLine(rest[0]):
		inv.Mode, inv.Command = ModePrefix, rest[0]
	default:
		inv.Mode, inv.Script = ModeScript, rest[0]
	}
	return inv, nil
}

// looksLikeCommandLine reports whether a lone argument is a command line
// rather than a script name: it has spaces or shell syntax in it.
func looksLikeCommandLine(s string) bool {
	return strings.ContainsAny(s, " \t\n;&|<>()$`'\"")
}
