package guard

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// pageSize is the smallest page size of the supported architectures. A
// segment that does not cross a multiple of it lies within one page of any
// larger size too, so it is readable as a whole or not at all.
const pageSize = 4096

// iovMax is how many segments one process_vm_readv call takes (IOV_MAX).
const iovMax = 1024

// memBatchBytes bounds the bytes read in one call, and so the buffer.
const memBatchBytes = 64 << 10

// processVMReadv is unix.ProcessVMReadv; tests make it fail.
var processVMReadv = unix.ProcessVMReadv

// segment is a piece of the caller's memory within one page.
type segment struct {
	addr uint64
	len  int
}

// pageSegment is the segment of at most n bytes at addr that ends, at the
// latest, where addr's page ends.
func pageSegment(addr uint64, n int) segment {
	return segment{addr: addr, len: min(n, pageSize-int(addr%pageSize))}
}

// memReader reads from the memory of a caller that waits in its exec,
// with as few system calls as it can: process_vm_readv reads many
// segments in one call. Where that call is missing (a kernel without
// CONFIG_CROSS_MEMORY_ATTACH) or filtered (older container seccomp
// profiles), it reads /proc/PID/mem, one segment per pread. Both need the
// same ptrace access to the caller.
//
// A memReader is not safe for concurrent use: its buffers are reused from
// one exec to the next. Call [memReader.reset] before reading another
// process and [memReader.done] after.
type memReader struct {
	pid int
	// procMem is set once process_vm_readv has failed where /proc/PID/mem
	// worked: it stays unusable for this supervisor.
	procMem bool
	mem     *os.File // /proc/PID/mem of pid, once opened

	buf    []byte
	local  []unix.Iovec
	remote []unix.RemoteIovec
	// Scratch for readExec.
	ptrs    []uint64
	addrs   []uint64
	strs    []cString
	pending []int
	next    []int
	segs    []segment
	arena   []byte
}

// reset points the reader at process pid.
func (r *memReader) reset(pid int) {
	r.done()
	r.pid = pid
}

// done releases what the reader holds on the current process.
func (r *memReader) done() {
	if r.mem != nil {
		r.mem.Close()
		r.mem = nil
	}
}

// faultError is a segment that could not be read.
type faultError struct {
	addr uint64
	err  error
}

func (e *faultError) Error() string { return fmt.Sprintf("read memory at %#x: %v", e.addr, e.err) }
func (e *faultError) Unwrap() error { return e.err }

// readEach reads segs, in as few calls as its buffer allows, and calls f
// with the bytes of each segment in order. When a segment cannot be read
// it returns its index and a *faultError; an error of f is returned with
// the index -1.
func (r *memReader) readEach(segs []segment, f func(i int, b []byte) error) (int, error) {
	for start := 0; start < len(segs); {
		end, size := start, 0
		for end < len(segs) && end-start < iovMax && size+segs[end].len <= memBatchBytes {
			size += segs[end].len
			end++
		}
		if end == start { // a segment is never larger than a page
			return start, &faultError{segs[start].addr, errors.New("segment larger than the read buffer")}
		}
		if cap(r.buf) < size {
			r.buf = make([]byte, max(size, 4096))
		}
		buf := r.buf[:size]
		if bad, err := r.read(segs[start:end], buf); err != nil {
			return start + bad, err
		}
		off := 0
		for i := start; i < end; i++ {
			if err := f(i, buf[off:off+segs[i].len]); err != nil {
				return -1, err
			}
			off += segs[i].len
		}
		start = end
	}
	return 0, nil
}

// read fills buf with segs, back to back, or says which one failed.
func (r *memReader) read(segs []segment, buf []byte) (int, error) {
	if !r.procMem {
		bad, err := r.readVM(segs, buf)
		if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM) {
			return bad, err
		}
		// Missing or filtered, or no access to this process: only
		// /proc/PID/mem can tell which. Where it opens, it is the way
		// to read, and its answer stands.
		if bad, err := r.readProcMem(segs, buf); r.mem != nil {
			r.procMem = true
			return bad, err
		}
		return bad, err
	}
	return r.readProcMem(segs, buf)
}

func (r *memReader) readVM(segs []segment, buf []byte) (int, error) {
	r.local = append(r.local[:0], unix.Iovec{Base: &buf[0]})
	r.local[0].SetLen(len(buf))
	r.remote = r.remote[:0]
	for _, s := range segs {
		r.remote = append(r.remote, unix.RemoteIovec{Base: uintptr(s.addr), Len: s.len})
	}
	n, err := processVMReadv(r.pid, r.local, r.remote, 0)
	if n == len(buf) && err == nil {
		return 0, nil
	}
	// A short read stops at the first segment it could not read; each
	// segment is within one page, so it was read whole or not at all.
	n = max(n, 0)
	bad := 0
	for bad < len(segs)-1 && n >= segs[bad].len {
		n -= segs[bad].len
		bad++
	}
	if err == nil {
		err = unix.EFAULT
	}
	return bad, &faultError{segs[bad].addr, err}
}

func (r *memReader) readProcMem(segs []segment, buf []byte) (int, error) {
	if r.mem == nil {
		f, err := os.Open("/proc/" + strconv.Itoa(r.pid) + "/mem")
		if err != nil {
			return 0, &faultError{segs[0].addr, err}
		}
		r.mem = f
	}
	off := 0
	for i, s := range segs {
		n, err := r.mem.ReadAt(buf[off:off+s.len], int64(s.addr))
		if n < s.len {
			if err == nil {
				err = unix.EFAULT
			}
			return i, &faultError{s.addr, err}
		}
		off += s.len
	}
	return 0, nil
}
