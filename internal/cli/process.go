package cli

import (
	"io"
	"os"

	"github.com/rampart-dev/rampart/internal/policyload"
)

// Process is what a command takes from the running process: its standard
// streams, its environment and its working directory. Tests build one with
// buffers and a map instead of the real thing.
type Process struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(key string) string
	Getwd  func() (string, error)
}

// OSProcess returns the Process of the running program.
func OSProcess() *Process {
	return &Process{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv, Getwd: os.Getwd}
}

// Home returns the user's home directory ($HOME), or "" when it is unset.
func (p *Process) Home() string { return p.Getenv("HOME") }

// RampartHome returns $RAMPART_HOME, else ~/.rampart, made absolute; "" when
// neither $RAMPART_HOME nor $HOME is set (see [policyload.RampartHome]).
func (p *Process) RampartHome() string { return policyload.RampartHome(p.Getenv) }
