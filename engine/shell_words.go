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
				case *syntax.CmdSubst:
					if !a.substValue(q, src, &b) {
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
		case *syntax.CmdSubst:
			if !a.substValue(p, src, &b) {
				static = false
			}
		default:
			static = false
			b.WriteString(nodeSource(src, part))
		}
	}
	return b.String(), static
}

// substValue writes the output of $(...) when it is known (see
// [analyzer.substOutput]) and reports whether it was; otherwise it writes
// the substitution's source.
func (a *analyzer) substValue(cs *syntax.CmdSubst, src string, b *strings.Builder) bool {
	out, ok := a.substOutput(cs, src)
	if !ok {
		out = nodeSource(src, cs)
	}
	b.WriteString(out)
	return ok
}

// wordFields returns the fields an unquoted word becomes: like
// [analyzer.wordValue], but the known values of unquoted $NAME and $(...)
// are split on $IFS as bash splits them (x="-rf /"; rm $x runs rm with two
// arguments). A word whose expansions are all empty yields no field.
func (a *analyzer) wordFields(w *syntax.Word, src string) ([]string, bool) {
	if !hasUnquotedExpansion(w) {
		v, static := a.wordValue(w, src)
		return []string{v}, static
	}
	ifs, ok := a.vars["IFS"]
	if !ok {
		ifs = " \t\n"
	}
	isIFS := func(r rune) bool { return strings.ContainsRune(ifs, r) }
	var fields []string
	var cur strings.Builder
	inField, static := false, true
	endField := func() {
		if inField {
			fields = append(fields, cur.String())
		}
		cur.Reset()
		inField = false
	}
	for i, part := range w.Parts {
		var text string
		split := false
		switch p := part.(type) {
		case *syntax.ParamExp:
			var b strings.Builder
			known := a.paramValue(p, src, &b)
			text, split = b.String(), known
			static = static && known
		case *syntax.CmdSubst:
			var b strings.Builder
			known := a.substValue(p, src, &b)
			text, split = b.String(), known
			static = static && known
		case *syntax.Lit:
			if i == 0 {
				text, _ = a.wordValue(&syntax.Word{Parts: []syntax.WordPart{p}}, src)
			} else {
				text = unescapeUnquoted(p.Value)
			}
		default:
			v, st := a.wordValue(&syntax.Word{Parts: []syntax.WordPart{part}}, src)
			text, static = v, static && st
			inField = true // "" and '' make a field even when empty
		}
		if !split {
			cur.WriteString(text)
			inField = inField || text != ""
			continue
		}
		for k, piece := range strings.FieldsFunc(text, isIFS) {
			if k > 0 || isIFS(rune(text[0])) {
				endField()
			}
			cur.WriteString(piece)
			inField = true
		}
		if text != "" && isIFS(rune(text[len(text)-1])) {
			endField()
		}
	}
	endField()
	return fields, static
}

// hasUnquotedExpansion reports whether w has a $NAME or $(...) outside
// quotes, whose value bash splits into fields.
func hasUnquotedExpansion(w *syntax.Word) bool {
	for _, part := range w.Parts {
		switch part.(type) {
		case *syntax.ParamExp, *syntax.CmdSubst:
			return true
		}
	}
	return false
}

// substOutput returns what $(...) expands to when its output is known
// without running anything: $(echo WORDS) and $(printf TEXT) of static
// words, trailing newlines removed.
func (a *analyzer) substOutput(cs *syntax.CmdSubst, src string) (string, bool) {
	if len(cs.Stmts) != 1 {
		return "", false
	}
	s := cs.Stmts[0]
	ce, ok := s.Cmd.(*syntax.CallExpr)
	if !ok || len(s.Redirs) > 0 || len(ce.Assigns) > 0 || s.Background || s.Negated || len(ce.Args) == 0 {
		return "", false
	}
	var argv []string
	for _, w := range ce.Args {
		for _, ew := range braceWords(w) {
			fields, static := a.argFields(ew, src)
			if !static {
				return "", false
			}
			argv = append(argv, fields...)
		}
	}
	if len(argv) == 0 {
		return "", false
	}
	var out string
	switch commandBaseName(argv[0]) {
	case "echo":
		args := argv[1:]
		escapes := false
		for len(args) > 0 && isEchoOption(args[0]) {
			escapes = escapes || strings.Contains(args[0], "e")
			args = args[1:]
		}
		out = strings.Join(args, " ")
		if escapes {
			out = decodeANSIC(out)
		}
	case "printf":
		if len(argv) != 2 || strings.Contains(argv[1], "%") {
			return "", false
		}
		out = decodeANSIC(argv[1])
	default:
		return "", false
	}
	return strings.TrimRight(out, "\n"), true
}

// isEchoOption reports whether w is an option echo accepts (-n, -e, -E and
// clusters of them); any other word is printed.
func isEchoOption(w string) bool {
	if len(w) < 2 || w[0] != '-' {
		return false
	}
	return strings.Trim(w[1:], "neE") == ""
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
//
// ${NAME:-WORD}, ${NAME-WORD}, ${NAME:=WORD}, ${NAME=WORD} and
// ${NAME:+WORD} are followed too. When NAME is unknown the value written is
// WORD's for the defaults and the alternative (what the line most likely
// means: rm -rf ${x:-/} is about /), and the expansion still counts as
// unknown.
func (a *analyzer) paramValue(p *syntax.ParamExp, src string, b *strings.Builder) bool {
	simple := p.Param != nil && p.Slice == nil && p.Repl == nil && !p.Length &&
		!p.Excl && p.Index == nil && p.NestedParam == nil && !p.Width
	if !simple || (p.Exp != nil && !isDefaultOp(p.Exp.Op)) {
		b.WriteString(nodeSource(src, p))
		return false
	}
	v, known := a.varValue(p.Param.Value)
	if p.Exp == nil {
		if !known {
			v = nodeSource(src, p)
		}
		b.WriteString(v)
		return known
	}
	word := ""
	wordStatic := true
	if p.Exp.Word != nil {
		word, wordStatic = a.wordValue(p.Exp.Word, src)
	}
	switch {
	case !known:
		b.WriteString(word)
		return false
	case p.Exp.Op == syntax.AlternateUnset || p.Exp.Op == syntax.AlternateUnsetOrNull:
		if v == "" && p.Exp.Op == syntax.AlternateUnsetOrNull {
			return true
		}
		b.WriteString(word)
		return wordStatic
	case v == "" && (p.Exp.Op == syntax.DefaultUnsetOrNull || p.Exp.Op == syntax.AssignUnsetOrNull):
		b.WriteString(word)
		return wordStatic
	}
	b.WriteString(v)
	return true
}

func isDefaultOp(op syntax.ParExpOperator) bool {
	switch op {
	case syntax.DefaultUnset, syntax.DefaultUnsetOrNull, syntax.AssignUnset, syntax.AssignUnsetOrNull,
		syntax.AlternateUnset, syntax.AlternateUnsetOrNull:
		return true
	}
	return false
}

// varValue returns the value of a shell variable when it is known: set
// earlier in the script, or $HOME and $PWD of the call.
func (a *analyzer) varValue(name string) (string, bool) {
	if v, ok := a.vars[name]; ok {
		return v, true
	}
	if name == "HOME" && a.home != "" {
		return a.home, true
	}
	if name == "PWD" && a.cwd != "" {
		return a.cwd, true
	}
	return "", false
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
