package engine

import (
	"maps"
	"slices"
	"strings"
)

// pathSet is a list of path globs indexed by what the last path segment of
// a match must be, so most subjects are rejected with one map lookup. A
// glob whose last segment follows a "/" and holds no "**" can only match a
// subject whose last segment matches that segment alone.
type pathSet struct {
	byLast   map[string][]*pathGlob        // last segment is literal
	byPrefix []prefixedPathGlob            // last segment starts with a literal
	bySuffix []prefixedPathGlob            // last segment ends with a literal ("*.kdbx") that has no "."
	byExt    map[string][]prefixedPathGlob // the same, keyed by the suffix from its last "." (".kdbx")
	byRoot   map[string][]*pathGlob        // absolute patterns, by their first directory ("/etc/sudoers.d/**": "etc")
	byHome   map[string][]*pathGlob        // "~/" patterns, by their first directory under home ("~/.rampart/**": ".rampart")
	other    []*pathGlob
}

// firstDir returns the first directory of an absolute literal prefix such
// as "/etc/sudoers.d/" ("etc"), or "" when the prefix does not spell it out.
func firstDir(prefix string) string {
	if !strings.HasPrefix(prefix, "/") {
		return ""
	}
	dir, _, complete := strings.Cut(prefix[1:], "/")
	if !complete || dir == "" {
		return ""
	}
	return dir
}

// subjectFirstDir is firstDir for a subject: its first path component.
func subjectFirstDir(p string) string {
	if !strings.HasPrefix(p, "/") {
		return ""
	}
	dir, _, _ := strings.Cut(p[1:], "/")
	return dir
}

type prefixedPathGlob struct {
	prefix string
	pg     *pathGlob
}

// The buckets of a pathSet, as the policy cache stores them.
const (
	bucketRoot   = iota // byRoot[key]
	bucketHome          // byHome[key]
	bucketLast          // byLast[key]
	bucketPrefix        // byPrefix, aux is the prefix
	bucketExt           // byExt[key], aux is the suffix
	bucketSuffix        // bySuffix, aux is the suffix
	bucketOther         // other
	bucketCount
)

func newPathSet(list []*pathGlob) *pathSet {
	if len(list) == 0 {
		return nil
	}
	s := &pathSet{}
	for _, pg := range list {
		bucket, key, aux := placement(pg)
		s.add(bucket, key, aux, pg)
	}
	return s
}

// placement returns the bucket of pg and its key and aux (see bucketRoot).
func placement(pg *pathGlob) (bucket int, key, aux string) {
	if pg.g != nil && !pg.cwdRel {
		if dir := firstDir(pg.g.prefix); dir != "" {
			if pg.homeRel {
				return bucketHome, dir, ""
			}
			return bucketRoot, dir, ""
		}
	}
	last, literal, ok := lastSegment(pg)
	switch {
	case !ok:
		if suffix := lastSegmentSuffix(pg); suffix != "" {
			if i := strings.LastIndexByte(suffix, '.'); i >= 0 {
				return bucketExt, suffix[i:], suffix
			}
			return bucketSuffix, "", suffix
		}
		return bucketOther, "", ""
	case literal:
		return bucketLast, last, ""
	}
	return bucketPrefix, "", last
}

// add puts pg into a bucket; bucket is one of bucketRoot...bucketOther.
func (s *pathSet) add(bucket int, key, aux string, pg *pathGlob) {
	addTo := func(m *map[string][]*pathGlob) {
		if *m == nil {
			*m = map[string][]*pathGlob{}
		}
		(*m)[key] = append((*m)[key], pg)
	}
	switch bucket {
	case bucketRoot:
		addTo(&s.byRoot)
	case bucketHome:
		addTo(&s.byHome)
	case bucketLast:
		addTo(&s.byLast)
	case bucketPrefix:
		s.byPrefix = append(s.byPrefix, prefixedPathGlob{aux, pg})
	case bucketExt:
		if s.byExt == nil {
			s.byExt = map[string][]prefixedPathGlob{}
		}
		s.byExt[key] = append(s.byExt[key], prefixedPathGlob{aux, pg})
	case bucketSuffix:
		s.bySuffix = append(s.bySuffix, prefixedPathGlob{aux, pg})
	default:
		s.other = append(s.other, pg)
	}
}

