package cli

import (
	"os"

	"github.com/rampart-dev/rampart/internal/policyload"
)

// loadHookPolicies loads the policies for one hook call, as loadPolicies
// does (the same sources, errors and exit codes) but through the compiled
// policy cache in $RAMPART_HOME/cache: a hook runs once per tool call, and
// compiling the policies would cost it more than everything else it does.
// Without a RAMPART_HOME nothing is cached.
func loadHookPolicies(proc *Process, s SourceOptions) (*loaded, error) {
	l, opts, err := resolveSources(proc, s)
	if err != nil {
		return nil, err
	}
	if l.Program, err = policyload.LoadCached(opts); err != nil {
		return nil, policyLoadError(err)
	}
	return l, nil
}

func isDir(path string) bool {
	if path == "" {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
