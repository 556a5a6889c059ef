package cli

import "os"

// loadHookPolicies loads the policies for one hook call.
func loadHookPolicies(proc *Process, s SourceOptions) (*loaded, error) {
	return loadPolicies(proc, s)
}

func isDir(path string) bool {
	if path == "" {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
