package shellwrap

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// checkLineFlag is how the interactive session's DEBUG trap asks
// rampart-sh about one command line: exit 0 runs it, anything else skips it.
const checkLineFlag = "--rampart-check-line"

// checkFlags are the DEBUG traps' flags and the adapter each records.
var checkFlags = map[string]string{checkLineFlag: "shell/interactive", checkStreamFlag: "shell/stdin"}

// interactive starts the real shell as an interactive session in which
// every command line is checked before it runs. bash supports this with a
// DEBUG trap under extdebug: when the trap returns non-zero the command is
// skipped. The trap checks the whole line from history once (so a pipeline
// such as "curl … | bash" is judged as one), and each simple command on
// its own when history is off. Other shells have no such hook: rampart-sh
// refuses to start them interactively rather than run them unchecked.
func (e *Env) interactive(real string, inv *Invocation) int {
	if filepath.Base(real) != "bash" {
		fmt.Fprintf(e.Stderr, "rampart-sh: interactive %s sessions cannot be checked command by command; use bash (RAMPART_REAL_SHELL=/bin/bash), or run commands with -c\n", filepath.Base(real))
		return ExitBlocked
	}
	if inv.StartupOption != "" {
		// bash would read another startup file than the one that sets
		// up the checking, or none.
		fmt.Fprintf(e.Stderr, "rampart-sh: an interactive bash started with %s cannot be checked command by command; start it without that option, or run commands with -c\n", inv.StartupOption)
		return ExitBlocked
	}
	login := inv.Login || strings.HasPrefix(filepath.Base(e.Args[0]), "-") // -bash
	rc, err := writeRCFile(rampartHome(e.Getenv), e.Self, login)
	if err != nil {
		fmt.Fprintf(e.Stderr, "rampart-sh: cannot set up command checking: %v\n", err)
		return ExitBlocked
	}
	// A login shell ignores --rcfile: the rc file reads the login files
	// itself instead.
	argv := append([]string{"bash", "--rcfile", rc}, withoutLoginOptions(inv.Args)...)
	if !inv.Interactive {
		argv = append(argv, "-i")
	}
	return e.execArgv(real, argv)
}

// withoutLoginOptions returns bash arguments without the options that make
// a login shell: --login, -login, and the l of -l, -li or +l.
func withoutLoginOptions(args []string) []string {
	var out []string
	i := 0
	for ; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		name := strings.TrimPrefix(strings.TrimPrefix(args[i], "-"), "-")
		if _, known := bashLongOptions[name]; !known {
			break
		}
		if name != "login" {
			out = append(out, args[i])
		}
	}
	for i < len(args) {
		a := args[i]
		if a == "" || a == "-" || a == "--" || a[0] != '-' && a[0] != '+' {
			break
		}
		next := i + 1
		for _, r := range a[1:] {
			if (r == 'o' || r == 'O') && next < len(args) {
				next++ // the option's value
			}
		}
		if letters := strings.ReplaceAll(a[1:], "l", ""); letters != "" {
			out = append(out, a[:1]+letters)
		}
		out = append(out, args[i+1:next]...)
		i = next
	}
	return append(out, args[i:]...)
}

// writeRCFile writes the session's rc file under RAMPART_HOME/run (or the
// temp folder) and returns its path.
func writeRCFile(home, self string, login bool) (string, error) {
	var b strings.Builder
	b.WriteString("# Written by rampart-sh for one interactive session.\n")
	if login {
		b.WriteString("[ -r /etc/profile ] && . /etc/profile\n")
		b.WriteString("for __rampart_f in ~/.bash_profile ~/.bash_login ~/.profile; do [ -r \"$__rampart_f\" ] && { . \"$__rampart_f\"; break; }; done; unset __rampart_f\n")
	} else {
		b.WriteString("[ -r ~/.bashrc ] && . ~/.bashrc\n")
	}
	b.WriteString("printf '%s\\n' 'rampart-sh: every command line of this bash session is checked by Rampart before it runs (DEBUG trap).' >&2\n")
	// The first line's history entry cannot be told from one loaded
	// from HISTFILE: it is judged command by command.
	return writeTrapFile(home, "bashrc-*", b.String(), self, checkLineFlag, "", true)
}

// writeTrapFile writes a startup file for bash under RAMPART_HOME/run (or
// the temp folder): it removes itself, runs setup, then sets the DEBUG
// trap that asks "self flag COMMAND" about each command line before it
// runs. It returns the file's path.
//
// The trap judges a line as a whole, once, when the newest history entry
// is a new one (numbered above firstEntry, or above the last one seen when
// firstEntry is ""): that entry is the line, so "curl ... | bash" is judged
// as one. A line that history did not keep (history off,
// HISTCONTROL=ignorespace) is judged simple command by simple command. \#
// is the number of the line being run. extdebug (a non-zero trap skips the
// command) is set by the trap itself: set in a startup file read before
// the first command (BASH_ENV), it makes bash look for its debugger, and
// without one bash turns it off again. interactive adds the skips an
// interactive session needs (completion, PROMPT_COMMAND); nothing else is
// skipped, whatever its name.
func writeTrapFile(home, pattern, setup, self, flag, firstEntry string, interactive bool) (string, error) {
	dir := os.TempDir()
	if home != "" {
		dir = filepath.Join(home, "run")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "rm -f %s\n", shellQuote(f.Name()))
	b.WriteString(setup)
	skips := ""
	if interactive {
		// Completion functions (bash sets COMP_LINE while they run) are
		// not checked: TAB would start dozens of checks. PROMPT_COMMAND
		// runs before every prompt: it is checked once per value.
		skips = fmt.Sprintf(`  [ -n "${COMP_LINE-}" ] && return 0
  if [ -n "${PROMPT_COMMAND-}" ] && [ "$BASH_COMMAND" = "$PROMPT_COMMAND" ]; then
    [ "$PROMPT_COMMAND" = "$__rampart_prompt" ] && return 0
    %s %s "$PROMPT_COMMAND" || return
    __rampart_prompt=$PROMPT_COMMAND
    return 0
  fi
`, shellQuote(self), flag)
	}
	fmt.Fprintf(&b, `__rampart_line=
__rampart_entry=%[3]s
__rampart_status=0
__rampart_prompt=
__rampart_check() {
  shopt -s extdebug
%[4]s  local line='\#' last entry
  line=${line@P}
  if [ "$line" = "$__rampart_line" ]; then
    return $__rampart_status
  fi
  last=$(HISTTIMEFORMAT= builtin fc -l -0 2>/dev/null)
  entry=${last%%%%[!0-9]*}
  if [ -n "$entry" ] && [ -n "$__rampart_entry" ] && [ "$entry" -gt "$__rampart_entry" ]; then
    __rampart_entry=$entry
    __rampart_line=$line
    %[1]s %[2]s "${last#*	}"
    __rampart_status=$?
    return $__rampart_status
  fi
  [ -n "$entry" ] && __rampart_entry=$entry
  %[1]s %[2]s "$BASH_COMMAND"
}
trap '__rampart_check' DEBUG
`, shellQuote(self), flag, firstEntry, skips)
	if _, err := f.WriteString(b.String()); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
