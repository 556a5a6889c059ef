package engine

import (
	"cmp"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// textRegex is a command_regex pattern. Go's regexp has no prefilter: it
// tries the whole expression at every position of the text, a few
// microseconds per expression on a short command, and the standard
// profile tries several on every interpreter command (python3 -c ...).
// Most such expressions cannot match without one of a few literal strings
// ("rm", "fork", ".rampart"), so the text is first searched for those,
// which takes well under a microsecond.
type textRegex struct {
	re *regexp.Regexp
	// need: every match contains one of these (lowercase ASCII) in some
	// mix of case; nil when the expression needs no such literal.
	need []string
}

// maxNeeded bounds the literal set of one expression: a longer list of
// alternatives would cost about what the expression costs.
const maxNeeded = 16

func compileTextRegex(src string) (*textRegex, error) {
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	r := &textRegex{re: re}
	// regexp.Compile parses with syntax.Perl; parse the same way.
	if parsed, err := syntax.Parse(src, syntax.Perl); err == nil {
		if need, ok := neededLiterals(parsed.Simplify()); ok {
			r.need = minimalLiterals(need)
		}
	}
	return r, nil
}

// match reports whether the expression matches t (anywhere, as
// regexp.MatchString does).
//
// The literal test applies only to ASCII text. There a literal of ASCII
// letters, case-sensitive or (?i), can only match itself in some case;
// in other text, (?i)k also matches the Kelvin sign U+212A and (?i)s the
// long s U+017F, which no ASCII search would find.
func (r *textRegex) match(t string) bool {
	if r.need != nil && isASCII(t) && !containsAnyFold(t, r.need) {
		return false
	}
	return r.re.MatchString(t)
}

// neededLiterals returns literal strings one of which every match of re
// contains, lowercased; ok is false when there is no such set (of at most
// maxNeeded strings, all ASCII). It must never be wrong the other way: a
// set that some match lacks would hide that match.
func neededLiterals(re *syntax.Regexp) (lits []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		// Every match holds the literal, and so each run of its ASCII
		// runes: take the longest. The parser keeps the smallest rune of
		// a (?i) letter's case orbit ((?i)\x{212A} is kept as k), so a
		// rune outside ASCII here has no ASCII form, and ASCII text (the
		// only text the literal test is for) cannot hold it.
		var best, run []byte
		for _, c := range re.Rune {
			if c >= utf8.RuneSelf {
				run = run[:0]
				continue
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			run = append(run, byte(c))
			if len(run) > len(best) {
				best = append(best[:0], run...)
			}
		}
		if len(best) == 0 {
			return nil, false
		}
		return []string{string(best)}, true
	case syntax.OpCapture, syntax.OpPlus:
		return neededLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return neededLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		// Every part is in every match: take the part whose literals are
		// the most telling.
		for _, sub := range re.Sub {
			if l, found := neededLiterals(sub); found && (!ok || moreTelling(l, lits)) {
				lits, ok = l, true
			}
		}
		return lits, ok
	case syntax.OpAlternate:
		// A match is a match of one branch: each branch must need a
		// literal, and any of them will do.
		for _, sub := range re.Sub {
			l, found := neededLiterals(sub)
			if !found || len(lits)+len(l) > maxNeeded {
				return nil, false
			}
			lits = append(lits, l...)
		}
		return lits, len(lits) > 0
	}
	// Empty matches, classes, any character, anchors, x* and x?: no
	// literal is needed.
	return nil, false
}

// moreTelling reports whether the literal set a rules out more text than
// b: its shortest literal is longer, or as long with fewer alternatives.
func moreTelling(a, b []string) bool {
	ma, mb := shortest(a), shortest(b)
	return ma > mb || ma == mb && len(a) < len(b)
}

func shortest(lits []string) int {
	n := -1
	for _, l := range lits {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}

// minimalLiterals drops the literals that contain another one of the set
// (text with "popen" has "open"; one search does for both) and repeats.
func minimalLiterals(lits []string) []string {
	sorted := slices.Clone(lits)
	slices.SortFunc(sorted, func(a, b string) int { return cmp.Compare(len(a), len(b)) })
	var out []string
	for _, l := range sorted {
		if !slices.ContainsFunc(out, func(k string) bool { return strings.Contains(l, k) }) {
			out = append(out, l)
		}
	}
	return out
}

func containsAnyFold(t string, lits []string) bool {
	for _, l := range lits {
		if containsFold(t, l) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
