// Package guard is "rampart guard": kernel-assisted exec interception with
// seccomp user notification (SECCOMP_RET_USER_NOTIF, Linux 5.0+; continuing
// a call needs SECCOMP_USER_NOTIF_FLAG_CONTINUE, 5.5+).
//
// A child installs a filter that turns every execve and execveat of its
// whole process tree into a notification to a listener file descriptor,
// hands that descriptor to the supervisor, and execs the agent. The
// supervisor reads each exec's path, argv and working directory from the
// caller's memory, decides, and answers continue or EPERM. The filter
// cannot be removed by the tree, covers statically linked programs,
// setuid programs (which no-new-privs runs without privileges) and
// children with a cleared environment.
//
// When the supervisor dies, the kernel fails every pending and later exec
// of the tree with ENOSYS: the tree can no longer start programs, but it
// is never left hanging.
package guard

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompData is the kernel's struct seccomp_data.
type seccompData struct {
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

// seccompNotif is the kernel's struct seccomp_notif.
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  seccompData
}

// seccompNotifResp is the kernel's struct seccomp_notif_resp.
type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// seccompNotifSizes is the kernel's struct seccomp_notif_sizes.
type seccompNotifSizes struct {
	Notif     uint16
	NotifResp uint16
	Data      uint16
}

// filterFlagWaitKillableRecv is SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV.
const filterFlagWaitKillableRecv = 1 << 5

// archInfo holds the numbers the filter needs for one architecture.
type archInfo struct {
	audit          uint32
	execve         uint32
	execveat       uint32
	foreignAudit   uint32 // a compat ABI reachable from this one (0: none)
	foreignExecs   []uint32
	x32Bit         uint32 // x86_64's x32 syscall bit (0: none)
	x32Execs       []uint32
	supportedKnown bool
}

func nativeArch() (archInfo, error) {
	switch runtime.GOARCH {
	case "amd64":
		return archInfo{
			audit: unix.AUDIT_ARCH_X86_64, execve: 59, execveat: 322,
			// 32-bit programs (int 0x80) and the x32 ABI have execs of
			// their own; they are refused outright, not supervised.
			foreignAudit: unix.AUDIT_ARCH_I386, foreignExecs: []uint32{11, 358},
			x32Bit: 0x40000000, x32Execs: []uint32{0x40000000 | 520, 0x40000000 | 545},
			supportedKnown: true,
		}, nil
	case "arm64":
		return archInfo{audit: unix.AUDIT_ARCH_AARCH64, execve: 221, execveat: 281,
			foreignAudit: unix.AUDIT_ARCH_ARM, foreignExecs: []uint32{11, 387}, supportedKnown: true}, nil
	}
	return archInfo{}, fmt.Errorf("rampart guard does not support %s yet", runtime.GOARCH)
}

// Errors that say the kernel or the container will not allow the guard.
var (
	ErrUnsupported = errors.New("this kernel does not support seccomp user notification (Linux 5.5 or later is needed)")
	ErrRefused     = errors.New("seccomp filters are not allowed here (a container or sandbox refuses them)")
)

// Supported reports whether the kernel can run the guard.
func Supported() error {
	var sizes seccompNotifSizes
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_NOTIF_SIZES, 0, uintptr(unsafe.Pointer(&sizes)))
	switch errno {
	case 0:
	case unix.EINVAL, unix.ENOSYS:
		return ErrUnsupported
	case unix.EPERM, unix.EACCES:
		return ErrRefused
	default:
		return fmt.Errorf("seccomp: %w", errno)
	}
	if int(sizes.Notif) > int(unsafe.Sizeof(seccompNotif{})) || int(sizes.NotifResp) > int(unsafe.Sizeof(seccompNotifResp{})) {
		// The kernel's structs grew; ours would be read short.
		return fmt.Errorf("%w (notification structs of an unknown size)", ErrUnsupported)
	}
	return nil
}

