// Command rampart decides what AI coding agents may do. The command tree
// lives in internal/cli; see "rampart --help".
package main

import (
	"os"

	"github.com/rampart-dev/rampart/internal/cli"
)

func main() { os.Exit(cli.Run()) }
