// Compound statements the shell analysis looks inside: pipelines, function
// declarations, declaration builtins.

package engine

import (
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// pipeline analyses "a | b | c": each command sees the commands before it
// as its input, and the pipeline's text is matched as a whole too.
func (a *analyzer) pipeline(x *syntax.BinaryCmd, c shellCtx) {
	var elems []*syntax.Stmt
	var flatten func(s *syntax.Stmt)
	flatten = func(s *syntax.Stmt) {
		if b, ok := s.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) && len(s.Redirs) == 0 {
			flatten(b.X)
			flatten(b.Y)
			return
		}
		elems = append(elems, s)
	}
	flatten(x.X)
	flatten(x.Y)

	first := len(a.out.commands)
	var texts []string
	var before []string
	var stdin *string
	for _, e := range elems {
		ec := c
		ec.pipeIn = append(append([]string(nil), c.pipeIn...), before...)
		ec.stdinText = stdin
		start := len(a.out.commands)
		a.stmt(e, ec)
		stdin = nil
		if start < len(a.out.commands) && isCall(e) {
			top := &a.out.commands[start]
			texts = append(texts, top.text)
			before = append(before, top.name)
			stdin = staticOutput(top, e)
		} else {
			texts = append(texts, nodeSource(c.src, e))
			for i := start; i < len(a.out.commands); i++ {
				before = append(before, a.out.commands[i].name)
			}
		}
	}
	text := strings.Join(texts, " | ")
	for i := first; i < len(a.out.commands); i++ {
		if a.out.commands[i].depth == c.depth && a.out.commands[i].pipeline == "" {
			a.out.commands[i].pipeline = text
		}
	}
}

func isCall(s *syntax.Stmt) bool {
	_, ok := s.Cmd.(*syntax.CallExpr)
	return ok
}

// staticOutput returns what a command writes to stdout when that is known
// without running it: echo and printf of static words, cat of a here-doc.
func staticOutput(cmd *shellCommand, s *syntax.Stmt) *string {
	switch cmd.name {
	case "echo", "printf":
		args := cmd.args
		for len(args) > 0 && strings.HasPrefix(args[0], "-") && cmd.name == "echo" {
			args = args[1:]
		}
		out := strings.Join(args, " ")
		if cmd.name == "printf" || (len(cmd.args) > 0 && strings.HasPrefix(cmd.args[0], "-") && strings.Contains(cmd.args[0], "e")) {
			out = decodeANSIC(out)
		}
		return &out
	case "cat":
		if len(cmd.args) == 0 {
			for _, r := range s.Redirs {
				if r.Hdoc != nil {
					t := hdocText(r.Hdoc)
					return &t
				}
			}
		}
	}
	return nil
}

func hdocText(w *syntax.Word) string {
	var b strings.Builder
	for _, p := range w.Parts {
		if l, ok := p.(*syntax.Lit); ok {
			b.WriteString(l.Value)
		} else {
			b.WriteString(" $(?) ")
		}
	}
	return b.String()
}

func (a *analyzer) funcDecl(x *syntax.FuncDecl, c shellCtx) {
	var names []string
	if x.Name != nil {
		names = append(names, x.Name.Value)
	}
	for _, n := range x.Names {
		names = append(names, n.Value)
	}
	recursive, parallel := false, false
	syntax.Walk(x.Body, func(n syntax.Node) bool {
		switch y := n.(type) {
		case *syntax.CallExpr:
			if len(y.Args) > 0 {
				if lit, ok := singleLit(y.Args[0]); ok && slices.Contains(names, lit) {
					recursive = true
				}
			}
		case *syntax.BinaryCmd:
			if y.Op == syntax.Pipe || y.Op == syntax.PipeAll {
				parallel = true
			}
		case *syntax.Stmt:
			if y.Background {
				parallel = true
			}
		}
		return true
	})
	if recursive && parallel {
		a.detect(detectForkBomb)
	}
	if x.Body != nil {
		a.stmt(x.Body, c)
	}
}

func (a *analyzer) declClause(x *syntax.DeclClause, redirs []*syntax.Redirect, c shellCtx) {
	var assigns, args []string
	for _, as := range x.Args {
		if as.Name != nil {
			assigns = append(assigns, as.Name.Value)
			args = append(args, nodeSource(c.src, as))
			if as.Value != nil {
				a.substs(as.Value, c)
				if v, ok := a.wordValue(as.Value, c.src); ok && x.Variant.Value != "local" {
					a.setVar(as.Name.Value, v)
				}
			}
		} else if as.Value != nil {
			// A name the parser did not see as one: quoted, escaped, in
			// braces or in a variable (export "LD_PRELOAD=x", export
			// {A,B}=x, export $N=x) is still set: exec counts it
			// (builtinAssigns).
			for _, ew := range braceWords(as.Value) {
				v, _ := a.wordValue(ew, c.src)
				args = append(args, v)
			}
		}
	}
	argv := append([]string{x.Variant.Value}, args...)
	a.exec(argv, make([]bool, len(argv)), callExtras{assigns: assigns, redirs: a.redirects(redirs, c)}, c)
}

// maxLoopRuns bounds how many loop bodies one call analyses once per item.
const maxLoopRuns = 32

// forLoop analyses "for NAME in WORDS; do BODY; done". The loop sets NAME,
// so the loop counts as an assignment of it; when the words are known (and
// few), the body is analysed once with NAME set to each of them, as bash
// runs it (for f in ~/.ssh/id_rsa; do cat $f; done reads the key).
func (a *analyzer) forLoop(x *syntax.ForClause, c shellCtx) {
	iter, ok := x.Loop.(*syntax.WordIter)
	if !ok || iter.Name == nil {
		a.stmts(x.Do, c)
		return
	}
	name := iter.Name.Value
	a.add(shellCommand{text: "for " + name, fullText: nodeSource(c.src, x.Loop), raw: c.src,
		assigns: []string{name}, depth: c.depth})
	var items []string
	static := len(iter.Items) > 0
	for _, w := range iter.Items {
		for _, ew := range braceWords(w) {
			fields, ok := a.argFields(ew, c.src)
			static = static && ok
			items = append(items, fields...)
		}
	}
	if !static || len(items) == 0 || a.loopRuns+len(items) > maxLoopRuns {
		delete(a.vars, name)
		a.stmts(x.Do, c)
		delete(a.vars, name)
		return
	}
	a.loopRuns += len(items)
	for _, it := range items {
		a.setVar(name, it)
		a.stmts(x.Do, c)
	}
}
