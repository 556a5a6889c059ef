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
// all of them, with their pointers, to a quarter of the stack limit and at
// most 6 MiB. maxArgs is as many pointers as that holds, so no exec the
// kernel would run is refused for its number of arguments.
const (
	maxArgs     = (6 << 20) / 8
	maxArgBytes = 128 << 10
	maxAllBytes = 8 << 20
)

// firstChunk is how much of each string the first read takes: most
// arguments are shorter, so one call reads them all.
const firstChunk = 256

// readExec decodes an execve or execveat notification: in the usual case
// with two reads of the caller's memory (the argv array, then the path and
// every argument at once) and a readlink of its working directory.
func readExec(r *memReader, n *seccompNotif, a archInfo) (*ExecCall, error) {
	pid := int(n.Pid)
	r.reset(pid)
	defer r.done()
	call := &ExecCall{Pid: pid}
	var err error
	if call.Cwd, err = os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd"); err != nil {
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
	ptrs, err := r.pointers(argvAddr)
	if err != nil {
		return nil, err
	}
	// The path is read with the arguments, as string 0, unless it is
	// NULL with AT_EMPTY_PATH (fexecve): then it is "".
	withPath := !(pathAddr == 0 && flags&unix.AT_EMPTY_PATH != 0)
	addrs := ptrs
	if withPath {
		r.addrs = append(append(r.addrs[:0], pathAddr), ptrs...)
		addrs = r.addrs
	}
	name := func(i int) string {
		if withPath {
			if i == 0 {
				return "path"
			}
			i--
		}
		return "argv[" + strconv.Itoa(i) + "]"
	}
	strs, err := r.cStrings(addrs, name)
	if err != nil {
		return nil, err
	}
	path := ""
	if withPath {
		path, strs = strs[0], strs[1:]
		if len(path) >= unix.PathMax {
			return nil, fmt.Errorf("path: longer than %d bytes", unix.PathMax-1)
		}
	}
	if len(strs) > 0 {
		call.Argv = strs
	}
	call.Path, err = resolveExecPath(pid, call.Cwd, dirfd, path, flags)
	if err != nil {
		return nil, err
	}
	return call, nil
}

// pointers reads the NULL-terminated array of string pointers at addr, a
// page per read. The result is the reader's scratch, valid until its next
// use.
func (r *memReader) pointers(addr uint64) ([]uint64, error) {
	r.ptrs = r.ptrs[:0]
	if addr == 0 {
		return r.ptrs, nil // execve(path, NULL, ...) is allowed by Linux
	}
	// A misaligned array can have a pointer straddle two pages: its
	// first bytes wait in carry.
	var carry [8]byte
	carried := 0
	end := false
	decode := func(_ int, b []byte) error {
		for len(b) > 0 && !end {
			var word []byte
			if carried > 0 || len(b) < 8 {
				c := copy(carry[carried:], b)
				carried, b = carried+c, b[c:]
				if carried < 8 {
					return nil
				}
				word, carried = carry[:], 0
			} else {
				word, b = b[:8], b[8:]
			}
			p := binary.NativeEndian.Uint64(word)
			if p == 0 {
				end = true
				return nil
			}
			if len(r.ptrs) >= maxArgs {
				return fmt.Errorf("more than %d arguments", maxArgs)
			}
			r.ptrs = append(r.ptrs, p)
		}
		return nil
	}
	for !end {
		seg := pageSegment(addr, pageSize)
		if _, err := r.readEach([]segment{seg}, decode); err != nil {
			var fault *faultError
			if errors.As(err, &fault) {
				return nil, fmt.Errorf("read argv[%d]: %w", len(r.ptrs), err)
			}
			return nil, err
		}
		addr += uint64(seg.len)
	}
	return r.ptrs, nil
}

// cString is one string being read by cStrings.
type cString struct {
	next       uint64 // address of its next unread byte
	partial    []byte // bytes read so far, when the first read did not end it
	start, end int    // where it is in the arena, once read
}

// cStrings reads the NUL-terminated strings at addrs: each round reads the
// next piece of every unfinished string in one call. A string longer than
// maxArgBytes, or all of them together longer than maxAllBytes, is an
// error; name(i) says which string an error is about.
func (r *memReader) cStrings(addrs []uint64, name func(int) string) ([]string, error) {
	if len(addrs) == 0 {
		return nil, nil
	}
	strs := r.strs[:0]
	pending := r.pending[:0]
	for i, a := range addrs {
		if a == 0 {
			return nil, fmt.Errorf("%s: NULL string", name(i))
		}
		strs = append(strs, cString{next: a})
		pending = append(pending, i)
	}
	r.strs = strs
	arena := r.arena[:0]
	total := 0
	chunk := firstChunk
	for len(pending) > 0 {
		segs := r.segs[:0]
		for _, i := range pending {
			segs = append(segs, pageSegment(strs[i].next, chunk))
		}
		r.segs = segs
		next := r.next[:0]
		bad, err := r.readEach(segs, func(k int, b []byte) error {
			i := pending[k]
			s := &strs[i]
			nul := bytes.IndexByte(b, 0)
			if nul >= 0 {
				b = b[:nul]
			}
			if len(s.partial)+len(b) > maxArgBytes {
				return fmt.Errorf("%s: longer than %d bytes", name(i), maxArgBytes)
			}
			if nul < 0 {
				s.partial = append(s.partial, b...)
				s.next += uint64(len(b))
				next = append(next, i)
				return nil
			}
			s.start = len(arena)
			arena = append(append(arena, s.partial...), b...)
			s.end = len(arena)
			if total += s.end - s.start; total > maxAllBytes {
				return fmt.Errorf("arguments larger than %d bytes", maxAllBytes)
			}
			return nil
		})
		if err != nil {
			if bad >= 0 {
				err = fmt.Errorf("%s: %w", name(pending[bad]), err)
			}
			r.arena = arena[:0]
			return nil, err
		}
		r.next, r.pending = pending[:0], next
		pending = next
		chunk = pageSize
	}
	all := string(arena)
	r.arena = arena[:0]
	out := make([]string, len(strs))
	for i := range strs {
		out[i] = all[strs[i].start:strs[i].end]
		strs[i].partial = nil
	}
	return out, nil
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
