// Command rampart-sh stands in for bash, sh or zsh: it checks every command
// with Rampart's policies, then runs it with the real shell.
package main

import (
	"os"

	"github.com/rampart-dev/rampart/shellwrap"
)

func main() { os.Exit(shellwrap.Run(shellwrap.OSEnv())) }
