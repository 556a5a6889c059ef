package guard

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// ExecCall is one exec of the guarded tree, as the supervisor read it.
type ExecCall struct {
	Pid int
	// Path is the program the kernel will run, absolute.
	Path string
	// Argv is the argument vector, argv[0] as the caller passed it.
	Argv []string
	Cwd  string
}

// Verdict is a decision on one exec.
type Verdict struct {
	Allow bool
	// Errno fails a denied exec (EPERM when zero).
	Errno unix.Errno
	// Wait, when not nil, is a verdict that takes time (a human's
	// approval): the supervisor answers with its result later, from a
	// goroutine of its own, and goes on deciding other execs meanwhile.
	Wait func() Verdict
}

// Supervisor answers the notifications of one listener.
type Supervisor struct {
	listener int
	arch     archInfo
	// Decide is called for every exec, from the receiving loop.
	Decide func(*ExecCall) Verdict
	// Unreadable is called, from the receiving loop, when an exec's
	// arguments cannot be read (returns the verdict the fail mode gives).
	Unreadable func(pid int, err error) Verdict
	// Idle, when set, is called from the receiving loop after it has
	// answered notifications: as soon as no other one waits, after
	// idleEvery answers in a row at the latest, and before Run returns.
	// It is the place for work that must not delay an answer, such as
	// writing the audit records of the decisions just made.
	Idle func()

	wg sync.WaitGroup
	// Used by the receiving loop only:
	mem      memReader
	answered int // notifications answered since Idle was last called
}

// NewSupervisor wraps a listener received from [RunChild]'s child.
func NewSupervisor(listener int) (*Supervisor, error) {
	a, err := nativeArch()
	if err != nil {
		return nil, err
	}
	return &Supervisor{listener: listener, arch: a}, nil
}

// Run answers notifications until ctx is done or no process of the tree
// is left, then waits for the answers in flight. Notifications are decided
// as they arrive; a verdict that must wait (an approval, see
// [Verdict.Wait]) is answered from its own goroutine, so it never holds
// up the others.
func (s *Supervisor) Run(ctx context.Context) error {
	defer s.wg.Wait()
	defer s.idle()
	fds := []unix.PollFd{{Fd: int32(s.listener), Events: unix.POLLIN}}
	for ctx.Err() == nil {
		// With answers to follow up (Idle), only look: what waits
		// comes first, then Idle, then the wait for the next one.
		timeout := 100
		if s.answered > 0 {
			timeout = 0
		}
		n, err := unix.Poll(fds, timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll the seccomp listener: %w", err)
		}
		if n == 0 {
			s.idle()
			continue
		}
		if fds[0].Revents&unix.POLLNVAL != 0 {
			return errors.New("poll the seccomp listener: descriptor closed")
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			if fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
				return nil // every guarded process is gone
			}
			continue
		}
		var notif seccompNotif
		if err := recvNotif(s.listener, &notif); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // the caller died before we read it
			}
			return fmt.Errorf("receive a notification: %w", err)
		}
		// Decided here, without a hand-off to another goroutine: a
		// decision takes microseconds. Only a verdict that must wait (an
		// approval) continues on a goroutine of its own.
		s.handle(&notif)
		if s.answered++; s.answered >= idleEvery {
			s.idle()
		}
	}
	return nil
}

// idleEvery is how many answers in a row the loop gives at most before
// it calls Idle.
const idleEvery = 64

// idle calls Idle if notifications were answered since the last call.
func (s *Supervisor) idle() {
	if s.answered > 0 && s.Idle != nil {
		s.Idle()
	}
	s.answered = 0
}

func (s *Supervisor) handle(n *seccompNotif) {
	call, err := readExec(&s.mem, n, s.arch)
	// Reading raced with the caller's death or pid reuse: the memory we
	// read may be another process's. Only answer a notification that is
	// still the same one.
	if !notifValid(s.listener, n.ID) {
		return
	}
	var v Verdict
	if err != nil {
		v = s.Unreadable(int(n.Pid), err)
	} else {
		v = s.Decide(call)
	}
	if v.Wait != nil {
		id := n.ID
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.answer(id, v.Wait())
		}()
		return
	}
	s.answer(n.ID, v)
}

// answer sends a verdict for notification id.
func (s *Supervisor) answer(id uint64, v Verdict) {
	errno := v.Errno
	if errno == 0 {
		errno = unix.EPERM
	}
	respond(s.listener, id, v.Allow, errno)
}

// Close closes the listener: the tree's later execs fail with ENOSYS.
func (s *Supervisor) Close() error { return unix.Close(s.listener) }
