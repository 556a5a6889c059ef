package guard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Limits on what is read from a caller's memory. Larger calls are refused
// (by the fail mode): the kernel itself limits one argument to 128 KiB and
// all of them to a quarter of the stack limit.
const (
	maxArgs     = 1 << 16
	maxArgBytes = 128 << 10
	maxAllBytes = 8 << 20
)

// procMem reads another process's memory through /proc/PID/mem.
type procMem struct {
	f *os.File
}

func openMem(pid int) (*procMem, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/mem")
	if err != nil {
		return nil, err
	}
	return &procMem{f: f}, nil
}

func (m *procMem) Close() error { return m.f.Close() }

// cString reads a NUL-terminated string at addr.
func (m *procMem) cString(addr uint64, limit int) (string, error) {
	if addr == 0 {
		return "", errors.New("NULL string")
	}
	var out []byte
	buf := make([]byte, 256)
	for len(out) < limit {
		// Read up to the end of the page, so a string ending just before
		// an unmapped page is still read.
		chunk := min(len(buf), 4096-int(addr%4096))
		n, err := m.f.ReadAt(buf[:chunk], int64(addr))
		if n == 0 && err != nil {
			return "", fmt.Errorf("read memory at %#x: %w", addr, err)
		}
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			return string(append(out, buf[:i]...)), nil
		}
		out = append(out, buf[:n]...)
		addr += uint64(n)
	}
	return "", fmt.Errorf("string longer than %d bytes", limit)
}

// argv reads a NULL-terminated array of string pointers at addr.
func (m *procMem) argv(addr uint64) ([]string, error) {
	if addr == 0 {
		return nil, nil // execve(path, NULL, ...) is allowed by Linux
	}
	var args []string
	total := 0
	ptr := make([]byte, 8)
	for i := 0; ; i++ {
		if i >= maxArgs {
			return nil, fmt.Errorf("more than %d arguments", maxArgs)
		}
		if _, err := m.f.ReadAt(ptr, int64(addr)+int64(8*i)); err != nil {
			return nil, fmt.Errorf("read argv[%d]: %w", i, err)
		}
		p := binary.NativeEndian.Uint64(ptr)
		if p == 0 {
			return args, nil
		}
		s, err := m.cString(p, maxArgBytes)
		if err != nil {
			return nil, fmt.Errorf("argv[%d]: %w", i, err)
		}
		if total += len(s); total > maxAllBytes {
			return nil, fmt.Errorf("arguments larger than %d bytes", maxAllBytes)
		}
		args = append(args, s)
	}
}

// readExec decodes an execve or execveat notification.
func readExec(n *seccompNotif, a archInfo) (*ExecCall, error) {
	pid := int(n.Pid)
	m, err := openMem(pid)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	call := &ExecCall{Pid: pid}
	if call.Cwd, err = os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err != nil {
		return nil, err
	}
	args := n.Data.Args
	var pathAddr, argvAddr uint64
	dirfd := int64(unix.AT_FDCWD)
	flags := uint64(0)
	switch uint32(n.Data.Nr) {
	case a.execve:
		pathAddr, argvAddr = args[0], args[1]
	case a.execveat:
		dirfd, pathAddr, argvAddr, flags = int64(int32(args[0])), args[1], args[2], args[4]
	default:
		return nil, fmt.Errorf("system call %d is not an exec", n.Data.Nr)
	}
	path, err := m.cString(pathAddr, unix.PathMax)
	if err != nil && !(flags&unix.AT_EMPTY_PATH != 0 && pathAddr == 0) {
		return nil, fmt.Errorf("path: %w", err)
	}
	if call.Argv, err = m.argv(argvAddr); err != nil {
		return nil, err
	}
	call.Path, err = resolveExecPath(pid, call.Cwd, dirfd, path, flags)
	if err != nil {
		return nil, err
	}
	return call, nil
}

// resolveExecPath makes the program's path absolute the way the kernel
// will find it: relative to the working directory or to dirfd, or dirfd
// itself with AT_EMPTY_PATH (fexecve).
func resolveExecPath(pid int, cwd string, dirfd int64, path string, flags uint64) (string, error) {
	fdPath := func(fd int64) (string, error) {
		return os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
	}
	switch {
	case path == "" && flags&unix.AT_EMPTY_PATH != 0:
		return fdPath(dirfd)
	case filepath.IsAbs(path):
		return filepath.Clean(path), nil
	case dirfd == unix.AT_FDCWD:
		return filepath.Join(cwd, path), nil
	}
	dir, err := fdPath(dirfd)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, path), nil
}

// Describe is the exec as a person reads it, for messages.
func (c *ExecCall) Describe() string {
	if len(c.Argv) == 0 {
		return c.Path
	}
	s := strings.Join(c.Argv, " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
