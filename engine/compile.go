package engine

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Origin says where a policy source comes from; it decides what the
// source may change.
type Origin int

const (
	// OriginProfile is an embedded profile such as "standard".
	OriginProfile Origin = iota
	// OriginUser is a file under ~/.rampart/policies or given with --policy.
	OriginUser
	// OriginProject is a project's .rampart/policy.yaml: it may only tighten.
	OriginProject
)

func (o Origin) String() string {
	return [...]string{"profile", "user", "project"}[o]
}

// Source is one policy document to compile.
type Source struct {
	Name   string // shown in decisions: a profile name or the file's base name without .yaml
	Path   string // shown in errors (file:line:col)
	Data   []byte
	Origin Origin
}

// Program is a compiled, validated policy set. It is immutable and safe for
// concurrent use; build it with [Compile] or [Load].
type Program struct {
	defaultAction Action
	defaultFrom   string
	policies      []*policy
	rules         []*rule // every rule of every policy, in evaluation order
	// byName indexes the rules that can only match commands of one name;
	// unanchored holds the rest. Both are sorted by rule id.
	byName     map[string][]int
	unanchored []int
	// unanchoredArgs is every arg_matches pattern of the unanchored rules:
	// a command none of whose arguments matches it skips them all. Built
	// by unanchoredArgSet.
	unanchoredArgs     *pathSet
	unanchoredArgsOnce sync.Once
	isUnanchored       []bool           // by rule id
	toolIndex          map[string][]int // policy indexes per tool name
	home               string
	warnings           []string
	sources            []SourceInfo
}

// SourceInfo describes one loaded source, for `rampart policy list` and
// --explain.
type SourceInfo struct {
	Name     string `json:"name"`
	Path     string `json:"path"`
	Origin   string `json:"origin"`
	Policies int    `json:"policies"`
	Rules    int    `json:"rules"`
}

type policy struct {
	name, source, description string
	origin                    Origin
	priority                  int
	index                     int // position in Program.policies
	tools, agents, sessions   []*glob
	firstRule, lastRule       int // rule ids [firstRule, lastRule)
	def                       *policyDef
	path                      string
}

type rule struct {
	id      int
	policy  *policy
	name    string // the rule's own name, or the policy's
	action  Action
	message string
	file    string
	line    int
	// conds compiles into the rule's condition set; see [rule.conditions].
	conds *lazyWhen
	// What the index needs, known without compiling conds: the rule's
	// anchors (see argKey) and whether it has command conditions.
	anchors         []string
	hasCommandConds bool
	// hasArgs is set when the rule has arg_matches patterns (see
	// Program.unanchoredArgs).
	hasArgs bool
}

// isArgMatches reports whether c is an arg_matches condition with patterns.
func isArgMatches(c *condDef) bool {
	return c.key == "arg_matches" && len(c.values) > 0
}

// lazyWhen is a rule's conditions as parsed and, once compiled, as a
// condition set. Compile compiles every rule at load; a Program read from
// the cache holds each rule's conditions encoded (raw, see decodeConds) and
// decodes and compiles them the first time a call reaches the rule.
type lazyWhen struct {
	once  sync.Once
	raw   string
	conds []*condDef
	w     *when
}

// conditions returns the rule's compiled condition set, compiling it on
// first use. It is safe for concurrent use.
func (r *rule) conditions() *when {
	l := r.conds
	l.once.Do(func() {
		if l.raw != "" {
			conds, err := decodeConds(l.raw)
			if err != nil {
				// The cache is checksummed and this binary wrote it, so
				// this cannot happen; if it did, the rule fails closed:
				// an allow never matches, anything else always does.
				l.w = &when{always: r.action != ActionAllow, never: r.action == ActionAllow}
				return
			}
			l.conds = conds
		}
		l.w = compileWhen(l.conds)
	})
	return l.w
}

// Options control [Compile] and [Load].
type Options struct {
	// Home is the home directory "~" and $HOME mean when a call does not
	// carry its own ([ToolCall.Home]).
	Home string
}

