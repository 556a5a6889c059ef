// Command shfloor only execs its arguments, like benchproc's execer, but
// links the libraries any policy-checking shell wrapper in this project
// needs whatever it does: mvdan.cc/sh's parser (every command is parsed),
// regexp (command_regex conditions), crypto/sha256 and encoding/json (the
// audit trail's hash chain and records). Their package initialisation
// runs before main, so its start and exec, timed by benchproc against
// bash -c true, are the least rampart-sh can add before it reads a policy
// or writes a record.
package main

import (
	_ "crypto/sha256"
	_ "encoding/json"
	"os"
	_ "regexp"
	"syscall"

	_ "mvdan.cc/sh/v3/syntax"
)

func main() {
	err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	os.Stderr.WriteString("shfloor: " + err.Error() + "\n")
	os.Exit(127)
}
