package engine

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/tidwall/gjson"
)

// Eval decides one tool call. It never modifies p and is safe for
// concurrent use. See [Program.Explain] for the reasoning behind a decision.
func (p *Program) Eval(call *ToolCall) Decision {
	st := p.newState(call, nil)
	return st.run()
}

// Explanation is what [Program.Explain] reports besides the decision.
type Explanation struct {
	// Commands are the simple commands the shell analysis found (exec only).
	Commands []ExplainedCommand `json:"commands,omitempty"`
	// Detections are findings of the shell analysis such as "fork-bomb".
	Detections []string `json:"detections,omitempty"`
	// Matches are every rule that matched, in evaluation order.
	Matches []RuleMatch `json:"matches,omitempty"`
	// Uncovered names the command no allow rule covered when the default
	// action decided.
	Uncovered string `json:"uncovered,omitempty"`
}

// ExplainedCommand is one simple command found in an exec call.
type ExplainedCommand struct {
	Name     string `json:"name"`
	Text     string `json:"text"`
	Depth    int    `json:"depth"`
	Wrapper  bool   `json:"wrapper,omitempty"`
	Dynamic  bool   `json:"dynamic,omitempty"`
	Pipeline string `json:"pipeline,omitempty"`
}

// RuleMatch is one rule that matched part of a call.
type RuleMatch struct {
	Policy  string `json:"policy"`
	Rule    string `json:"rule"`
	Action  Action `json:"action"`
	Message string `json:"message,omitempty"`
	Matched string `json:"matched,omitempty"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Note    string `json:"note,omitempty"`
}

// Explain decides call like [Program.Eval] and also reports which commands
// the analysis found and every rule that matched.
func (p *Program) Explain(call *ToolCall) (Decision, *Explanation) {
	ex := &Explanation{}
	st := p.newState(call, ex)
	d := st.run()
	for _, c := range st.units {
		ex.Commands = append(ex.Commands, ExplainedCommand{Name: c.name, Text: c.text, Depth: c.depth,
			Wrapper: c.wrapper, Dynamic: c.dynamic, Pipeline: c.pipeline})
	}
	ex.Detections = st.detects
	return d, ex
}

// evalState is the per-call working state.
type evalState struct {
	p        *Program
	call     *ToolCall
	home     string
	cwd      string
	scope    []bool // policy index -> applies to this call
	scopeBuf [64]bool
	units    []shellCommand
	detects  []string
	explain  *Explanation
	pathDone bool
	paths    [2]string // cleaned, symlink-resolved
}

func (p *Program) newState(call *ToolCall, ex *Explanation) *evalState {
	st := &evalState{p: p, call: call, home: call.Home, cwd: call.Cwd, explain: ex}
	if st.home == "" {
		st.home = p.home
	}
	st.home = strings.TrimSuffix(st.home, "/")
	tool := strings.ToLower(call.Tool)
	idx, ok := p.toolIndex[tool]
	if !ok {
		idx = p.policiesForTool(tool)
	}
	if len(p.policies) <= len(st.scopeBuf) {
		st.scope = st.scopeBuf[:len(p.policies)]
	} else {
		st.scope = make([]bool, len(p.policies))
	}
	for _, i := range idx {
		pol := p.policies[i]
		if matchAnyGlob(pol.agents, call.Agent, true) && matchAnyGlob(pol.sessions, call.Session, true) {
			st.scope[i] = true
		}
	}
	if tool == ToolExec {
		if call.Command != "" {
			a := analyzeShell(call.Command, st.home, st.cwd)
			st.units, st.detects = a.commands, a.detects
		}
		if len(call.Argv) > 0 {
			a := analyzeArgv(call.Argv, st.home, st.cwd)
			st.units = append(st.units, a.commands...)
			st.detects = append(st.detects, a.detects...)
		}
	}
	return st
}

type verdict struct {
	rule    *rule
	matched string
	note    string
}

func (st *evalState) run() Decision {
	p := st.p
	var worst verdict // the strongest non-allow rule
	var allow *rule
	uncovered := ""
	isExec := strings.EqualFold(st.call.Tool, ToolExec)
	consider := func(v verdict) {
		if st.explain != nil {
			st.explain.Matches = append(st.explain.Matches, RuleMatch{Policy: v.rule.policy.source, Rule: v.rule.name,
				Action: v.rule.action, Message: v.rule.message, Matched: v.matched, File: v.rule.file, Line: v.rule.line, Note: v.note})
		}
		if v.rule.action == ActionAllow {
			if allow == nil {
				allow = v.rule
			}
			return
		}
		if worst.rule == nil || v.rule.action > worst.rule.action {
			worst = v
		}
	}
	if isExec {
		for i := range st.units {
			u := &st.units[i]
			covered := st.evalUnit(u, consider)
			if !covered && uncovered == "" && u.name != "" && !u.wrapper {
				uncovered = u.text
			}
			if worst.rule != nil && worst.rule.action == ActionDeny && st.explain == nil {
				break
			}
		}
		if worst.rule == nil || worst.rule.action < ActionAsk {
			if v, ok := st.dynamicCheck(); ok {
				if st.explain != nil {
					consider(v)
				}
				worst = v
			}
		}
	} else {
		if !st.evalCall(consider) {
			uncovered = st.describeCall()
		}
	}
	if st.explain != nil {
		st.explain.Uncovered = uncovered
	}
	if worst.rule != nil && worst.rule.action >= ActionAsk {
		return st.decision(worst)
	}
	if uncovered != "" && p.defaultAction > ActionLog {
		return Decision{Decision: p.defaultAction, Policy: p.defaultFrom, Rule: "default_action",
			Message: fmt.Sprintf("no rule allows %q and the default action is %s", truncate(uncovered, 120), p.defaultAction)}
	}
	if worst.rule != nil { // log
		return st.decision(worst)
	}
	if uncovered != "" && p.defaultAction == ActionLog {
		return Decision{Decision: ActionLog, Policy: p.defaultFrom, Rule: "default_action",
			Message: "no rule matched; the default action is log"}
	}
	if allow != nil {
		return Decision{Decision: ActionAllow, Policy: allow.policy.source, Rule: allow.name, Message: allow.message}
	}
	return Decision{Decision: ActionAllow}
}

func (st *evalState) decision(v verdict) Decision {
	msg := v.rule.message
	if v.note != "" {
		if msg != "" {
			msg = v.note + ": " + msg
		} else {
			msg = v.note
		}
	}
	return Decision{Decision: v.rule.action, Policy: v.rule.policy.source, Rule: v.rule.name, Message: msg,
		Matched: truncate(v.matched, 512)}
}

func actionVerb(a Action) string {
	if a == ActionDeny {
		return "denies"
	}
	return "asks about"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// evalUnit runs every in-scope policy over one command and reports whether
// an allow rule covered it.
func (st *evalState) evalUnit(u *shellCommand, consider func(verdict)) bool {
	p := st.p
	covered := false
	var named []int
	var buf [64]int
	if !u.dynamic {
		named = p.candidateRules(u, buf[:0])
	}
	un := p.unanchored
	i, j := 0, 0
	skipUntil := -1
	for {
		var id int
		switch {
		case u.dynamic:
			if i >= len(p.rules) {
				return covered
			}
			id = i
			i++
		case i < len(named) && (j >= len(un) || named[i] < un[j]):
			id = named[i]
			i++
		case j < len(un):
			id = un[j]
			j++
		default:
			return covered
		}
		if id < skipUntil {
			continue
		}
		r := p.rules[id]
		if !st.scope[r.policy.index] {
			skipUntil = r.policy.lastRule
			continue
		}
		if r.when.argIn != nil && p.isUnanchored[id] && !st.mayMatchUnanchoredArgs(u) {
			continue // no argument matches any unanchored rule's arg_matches
		}
		ok, matched := r.when.matchCommand(st, u, r.action == ActionAllow, false)
		if !ok {
			continue
		}
		skipUntil = r.policy.lastRule // first matching rule wins within a policy
		if r.action == ActionAllow {
			covered = true
		}
		consider(verdict{rule: r, matched: matched})
	}
}

// candidateRules returns, sorted, the ids of the rules anchored to u's
// name, name and first argument, or name and subcommand.
func (p *Program) candidateRules(u *shellCommand, buf []int) []int {
	out := append(buf, p.byName[u.name]...)
	if len(u.args) > 0 {
		out = append(out, p.byName[u.name+argKey+u.args[0]]...)
		if sub := subcommandOf(u.name, u.args); sub != "" {
			out = append(out, p.byName[u.name+subKey+sub]...)
		}
	}
	if len(out) > len(p.byName[u.name]) {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}

// mayMatchUnanchoredArgs reports whether some argument of u matches the
// union of the unanchored rules' arg_matches patterns (computed once per
// command): for most commands none does, and those rules are skipped.
func (st *evalState) mayMatchUnanchoredArgs(u *shellCommand) bool {
	if u.argsSeen == 0 {
		u.argsSeen = -1
		b := pathBase{home: st.home, cwd: u.cwd}
		for _, f := range u.argForms() {
			if st.p.unanchoredArgs.match(f.raw, b) || (f.resolved != "" && st.p.unanchoredArgs.match(f.resolved, b)) {
				u.argsSeen = 1
				break
			}
		}
	}
	return u.argsSeen > 0
}

// dynamicCheck looks for a command whose name is only known at run time
// that a deny or ask rule would match for some name: such a command is at
// least ask.
func (st *evalState) dynamicCheck() (verdict, bool) {
	tooComplex := false
	for _, d := range st.detects {
		if d == detectTooComplex {
			tooComplex = true
		}
	}
	for i := range st.units {
		u := &st.units[i]
		if !u.dynamic {
			continue
		}
		// Deny rules first: "it could be rm -rf /" says more than "it could be sudo".
		for _, want := range [...]Action{ActionDeny, ActionAsk} {
			for _, r := range st.p.rules {
				if r.action != want || !st.scope[r.policy.index] || !r.when.hasCommandConds {
					continue
				}
				if ok, _ := r.when.matchCommand(st, u, false, true); ok {
					ask := *r
					ask.action = ActionAsk
					ask.message = "A human must approve it. Write the command name out literally (not through a variable or $(...)) so Rampart can check it."
					return verdict{rule: &ask, matched: u.text,
						note: fmt.Sprintf("the command name %q is only known when the shell runs it, and it could be a command that rule %q %s", truncate(u.name, 60), r.name, actionVerb(r.action))}, true
				}
			}
		}
	}
	if tooComplex {
		r := &rule{policy: &policy{source: "engine"}, name: "too-complex", action: ActionAsk,
			message: "the command nests shells or substitutions too deeply to analyse; a human must check it"}
		return verdict{rule: r, matched: truncate(st.call.Command, 120)}, true
	}
	return verdict{}, false
}

// matchCommand reports whether the rule's conditions hold for one command.
// allowMode judges only the command's own text (an allow rule must cover
// each command by itself); anyName treats a dynamic command name as any name.
func (w *when) matchCommand(st *evalState, u *shellCommand, allowMode, anyName bool) (bool, string) {
	if w.never {
		return false, ""
	}
	if w.always {
		return true, u.text
	}
	if len(w.paths) > 0 || len(w.pathsNot) > 0 || len(w.toolNames) > 0 || w.params != nil {
		return false, ""
	}
	if len(w.detects) > 0 && !st.hasDetect(w.detects) {
		return false, ""
	}
	if !w.hasCommandConds && len(w.urls) == 0 && len(w.urlsNot) == 0 && len(w.domains) == 0 && len(w.domsNot) == 0 {
		return len(w.detects) > 0, u.text
	}
	// Cheap structural checks first: most rules need a part most commands
	// lack (an output redirection, a piped input, an assignment).
	if len(w.redirects) > 0 && !hasOutputRedirect(u) || len(w.inputs) > 0 && len(u.inputs) == 0 ||
		len(w.envSets) > 0 && len(u.assigns) == 0 || len(w.flags) > 0 && len(u.args) == 0 {
		return false, ""
	}
	matched := u.text
	if !anyName { // a name known only at run time could be any name
		if w.nameIn != nil && !w.nameIn.match(u.name) {
			return false, ""
		}
		if w.nameOut.match(u.name) {
			return false, ""
		}
	}
	if w.hasPositiveText || len(w.cmdNot) > 0 {
		ok, t := w.matchText(u, allowMode, anyName)
		if !ok {
			return false, ""
		}
		if t != "" {
			matched = t
		}
	}
	if len(w.flags) > 0 && !cmdHasFlag(u.args, w.flags) {
		return false, ""
	}
	if len(w.subcommands) > 0 && !matchAnyGlob(w.subcommands, subcommandOf(u.name, u.args), false) {
		return false, ""
	}
	if len(w.args) > 0 || len(w.argsNot) > 0 {
		ok, arg := st.matchArgs(w, u)
		if !ok {
			return false, ""
		}
		if arg != "" && !w.hasPositiveText {
			matched = u.text
		}
	}
	if len(w.redirects) > 0 && !st.matchRedirects(w, u) {
		return false, ""
	}
	if len(w.inputs) > 0 {
		if u.pipeline != "" && !w.hasPositiveText {
			matched = u.pipeline // "curl x | sh" says more than "sh"
		}
		found := false
		for _, in := range u.inputs {
			if matchAnyGlob(w.inputs, commandBaseName(in), false) {
				found = true
				break
			}
		}
		if !found {
			return false, ""
		}
	}
	if len(w.envSets) > 0 {
		found := false
		for _, name := range u.assigns {
			if name == "*" || matchAnyGlob(w.envSets, name, false) {
				found = true
				break
			}
		}
		if !found {
			return false, ""
		}
	}
	if len(w.urls) > 0 || len(w.urlsNot) > 0 || len(w.domains) > 0 || len(w.domsNot) > 0 {
		found := false
		for _, a := range u.args {
			if !strings.Contains(a, "://") {
				continue
			}
			if w.urlOK(a) {
				found = true
				break
			}
		}
		if !found {
			return false, ""
		}
	}
	return true, matched
}

func hasOutputRedirect(u *shellCommand) bool {
	for _, r := range u.redirs {
		if r.output {
			return true
		}
	}
	return false
}

func (st *evalState) hasDetect(want []string) bool {
	for _, d := range st.detects {
		if contains(want, d) {
			return true
		}
	}
	return false
}

// matchText tries the command's texts against the text conditions.
func (w *when) matchText(u *shellCommand, allowMode, anyName bool) (bool, string) {
	if !w.hasPositiveText {
		return !anyGlob(w.cmdNot, u.text), ""
	}
	texts := [4]string{u.text}
	n := 1
	if !allowMode {
		for _, t := range [...]string{u.fullText, u.pipeline, u.raw} {
			if t != "" && t != u.text && (n < 2 || t != texts[n-1]) {
				texts[n] = t
				n++
			}
		}
	}
	for _, t := range texts[:n] {
		if w.textPositive(t) && !anyGlob(w.cmdNot, t) {
			return true, t
		}
	}
	if anyName {
		// Try the command as each name the rule is written for.
		rest := strings.Join(u.args, " ")
		for _, g := range w.cmdMatch {
			word, _, _ := strings.Cut(g.prefix, " ")
			if word == "" {
				continue
			}
			t := word
			if rest != "" {
				t += " " + rest
			}
			if g.match(t) && !anyGlob(w.cmdNot, t) {
				return true, u.text
			}
		}
	}
	return false, ""
}

func (w *when) textPositive(t string) bool {
	if anyGlob(w.cmdMatch, t) {
		return true
	}
	for _, sub := range w.cmdContains {
		if containsFold(t, sub) {
			return true
		}
	}
	for _, re := range w.cmdRegex {
		if re.MatchString(t) {
			return true
		}
	}
	return false
}

func anyGlob(list []*glob, s string) bool {
	for _, g := range list {
		if g.match(s) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains sub (already lower case), ignoring
// ASCII case.
func containsFold(s, sub string) bool {
	n := len(sub)
	if n == 0 {
		return true
	}
	first := sub[0]
	for i := 0; i+n <= len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != first {
			continue
		}
		k := 1
		for ; k < n; k++ {
			d := s[i+k]
			if d >= 'A' && d <= 'Z' {
				d += 'a' - 'A'
			}
			if d != sub[k] {
				break
			}
		}
		if k == n {
			return true
		}
	}
	return false
}

// argForm is an argument (or input file) as path conditions see it: as
// written and, when it names a file, as a cleaned absolute path.
type argForm struct {
	raw, resolved string
}

func (u *shellCommand) argForms() []argForm {
	if u.forms != nil {
		return u.forms
	}
	forms := make([]argForm, 0, len(u.args)+len(u.redirs))
	add := func(a string) {
		if raw, resolved := argForms(a, u.cwd); raw != "" {
			forms = append(forms, argForm{raw, resolved})
		}
	}
	for _, a := range u.args {
		add(a)
	}
	for _, r := range u.redirs {
		if !r.output {
			add(r.target)
		}
	}
	u.forms = forms
	return forms
}

// matchArgs: some argument (or input redirection source) matches
// arg_matches (when given) and does not match arg_not_matches.
func (st *evalState) matchArgs(w *when, u *shellCommand) (bool, string) {
	b := pathBase{home: st.home, cwd: u.cwd}
	for _, f := range u.argForms() {
		if w.argIn != nil && !w.argIn.match(f.raw, b) && (f.resolved == "" || !w.argIn.match(f.resolved, b)) {
			continue
		}
		if w.argOut.match(f.raw, b) || (f.resolved != "" && w.argOut.match(f.resolved, b)) {
			continue
		}
		return true, f.raw
	}
	return false, ""
}

func (st *evalState) matchRedirects(w *when, u *shellCommand) bool {
	b := pathBase{home: st.home, cwd: u.cwd}
	for _, r := range u.redirs {
		if !r.output {
			continue
		}
		if w.redirIn.match(r.target, b) {
			return true
		}
		if !strings.Contains(r.target, "$") && w.redirIn.match(cleanJoin(u.cwd, r.target), b) {
			return true
		}
	}
	return false
}

func (w *when) urlOK(raw string) bool {
	if len(w.urls) > 0 && !anyGlob(w.urls, raw) {
		return false
	}
	if anyGlob(w.urlsNot, raw) {
		return false
	}
	if len(w.domains) > 0 || len(w.domsNot) > 0 {
		host, ok := urlHost(raw)
		if !ok {
			return false
		}
		if len(w.domains) > 0 && !anyGlob(w.domains, host) {
			return false
		}
		if anyGlob(w.domsNot, host) {
			return false
		}
	}
	return true
}

// evalCall runs the policies over a call that is not exec and reports
// whether an allow rule covered it.
func (st *evalState) evalCall(consider func(verdict)) bool {
	covered := false
	for idx, pol := range st.p.policies {
		if !st.scope[idx] {
			continue
		}
		for id := pol.firstRule; id < pol.lastRule; id++ {
			r := st.p.rules[id]
			ok, matched := r.when.matchCall(st, r.action == ActionAllow)
			if !ok {
				continue
			}
			if r.action == ActionAllow {
				covered = true
			}
			consider(verdict{rule: r, matched: matched})
			break
		}
	}
	return covered
}

func (st *evalState) describeCall() string {
	c := st.call
	switch {
	case c.Path != "":
		return c.Tool + " " + c.Path
	case c.URL != "":
		return c.Tool + " " + c.URL
	case c.Name != "":
		return c.Tool + " " + c.Name
	}
	return c.Tool
}

// matchCall checks a rule against a read, write, edit, fetch, mcp or other
// call.
func (w *when) matchCall(st *evalState, allowMode bool) (bool, string) {
	if w.never {
		return false, ""
	}
	if w.always {
		return true, st.describeCall()
	}
	if w.hasCommandConds || len(w.detects) > 0 {
		return false, ""
	}
	c := st.call
	matched := ""
	if len(w.paths) > 0 || len(w.pathsNot) > 0 {
		if c.Path == "" {
			return false, ""
		}
		forms := st.pathForms()
		b := pathBase{home: st.home, cwd: st.cwd}
		qualifies := func(f string) bool {
			if w.pathIn != nil && !w.pathIn.match(f, b) {
				return false
			}
			return !w.pathOut.match(f, b)
		}
		if allowMode {
			for _, f := range forms {
				if !qualifies(f) {
					return false, ""
				}
			}
			matched = forms[0]
		} else {
			ok := false
			for _, f := range forms {
				if qualifies(f) {
					ok, matched = true, f
					break
				}
			}
			if !ok {
				return false, ""
			}
		}
	}
	if len(w.urls) > 0 || len(w.urlsNot) > 0 || len(w.domains) > 0 || len(w.domsNot) > 0 {
		if c.URL == "" || !w.urlOK(c.URL) {
			return false, ""
		}
		matched = c.URL
	}
	if len(w.toolNames) > 0 {
		name := c.Name
		if name == "" {
			name = c.Tool
		}
		if !anyGlob(w.toolNames, name) {
			return false, ""
		}
		if matched == "" {
			matched = name
		}
	}
	if w.params != nil {
		for key, g := range w.params {
			v := gjson.GetBytes(c.Input, key)
			if !v.Exists() || !g.match(strings.ToLower(v.String())) {
				return false, ""
			}
		}
	}
	if matched == "" {
		matched = st.describeCall()
	}
	return true, matched
}

// pathForms returns the call's path cleaned and made absolute against the
// call's cwd ("~" is the home), and the same path with symlinks resolved
// (for a file that does not exist yet, its directory's symlinks).
func (st *evalState) pathForms() []string {
	if !st.pathDone {
		st.pathDone = true
		p := strings.ReplaceAll(st.call.Path, `\`, "/")
		if st.home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
			p = st.home + p[1:]
		}
		cleaned := cleanJoin(st.cwd, p)
		st.paths[0] = cleaned
		st.paths[1] = resolveSymlinks(cleaned)
	}
	if st.paths[1] == "" || st.paths[1] == st.paths[0] {
		return st.paths[:1]
	}
	return st.paths[:]
}

// resolveSymlinks follows the symbolic links in the absolute path p, one
// component at a time. Components that do not exist (a file about to be
// written) are kept as they are. It returns "" when p is relative or
// when links loop.
func resolveSymlinks(p string) string {
	if !path.IsAbs(p) {
		return ""
	}
	resolved := "/"
	rest := p[1:]
	links := 0
	for rest != "" {
		var comp string
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			comp, rest = rest[:i], rest[i+1:]
		} else {
			comp, rest = rest, ""
		}
		switch comp {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, comp)
		fi, err := os.Lstat(next)
		if err != nil {
			// Nothing below a missing component can be a link yet.
			return path.Join(next, rest)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			resolved = next
			continue
		}
		links++
		if links > 40 {
			return ""
		}
		target, err := os.Readlink(next)
		if err != nil {
			return ""
		}
		if path.IsAbs(target) {
			resolved = "/"
		}
		rest = strings.TrimPrefix(path.Join(target, rest), "/")
	}
	return resolved
}
