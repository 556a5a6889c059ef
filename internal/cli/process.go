package cli

import (
	"io"
	"os"
	"path/filepath"
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
// neither $RAMPART_HOME nor $HOME is set. (Never a guess relative to the
// working directory: that could be a project's .rampart, which must not
// be read as the user's.)
func (p *Process) RampartHome() string {
	dir := p.Getenv("RAMPART_HOME")
	if dir == "" {
		home := p.Home()
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".rampart")
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir
}
