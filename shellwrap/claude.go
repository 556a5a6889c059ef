package shellwrap

import (
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// UnwrapClaudeCode returns the command the model wrote from the command
// line Claude Code runs for its Bash tool:
//
//	source ~/.claude/shell-snapshots/snapshot-bash-….sh 2>/dev/null || true &&
//	{ \builtin shopt -u extglob || \builtin setopt …; } >/dev/null 2>&1 || true &&
//	{ \builtin unalias -- 'which'; \builtin unset -f -- 'which'; } >/dev/null 2>&1 || true &&
//	eval 'COMMAND' < /dev/null && pwd -P >| /tmp/claude-…-cwd
//
// ok is false unless the line has exactly one eval of one quoted word and
// every other part is one of the wrapper's own (source of a shell
// snapshot, shopt/setopt, unalias/unset -f, true, pwd -P into a file); then
// the caller must judge the whole line instead.
func UnwrapClaudeCode(line string) (command string, ok bool) {
	file, err := syntax.NewParser().Parse(strings.NewReader(line), "")
	if err != nil || len(file.Stmts) != 1 {
		return "", false
	}
	var parts []*syntax.Stmt
	flattenAndOr(file.Stmts[0], &parts)
	found := false
	for _, st := range parts {
		if arg, isEval := evalOfLiteral(st); isEval {
			if found {
				return "", false
			}
			command, found = arg, true
			continue
		}
		if !isClaudeWrapperPart(st) {
			return "", false
		}
	}
	return command, found
}

// flattenAndOr lists the statements joined by && and || at the top level.
func flattenAndOr(st *syntax.Stmt, out *[]*syntax.Stmt) {
	if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.AndStmt || b.Op == syntax.OrStmt) && !st.Negated && !st.Background && len(st.Redirs) == 0 {
		flattenAndOr(b.X, out)
		flattenAndOr(b.Y, out)
		return
	}
	*out = append(*out, st)
}

// evalOfLiteral matches `eval 'CMD'` (optionally < /dev/null) and returns
// CMD. The word must be fully quoted text, with no expansion in it.
func evalOfLiteral(st *syntax.Stmt) (string, bool) {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Assigns) > 0 || len(call.Args) != 2 || literal(call.Args[0]) != "eval" || st.Negated || st.Background {
		return "", false
	}
	for _, r := range st.Redirs {
		if r.Op != syntax.RdrIn || literal(r.Word) != "/dev/null" {
			return "", false
		}
	}
	return quotedLiteral(call.Args[1])
}

// isClaudeWrapperPart reports whether st is one of the parts Claude Code
// puts around the command.
func isClaudeWrapperPart(st *syntax.Stmt) bool {
	if st.Negated || st.Background {
		return false
	}
	switch cmd := st.Cmd.(type) {
	case *syntax.Block:
		for _, inner := range cmd.Stmts {
			var parts []*syntax.Stmt
			flattenAndOr(inner, &parts)
			for _, p := range parts {
				if !isClaudeWrapperPart(p) {
					return false
				}
			}
		}
		return redirsToDevNull(st)
	case *syntax.CallExpr:
		if len(cmd.Assigns) > 0 || len(cmd.Args) == 0 {
			return false
		}
		words := make([]string, len(cmd.Args))
		for i, w := range cmd.Args {
			if words[i] = literal(w); words[i] == "" {
				if s, ok := quotedLiteral(w); ok {
					words[i] = s
				} else {
					return false
				}
			}
		}
		name := strings.TrimPrefix(words[0], `\`)
		if name == "builtin" && len(words) > 1 {
			words = words[1:]
			name = words[0]
		}
		switch name {
		case "true":
			return len(words) == 1 && len(st.Redirs) == 0
		case "source", ".":
			return len(words) == 2 && isShellSnapshot(words[1]) && redirsToDevNull(st)
		case "shopt", "setopt", "unalias", "unset":
			if name == "unset" && (len(words) < 2 || words[1] != "-f") {
				return false
			}
			return redirsToDevNull(st)
		case "pwd":
			// pwd -P >| FILE records the shell's directory for Claude Code.
			return len(words) == 2 && words[1] == "-P" && len(st.Redirs) == 1 &&
				(st.Redirs[0].Op == syntax.ClbOut || st.Redirs[0].Op == syntax.RdrOut) && literal(st.Redirs[0].Word) != ""
		}
	}
	return false
}

// isShellSnapshot matches Claude Code's shell snapshot files.
func isShellSnapshot(path string) bool {
	return filepath.Base(filepath.Dir(path)) == "shell-snapshots" && strings.HasPrefix(filepath.Base(path), "snapshot-")
}

// redirsToDevNull allows only redirections into /dev/null (2>/dev/null,
// >/dev/null 2>&1).
func redirsToDevNull(st *syntax.Stmt) bool {
	for _, r := range st.Redirs {
		switch {
		case (r.Op == syntax.RdrOut || r.Op == syntax.AppOut) && literal(r.Word) == "/dev/null":
		case r.Op == syntax.DplOut && literal(r.Word) == "1":
		default:
			return false
		}
	}
	return true
}

// literal returns a word made only of unquoted literal text, else "".
func literal(w *syntax.Word) string {
	if w == nil || len(w.Parts) != 1 {
		return ""
	}
	if lit, ok := w.Parts[0].(*syntax.Lit); ok {
		return lit.Value
	}
	return ""
}

// quotedLiteral returns the value of a word made of single-quoted parts,
// unquoted literals and backslash escapes only (Claude Code quotes the
// command as 'a'"'"'b'): no expansion can happen in it.
func quotedLiteral(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, inner := range p.Parts {
				lit, ok := inner.(*syntax.Lit)
				if !ok {
					return "", false
				}
				b.WriteString(unescapeDouble(lit.Value))
			}
		case *syntax.Lit:
			if strings.ContainsAny(p.Value, "*?[~") {
				return "", false
			}
			b.WriteString(unescapeBare(p.Value))
		default:
			return "", false
		}
	}
	return b.String(), true
}

func unescapeBare(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unescapeDouble(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
