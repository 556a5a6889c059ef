package shellwrap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// knownShells are the names rampart-sh stands in for when it is called by
// one of them (a link or copy named bash in a shim folder).
var knownShells = map[string]bool{"bash": true, "sh": true, "zsh": true, "dash": true, "ksh": true}

// DefaultRealShell is the shell used when nothing else names one.
const DefaultRealShell = "/bin/bash"

// RealShell finds the shell rampart-sh hands commands to:
// $RAMPART_REAL_SHELL, else the shell argv[0] is named after, looked up on
// PATH skipping every entry that is rampart-sh itself (the shim folder),
// else /bin/bash.
func RealShell(argv0, envReal, path, self string) (string, error) {
	if envReal != "" {
		if !filepath.IsAbs(envReal) {
			return "", errors.New("RAMPART_REAL_SHELL must be an absolute path, got " + envReal)
		}
		if isSelf(envReal, self) {
			return "", errors.New("RAMPART_REAL_SHELL points at rampart-sh itself: " + envReal)
		}
		return envReal, nil
	}
	name := strings.TrimPrefix(filepath.Base(argv0), "-") // a login shell's argv[0] is -bash
	if knownShells[name] {
		for _, dir := range filepath.SplitList(path) {
			if dir == "" {
				continue
			}
			candidate := filepath.Join(dir, name)
			st, err := os.Stat(candidate)
			if err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 || isSelf(candidate, self) {
				continue
			}
			return candidate, nil
		}
		for _, dir := range []string{"/bin", "/usr/bin"} {
			candidate := filepath.Join(dir, name)
			if _, err := os.Stat(candidate); err == nil && !isSelf(candidate, self) {
				return candidate, nil
			}
		}
	}
	return DefaultRealShell, nil
}

// isSelf reports whether path is rampart-sh: the same file (a link), or
// any file in a shim folder (a copy).
func isSelf(path, self string) bool {
	if self == "" {
		return false
	}
	a, err1 := os.Stat(path)
	b, err2 := os.Stat(self)
	if err1 == nil && err2 == nil && os.SameFile(a, b) {
		return true
	}
	// A copy of rampart-sh in a shim folder is not the same file: a shim
	// folder holds a marker naming it as one.
	_, err := os.Stat(filepath.Join(filepath.Dir(path), ShimMarker))
	return err == nil
}

// ShimMarker is the file "rampart wrap" puts in its shim folder so the
// real shell lookup skips that folder even when its shells are copies.
const ShimMarker = ".rampart-shims"