// each calls f for every glob of s with its bucket, key and aux, in a
// fixed order (map keys sorted), so that add rebuilds the same set.
func (s *pathSet) each(f func(bucket int, key, aux string, pg *pathGlob)) {
	if s == nil {
		return
	}
	for _, m := range [...]struct {
		bucket int
		m      map[string][]*pathGlob
	}{{bucketRoot, s.byRoot}, {bucketHome, s.byHome}, {bucketLast, s.byLast}} {
		for _, key := range slices.Sorted(maps.Keys(m.m)) {
			for _, pg := range m.m[key] {
				f(m.bucket, key, "", pg)
			}
		}
	}
	for _, e := range s.byPrefix {
		f(bucketPrefix, "", e.prefix, e.pg)
	}
	for _, key := range slices.Sorted(maps.Keys(s.byExt)) {
		for _, e := range s.byExt[key] {
			f(bucketExt, key, e.prefix, e.pg)
		}
	}
	for _, e := range s.bySuffix {
		f(bucketSuffix, "", e.prefix, e.pg)
	}
	for _, pg := range s.other {
		f(bucketOther, "", "", pg)
	}
}

// lastSegment returns the literal last segment of pg (literal true) or its
// literal prefix (literal false); ok is false when the glob's last segment
// cannot be known.
func lastSegment(pg *pathGlob) (seg string, literal, ok bool) {
	if pg.homeOnly || pg.g == nil {
		return "", false, false
	}
	toks := pg.g.tokens
	slash := -1
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i].kind == tokLiteral && toks[i].r == '/' {
			slash = i
			break
		}
		if toks[i].kind == tokDoubleStar {
			return "", false, false
		}
	}
	if slash < 0 {
		return "", false, false
	}
	var b strings.Builder
	i := slash + 1
	for ; i < len(toks) && toks[i].kind == tokLiteral; i++ {
		writeRune(&b, toks[i].r)
	}
	if i == len(toks) {
		return b.String(), true, true
	}
	if b.Len() == 0 {
		return "", false, false
	}
	return b.String(), false, true
}

// lastSegmentSuffix returns the literal end of pg's last segment when that
// segment follows a "/" and holds no "**" ("**/*.kdbx" gives ".kdbx").
func lastSegmentSuffix(pg *pathGlob) string {
	if pg.homeOnly || pg.g == nil {
		return ""
	}
	toks := pg.g.tokens
	i := len(toks)
	for i > 0 && toks[i-1].kind == tokLiteral && toks[i-1].r != '/' {
		i--
	}
	if i == len(toks) {
		return ""
	}
	for j := i - 1; j >= 0; j-- {
		if toks[j].kind == tokDoubleStar {
			return ""
		}
		if toks[j].kind == tokLiteral && toks[j].r == '/' {
			var b strings.Builder
			for _, t := range toks[i:] {
				writeRune(&b, t.r)
			}
			return b.String()
		}
	}
	return ""
}

func lastOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// match reports whether p matches any glob of the set.
func (s *pathSet) match(p string, b pathBase) bool {
	if s == nil {
		return false
	}
	if s.byRoot != nil {
		for _, pg := range s.byRoot[subjectFirstDir(p)] {
			if pg.match(p, b) {
				return true
			}
		}
	}
	if s.byHome != nil && b.home != "" && strings.HasPrefix(p, b.home) {
		for _, pg := range s.byHome[subjectFirstDir(p[len(b.home):])] {
			if pg.match(p, b) {
				return true
			}
		}
	}
	last := lastOf(p)
	for _, pg := range s.byLast[last] {
		if pg.match(p, b) {
			return true
		}
	}
	for _, e := range s.byPrefix {
		if strings.HasPrefix(last, e.prefix) && e.pg.match(p, b) {
			return true
		}
	}
	if s.byExt != nil {
		if i := strings.LastIndexByte(last, '.'); i >= 0 {
			for _, e := range s.byExt[last[i:]] {
				if strings.HasSuffix(last, e.prefix) && e.pg.match(p, b) {
					return true
				}
			}
		}
	}
	for _, e := range s.bySuffix {
		if strings.HasSuffix(last, e.prefix) && e.pg.match(p, b) {
			return true
		}
	}
	for _, pg := range s.other {
		if pg.match(p, b) {
			return true
		}
	}
	return false
}

// nameSet is a list of name globs with the literal names in a map.
type nameSet struct {
	exact map[string]struct{}
	globs []*glob
}

func newNameSet(list []*glob) *nameSet {
	if len(list) == 0 {
		return nil
	}
	s := &nameSet{}
	for _, g := range list {
		if g.exact {
			if s.exact == nil {
				s.exact = map[string]struct{}{}
			}
			s.exact[g.prefix] = struct{}{}
		} else {
			s.globs = append(s.globs, g)
		}
	}
	return s
}

func (s *nameSet) match(name string) bool {
	if s == nil {
		return false
	}
	if _, ok := s.exact[name]; ok {
		return true
	}
	for _, g := range s.globs {
		if g.match(name) {
			return true
		}
	}
	return false
}
