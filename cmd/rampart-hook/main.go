// Command rampart-hook is "rampart hook" in a small program: agents start
// it once per tool call, and it starts faster than the whole CLI.
package main

import (
	"os"

	"github.com/rampart-dev/rampart/internal/hookrun"
)

func main() {
	os.Exit(hookrun.Main(os.Args[1:], hookrun.Env{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv, Getwd: os.Getwd}))
}
