// Unquoted glob words: the files bash hands the command.

package engine

import (
	"os"
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Bash expands an unquoted word with *, ? or [...] into the names of the
// files it matches before the command runs, so policies must see those
// names: cat ~/.ss?/id_* reads ~/.ssh/id_rsa, rm -rf /u* removes /usr. The
// analysis expands such words against the file system as bash would (a
// leading "." is matched only by a pattern that starts with one, unless
// shopt -s dotglob came earlier in the line) and keeps the pattern itself
// after the names, as the word it is when nothing matches and for rules
// written about it (rm -rf /var/log/* is about /var/log). The walk is
// bounded, so that a pattern such as /*/*/*/*/* cannot make a decision
// slow: past globMaxDirs directory reads (globMaxDirsPerCall for all the
// words of a call) or globMaxNames names, the names found so far are used.
const (
	globMaxDirs  = 64
	globMaxNames = 256
	// globMaxDirsPerCall bounds the directory reads of all the globs of
	// one call together, globMaxEntries the entries read from one.
	globMaxDirsPerCall = 256
	globMaxEntries     = 4096
)

// argFields returns the arguments an unquoted word becomes: its fields
// (see [analyzer.wordFields]), each glob expanded into the files it
// matches.
func (a *analyzer) argFields(w *syntax.Word, src string) ([]string, bool) {
	fields, static := a.wordFields(w, src)
	if !static || !hasUnquotedGlob(w) {
		return fields, static
	}
	var out []string
	for _, f := range fields {
		out = append(out, a.expandGlob(f)...)
	}
	return out, true
}

// hasUnquotedGlob reports whether w has *, ? or [ outside quotes, not
// escaped.
func hasUnquotedGlob(w *syntax.Word) bool {
	for _, p := range w.Parts {
		lit, ok := p.(*syntax.Lit)
		if !ok {
			continue
		}
		for i := 0; i < len(lit.Value); i++ {
			switch lit.Value[i] {
			case '\\':
				i++
			case '*', '?', '[':
				return true
			}
		}
	}
	return false
}

// expandGlob returns the names pattern matches, sorted, in the form bash
// gives them (relative when the pattern is), then the pattern itself; just
// the pattern when it matches nothing or is relative to a working
// directory that is not known.
func (a *analyzer) expandGlob(pattern string) []string {
	if !strings.ContainsAny(pattern, "*?[") {
		return []string{pattern}
	}
	abs := pattern
	if !path.IsAbs(pattern) {
		if a.cwd == "" {
			return []string{pattern}
		}
		abs = path.Join(a.cwd, pattern)
	}
	if a.globDirs == 0 {
		a.globDirs = globMaxDirsPerCall + 1 // +1: 0 means not started
	}
	a.out.readFiles = true
	g := globWalk{dotglob: a.dotglob, dirs: min(globMaxDirs, a.globDirs-1)}
	matches := g.walk(abs)
	a.globDirs -= min(globMaxDirs, a.globDirs-1) - g.dirs
	if len(matches) == 0 {
		return []string{pattern}
	}
	slices.Sort(matches)
	if !path.IsAbs(pattern) {
		for i, m := range matches {
			matches[i] = strings.TrimPrefix(strings.TrimPrefix(m, a.cwd), "/")
		}
	}
	return append(matches, pattern)
}

type globWalk struct {
	dotglob bool
	dirs    int // directory reads left
}

// walk matches the absolute pattern component by component.
func (g *globWalk) walk(pattern string) []string {
	cands := []string{"/"}
	comps := strings.Split(strings.Trim(pattern, "/"), "/")
	for i, comp := range comps {
		last := i == len(comps)-1
		var next []string
		for _, dir := range cands {
			if !strings.ContainsAny(comp, "*?[") {
				p := path.Join(dir, comp)
				if _, err := os.Lstat(p); err == nil {
					next = append(next, p)
				}
				continue
			}
			next = append(next, g.match(dir, comp, last)...)
			if len(next) >= globMaxNames {
				next = next[:globMaxNames]
				break
			}
		}
		cands = next
		if len(cands) == 0 {
			return nil
		}
	}
	return cands
}

// match returns the entries of dir that comp matches; directories only
// when more components follow.
func (g *globWalk) match(dir, comp string, last bool) []string {
	if g.dirs == 0 {
		return nil
	}
	g.dirs--
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	entries, _ := d.ReadDir(globMaxEntries) // unsorted; a huge folder is read in part
	d.Close()
	pat := bashToGoPattern(comp)
	var out []string
	for _, e := range entries {
		name := e.Name()
		if name[0] == '.' && comp[0] != '.' && !g.dotglob {
			continue
		}
		ok, err := path.Match(pat, name)
		if err != nil {
			return nil // a malformed bracket: bash reads the word as it is
		}
		if !ok {
			continue
		}
		p := path.Join(dir, name)
		if !last {
			if st, err := os.Stat(p); err != nil || !st.IsDir() {
				continue
			}
		}
		out = append(out, p)
		if len(out) >= globMaxNames {
			break
		}
	}
	return out
}

// bashToGoPattern turns bash's [!...] into path.Match's [^...].
func bashToGoPattern(p string) string {
	if !strings.Contains(p, "[!") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		b.WriteByte(p[i])
		if p[i] == '\\' && i+1 < len(p) {
			i++
			b.WriteByte(p[i])
		} else if p[i] == '[' && i+1 < len(p) && p[i+1] == '!' {
			b.WriteByte('^')
			i++
		}
	}
	return b.String()
}
