package engine

import (
	"fmt"
	"slices"
	"strings"
)

// Eval decides one tool call. It never modifies p and is safe for
// concurrent use. See [Program.Explain] for the reasoning behind a decision.
func (p *Program) Eval(call *ToolCall) Decision {
	d, _ := p.EvalStable(call)
	return d
}

// EvalStable decides call like [Program.Eval] and also reports whether the
// decision rests on the call alone: no file was looked at to reach it
// (symbolic links followed, globs expanded). Such a decision is the same
// every time p decides the same call, so it may be remembered for as long
// as p is in force; any other may change when the files do.
func (p *Program) EvalStable(call *ToolCall) (Decision, bool) {
	st := p.newState(call, nil)
	d := st.run()
	return d, !st.readFiles
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
	// readFiles: deciding looked at the file system (see EvalStable).
	readFiles bool
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
			st.readFiles = a.readFiles
		}
		if len(call.Argv) > 0 {
			a := analyzeArgv(call.Argv, st.home, st.cwd)
			st.units = append(st.units, a.commands...)
			st.detects = append(st.detects, a.detects...)
			st.readFiles = st.readFiles || a.readFiles
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
		if r.hasArgs && p.isUnanchored[id] && !st.mayMatchUnanchoredArgs(u) {
			continue // no argument matches any unanchored rule's arg_matches
		}
		ok, matched := r.conditions().matchCommand(st, u, r.action == ActionAllow, false)
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
		union := st.p.unanchoredArgSet()
		for _, f := range u.argForms() {
			if union.match(f.raw, b) || (f.resolved != "" && union.match(f.resolved, b)) {
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
				if r.action != want || !st.scope[r.policy.index] || !r.hasCommandConds {
					continue
				}
				if ok, _ := r.conditions().matchCommand(st, u, false, true); ok {
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
			ok, matched := r.conditions().matchCall(st, r.action == ActionAllow)
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
