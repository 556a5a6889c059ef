package engine

import (
	"path"
	"strings"
	"sync"

	"github.com/mattn/go-shellwords"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Limits that keep the analysis of hostile input bounded.
const (
	maxShellDepth    = 8   // nested bash -c / eval / $(...) levels re-parsed
	maxShellCommands = 512 // simple commands recorded for one call
	maxBraceWords    = 64  // words one brace expansion may produce
	maxScriptBytes   = 1 << 20
)

// Detections the shell analysis can report (condition "detect").
const (
	detectForkBomb   = "fork-bomb"
	detectParseError = "parse-error"
	detectTooComplex = "too-complex"
)

// shellCommand is one simple command the shell would run, normalised.
type shellCommand struct {
	name     string   // executable base name ("/usr/bin/rm", "\rm", "'r''m'" are all "rm"); source text when dynamic
	args     []string // arguments after quote removal (argv[1:])
	dynamic  bool     // the command name is only known at run time
	text     string   // name and arguments joined by spaces, then redirections
	fullText string   // text with the assignment prefix, when there is one
	pipeline string   // text of the enclosing pipeline when it has several commands
	raw      string   // the script this command was parsed from
	cwd      string   // working directory the command runs in, when known ("cd" earlier in the line moves it)
	redirs   []shellRedirect
	assigns  []string  // environment names set, exported or unset ("*": environment cleared)
	inputs   []string  // names of commands whose output feeds this one (stdin or substituted arguments)
	wrapper  bool      // runs another command given in its arguments (sudo, env, bash -c, find -exec, ...)
	forms    []argForm // arguments and input files as matched by path conditions (filled on first use)
	argsSeen int8      // 0: not checked; 1: some argument may match an unanchored rule's arg_matches; -1: none can
	depth    int
}

type shellRedirect struct {
	op     string
	target string
	output bool
}

// shellAnalysis is the result of analysing one command line.
type shellAnalysis struct {
	raw      string
	commands []shellCommand
	detects  []string
}

func (s *shellAnalysis) detected(name string) bool {
	for _, d := range s.detects {
		if d == name {
			return true
		}
	}
	return false
}

type analyzer struct {
	home, cwd string
	vars      map[string]string
	out       *shellAnalysis
}

// shellCtx is what a statement inherits from where it stands.
type shellCtx struct {
	depth     int
	src       string   // source text positions refer to
	pipeIn    []string // commands earlier in the pipeline
	stdinText *string  // statically known text on stdin (here-doc, echo | ...)
}

var parserPool = sync.Pool{New: func() any { return syntax.NewParser(syntax.Variant(syntax.LangBash)) }}

func parseShell(src string) (*syntax.File, error) {
	p := parserPool.Get().(*syntax.Parser)
	defer parserPool.Put(p)
	return p.Parse(strings.NewReader(src), "")
}

// analyzeShell finds every simple command that running src with bash would
// run, with home and cwd used for "~", $HOME and $PWD.
func analyzeShell(src, home, cwd string) *shellAnalysis {
	a := &analyzer{home: home, cwd: cwd, out: &shellAnalysis{raw: src}}
	a.script(src, shellCtx{})
	return a.out
}

// analyzeArgv analyses an exact argument vector (no shell involved).
func analyzeArgv(argv []string, home, cwd string) *shellAnalysis {
	a := &analyzer{home: home, cwd: cwd, out: &shellAnalysis{raw: strings.Join(argv, " ")}}
	if len(argv) > 0 {
		a.exec(argv, make([]bool, len(argv)), callExtras{}, shellCtx{src: a.out.raw})
	}
	return a.out
}

func (a *analyzer) setVar(name, value string) {
	if a.vars == nil {
		a.vars = map[string]string{}
	}
	a.vars[name] = value
}

func (a *analyzer) detect(name string) {
	if !a.out.detected(name) {
		a.out.detects = append(a.out.detects, name)
	}
}

// script analyses a whole shell script.
func (a *analyzer) script(src string, c shellCtx) {
	if c.depth > maxShellDepth || len(src) > maxScriptBytes {
		a.detect(detectTooComplex)
		a.unknownCommand(src, c)
		return
	}
	c.src = src
	if argv, ok := simpleFields(src); ok {
		a.exec(argv, make([]bool, len(argv)), callExtras{}, c)
		return
	}
	if a.out.commands == nil {
		a.out.commands = make([]shellCommand, 0, 8) // a parsed script seldom has more
	}
	f, err := parseShell(src)
	if err != nil {
		a.detect(detectParseError)
		a.unparsed(src, c)
		return
	}
	a.stmts(f.Stmts, c)
}

// simpleFields splits src on blanks when it holds nothing the shell would
// treat specially (no quotes, expansions, operators, globs, braces, tilde,
// comments, assignments or keywords). For such text the parser's answer
// is exactly this split, so the common case skips the parse.
func simpleFields(src string) ([]string, bool) {
	if len(src) == 0 || len(src) > 256 {
		return nil, false
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == ' ', c == '-', c == '_', c == '.', c == '/', c == ':', c == ',', c == '+', c == '@', c == '%', c == '=':
		default:
			return nil, false
		}
	}
	f := strings.Fields(src)
	if len(f) == 0 || strings.Contains(f[0], "=") || shellKeywords[f[0]] {
		return nil, false
	}
	return f, true
}

