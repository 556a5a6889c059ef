//go:build !linux

package server

import "runtime"

// yieldCPU gives way to other work; outside Linux, to other goroutines only.
func yieldCPU() { runtime.Gosched() }
