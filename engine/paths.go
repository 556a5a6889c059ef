// The path forms file rules see: cleaned, absolute, and symlink-resolved.

package engine

import (
	"os"
	"path"
	"strings"
)

// pathForms returns the call's path cleaned and made absolute against the
// call's cwd ("~" is the home), and the same path with symlinks resolved
// (for a file that does not exist yet, its directory's symlinks).
func (st *evalState) pathForms() []string {
	if !st.pathDone {
		st.pathDone = true
		p := strings.ReplaceAll(st.call.Path, `\`, "/")
		if st.home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
			p = st.home + p[1:]
		}
		cleaned := cleanJoin(st.cwd, p)
		st.paths[0] = cleaned
		st.paths[1] = resolveSymlinks(cleaned)
		st.readFiles = true
	}
	if st.paths[1] == "" || st.paths[1] == st.paths[0] {
		return st.paths[:1]
	}
	return st.paths[:]
}

// resolveSymlinks follows the symbolic links in the absolute path p, one
// component at a time. Components that do not exist (a file about to be
// written) are kept as they are. It returns "" when p is relative or
// when links loop.
func resolveSymlinks(p string) string {
	if !path.IsAbs(p) {
		return ""
	}
	resolved := "/"
	rest := p[1:]
	links := 0
	for rest != "" {
		var comp string
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			comp, rest = rest[:i], rest[i+1:]
		} else {
			comp, rest = rest, ""
		}
		switch comp {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, comp)
		fi, err := os.Lstat(next)
		if err != nil {
			// Nothing below a missing component can be a link yet.
			return path.Join(next, rest)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			resolved = next
			continue
		}
		links++
		if links > 40 {
			return ""
		}
		target, err := os.Readlink(next)
		if err != nil {
			return ""
		}
		if path.IsAbs(target) {
			resolved = "/"
		}
		rest = strings.TrimPrefix(path.Join(target, rest), "/")
	}
	return resolved
}