var shellKeywords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "for": true, "in": true,
	"while": true, "until": true, "do": true, "done": true, "case": true, "esac": true,
	"function": true, "select": true, "time": true, "coproc": true,
	// declaration builtins: the parser turns their words into assignments
	"export": true, "declare": true, "typeset": true, "readonly": true, "local": true, "nameref": true,
}

// unparsed records a line the parser rejected. Bash would reject it too, but
// the words are still judged, so a broken line cannot hide a denied command.
func (a *analyzer) unparsed(src string, c shellCtx) {
	for _, line := range strings.FieldsFunc(src, func(r rune) bool { return r == '\n' || r == ';' || r == '|' || r == '&' }) {
		words, err := shellwords.Parse(line)
		if err != nil || len(words) == 0 {
			words = strings.Fields(line)
		}
		for len(words) > 0 && isAssignment(words[0]) {
			words = words[1:]
		}
		if len(words) > 0 {
			a.exec(words, make([]bool, len(words)), callExtras{}, c)
		}
	}
}

// unknownCommand records a command whose text cannot be known statically
// (a script in a variable, input nested too deep).
func (a *analyzer) unknownCommand(text string, c shellCtx) {
	a.add(shellCommand{name: text, dynamic: true, text: text, raw: c.src, depth: c.depth})
}

func (a *analyzer) add(cmd shellCommand) int {
	if len(a.out.commands) >= maxShellCommands {
		a.detect(detectTooComplex)
		return -1
	}
	a.out.commands = append(a.out.commands, cmd)
	return len(a.out.commands) - 1
}

func (a *analyzer) stmts(list []*syntax.Stmt, c shellCtx) {
	for _, s := range list {
		a.stmt(s, c)
	}
}

func (a *analyzer) stmt(s *syntax.Stmt, c shellCtx) {
	if s == nil || s.Cmd == nil {
		a.redirSubsts(s, c)
		return
	}
	if ce, ok := s.Cmd.(*syntax.CallExpr); ok {
		a.call(ce, s.Redirs, c)
		return
	}
	a.redirSubsts(s, c)
	start := len(a.out.commands)
	a.compound(s, c)
	// Redirections of a compound statement apply to every command inside
	// it: "while read l; do ...; done < ~/.ssh/id_rsa" reads the key.
	if redirs := a.redirects(s.Redirs, c); len(redirs) > 0 {
		for i := start; i < len(a.out.commands); i++ {
			cmd := &a.out.commands[i]
			cmd.redirs = append(cmd.redirs[:len(cmd.redirs):len(cmd.redirs)], redirs...)
			if !cmd.dynamic && cmd.name != "" {
				cmd.text = commandText(cmd.name, cmd.args, cmd.redirs)
			}
		}
	}
}