// filterProgram builds the BPF program: execve and execveat of the native
// ABI notify the listener; those of a compat ABI fail with EPERM; every
// other system call is allowed.
func filterProgram(a archInfo) []unix.SockFilter {
	const (
		offNr   = uint32(unsafe.Offsetof(seccompData{}.Nr))
		offArch = uint32(unsafe.Offsetof(seccompData{}.Arch))
	)
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	ret := func(v uint32) unix.SockFilter { return stmt(unix.BPF_RET|unix.BPF_K, v) }
	eperm := uint32(unix.SECCOMP_RET_ERRNO) | uint32(unix.EPERM)

	var native []unix.SockFilter
	native = append(native, stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr))
	native = append(native, jeq(a.execve, 0, 1), ret(unix.SECCOMP_RET_USER_NOTIF))
	native = append(native, jeq(a.execveat, 0, 1), ret(unix.SECCOMP_RET_USER_NOTIF))
	for _, nr := range a.x32Execs {
		native = append(native, jeq(nr, 0, 1), ret(eperm))
	}
	native = append(native, ret(unix.SECCOMP_RET_ALLOW))

	var foreign []unix.SockFilter
	foreign = append(foreign, stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr))
	for _, nr := range a.foreignExecs {
		foreign = append(foreign, jeq(nr, 0, 1), ret(eperm))
	}
	foreign = append(foreign, ret(unix.SECCOMP_RET_ALLOW))

	prog := []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch)}
	// arch == native: fall through to the native part; else jump past it.
	prog = append(prog, jeq(a.audit, 0, uint8(len(native))))
	prog = append(prog, native...)
	if a.foreignAudit != 0 {
		prog = append(prog, jeq(a.foreignAudit, 0, uint8(len(foreign))))
		prog = append(prog, foreign...)
	}
	// An architecture we do not know: refuse its execs by refusing it.
	prog = append(prog, ret(uint32(unix.SECCOMP_RET_KILL_PROCESS)))
	return prog
}

// installFilter sets no-new-privs and installs the filter on the calling
// thread, returning the listener. The caller must stay on this OS thread
// until it execs (runtime.LockOSThread).
func installFilter() (int, error) {
	a, err := nativeArch()
	if err != nil {
		return -1, err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return -1, fmt.Errorf("set no-new-privs: %w", err)
	}
	prog := filterProgram(a)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	// Once the supervisor has read a notification, a signal to the caller
	// (Go's preemption, a SIGCHLD) must not restart the exec and ask
	// again: WAIT_KILLABLE_RECV (Linux 5.19) makes it wait killably.
	// Older kernels refuse the flag; then a restarted exec is asked about
	// twice, which is harmless.
	fd, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_NEW_LISTENER|filterFlagWaitKillableRecv, uintptr(unsafe.Pointer(&fprog)))
	if errno == unix.EINVAL {
		fd, _, errno = unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
			unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&fprog)))
	}
	runtime.KeepAlive(prog)
	switch errno {
	case 0:
		return int(fd), nil
	case unix.EINVAL, unix.ENOSYS:
		return -1, ErrUnsupported
	case unix.EPERM, unix.EACCES:
		return -1, ErrRefused
	}
	return -1, fmt.Errorf("install the seccomp filter: %w", errno)
}

// recvNotif waits for the next notification.
func recvNotif(listener int, n *seccompNotif) error {
	*n = seccompNotif{}
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(n)))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		return nil
	}
}

// notifValid reports whether notification id still waits for an answer
// (its caller was not killed and its pid not reused meanwhile).
func notifValid(listener int, id uint64) bool {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_ID_VALID, uintptr(unsafe.Pointer(&id)))
	return errno == 0
}

// respond answers a notification: continue the exec, or fail it with errno.
func respond(listener int, id uint64, allow bool, errno unix.Errno) error {
	resp := seccompNotifResp{ID: id}
	if allow {
		resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
	} else {
		resp.Error = -int32(errno)
	}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
	if e != 0 && e != unix.ENOENT { // ENOENT: the caller is gone
		return e
	}
	return nil
}
