package shellwrap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A script on stdin is read whole and judged before anything runs. A
// program that keeps one shell running and writes it commands one at a
// time, waiting for each one's output, never closes that stdin: reading it
// whole would wait forever. Such a stream is handed to bash untouched,
// with the DEBUG trap of interactive sessions (set up through BASH_ENV,
// the one startup file a non-interactive bash reads, with history turned
// on): each line is checked, whole, before it runs.

// stdinSettle is how long rampart-sh waits for the writer of a piped stdin
// to close it before it takes the input for a stream.
const stdinSettle = 200 * time.Millisecond

// checkStreamFlag is how the stream's DEBUG trap asks rampart-sh about one
// command line: exit 0 runs it, anything else skips it.
const checkStreamFlag = "--rampart-check-stdin"

// stdinStays reports whether f is a pipe or a socket whose writer has not
// closed it within wait. Nothing is read from f.
func stdinStays(f *os.File, wait time.Duration) bool {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil {
		return false
	}
	var events int16
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
		events = 0 // POLLHUP comes whatever is asked for: no wake-up for data
	case unix.S_IFSOCK:
		events = unix.POLLRDHUP
	default:
		return false // a file or a device: read it whole
	}
	deadline := time.Now().Add(wait)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: events}}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return false
		case n == 0:
			return true
		}
		return fds[0].Revents&(unix.POLLHUP|unix.POLLRDHUP|unix.POLLERR|unix.POLLNVAL) == 0
	}
}

// streamable reports whether the stdin script of inv, run by real, can be
// checked as a stream: bash, neither a login shell nor in POSIX mode nor
// privileged (each of which skips BASH_ENV), so plain "bash" or "bash -s
// ARGS...".
func (e *Env) streamable(real string, inv *Invocation) bool {
	if filepath.Base(real) != "bash" || strings.HasPrefix(filepath.Base(e.Args[0]), "-") {
		return false
	}
	return len(inv.Args) == 0 || inv.Args[0] == "-s"
}

// stream runs the real bash on the stdin it was given, untouched, with
// every simple command checked before it runs.
func (e *Env) stream(real string, args []string) int {
	rc, err := writeStreamRCFile(rampartHome(e.Getenv), e.Self, e.Getenv("BASH_ENV"))
	if err != nil {
		fmt.Fprintf(e.Stderr, "rampart: blocked: a script on stdin that stays open (cannot set up command checking: %v)\n", err)
		return ExitBlocked
	}
	env := slices.DeleteFunc(slices.Clone(e.Environ), func(kv string) bool { return strings.HasPrefix(kv, "BASH_ENV=") })
	env = append(env, "BASH_ENV="+rc)
	defer os.Remove(rc) // reached only when bash could not be run
	return e.execEnv(real, append([]string{e.argv0For(real)}, args...), env)
}

// writeStreamRCFile writes the BASH_ENV file of a stream: it puts back
// the caller's own BASH_ENV (and reads it, as bash would have), turns
// history on (a non-interactive bash keeps none, and the trap judges each
// line whole from it; nothing is written to a history file), then sets the
// trap. It prints nothing.
func writeStreamRCFile(home, self, userEnv string) (string, error) {
	var b strings.Builder
	b.WriteString("# Written by rampart-sh for one bash reading a stream of commands on stdin.\n")
	if userEnv != "" {
		fmt.Fprintf(&b, "BASH_ENV=%s\n[ -r \"$BASH_ENV\" ] && . \"$BASH_ENV\"\n", shellQuote(userEnv))
	} else {
		b.WriteString("unset BASH_ENV\n")
	}
	b.WriteString("set -o history\n")
	return writeTrapFile(home, "bashenv-*", b.String(), self, checkStreamFlag, "0", false)
}
