package guard

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// testMemory is memory of this process laid out like an exec's arguments,
// with an unmapped page after it.
type testMemory struct {
	t    *testing.T
	mem  []byte
	base uint64
	used int
}

const testPages = 4

func newTestMemory(t *testing.T) *testMemory {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, (testPages+1)*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	// Unmap the last page: reading into it fails in both readers.
	if err := munmap(mem[testPages*pageSize:]); err != nil {
		t.Fatal(err)
	}
	m := &testMemory{t: t, mem: mem[:testPages*pageSize], base: uint64(uintptr(unsafe.Pointer(&mem[0])))}
	t.Cleanup(func() { munmap(m.mem) })
	return m
}

// at writes b at offset off and returns its address.
func (m *testMemory) at(off int, b []byte) uint64 {
	copy(m.mem[off:], b)
	return m.base + uint64(off)
}

// str writes s with its NUL at offset off.
func (m *testMemory) str(off int, s string) uint64 { return m.at(off, append([]byte(s), 0)) }

// ptrs writes a pointer array (not terminated unless the caller adds 0).
func (m *testMemory) ptrs(off int, ps ...uint64) uint64 {
	b := make([]byte, 8*len(ps))
	for i, p := range ps {
		binary.NativeEndian.PutUint64(b[8*i:], p)
	}
	return m.at(off, b)
}

// end is the address just past the mapped memory (unmapped).
func (m *testMemory) end() uint64 { return m.base + uint64(len(m.mem)) }

func execveNotif(t *testing.T, path, argv uint64) *seccompNotif {
	a, err := nativeArch()
	if err != nil {
		t.Skip(err)
	}
	n := &seccompNotif{Pid: uint32(os.Getpid())}
	n.Data.Nr = int32(a.execve)
	n.Data.Args[0], n.Data.Args[1] = path, argv
	return n
}

// readers are the two ways memory is read: process_vm_readv, and
// /proc/PID/mem where that is not available.
var readers = []struct {
	name string
	new  func() *memReader
}{
	{"process_vm_readv", func() *memReader { return &memReader{} }},
	{"/proc/PID/mem", func() *memReader { return &memReader{procMem: true} }},
}

