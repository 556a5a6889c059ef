package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes. They are part of Rampart's contract with scripts and agents:
// change them only deliberately. The error codes follow sysexits.h.
const (
	ExitOK         = 0  // allow or log; or success
	ExitDeny       = 1  // check: the call is denied
	ExitAsk        = 2  // check: a human must approve the call
	ExitUsage      = 64 // bad flags, missing or extra arguments, unknown command
	ExitDataErr    = 65 // check --stdin: some input line was not a valid tool call
	ExitSoftware   = 70 // an internal error (a bug)
	ExitCantCreate = 73 // init: a file exists (without --force) or cannot be written
	ExitIOErr      = 74 // reading input or writing output failed
	ExitConfig     = 78 // a policy file or config.yaml is invalid
)

// exitError ends a command with an exit code. err (when not nil) is printed
// as "rampart: error: ..." one line per line of its text, then each hint as
// "rampart: hint: ...".
type exitError struct {
	code  int
	err   error
	hints []string
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode ends a command with code and prints nothing.
func exitCode(code int) error {
	if code == ExitOK {
		return nil
	}
	return &exitError{code: code}
}

// usageErrorf is a usage error (exit 64) with an optional hint.
func usageErrorf(hint, format string, args ...any) error {
	e := &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
	if hint != "" {
		e.hints = append(e.hints, hint)
	}
	return e
}

// withCode gives err an exit code and hints.
func withCode(code int, err error, hints ...string) error {
	return &exitError{code: code, err: err, hints: hints}
}

// report prints err the way the CLI prints every error and returns the exit
// code it stands for.
func report(w io.Writer, err error) int {
	var ee *exitError
	if !errors.As(err, &ee) {
		ee = &exitError{code: ExitSoftware, err: err}
	}
	if ee.err != nil {
		for _, line := range strings.Split(strings.TrimRight(ee.err.Error(), "\n"), "\n") {
			fmt.Fprintf(w, "rampart: error: %s\n", line)
		}
	}
	for _, h := range ee.hints {
		fmt.Fprintf(w, "rampart: hint: %s\n", h)
	}
	return ee.code
}