// compound analyses a statement that is not a simple command.
func (a *analyzer) compound(s *syntax.Stmt, c shellCtx) {
	switch x := s.Cmd.(type) {
	case *syntax.BinaryCmd:
		if x.Op == syntax.Pipe || x.Op == syntax.PipeAll {
			a.pipeline(x, c)
			return
		}
		a.stmt(x.X, c)
		a.stmt(x.Y, c)
	case *syntax.Subshell:
		a.stmts(x.Stmts, c)
	case *syntax.Block:
		a.stmts(x.Stmts, c)
	case *syntax.IfClause:
		for cl := x; cl != nil; cl = cl.Else {
			a.stmts(cl.Cond, c)
			a.stmts(cl.Then, c)
		}
	case *syntax.WhileClause:
		a.stmts(x.Cond, c)
		a.stmts(x.Do, c)
	case *syntax.ForClause:
		a.substs(x.Loop, c)
		a.stmts(x.Do, c)
	case *syntax.CaseClause:
		a.substs(x.Word, c)
		for _, item := range x.Items {
			a.stmts(item.Stmts, c)
		}
	case *syntax.FuncDecl:
		a.funcDecl(x, c)
	case *syntax.DeclClause:
		a.declClause(x, s.Redirs, c)
	case *syntax.TimeClause:
		a.stmt(x.Stmt, c)
	case *syntax.CoprocClause:
		a.stmt(x.Stmt, c)
	default: // arithmetic, [[ ]], let: only their substitutions run commands
		a.substs(x, c)
	}
}

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
				if lit, ok := singleLit(y.Args[0]); ok && contains(names, lit) {
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
			v, _ := a.wordValue(as.Value, c.src)
			args = append(args, v)
		}
	}
	argv := append([]string{x.Variant.Value}, args...)
	a.exec(argv, make([]bool, len(argv)), callExtras{assigns: assigns, redirs: a.redirects(redirs, c)}, c)
}

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
	for _, as := range ce.Assigns {
		if as.Name == nil {
			continue
		}
		ex.assigns = append(ex.assigns, as.Name.Value)
		assignParts = append(assignParts, nodeSource(c.src, as))
		if as.Value != nil {
			ex.inputs = append(ex.inputs, a.substs(as.Value, c)...)
			if len(ce.Args) == 0 {
				if v, ok := a.wordValue(as.Value, c.src); ok {
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
			v, static := a.wordValue(ew, c.src)
			argv = append(argv, v)
			dyn = append(dyn, !static)
		}
	}
	ex.inputs = append(ex.inputs, c.pipeIn...)
	if stdin := stdinScript(redirs, c); stdin != nil {
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
func stdinScript(redirs []*syntax.Redirect, c shellCtx) *string {
	for _, r := range redirs {
		switch r.Op {
		case syntax.Hdoc, syntax.DashHdoc:
			if r.Hdoc != nil {
				t := hdocText(r.Hdoc)
				return &t
			}
		case syntax.WordHdoc:
			if r.Word != nil {
				t := (&analyzer{}).wordValueNoVars(r.Word, c.src)
				return &t
			}
		}
	}
	return nil
}

func (a *analyzer) wordValueNoVars(w *syntax.Word, src string) string {
	v, _ := a.wordValue(w, src)
	return v
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

// exec records the simple command argv and, when it runs another command
// (a wrapper, a shell given a script, eval, xargs, find -exec), that command
// too.
func (a *analyzer) exec(argv []string, dyn []bool, ex callExtras, c shellCtx) {
	name := argv[0]
	if !dyn[0] {
		name = commandBaseName(name)
	}
	cmd := shellCommand{
		name:    name,
		args:    argv[1:],
		dynamic: dyn[0],
		raw:     c.src,
		cwd:     a.cwd,
		redirs:  ex.redirs,
		assigns: ex.assigns,
		inputs:  ex.inputs,
		depth:   c.depth,
	}
	if (name == "cd" || name == "pushd") && !cmd.dynamic {
		a.changeDir(argv[1:], dyn[1:])
	}
	cmd.text = commandText(name, argv[1:], ex.redirs)
	if ex.assignText != "" {
		cmd.fullText = ex.assignText + " " + cmd.text
	}
	if name == "unset" && !cmd.dynamic {
		for _, w := range cmd.args {
			if !strings.HasPrefix(w, "-") {
				cmd.assigns = append(cmd.assigns, w)
				delete(a.vars, w)
			}
		}
	}
	idx := a.add(cmd)
	if idx < 0 || cmd.dynamic {
		return
	}
	if a.runsInner(idx, argv, dyn, c) {
		a.out.commands[idx].wrapper = true
	}
}

// changeDir follows "cd DIR" so later relative paths resolve where the
// shell would resolve them.
func (a *analyzer) changeDir(args []string, dyn []bool) {
	for i, w := range args {
		if w == "--" || (strings.HasPrefix(w, "-") && w != "-") {
			continue
		}
		if dyn[i] || w == "-" {
			a.cwd = ""
			return
		}
		if path.IsAbs(w) {
			a.cwd = path.Clean(w)
		} else if a.cwd != "" {
			a.cwd = path.Join(a.cwd, w)
		}
		return
	}
	a.cwd = a.home
}

// commandBaseName normalises an executable as written to its base name:
// /usr/bin/rm, ./rm and rm are all "rm".
func commandBaseName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 && i < len(s)-1 {
		return s[i+1:]
	}
	return s
}

func commandText(name string, args []string, redirs []shellRedirect) string {
	if len(args) == 0 && len(redirs) == 0 {
		return name
	}
	n := len(name)
	for _, s := range args {
		n += 1 + len(s)
	}
	var b strings.Builder
	b.Grow(n + 16*len(redirs))
	b.WriteString(name)
	for _, s := range args {
		b.WriteByte(' ')
		b.WriteString(s)
	}
	for _, r := range redirs {
		b.WriteByte(' ')
		b.WriteString(r.op)
		b.WriteByte(' ')
		b.WriteString(r.target)
	}
	return b.String()
}

func isAssignment(w string) bool {
	i := strings.IndexByte(w, '=')
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := w[j]
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (j > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// cleanJoin joins a path relative to dir and cleans it.
func cleanJoin(dir, p string) string {
	if path.IsAbs(p) || dir == "" {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}
