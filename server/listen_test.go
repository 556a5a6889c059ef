package server

import (
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// failingListener fails its first accepts with err, as the kernel does
// when the process is out of file descriptors, then accepts as usual.
type failingListener struct {
	net.Listener
	failures atomic.Int32
	err      error
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, l.err
	}
	return l.Listener.Accept()
}

// A passing accept error (no file descriptor left, a connection aborted
// before it was accepted) does not stop the Unix socket, as net/http does
// not stop TCP: regression, a local client that opened enough
// connections to exhaust the server's descriptors made Serve return, and
// rampart serve exit.
func TestUnixSocketSurvivesTemporaryAcceptErrors(t *testing.T) {
	e := newTestEnv(t, nil)
	sock := SocketPath(e.rhome)
	ln, err := ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	flaky := &failingListener{Listener: ln,
		err: &net.OpError{Op: "accept", Net: "unix", Err: os.NewSyscallError("accept4", syscall.EMFILE)}}
	flaky.failures.Store(3)
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(flaky) }()

	answers := rawExchange(t, sock, checkRequest(testToken, `{"tool":"exec","command":"ls"}`, "close"))
	if len(answers) != 1 || answers[0].StatusCode != http.StatusOK {
		t.Fatalf("answers after the accept errors: %+v", answers)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v after a temporary accept error", err)
	default:
	}
}

// listenBacklogZero listens on a Unix socket at path whose backlog holds
// a single connection, and never accepts: a live server too busy to take
// another connection at once.
func listenBacklogZero(t *testing.T, path string) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
}

// A live server whose backlog is full refuses a connection with EAGAIN;
// its socket is not stale and must not be removed and taken over.
func TestListenUnixBusyServerIsNotTakenOver(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "rampart.sock")
	listenBacklogZero(t, sock)
	before, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	// Fill the backlog until a connection is refused.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("unix", sock, time.Second)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
		if i > 16 {
			t.Skip("the kernel keeps accepting connections into the backlog")
		}
	}
	ln, err := ListenUnix(sock)
	if err == nil {
		ln.Close()
		t.Fatal("ListenUnix took over the socket of a live server")
	}
	if !errors.Is(err, ErrRunning) {
		t.Errorf("over a busy live socket: %v, want ErrRunning", err)
	}
	after, err := os.Lstat(sock)
	if err != nil || !os.SameFile(before, after) {
		t.Errorf("the live server's socket was removed or replaced (%v)", err)
	}
}
