package server

import "syscall"

// yieldCPU gives this thread's CPU to another runnable thread, if any.
func yieldCPU() {
	syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) //nolint:errcheck // sched_yield cannot fail on Linux
}
