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

// checkLine decides one interactive command line.
func checkLine(e *Env, line string) int {
	code, _ := e.judge(line, "shell/interactive")
	return code
}

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
	rc, err := writeRCFile(rampartHome(e.Getenv), e.Self, inv.Login)
	if err != nil {
		fmt.Fprintf(e.Stderr, "rampart-sh: cannot set up command checking: %v\n", err)
		return ExitBlocked
	}
	// A login shell ignores --rcfile: the rc file reads the login files
	// itself instead.
	var argv []string
	argv = append(argv, "bash", "--rcfile", rc)
	for _, a := range inv.Args {
		if a == "--login" || a == "-l" {
			continue
		}
		argv = append(argv, a)
	}
	if !inv.Interactive {
		argv = append(argv, "-i")
	}
	return e.execArgv(real, argv)
}

// writeRCFile writes the session's rc file under RAMPART_HOME/run (or the
// temp folder) and returns its path.
func writeRCFile(home, self string, login bool) (string, error) {
	dir := os.TempDir()
	if home != "" {
		dir = filepath.Join(home, "run")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "bashrc-*")
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	b.WriteString("# Written by rampart-sh for one interactive session.\n")
	if login {
		b.WriteString("[ -r /etc/profile ] && . /etc/profile\n")
		b.WriteString("for __rampart_f in ~/.bash_profile ~/.bash_login ~/.profile; do [ -r \"$__rampart_f\" ] && { . \"$__rampart_f\"; break; }; done; unset __rampart_f\n")
	} else {
		b.WriteString("[ -r ~/.bashrc ] && . ~/.bashrc\n")
	}
	fmt.Fprintf(&b, `rm -f %s
__rampart_hist=
__rampart_status=0
__rampart_check() {
  [ -n "${COMP_LINE-}" ] && return 0
  case "$BASH_COMMAND" in __rampart_*|"$PROMPT_COMMAND") return 0;; esac
  local line
  line=$(HISTTIMEFORMAT= builtin fc -ln -0 2>/dev/null)
  if [ -n "$line" ] && [ "$HISTCMD" = "$__rampart_hist" ]; then
    return $__rampart_status
  fi
  if [ -z "$line" ]; then line=$BASH_COMMAND; fi
  __rampart_hist=$HISTCMD
  %s %s "$line"
  __rampart_status=$?
  return $__rampart_status
}
shopt -s extdebug
trap '__rampart_check' DEBUG
printf '%%s\n' 'rampart-sh: every command line of this bash session is checked by Rampart before it runs (DEBUG trap).' >&2
`, shellQuote(f.Name()), shellQuote(self), checkLineFlag)
	if _, err := f.WriteString(b.String()); err != nil {
		return "", err
	}
	return f.Name(), nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
