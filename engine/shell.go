package engine

import (
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/mattn/go-shellwords"
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
	// scriptArg is the argv index of an argument that is a shell script,
	// not a file (bash -c SCRIPT); -1 when all arguments are (eval). Path
	// conditions skip it: the commands it runs are judged on their own.
	scriptArg int
	argsSeen  int8 // 0: not checked; 1: some argument may match an unanchored rule's arg_matches; -1: none can
	depth     int
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
	// readFiles: a glob was expanded against the file system.
	readFiles bool
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
	loopRuns  int  // loop bodies analysed once per item so far (see forLoop)
	dotglob   bool // shopt -s dotglob came earlier: globs match dotfiles
	globDirs  int  // directory reads left to globs, plus one; 0 before the first glob
}

// shellCtx is what a statement inherits from where it stands.
type shellCtx struct {
	depth     int
	src       string   // source text positions refer to
	pipeIn    []string // commands earlier in the pipeline
	stdinText *string  // statically known text on stdin (here-doc, echo | ...)
	feeds     []string // commands whose output reaches a >(...) in the current command
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
		a.forLoop(x, c)
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
	if !cmd.dynamic {
		for _, v := range builtinAssigns(name, cmd.args) {
			// A name the caller counted (export X=v) has the value the
			// caller gave it; any other is set to what cannot be known.
			if !slices.Contains(cmd.assigns, v) {
				cmd.assigns = append(cmd.assigns, v)
				delete(a.vars, v)
			}
		}
	}
	if name == "shopt" && !cmd.dynamic && slices.Contains(cmd.args, "-s") && slices.Contains(cmd.args, "dotglob") {
		a.dotglob = true
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
