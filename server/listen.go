package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrRunning is returned by [ListenUnix] when another server answers on
// the socket.
var ErrRunning = errors.New("another server is listening on the socket")

// maxSocketPath is the longest path a Unix socket address can hold on
// Linux (sun_path is 108 bytes, with the terminating NUL).
const maxSocketPath = 107

// ListenUnix listens on a Unix socket at path, readable and writable only
// by the owner (0600), in a folder created 0700. A stale socket left by a
// crashed server (one that refuses connections) is removed; a live one,
// even one too busy to take a connection, is [ErrRunning]; any other file
// at path is an error.
func ListenUnix(path string) (net.Listener, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("socket path %s is %d bytes long; Unix sockets allow %d (use --socket with a shorter path)", path, len(path), maxSocketPath)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the socket's folder: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket; remove it or choose another --socket", path)
		}
		conn, err := net.DialTimeout("unix", path, time.Second)
		switch {
		case err == nil:
			conn.Close()
			return nil, fmt.Errorf("%s: %w", path, ErrRunning)
		case errors.Is(err, syscall.EAGAIN):
			// A server listens, but its backlog is full.
			return nil, fmt.Errorf("%s: %w (too busy to take a connection)", path, ErrRunning)
		case !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ENOENT):
			// Only a refusal says that nothing listens any more.
			return nil, fmt.Errorf("%s: cannot tell whether a server listens on it (%w); remove it or choose another --socket", path, err)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove the stale socket %s: %w", path, err)
		}
	}
	// The socket is created 0600 (umask 0177 while it is made) so that
	// no one else can connect even for a moment, whatever the folder.
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod the socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	return ln, nil
}

// CheckLoopback returns an error unless host (an IP address or a host
// name) only reaches this machine. An empty host means every interface.
func CheckLoopback(host string) error {
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil {
		if host == "" {
			return errors.New("an empty host listens on every network interface")
		}
		ips, err := net.LookupIP(host)
		if err != nil || len(ips) == 0 {
			return fmt.Errorf("cannot resolve %q", host)
		}
		for _, ip := range ips {
			if !ip.IsLoopback() {
				return fmt.Errorf("%s resolves to %s, which is not a loopback address", host, ip)
			}
		}
		return nil
	}
	if !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address", host)
	}
	return nil
}
