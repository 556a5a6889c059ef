package guard

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// Config starts a guarded command.
type Config struct {
	// ChildArgv runs [RunChild] in a new process: typically the rampart
	// binary itself with a hidden subcommand. The listener socket is
	// passed to it as fd 3.
	ChildArgv []string
	Env       []string
	Dir       string
	// Decide, Unreadable and Idle, as in [Supervisor].
	Decide     func(*ExecCall) Verdict
	Unreadable func(pid int, err error) Verdict
	Idle       func()
}

// ChildSocketFD is the descriptor the child finds its socket on.
const ChildSocketFD = 3

// Run starts the guarded child, supervises its whole tree until the child
// exits, and returns the child's exit code (128+N when signal N ended it).
func Run(cfg Config) (int, error) {
	if err := Supported(); err != nil {
		return 0, err
	}
	// The tree runs as our user: where Yama does not stop it, it could
	// take our listener (pidfd_getfd) or write our memory and answer its
	// own execs. A process that is not dumpable is out of reach of
	// ptrace access from its own user. Our child's exec makes it
	// dumpable again, as the supervisor needs to read the tree.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return 0, fmt.Errorf("make the supervisor undumpable: %w", err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("socketpair: %w", err)
	}
	parentSock := os.NewFile(uintptr(pair[0]), "guard-parent")
	childSock := os.NewFile(uintptr(pair[1]), "guard-child")
	defer parentSock.Close()

	// Orphans of the tree are re-parented to us, so they stay our
	// descendants (ptrace access to their memory) and get reaped.
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

	pid, err := syscall.ForkExec(cfg.ChildArgv[0], cfg.ChildArgv, &syscall.ProcAttr{
		Dir:   cfg.Dir,
		Env:   cfg.Env,
		Files: []uintptr{os.Stdin.Fd(), os.Stdout.Fd(), os.Stderr.Fd(), childSock.Fd()},
	})
	childSock.Close()
	if err != nil {
		return 0, fmt.Errorf("start the guarded child: %w", err)
	}
	exited := reap(pid)
	listener, err := receiveListener(parentSock)
	if err != nil {
		<-exited // the child reported its error and exits
		return 0, err
	}
	sup, err := NewSupervisor(listener)
	if err != nil {
		return 0, err
	}
	sup.Decide, sup.Unreadable, sup.Idle = cfg.Decide, cfg.Unreadable, cfg.Idle

	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(signals)
	go func() {
		for sig := range signals {
			// Ctrl-C and Ctrl-\ reach the tree from the terminal
			// already; sent to us alone (kill, a harness stopping us),
			// they are passed on like the others.
			if (sig == syscall.SIGINT || sig == syscall.SIGQUIT) && inTerminalForeground() {
				continue
			}
			syscall.Kill(pid, sig.(syscall.Signal))
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	status := <-exited
	cancel()
	runErr := <-done
	sup.Close()
	code := status.ExitStatus()
	if status.Signaled() {
		code = 128 + int(status.Signal())
	}
	return code, runErr
}

// inTerminalForeground reports whether this process is in the foreground
// process group of its controlling terminal, which gets the terminal's
// Ctrl-C and Ctrl-\ along with us.
func inTerminalForeground() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false // no controlling terminal
	}
	defer tty.Close()
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && fg == unix.Getpgrp()
}

// reap waits for every child of this process (the guarded child and the
// orphans it leaves to us) and reports the guarded child's status.
func reap(child int) <-chan syscall.WaitStatus {
	out := make(chan syscall.WaitStatus, 1)
	go func() {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, 0, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				return // ECHILD: nothing left to wait for
			}
			if pid == child {
				out <- ws
			}
		}
	}()
	return out
}
