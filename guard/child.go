package guard

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// RunChild is the guarded child's side, run in a fresh process (rampart
// re-executes itself): it installs the filter on its own thread, passes
// the listener to the supervisor over sock, and execs argv. It returns
// only on error, after telling the supervisor what went wrong.
func RunChild(sock *os.File, argv, env []string) error {
	runtime.LockOSThread() // the filter is on this thread; exec from it
	if len(argv) == 0 {
		return sendError(sock, errors.New("no command given"))
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return sendError(sock, err)
	}
	listener, err := installFilter()
	if err != nil {
		return sendError(sock, err)
	}
	rights := unix.UnixRights(listener)
	if err := unix.Sendmsg(int(sock.Fd()), []byte{'F'}, rights, nil, 0); err != nil {
		return fmt.Errorf("pass the seccomp listener to the supervisor: %w", err)
	}
	// The tree must never hold the listener: it could answer its own
	// notifications.
	unix.Close(listener)
	sock.Close()
	// This exec is the first one the supervisor decides.
	err = unix.Exec(path, argv, env)
	return fmt.Errorf("exec %s: %w", argv[0], err)
}

func sendError(sock *os.File, err error) error {
	unix.Sendmsg(int(sock.Fd()), append([]byte{'E'}, err.Error()...), nil, nil, 0)
	return err
}

// receiveListener waits for the child's listener (or its error).
func receiveListener(sock *os.File) (int, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, 0)
	if err != nil {
		return -1, fmt.Errorf("receive the seccomp listener: %w", err)
	}
	if n == 0 {
		return -1, errors.New("the guarded child exited before installing its filter")
	}
	if buf[0] == 'E' {
		return -1, childError(string(buf[1:n]))
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("receive the seccomp listener: bad control message (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, fmt.Errorf("receive the seccomp listener: %v", err)
	}
	unix.CloseOnExec(fds[0])
	return fds[0], nil
}

// childError maps the child's message back to the sentinel errors.
func childError(msg string) error {
	for _, e := range []error{ErrUnsupported, ErrRefused} {
		if msg == e.Error() {
			return e
		}
	}
	return errors.New(msg)
}