func TestReadExecLayouts(t *testing.T) {
	wd, _ := os.Getwd()
	long := strings.Repeat("x", 3*pageSize+100) // several rounds, several pages
	cases := []struct {
		name     string
		build    func(m *testMemory) (path, argv uint64)
		wantPath string
		wantArgv []string
	}{
		{"plain", func(m *testMemory) (uint64, uint64) {
			p := m.str(0, "/bin/true")
			return p, m.ptrs(64, m.str(16, "true"), m.str(32, "-x"), 0)
		}, "/bin/true", []string{"true", "-x"}},
		{"relative path, empty argument", func(m *testMemory) (uint64, uint64) {
			return m.str(0, "./prog"), m.ptrs(64, m.str(16, "prog"), m.str(32, ""), 0)
		}, filepath.Join(wd, "prog"), []string{"prog", ""}},
		{"string across a page boundary", func(m *testMemory) (uint64, uint64) {
			a := m.str(pageSize-10, "abcdefghijklmnopqrstuvwxyz")
			return m.str(0, "/bin/echo"), m.ptrs(64, a, 0)
		}, "/bin/echo", []string{"abcdefghijklmnopqrstuvwxyz"}},
		{"string ending at the last byte before an unmapped page", func(m *testMemory) (uint64, uint64) {
			a := m.str(testPages*pageSize-4, "end")
			return m.str(0, "/bin/echo"), m.ptrs(64, a, 0)
		}, "/bin/echo", []string{"end"}},
		{"long string over several pages", func(m *testMemory) (uint64, uint64) {
			return m.str(0, "/bin/echo"), m.ptrs(64, m.str(200, long), m.str(100, "short"), 0)
		}, "/bin/echo", []string{long, "short"}},
		{"misaligned argv array across a page boundary", func(m *testMemory) (uint64, uint64) {
			a, b, c := m.str(0, "a"), m.str(8, "b"), m.str(16, "c")
			return m.str(32, "/bin/echo"), m.ptrs(2*pageSize-12, a, b, c, 0)
		}, "/bin/echo", []string{"a", "b", "c"}},
		{"argv array ending at the last bytes before an unmapped page", func(m *testMemory) (uint64, uint64) {
			return m.str(0, "/bin/echo"), m.ptrs(testPages*pageSize-24, m.str(16, "x"), m.str(24, "y"), 0)
		}, "/bin/echo", []string{"x", "y"}},
		{"empty argv", func(m *testMemory) (uint64, uint64) {
			return m.str(0, "/bin/true"), m.ptrs(64, 0)
		}, "/bin/true", nil},
		{"NULL argv", func(m *testMemory) (uint64, uint64) {
			return m.str(0, "/bin/true"), 0
		}, "/bin/true", nil},
		{"the path is argv[0]", func(m *testMemory) (uint64, uint64) {
			p := m.str(0, "/usr/bin/env")
			return p, m.ptrs(64, p, m.str(16, "ls"), 0)
		}, "/usr/bin/env", []string{"/usr/bin/env", "ls"}},
	}
	for _, rd := range readers {
		for _, c := range cases {
			t.Run(rd.name+"/"+c.name, func(t *testing.T) {
				m := newTestMemory(t)
				path, argv := c.build(m)
				call, err := readExec(rd.new(), execveNotif(t, path, argv), mustArch(t))
				if err != nil {
					t.Fatal(err)
				}
				if call.Path != c.wantPath || !reflect.DeepEqual(call.Argv, c.wantArgv) || call.Cwd != wd || call.Pid != os.Getpid() {
					t.Fatalf("got %+v, want path %q argv %q cwd %q", call, c.wantPath, c.wantArgv, wd)
				}
			})
		}
	}
}

func TestReadExecManyArguments(t *testing.T) {
	// More segments than one call takes (IOV_MAX), and more bytes than
	// one batch buffer holds.
	for _, rd := range readers {
		m := newTestMemory(t)
		var want []string
		var ptrs []uint64
		for i := 0; i < 1500; i++ {
			// Every argument points into the same few strings.
			s := []string{"alpha", "beta", "gamma"}[i%3]
			off := []int{0, 8, 16}[i%3]
			ptrs = append(ptrs, m.str(off, s))
			want = append(want, s)
		}
		ptrs = append(ptrs, 0)
		// The array needs 12008 bytes: pages 1-3 and a bit.
		argv := m.ptrs(pageSize/2, ptrs...)
		call, err := readExec(rd.new(), execveNotif(t, m.str(32, "/bin/echo"), argv), mustArch(t))
		if err != nil {
			t.Fatalf("%s: %v", rd.name, err)
		}
		if !reflect.DeepEqual(call.Argv, want) {
			t.Fatalf("%s: got %d arguments, want %d", rd.name, len(call.Argv), len(want))
		}
	}
}

