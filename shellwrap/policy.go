package shellwrap

import (
	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/policyload"
)

// rampartHome is $RAMPART_HOME, else ~/.rampart; "" when neither is known.
func rampartHome(getenv func(string) string) string { return policyload.RampartHome(getenv) }

// loadProgram loads the policies the way "rampart check" does (the
// profile, the user's policy files, the project policy searched from cwd),
// through the compiled-policy cache: a shell is a new process for every
// command.
func loadProgram(getenv func(string) string, cwd string) (*engine.Program, error) {
	return policyload.ForCall(getenv, "", cwd)
}
