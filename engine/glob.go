package engine

import (
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// Glob syntax shared by every pattern condition:
//
//	*      any run of characters except "/"
//	**     any run of characters, "/" included; "**/" also matches no directory
//	?      one character except "/"
//	[abc]  one character of a class; [a-z] ranges, [!x] or [^x] negation
//	\x     the character x itself
//
// A pattern is compiled once into a token list and matched by simulating the
// equivalent automaton over a bitset of positions, so matching is linear in
// the subject for every pattern: no backtracking, no blow-up on adversarial
// patterns such as "**a**a**a**b".

const maxGlobLen = 4096

type globTokenKind uint8

const (
	tokLiteral    globTokenKind = iota
	tokAnyChar                  // ?
	tokClass                    // [...]
	tokStar                     // *
	tokDoubleStar               // **
)

type globToken struct {
	kind  globTokenKind
	r     rune
	class *charClass
}

type charClass struct {
	negated bool
	ranges  []runeRange
}

type runeRange struct{ lo, hi rune }

func (c *charClass) matches(r rune) bool {
	in := false
	for _, rr := range c.ranges {
		if r >= rr.lo && r <= rr.hi {
			in = true
			break
		}
	}
	return in != c.negated
}

// glob is a compiled pattern. See the package comment of glob.go for syntax.
type glob struct {
	src    string
	tokens []globToken
	prefix string // literal text every match starts with
	suffix string // literal text every match ends with (only when tokens end with literals)
	exact  bool   // no wildcards at all: compare strings
	// skipSlash[i] is set when tokens[i] is a "**" that may also swallow the
	// "/" after it ("**/x" matches "x", "a/**/b" matches "a/b").
	starMask, skipSlash uint64
	starPos             []uint8 // positions of "*" and "**", ascending
	needle              string  // the longest literal run: a match must contain it
	big                 bool    // more than 63 tokens: use the slice automaton
}

// globOptions change how a pattern is read.
type globOptions struct {
	// starEnds turns a single "*" at the very start or end of the pattern
	// into "**". Command patterns use it: "git *" covers "git checkout
	// feature/x", as in earlier Rampart policies.
	starEnds bool
	// backslashIsSlash reads "\" as "/" (Windows-style path patterns in
	// policies written for several platforms) instead of as an escape.
	backslashIsSlash bool
	// fold lowercases the pattern (domains).
	fold bool
}

func compileGlob(pattern string, opt globOptions) (*glob, error) {
	if pattern == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	if len(pattern) > maxGlobLen {
		return nil, fmt.Errorf("pattern is %d bytes long (the limit is %d)", len(pattern), maxGlobLen)
	}
	if opt.fold {
		pattern = strings.ToLower(pattern)
	}
	g := &glob{src: pattern}
	src := pattern
	if opt.backslashIsSlash {
		src = strings.ReplaceAll(src, `\`, "/")
	}
	g.tokens = make([]globToken, 0, len(src)) // at most one token per byte
	for i := 0; i < len(src); {
		c := src[i]
		switch c {
		case '*':
			if i+1 < len(src) && src[i+1] == '*' {
				g.tokens = append(g.tokens, globToken{kind: tokDoubleStar})
				i += 2
				for i < len(src) && src[i] == '*' { // "***" is "**"
					i++
				}
				continue
			}
			g.tokens = append(g.tokens, globToken{kind: tokStar})
			i++
		case '?':
			g.tokens = append(g.tokens, globToken{kind: tokAnyChar})
			i++
		case '[':
			cls, n, err := parseCharClass(src[i:])
			if err != nil {
				return nil, fmt.Errorf("bad character class at offset %d: %w", i, err)
			}
			g.tokens = append(g.tokens, globToken{kind: tokClass, class: cls})
			i += n
		case '\\':
			if i+1 >= len(src) {
				return nil, fmt.Errorf("pattern ends with a lone backslash")
			}
			r, size := decodeRune(src[i+1:])
			g.tokens = append(g.tokens, globToken{kind: tokLiteral, r: r})
			i += 1 + size
		default:
			r, size := decodeRune(src[i:])
			g.tokens = append(g.tokens, globToken{kind: tokLiteral, r: r})
			i += size
		}
	}
	if opt.starEnds {
		if n := len(g.tokens); n > 0 {
			if g.tokens[0].kind == tokStar {
				g.tokens[0].kind = tokDoubleStar
			}
			if g.tokens[n-1].kind == tokStar {
				g.tokens[n-1].kind = tokDoubleStar
			}
		}
	}
	g.finish(src)
	return g, nil
}

// finish derives what matching needs from the tokens of src.
func (g *glob) finish(src string) {
	toks := g.tokens
	// Without escapes each literal token is its own bytes of src, so the
	// literal start and end are slices of it.
	plain := !strings.Contains(src, `\`)
	i := 0
	for i < len(toks) && toks[i].kind == tokLiteral {
		i++
	}
	if plain {
		g.prefix = src[:literalLen(toks[:i])]
	} else {
		g.prefix = literalText(toks[:i])
	}
	g.exact = i == len(toks)
	if !g.exact {
		j := len(toks)
		for j > 0 && toks[j-1].kind == tokLiteral {
			j--
		}
		k := j
		if j > 0 && j < len(toks) && toks[j-1].kind == tokDoubleStar && toks[j].r == '/' {
			k++ // "**/" may match no directory at all: the "/" is optional
		}
		if plain {
			g.suffix = src[len(src)-literalLen(toks[k:]):]
		} else {
			g.suffix = literalText(toks[k:])
		}
	}
	// The needle is the first of the longest runs of literals (in bytes).
	bestStart, bestEnd, bestLen := 0, 0, 0
	runStart, runLen := 0, 0
	for i, t := range toks {
		// the "/" of "**/" may match nothing: it cannot be part of the needle
		optionalSlash := t.kind == tokLiteral && t.r == '/' && i > 0 && toks[i-1].kind == tokDoubleStar
		if t.kind == tokLiteral && !optionalSlash {
			runLen += runeLen(t.r)
			continue
		}
		if runLen > bestLen {
			bestStart, bestEnd, bestLen = runStart, i, runLen
		}
		runStart, runLen = i+1, 0
	}
	if runLen > bestLen {
		bestStart, bestEnd, bestLen = runStart, len(toks), runLen
	}
	if run := toks[bestStart:bestEnd]; bestLen >= 2 && !literalIs(run, g.prefix) && !literalIs(run, g.suffix) {
		g.needle = literalText(run)
	}
	g.big = len(toks) > 63
	if g.big {
		return
	}
	for i, t := range toks {
		if t.kind == tokStar || t.kind == tokDoubleStar {
			g.starMask |= 1 << uint(i)
		}
		if t.kind == tokDoubleStar && i+1 < len(toks) && toks[i+1].kind == tokLiteral && toks[i+1].r == '/' &&
			(i == 0 || (toks[i-1].kind == tokLiteral && toks[i-1].r == '/')) {
			g.skipSlash |= 1 << uint(i)
		}
	}
	if g.starMask != 0 {
		g.starPos = make([]uint8, 0, bits.OnesCount64(g.starMask))
		for m := g.starMask; m != 0; m &= m - 1 {
			g.starPos = append(g.starPos, uint8(bits.TrailingZeros64(m)))
		}
	}
}

// literalLen is the length in bytes of the text of literal tokens.
func literalLen(toks []globToken) int {
	n := 0
	for _, t := range toks {
		n += runeLen(t.r)
	}
	return n
}

// literalIs reports whether the text of literal tokens is s.
func literalIs(toks []globToken, s string) bool {
	if literalLen(toks) != len(s) {
		return false
	}
	// s is as long as the text: each token's bytes are there.
	var buf [utf8.UTFMax]byte
	for _, t := range toks {
		switch {
		case t.r < utf8.RuneSelf || t.r >= invalidByteBase:
			if s[0] != byte(t.r) { // an invalid byte's rune ends in the byte
				return false
			}
			s = s[1:]
		default:
			n := utf8.EncodeRune(buf[:], t.r)
			if s[:n] != string(buf[:n]) {
				return false
			}
			s = s[n:]
		}
	}
	return true
}

// literalText returns the text of a run of literal tokens.
func literalText(toks []globToken) string {
	if len(toks) == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(literalLen(toks))
	for _, t := range toks {
		writeRune(&b, t.r)
	}
	return b.String()
}

// invalidByteBase maps each byte of invalid UTF-8 to its own rune value
// beyond Unicode, so invalid bytes match only themselves.
const invalidByteBase = 0x110000

func decodeRune(s string) (rune, int) {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size == 1 {
		return invalidByteBase + rune(s[0]), 1
	}
	return r, size
}

// runeLen is the number of bytes writeRune writes for r.
func runeLen(r rune) int {
	if r >= invalidByteBase {
		return 1
	}
	if n := utf8.RuneLen(r); n > 0 {
		return n
	}
	return 3 // WriteRune writes U+FFFD
}

func writeRune(b *strings.Builder, r rune) {
	if r >= invalidByteBase {
		b.WriteByte(byte(r - invalidByteBase))
		return
	}
	b.WriteRune(r)
}

func parseCharClass(s string) (*charClass, int, error) {
	// s starts with '['.
	cls := &charClass{}
	i := 1
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		cls.negated = true
		i++
	}
	first := true
	for i < len(s) {
		if s[i] == ']' && !first {
			if len(cls.ranges) == 0 {
				return nil, 0, fmt.Errorf("empty class")
			}
			return cls, i + 1, nil
		}
		first = false
		lo, n := classRune(s[i:])
		if n == 0 {
			return nil, 0, fmt.Errorf("dangling backslash")
		}
		i += n
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			var m int
			hi, m = classRune(s[i+1:])
			if m == 0 {
				return nil, 0, fmt.Errorf("dangling backslash")
			}
			if hi < lo {
				return nil, 0, fmt.Errorf("range %c-%c is reversed", lo, hi)
			}
			i += 1 + m
		}
		cls.ranges = append(cls.ranges, runeRange{lo, hi})
	}
	return nil, 0, fmt.Errorf("missing ]")
}

func classRune(s string) (rune, int) {
	if s[0] == '\\' {
		if len(s) < 2 {
			return 0, 0
		}
		r, size := decodeRune(s[1:])
		return r, 1 + size
	}
	return decodeRune(s)
}

// match reports whether s matches the whole pattern.
func (g *glob) match(s string) bool {
	if g.exact {
		return s == g.prefix
	}
	if !strings.HasPrefix(s, g.prefix) || !strings.HasSuffix(s, g.suffix) || len(s) < len(g.prefix)+len(g.suffix) {
		return false
	}
	if g.needle != "" && !strings.Contains(s, g.needle) {
		return false
	}
	start := 0
	for i := 0; i < len(g.prefix); start++ {
		_, size := decodeRune(g.prefix[i:])
		i += size
	}
	if g.big {
		return g.matchSlow(s[len(g.prefix):], start)
	}
	m := uint(len(g.tokens))
	state := g.closure(uint64(1)<<uint(start), uint64(1)<<uint(start))
	rest := s[len(g.prefix):]
	for i := 0; i < len(rest); {
		var r rune
		if c := rest[i]; c < utf8.RuneSelf {
			r = rune(c)
			i++
		} else {
			var size int
			r, size = decodeRune(rest[i:])
			i += size
		}
		var next, advanced uint64
		for live := state &^ (1 << m); live != 0; live &= live - 1 {
			k := uint(bits.TrailingZeros64(live))
			t := &g.tokens[k]
			switch t.kind {
			case tokLiteral:
				if t.r == r {
					advanced |= 1 << (k + 1)
				}
			case tokAnyChar:
				if r != '/' {
					advanced |= 1 << (k + 1)
				}
			case tokClass:
				if r != '/' && t.class.matches(r) {
					advanced |= 1 << (k + 1)
				}
			case tokStar:
				if r != '/' {
					next |= 1 << k
				}
			case tokDoubleStar:
				next |= 1 << k
			}
		}
		next |= advanced
		if next == 0 {
			return false
		}
		state = g.closure(next, advanced)
	}
	return state&(1<<m) != 0
}

// closure adds the positions reachable without consuming a character: past
// a star that matches nothing, and past "**/" that matches no directory.
// fresh holds the positions just entered (not stayed in by a star that
// consumed the last character): only there may "**/" be skipped whole, so
// "**/.env" matches ".env" and "a/.env" but not "prod.env".
func (g *glob) closure(state, fresh uint64) uint64 {
	if g.starMask == 0 {
		return state
	}
	for _, p := range g.starPos {
		k := uint(p)
		if state&(1<<k) == 0 {
			continue
		}
		state |= 1 << (k + 1)
		if fresh&(1<<k) != 0 {
			fresh |= 1 << (k + 1)
			if g.skipSlash&(1<<k) != 0 {
				state |= 1 << (k + 2)
				fresh |= 1 << (k + 2)
			}
		}
	}
	return state
}

// matchSlow is match for patterns of more than 63 tokens.
func (g *glob) matchSlow(rest string, start int) bool {
	m := len(g.tokens)
	cur := make([]bool, m+1)
	next := make([]bool, m+1)
	fresh := make([]bool, m+1)
	closure := func(st []bool) {
		for k := 0; k < m; k++ {
			if !st[k] {
				continue
			}
			t := g.tokens[k]
			if t.kind == tokStar || t.kind == tokDoubleStar {
				st[k+1] = true
				fresh[k+1] = fresh[k+1] || fresh[k]
			}
			if fresh[k] && t.kind == tokDoubleStar && k+1 < m && g.tokens[k+1].kind == tokLiteral && g.tokens[k+1].r == '/' &&
				(k == 0 || (g.tokens[k-1].kind == tokLiteral && g.tokens[k-1].r == '/')) {
				st[k+2] = true
				fresh[k+2] = true
			}
		}
	}
	cur[start] = true
	fresh[start] = true
	closure(cur)
	for i := 0; i < len(rest); {
		r, size := decodeRune(rest[i:])
		i += size
		any := false
		for k := range next {
			next[k] = false
			fresh[k] = false
		}
		for k := 0; k < m; k++ {
			if !cur[k] {
				continue
			}
			t := g.tokens[k]
			switch t.kind {
			case tokLiteral:
				if t.r == r {
					next[k+1], fresh[k+1], any = true, true, true
				}
			case tokAnyChar:
				if r != '/' {
					next[k+1], fresh[k+1], any = true, true, true
				}
			case tokClass:
				if r != '/' && t.class.matches(r) {
					next[k+1], fresh[k+1], any = true, true, true
				}
			case tokStar:
				if r != '/' {
					next[k], any = true, true
				}
			case tokDoubleStar:
				next[k], any = true, true
			}
		}
		if !any {
			return false
		}
		closure(next)
		cur, next = next, cur
	}
	return cur[m]
}