func TestReadExecRefuses(t *testing.T) {
	cases := []struct {
		name  string
		build func(m *testMemory) (path, argv uint64)
		want  string
	}{
		{"argument running into an unmapped page", func(m *testMemory) (uint64, uint64) {
			copy(m.mem[testPages*pageSize-3:], "abc")
			return m.str(0, "/bin/echo"), m.ptrs(64, m.str(16, "ok"), m.end()-3, 0)
		}, "argv[1]: read memory at"},
		{"argument in unmapped memory", func(m *testMemory) (uint64, uint64) {
			return m.str(0, "/bin/echo"), m.ptrs(64, m.end()+16, 0)
		}, "argv[0]: read memory at"},
		{"argv array running into an unmapped page", func(m *testMemory) (uint64, uint64) {
			a := m.str(0, "x")
			return m.str(16, "/bin/echo"), m.ptrs(testPages*pageSize-16, a, a)
		}, "read argv[2]: read memory at"},
		{"argv array in unmapped memory", func(m *testMemory) (uint64, uint64) {
			return m.str(0, "/bin/echo"), m.end()
		}, "read argv[0]: read memory at"},
		{"path in unmapped memory", func(m *testMemory) (uint64, uint64) {
			return m.end(), m.ptrs(64, m.str(16, "x"), 0)
		}, "path: read memory at"},
		{"NULL path", func(m *testMemory) (uint64, uint64) {
			return 0, m.ptrs(64, m.str(16, "x"), 0)
		}, "path: NULL string"},
		{"path of PATH_MAX bytes", func(m *testMemory) (uint64, uint64) {
			return m.str(0, "/"+strings.Repeat("p", unix.PathMax-1)), 0
		}, "path: longer than 4095 bytes"},
	}
	for _, rd := range readers {
		for _, c := range cases {
			t.Run(rd.name+"/"+c.name, func(t *testing.T) {
				m := newTestMemory(t)
				path, argv := c.build(m)
				call, err := readExec(rd.new(), execveNotif(t, path, argv), mustArch(t))
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %+v, %v; want an error with %q", call, err, c.want)
				}
			})
		}
	}
}

func TestReadExecArgumentLimits(t *testing.T) {
	// 128 KiB of one argument is more than the test memory: map more.
	size := maxArgBytes + 2*pageSize
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	base := uint64(uintptr(unsafe.Pointer(&mem[0])))
	copy(mem, "/bin/echo\x00")
	for i := 16; i < 16+maxArgBytes+1; i++ {
		mem[i] = 'a'
	}
	binary.NativeEndian.PutUint64(mem[size-16:], base+16)
	for _, rd := range readers {
		_, err := readExec(rd.new(), execveNotif(t, base, base+uint64(size-16)), mustArch(t))
		if err == nil || !strings.Contains(err.Error(), "argv[0]: longer than") {
			t.Errorf("%s: an argument over %d bytes: %v", rd.name, maxArgBytes, err)
		}
	}
	// Exactly the limit is read.
	mem[16+maxArgBytes] = 0
	for _, rd := range readers {
		call, err := readExec(rd.new(), execveNotif(t, base, base+uint64(size-16)), mustArch(t))
		if err != nil || len(call.Argv) != 1 || len(call.Argv[0]) != maxArgBytes {
			t.Errorf("%s: an argument of %d bytes: %v", rd.name, maxArgBytes, err)
		}
	}
}

func TestReadExecatEmptyPath(t *testing.T) {
	f, err := os.Open("/bin/sh")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	want, _ := os.Readlink("/proc/self/fd/" + itoa(int(f.Fd())))
	a := mustArch(t)
	m := newTestMemory(t)
	n := &seccompNotif{Pid: uint32(os.Getpid())}
	n.Data.Nr = int32(a.execveat)
	// fexecve: execveat(fd, NULL or "", argv, envp, AT_EMPTY_PATH)
	argv := m.ptrs(64, m.str(16, "sh"), 0)
	for _, path := range []uint64{0, m.str(0, "")} {
		n.Data.Args = [6]uint64{uint64(f.Fd()), path, argv, 0, unix.AT_EMPTY_PATH}
		call, err := readExec(&memReader{}, n, a)
		if err != nil || call.Path != want || !reflect.DeepEqual(call.Argv, []string{"sh"}) {
			t.Errorf("path %#x: %+v, %v; want %s", path, call, err, want)
		}
	}
}