// Compile validates and compiles sources, in order, into a Program. Any error
// in any source fails the whole set; the error lists every problem found
// (as [PolicyErrors]).
//
// Later profile and user sources replace policies of the same name from
// earlier ones (set enabled: false to switch a profile policy off). A project
// source may only tighten: its allow rules and a looser default_action are
// ignored with a warning, and it may not replace an existing policy.
func Compile(opts Options, sources ...Source) (*Program, error) {
	p := &Program{defaultAction: ActionAllow, home: opts.Home}
	var errs PolicyErrors
	type named struct {
		def    *policyDef
		file   *fileDef
		src    Source
		active bool
	}
	var all []*named
	byName := map[string]*named{}
	defaultSet := false
	for _, src := range sources {
		fd, err := parsePolicyFile(src.Path, src.Data)
		if err != nil {
			if pe, ok := err.(PolicyErrors); ok {
				errs = append(errs, pe...)
			} else {
				errs = append(errs, &PolicyError{File: src.Path, Msg: err.Error()})
			}
			continue
		}
		p.warnings = append(p.warnings, fd.warnings...)
		info := SourceInfo{Name: src.Name, Path: src.Path, Origin: src.Origin.String(), Policies: len(fd.policies)}
		for _, pd := range fd.policies {
			info.Rules += len(pd.rules)
		}
		p.sources = append(p.sources, info)
		if fd.defaultAction != nil {
			switch {
			case src.Origin == OriginProject && defaultSet && *fd.defaultAction < p.defaultAction:
				p.warnings = append(p.warnings, fmt.Sprintf("%s:%d:%d: default_action %s ignored: a project policy may not loosen default_action %s",
					src.Path, fd.defaultLine, fd.defaultCol, *fd.defaultAction, p.defaultAction))
			default:
				p.defaultAction, p.defaultFrom, defaultSet = *fd.defaultAction, src.Name, true
			}
		}
		for _, pd := range fd.policies {
			n := &named{def: pd, file: fd, src: src, active: true}
			if prev, ok := byName[pd.name]; ok {
				if src.Origin == OriginProject {
					errs = append(errs, &PolicyError{File: src.Path, Line: pd.line, Col: pd.col,
						Msg: fmt.Sprintf("policy %q already exists in %s: a project policy may add policies but not replace them (rename it)", pd.name, prev.src.Path)})
					continue
				}
				prev.active = false
			}
			byName[pd.name] = n
			all = append(all, n)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for _, n := range all {
		if !n.active || !n.def.enabled {
			continue
		}
		pol := &policy{name: n.def.name, source: n.src.Name, description: n.def.description,
			origin: n.src.Origin, priority: n.def.priority, def: n.def, path: n.src.Path}
		pol.tools, pol.agents, pol.sessions = n.def.tools, n.def.agents, n.def.sessions
		p.policies = append(p.policies, pol)
	}
	sort.SliceStable(p.policies, func(i, j int) bool { return p.policies[i].priority < p.policies[j].priority })
	for i, pol := range p.policies {
		pol.index = i
	}
	for _, pol := range p.policies {
		pol.firstRule = len(p.rules)
		for _, rd := range pol.def.rules {
			if pol.origin == OriginProject && rd.action == ActionAllow {
				p.warnings = append(p.warnings, fmt.Sprintf("%s:%d:%d: allow rule ignored: a project policy may only tighten (deny, ask, log)",
					pol.path, rd.line, rd.col))
				continue
			}
			r := &rule{id: len(p.rules), policy: pol, name: rd.name, action: rd.action, message: rd.message,
				file: pol.path, line: rd.line, conds: &lazyWhen{conds: rd.conds}}
			if r.name == "" {
				r.name = pol.name
			}
			w := r.conditions()
			r.anchors, r.hasCommandConds, r.hasArgs = w.anchors, w.hasCommandConds, len(w.args) > 0
			p.rules = append(p.rules, r)
		}
		pol.lastRule = len(p.rules)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	p.buildIndex()
	p.unanchoredArgSet()
	return p, nil
}

// buildIndex indexes the rules by their anchors and the policies by tool.
// (The policy cache stores the index; see encodeSnapshot.)
func (p *Program) buildIndex() {
	p.byName = map[string][]int{}
	for _, r := range p.rules {
		if !r.hasCommandConds || r.anchors == nil {
			p.unanchored = append(p.unanchored, r.id)
			continue
		}
		for _, a := range r.anchors {
			// rules come in id order: a repeated anchor is already there
			if ids := p.byName[a]; len(ids) == 0 || ids[len(ids)-1] != r.id {
				p.byName[a] = append(ids, r.id)
			}
		}
	}
	p.isUnanchored = make([]bool, len(p.rules))
	for _, id := range p.unanchored {
		p.isUnanchored[id] = true
	}
	p.toolIndex = map[string][]int{}
	for _, tool := range indexedTools {
		p.toolIndex[tool] = p.policiesForTool(tool)
	}
}

// indexedTools are the tools Program.toolIndex lists policies for.
var indexedTools = [...]string{ToolExec, ToolRead, ToolWrite, ToolEdit, ToolFetch, ToolMCP, "agent"}

// unanchoredArgSet returns the union of the unanchored rules' arg_matches
// patterns (see Program.unanchoredArgs), building it on first use. It
// compiles only those patterns, not the rules: most commands match none,
// and then the rules are skipped without being compiled.
func (p *Program) unanchoredArgSet() *pathSet {
	p.unanchoredArgsOnce.Do(func() {
		var union []*pathGlob
		for _, id := range p.unanchored {
			for _, c := range p.rules[id].conds.conds {
				if !isArgMatches(c) {
					continue
				}
				for _, pg := range c.compiledPatterns() {
					union = append(union, pg.(*pathGlob))
				}
			}
		}
		p.unanchoredArgs = newPathSet(union)
	})
	return p.unanchoredArgs
}

func (p *Program) policiesForTool(tool string) []int {
	var out []int
	for i, pol := range p.policies {
		if matchAnyGlob(pol.tools, tool, true) {
			out = append(out, i)
		}
	}
	return out
}

// matchAnyGlob is anyGlob where an empty list means emptyMatches (a policy
// without match.tool applies to every tool).
func matchAnyGlob(list []*glob, s string, emptyMatches bool) bool {
	if len(list) == 0 {
		return emptyMatches
	}
	return anyGlob(list, s)
}

// DefaultAction returns the action for calls no rule matches.
func (p *Program) DefaultAction() Action { return p.defaultAction }

// DefaultActionSource names the source whose default_action is in force
// ("" when no source set one and the built-in allow applies).
func (p *Program) DefaultActionSource() string { return p.defaultFrom }

// Warnings returns what loading noticed but accepted (ignored keys, rules
// that cannot match, a project policy's attempts to loosen).
func (p *Program) Warnings() []string { return append([]string(nil), p.warnings...) }

// Sources describes the loaded sources in load order.
func (p *Program) Sources() []SourceInfo { return append([]SourceInfo(nil), p.sources...) }

// PolicyInfo describes one active policy.
type PolicyInfo struct {
	Name        string   `json:"name"`
	Source      string   `json:"source"`
	Description string   `json:"description,omitempty"`
	Priority    int      `json:"priority"`
	Tools       []string `json:"tools,omitempty"`
	Rules       int      `json:"rules"`
}

// Policies lists the active policies in evaluation order.
func (p *Program) Policies() []PolicyInfo {
	var out []PolicyInfo
	for _, pol := range p.policies {
		info := PolicyInfo{Name: pol.name, Source: pol.source, Description: pol.description,
			Priority: pol.priority, Rules: pol.lastRule - pol.firstRule}
		for _, g := range pol.tools {
			info.Tools = append(info.Tools, g.src)
		}
		out = append(out, info)
	}
	return out
}

// sourceName turns a file path into the name decisions show.
func sourceName(file string) string {
	return strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".yaml"), ".yml")
}
