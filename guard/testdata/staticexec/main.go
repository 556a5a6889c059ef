// A statically linked program that execs, with the raw execve system call
// and an empty environment, the argument vector given one word per line in
// $EXEC_ARGV (so the words are not in its own argv): LD_PRELOAD cannot see
// this exec.
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

func main() {
	argv := strings.Split(os.Getenv("EXEC_ARGV"), "\n")
	err := syscall.Exec(argv[0], argv, []string{})
	fmt.Fprintln(os.Stderr, "staticexec:", err)
	os.Exit(126)
}