// Where process_vm_readv is missing or filtered, the reader moves to
// /proc/PID/mem for good; where it fails for another reason, it does not.
func TestReadExecFallsBackToProcMem(t *testing.T) {
	defer func(f func(int, []unix.Iovec, []unix.RemoteIovec, uint) (int, error)) { processVMReadv = f }(processVMReadv)
	calls := 0
	for _, errno := range []unix.Errno{unix.ENOSYS, unix.EPERM} {
		processVMReadv = func(int, []unix.Iovec, []unix.RemoteIovec, uint) (int, error) {
			calls++
			return -1, errno
		}
		m := newTestMemory(t)
		r := &memReader{}
		for i := 0; i < 2; i++ {
			call, err := readExec(r, execveNotif(t, m.str(0, "/bin/true"), m.ptrs(64, m.str(16, "true"), 0)), mustArch(t))
			if err != nil || call.Path != "/bin/true" || !reflect.DeepEqual(call.Argv, []string{"true"}) {
				t.Fatalf("%v: %+v, %v", errno, call, err)
			}
		}
		if !r.procMem || calls != 1 {
			t.Errorf("%v: procMem %v after %d process_vm_readv calls, want it set after 1", errno, r.procMem, calls)
		}
		// What /proc/PID/mem cannot read is the answer.
		_, err := readExec(r, execveNotif(t, m.str(0, "/bin/true"), m.ptrs(64, m.end(), 0)), mustArch(t))
		if err == nil || !strings.Contains(err.Error(), "argv[0]: read memory at") || errors.Is(err, errno) {
			t.Errorf("%v: an unmapped argument: %v", errno, err)
		}
		// A fault in the very first read is /proc/PID/mem's too, and
		// the switch is made.
		r = &memReader{}
		_, err = readExec(r, execveNotif(t, m.str(0, "/bin/true"), m.end()), mustArch(t))
		if err == nil || !strings.Contains(err.Error(), "read argv[0]: read memory at") || errors.Is(err, errno) || !r.procMem {
			t.Errorf("%v: an unmapped argv array, first read: %v (procMem %v)", errno, err, r.procMem)
		}
		calls = 0
	}
	// An error that is the caller's memory, not the system call, is an
	// answer: no fallback.
	processVMReadv = func(int, []unix.Iovec, []unix.RemoteIovec, uint) (int, error) { return -1, unix.EFAULT }
	m := newTestMemory(t)
	r := &memReader{}
	if _, err := readExec(r, execveNotif(t, m.str(0, "/bin/true"), 0), mustArch(t)); err == nil || r.procMem {
		t.Errorf("EFAULT: err %v, procMem %v", err, r.procMem)
	}
}

// munmap unmaps part of a mapping (unix.Munmap takes whole ones only).
func munmap(b []byte) error {
	_, _, errno := unix.Syscall(unix.SYS_MUNMAP, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func mustArch(t *testing.T) archInfo {
	a, err := nativeArch()
	if err != nil {
		t.Skip(err)
	}
	return a
}

func itoa(i int) string { return strconv.Itoa(i) }

// BenchmarkReadExec reads a typical exec (a path and five arguments) the
// way the supervisor does, with each reader.
func BenchmarkReadExec(b *testing.B) {
	a, err := nativeArch()
	if err != nil {
		b.Skip(err)
	}
	mem, err := unix.Mmap(-1, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(mem)
	m := &testMemory{mem: mem, base: uint64(uintptr(unsafe.Pointer(&mem[0])))}
	path := m.str(0, "/usr/bin/git")
	argv := m.ptrs(2048, m.str(32, "git"), m.str(64, "commit"), m.str(96, "-m"), m.str(128, "a message of some length"), m.str(192, "--"), m.str(224, "path/to/file.go"), 0)
	n := &seccompNotif{Pid: uint32(os.Getpid())}
	n.Data.Nr = int32(a.execve)
	n.Data.Args[0], n.Data.Args[1] = path, argv
	for _, rd := range readers {
		b.Run(strings.ReplaceAll(rd.name, "/", ""), func(b *testing.B) {
			r := rd.new()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := readExec(r, n, a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
