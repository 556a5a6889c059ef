// Simple commands: their assignments, words, redirections and the
// substitutions inside them.

package engine

import (
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// callExtras are the parts of a simple command other than its words.
type callExtras struct {
	assigns    []string
	assignText string
	redirs     []shellRedirect
	inputs     []string
}

func (a *analyzer) call(ce *syntax.CallExpr, redirs []*syntax.Redirect, c shellCtx) {
	var ex callExtras
	var assignParts []string
	// What this command writes into a >(...) comes from it and from
	// whatever feeds it: curl x | tee >(sh) runs sh on curl's output.
	c.feeds = c.pipeIn
	if len(ce.Args) > 0 {
		if name, ok := a.wordValue(ce.Args[0], c.src); ok {
			c.feeds = append(append([]string(nil), c.pipeIn...), commandBaseName(name))
		}
	}
	for _, as := range ce.Assigns {
		if as.Name == nil {
			continue
		}
		ex.assigns = append(ex.assigns, as.Name.Value)
		assignParts = append(assignParts, nodeSource(c.src, as))
		if as.Value == nil && as.Array == nil && !as.Append && len(ce.Args) == 0 {
			a.setVar(as.Name.Value, "") // X= empties X
		}
		if as.Value != nil {
			ex.inputs = append(ex.inputs, a.substs(as.Value, c)...)
			if len(ce.Args) == 0 {
				v, ok := a.wordValue(as.Value, c.src)
				if old, known := a.vars[as.Name.Value]; as.Append {
					v, ok = old+v, ok && known // X+=more
				}
				if ok {
					a.setVar(as.Name.Value, v)
				} else {
					delete(a.vars, as.Name.Value)
				}
			}
		}
	}
	ex.assignText = strings.Join(assignParts, " ")
	ex.redirs = a.redirects(redirs, c)
	for _, r := range redirs {
		if r.Word != nil {
			ex.inputs = append(ex.inputs, a.substs(r.Word, c)...)
		}
		if r.Hdoc != nil {
			a.substs(r.Hdoc, c)
		}
	}
	var argv []string
	var dyn []bool
	for _, w := range ce.Args {
		ex.inputs = append(ex.inputs, a.substs(w, c)...)
		for _, ew := range braceWords(w) {
			fields, static := a.argFields(ew, c.src)
			for _, f := range fields {
				argv = append(argv, f)
				dyn = append(dyn, !static)
			}
		}
	}
	ex.inputs = append(ex.inputs, c.pipeIn...)
	if stdin := a.stdinScript(redirs, c); stdin != nil {
		c.stdinText = stdin
	}
	if len(argv) == 0 {
		a.add(shellCommand{text: ex.assignText, fullText: ex.assignText, raw: c.src, redirs: ex.redirs,
			assigns: ex.assigns, inputs: ex.inputs, depth: c.depth})
		return
	}
	a.exec(argv, dyn, ex, c)
}

// braceWords expands {a,b} and {1..3} the way bash would before running.
func braceWords(w *syntax.Word) []*syntax.Word {
	hasBrace := false
	for _, p := range w.Parts {
		if l, ok := p.(*syntax.Lit); ok && strings.Contains(l.Value, "{") {
			hasBrace = true
			break
		}
	}
	if !hasBrace || !syntax.SplitBraces(w) {
		return []*syntax.Word{w}
	}
	var out []*syntax.Word
	for ew, err := range expand.BracesSeq(nil, w) {
		if err != nil || len(out) >= maxBraceWords {
			break
		}
		out = append(out, ew)
	}
	if len(out) == 0 {
		return []*syntax.Word{w}
	}
	return out
}

// stdinScript returns the text a here-doc or here-string feeds to stdin.
func (a *analyzer) stdinScript(redirs []*syntax.Redirect, c shellCtx) *string {
	for _, r := range redirs {
		switch r.Op {
		case syntax.Hdoc, syntax.DashHdoc:
			if r.Hdoc != nil {
				t := hdocText(r.Hdoc)
				return &t
			}
		case syntax.WordHdoc:
			if r.Word != nil {
				t, _ := a.wordValue(r.Word, c.src)
				return &t
			}
		}
	}
	return nil
}

func (a *analyzer) redirects(redirs []*syntax.Redirect, c shellCtx) []shellRedirect {
	var out []shellRedirect
	for _, r := range redirs {
		if r.Word == nil || r.Op == syntax.Hdoc || r.Op == syntax.DashHdoc || r.Op == syntax.WordHdoc {
			continue
		}
		target, _ := a.wordValue(r.Word, c.src)
		op := r.Op.String()
		output := r.Op != syntax.RdrIn && r.Op != syntax.DplIn
		if r.Op == syntax.DplOut || r.Op == syntax.DplIn {
			if isFD(target) {
				continue // 2>&1 and friends
			}
		}
		if r.N != nil {
			op = r.N.Value + op
		}
		out = append(out, shellRedirect{op: op, target: target, output: output})
	}
	return out
}

func isFD(s string) bool {
	if s == "-" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// redirSubsts analyses the command substitutions inside a statement's
// redirections (for compound statements; calls handle their own).
func (a *analyzer) redirSubsts(s *syntax.Stmt, c shellCtx) {
	if s == nil {
		return
	}
	for _, r := range s.Redirs {
		if r.Word != nil {
			a.substs(r.Word, c)
		}
		if r.Hdoc != nil {
			a.substs(r.Hdoc, c)
		}
	}
}

// substs analyses every $(...), `...` and <(...) inside node as commands
// that run, and returns the names of the commands they start with.
func (a *analyzer) substs(node syntax.Node, c shellCtx) []string {
	if node == nil {
		return nil
	}
	if w, ok := node.(*syntax.Word); ok && plainWord(w) {
		return nil
	}
	var names []string
	syntax.Walk(node, func(n syntax.Node) bool {
		var list []*syntax.Stmt
		switch x := n.(type) {
		case *syntax.CmdSubst:
			list = x.Stmts
		case *syntax.ProcSubst:
			list = x.Stmts
		default:
			return true
		}
		if c.depth+1 > maxShellDepth {
			a.detect(detectTooComplex)
			a.unknownCommand(nodeSource(c.src, n), c)
			return false
		}
		inner := shellCtx{depth: c.depth + 1, src: c.src}
		if ps, ok := n.(*syntax.ProcSubst); ok && ps.Op == syntax.CmdOut {
			inner.pipeIn = c.feeds
		}
		start := len(a.out.commands)
		a.stmts(list, inner)
		for i := start; i < len(a.out.commands); i++ {
			names = append(names, a.out.commands[i].name)
		}
		return false
	})
	return names
}

// plainWord reports whether w is made of literals and quotes only, so it
// holds no substitution to analyse.
func plainWord(w *syntax.Word) bool {
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit, *syntax.SglQuoted:
		case *syntax.DblQuoted:
			for _, inner := range p.Parts {
				if _, ok := inner.(*syntax.Lit); !ok {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}
