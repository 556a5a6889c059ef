package engine

import (
	"path"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// wordValue returns what a shell word expands to when that can be known
// without running anything: quotes removed, escapes decoded, a leading "~"
// and $HOME replaced by the home directory, variables assigned earlier in
// the same script replaced by their value. Parts that need the shell at run
// time (command substitution, unknown variables, arithmetic) are kept as
// their source text and make the word dynamic.
func (a *analyzer) wordValue(w *syntax.Word, src string) (string, bool) {
	if lit, ok := singleLit(w); ok && !strings.ContainsAny(lit, "\\~") {
		return lit, true
	}
	var b strings.Builder
	static := true
	for i, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			v := p.Value
			if i == 0 && strings.HasPrefix(v, "~") && a.home != "" {
				v = a.expandTilde(v, &b)
			}
			b.WriteString(unescapeUnquoted(v))
		case *syntax.SglQuoted:
			if p.Dollar {
				b.WriteString(decodeANSIC(p.Value))
			} else {
				b.WriteString(p.Value)
			}
		case *syntax.DblQuoted:
			for _, inner := range p.Parts {
				switch q := inner.(type) {
				case *syntax.Lit:
					b.WriteString(unescapeDoubleQuoted(q.Value))
				case *syntax.ParamExp:
					if !a.paramValue(q, src, &b) {
						static = false
					}
				default:
					static = false
					b.WriteString(nodeSource(src, inner))
				}
			}
		case *syntax.ParamExp:
			if !a.paramValue(p, src, &b) {
				static = false
			}
		default:
			static = false
			b.WriteString(nodeSource(src, part))
		}
	}
	return b.String(), static
}

func singleLit(w *syntax.Word) (string, bool) {
	if len(w.Parts) != 1 {
		return "", false
	}
	l, ok := w.Parts[0].(*syntax.Lit)
	if !ok {
		return "", false
	}
	return l.Value, true
}

// expandTilde writes the directory a leading "~" or "~user" names and
// returns the rest of v. "~root" is /root; another user's home is taken to
// be a sibling of the call's home (/home/dev gives /home/alice).
func (a *analyzer) expandTilde(v string, b *strings.Builder) string {
	end := strings.IndexByte(v, '/')
	if end < 0 {
		end = len(v)
	}
	user := v[1:end]
	switch {
	case user == "":
		b.WriteString(a.home)
	case user == "root":
		b.WriteString("/root")
	case isUserName(user):
		b.WriteString(path.Join(path.Dir(a.home), user))
	default:
		return v // "~+", "~-" and the like: left as written
	}
	return v[end:]
}

func isUserName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// paramValue writes the value of a plain $NAME or ${NAME} when it is known
// and reports whether it was; otherwise it writes the expansion's source.
func (a *analyzer) paramValue(p *syntax.ParamExp, src string, b *strings.Builder) bool {
	plain := p.Param != nil && p.Exp == nil && p.Slice == nil && p.Repl == nil && !p.Length &&
		!p.Excl && p.Index == nil && p.NestedParam == nil && !p.Width
	if plain {
		name := p.Param.Value
		if v, ok := a.vars[name]; ok {
			b.WriteString(v)
			return true
		}
		if name == "HOME" && a.home != "" {
			b.WriteString(a.home)
			return true
		}
		if name == "PWD" && a.cwd != "" {
			b.WriteString(a.cwd)
			return true
		}
	}
	b.WriteString(nodeSource(src, p))
	return false
}

// nodeSource returns the source text of n, or a placeholder when the
// positions do not belong to src.
func nodeSource(src string, n syntax.Node) string {
	start, end := int(n.Pos().Offset()), int(n.End().Offset())
	if start < 0 || end > len(src) || start > end {
		return "$(?)"
	}
	return src[start:end]
}

// unescapeUnquoted removes the backslashes of an unquoted literal: "\r" is
// "r", a backslash-newline disappears.
func unescapeUnquoted(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unescapeDoubleQuoted decodes the escapes bash honours inside double
// quotes: \$ \` \" \\ and backslash-newline; other backslashes stay.
func unescapeDoubleQuoted(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '$', '`', '"', '\\':
				i++
			case '\n':
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// decodeANSIC decodes the body of a $'...' string.
func decodeANSIC(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'e', 'E':
			b.WriteByte(0x1b)
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'x', 'u', 'U':
			max := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			j := i + 1
			for j < len(s) && j-i-1 < max && isHex(s[j]) {
				j++
			}
			if j == i+1 {
				b.WriteByte('\\')
				b.WriteByte(e)
				continue
			}
			v, _ := strconv.ParseUint(s[i+1:j], 16, 32)
			if e == 'x' {
				b.WriteByte(byte(v))
			} else {
				b.WriteRune(rune(v))
			}
			i = j - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j-i < 3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i:j], 8, 16)
			b.WriteByte(byte(v))
			i = j - 1
		case 'c':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i] & 0x1f)
			}
		default: // \\ \' \" \? and unknown escapes
			if e != '\\' && e != '\'' && e != '"' && e != '?' {
				b.WriteByte('\\')
			}
			b.WriteByte(e)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
