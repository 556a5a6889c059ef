package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Exit codes of the server commands, beside those in exit.go.
const (
	// ExitFailed: the server could not do what was asked (approve: no
	// such pending approval; token show: no token yet).
	ExitFailed = 1
	// ExitNotRunning: status and serve stop found no running server (the
	// LSB code for "program is not running").
	ExitNotRunning = 3
	// ExitUnavailable: the server cannot be reached, or cannot start
	// because its address or socket is taken (sysexits EX_UNAVAILABLE).
	ExitUnavailable = 69
	// ExitNoPerm: the server refused the token (sysexits EX_NOPERM).
	ExitNoPerm = 77
)

// readPIDFile returns the pid in the server's pid file; 0 when there is
// none.
func readPIDFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s does not hold a process id", path)
	}
	return pid, nil
}

// writePIDFile records this process as the server.
func writePIDFile(path string) error {
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
}

// removePIDFile removes the pid file if it still names this process.
func removePIDFile(path string) {
	if pid, err := readPIDFile(path); err == nil && pid == os.Getpid() {
		os.Remove(path)
	}
}

// processAlive reports whether pid exists (and may be signalled by us).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// isRampartServer reports whether pid runs "rampart ... serve", as far as
// /proc tells; true where /proc cannot say. It keeps serve stop from
// signalling a process that reused a stale pid.
func isRampartServer(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		if _, perr := os.Stat("/proc/self"); perr != nil {
			return true // no /proc: cannot tell
		}
		return false
	}
	args := bytes.Split(bytes.TrimRight(data, "\x00"), []byte{0})
	for _, a := range args[1:] {
		if string(a) == "serve" {
			return true
		}
	}
	return false
}

// runningServer returns the pid of a live server recorded in the pid
// file, or 0.
func runningServer(pidPath string) int {
	pid, err := readPIDFile(pidPath)
	if err != nil || pid == 0 || pid == os.Getpid() {
		return 0
	}
	if processAlive(pid) && isRampartServer(pid) {
		return pid
	}
	return 0
}
