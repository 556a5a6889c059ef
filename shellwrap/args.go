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
	// Login is true with -l or --login (or argv[0] starting with "-").
	Login bool
	// Args are the original arguments (without argv[0]), passed to the
	// real shell unchanged.
	Args []string
}

// optionsWithArgument take the next word as their value.
var optionsWithArgument = map[string]bool{"-o": true, "+o": true, "-O": true, "+O": true}

var longOptionsWithArgument = map[string]bool{"--rcfile": true, "--init-file": true}

// ParseArgs reads a shell's arguments the way bash does: options first
// (single letters may be combined, as in -lc or -ec; -o, +o, -O and +O take
// a value; long options such as --login and --norc), then, with -c, the
// command string and $0 and the positional parameters; without -c, a
// script file and its arguments, or nothing.
//
// isFile tells whether a word names an existing file: a single argument
// that is not a file but looks like a command line is Claude Code's prefix
// form. stdinIsTerminal decides between ModeStdin and ModeInteractive when
// there is no script.
func ParseArgs(args []string, isFile func(string) bool, stdinIsTerminal bool) (*Invocation, error) {
	inv := &Invocation{Args: args}
	command, readStdin := false, false
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-" {
			i++
			break
		}
		if strings.HasPrefix(a, "--") {
			switch {
			case a == "--login":
				inv.Login = true
			case longOptionsWithArgument[a]:
				if i+1 >= len(args) {
					return nil, fmt.Errorf("%s: option requires an argument", a)
				}
				i++
			}
			// Other long options (--norc, --noprofile, --posix, ...) pass
			// through to the real shell.
			continue
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			break
		}
		if optionsWithArgument[a] {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("%s: option requires an argument", a)
			}
			i++
			continue
		}
		for _, r := range a[1:] {
			if a[0] == '+' {
				continue
			}
			switch r {
			case 'c':
				command = true
			case 'l':
				inv.Login = true
			case 'i':
				inv.Interactive = true
			case 's':
				readStdin = true
			case 'o', 'O':
				// Combined as in -eo pipefail: the value is the next word.
				if i+1 >= len(args) {
					return nil, fmt.Errorf("-%c: option requires an argument", r)
				}
				i++
			}
		}
	}
	rest := args[i:]
	switch {
	case command:
		if len(rest) == 0 {
			return nil, fmt.Errorf("-c: option requires an argument")
		}
		inv.Mode, inv.Command = ModeCommand, rest[0]
	case readStdin:
		inv.Mode = ModeStdin
	case len(rest) == 0 && i == len(args) && (inv.Interactive || stdinIsTerminal):
		inv.Mode = ModeInteractive
	case len(rest) == 0:
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
