package engine

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rampart-dev/rampart/internal/suggest"
	"gopkg.in/yaml.v3"
)

// The raw, validated content of one policy file, before compilation.
type fileDef struct {
	name          string // as shown in errors and decisions
	version       string
	defaultAction *Action
	defaultLine   int
	defaultCol    int
	policies      []*policyDef
	warnings      []string
}

type policyDef struct {
	name        string
	description string
	priority    int
	enabled     bool
	tools       []*glob // compiled while validating; nil means any
	agents      []*glob
	sessions    []*glob
	rules       []*ruleDef
	line, col   int
}

type ruleDef struct {
	name      string
	action    Action
	message   string
	conds     []*condDef
	line, col int
}

type condDef struct {
	key       string
	values    []string         // the patterns as written
	patterns  []any            // values compiled, in order (see compilePattern); nil until compiled
	params    map[string]*glob // tool_param_matches, lower-cased
	flag      bool             // default
	line, col int
}

type position struct{ line, col int }

var (
	topKeys    = []string{"version", "default_action", "policies", "notify"}
	policyKeys = []string{"name", "description", "priority", "enabled", "match", "rules"}
	matchKeys  = []string{"tool", "agent", "session"}
	ruleKeys   = []string{"name", "action", "when", "message", "ask"}
)

// fileParser collects every error in a file instead of stopping at the first.
type fileParser struct {
	file string
	errs PolicyErrors
	def  *fileDef
}

func (p *fileParser) errorf(n *yaml.Node, format string, args ...any) {
	e := &PolicyError{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func (p *fileParser) warnf(n *yaml.Node, format string, args ...any) {
	loc := p.file
	if n != nil {
		loc = fmt.Sprintf("%s:%d:%d", p.file, n.Line, n.Column)
	}
	p.def.warnings = append(p.def.warnings, loc+": "+fmt.Sprintf(format, args...))
}

// parsePolicyFile reads one policy file. name is used in errors.
func parsePolicyFile(name string, data []byte) (*fileDef, error) {
	p := &fileParser{file: name, def: &fileDef{name: name}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if line, col, bad := firstInvalidUTF8(data); bad {
			// yaml.v3 says where nothing else is wrong, but not here.
			return nil, PolicyErrors{{File: name, Line: line, Col: col, Msg: "invalid UTF-8 (a policy file must be UTF-8 text)"}}
		}
		return nil, PolicyErrors{yamlError(name, err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, PolicyErrors{{File: name, Msg: "file is empty (want a mapping with version, default_action and policies)"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "a policy file must be a mapping with version, default_action and policies, not %s", kindName(root))
		return nil, p.errs
	}
	p.mapping(root, topKeys, "top-level key", func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			if s, ok := p.scalar(v, "version"); ok {
				if s != "1" {
					p.errorf(v, "unsupported version %q (this Rampart reads version \"1\")", s)
				}
				p.def.version = s
			}
		case "default_action":
			if s, ok := p.scalar(v, "default_action"); ok {
				a, err := ParseAction(s)
				if err != nil {
					p.errorf(v, "unknown default_action %q%s (want allow, deny, ask, log or watch)", s,
						suggest.DidYouMean(s, []string{"allow", "deny", "ask", "log", "watch"}))
				} else {
					p.def.defaultAction = &a
					p.def.defaultLine, p.def.defaultCol = v.Line, v.Column
				}
			}
		case "policies":
			if v.Kind != yaml.SequenceNode {
				if !isNull(v) {
					p.errorf(v, "policies must be a list, not %s", kindName(v))
				}
				return
			}
			seen := map[string]int{}
			for _, item := range v.Content {
				if pol := p.policy(item); pol != nil {
					if prev, dup := seen[pol.name]; dup {
						p.errorf(item, "duplicate policy name %q (first defined on line %d)", pol.name, prev)
						continue
					}
					seen[pol.name] = item.Line
					p.def.policies = append(p.def.policies, pol)
				}
			}
		case "notify":
			p.warnf(k, "notify is ignored here: notifications are configured on the server")
		}
	})
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return p.def, nil
}

func yamlError(name string, err error) *PolicyError {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	// yaml.v3 reports "line N: message"; turn it into file:N:1.
	if strings.HasPrefix(msg, "line ") {
		rest := msg[len("line "):]
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				return &PolicyError{File: name, Line: n, Col: 1, Msg: "invalid YAML: " + strings.TrimSpace(rest[i+1:])}
			}
		}
	}
	return &PolicyError{File: name, Msg: "invalid YAML: " + msg}
}

// firstInvalidUTF8 returns the line and column (in characters, from 1) of
// the first byte of data that is not valid UTF-8.
func firstInvalidUTF8(data []byte) (line, col int, bad bool) {
	line, col = 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line, col, true
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return 0, 0, false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "empty"
		}
		return fmt.Sprintf("the scalar %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// mapping calls fn for each key of a mapping node, reporting unknown and
// duplicate keys.
func (p *fileParser) mapping(n *yaml.Node, known []string, what string, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		key := k.Value
		if !slices.Contains(known, key) {
			p.errorf(k, "unknown %s %q%s", what, key, suggest.DidYouMean(key, known))
			continue
		}
		if seen[key] {
			p.errorf(k, "%s %q given twice", what, key)
			continue
		}
		seen[key] = true
		fn(key, k, v)
	}
}

func (p *fileParser) scalar(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.errorf(n, "%s must be a single value, not %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// stringList accepts one string or a list of strings.
func (p *fileParser) stringList(n *yaml.Node, what string) ([]string, []position, bool) {
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		return []string{n.Value}, []position{{n.Line, n.Column}}, true
	case n.Kind == yaml.SequenceNode && len(n.Content) == 0:
		// An empty list would not mean "nothing": a condition with no
		// patterns drops out of the rule, and an empty match list means
		// every tool, agent or session.
		p.errorf(n, "%s is an empty list (want at least one pattern)", what)
		return nil, nil, false
	case n.Kind == yaml.SequenceNode:
		var out []string
		var pos []position
		ok := true
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || isNull(item) {
				p.errorf(item, "%s: every entry must be a string, not %s", what, kindName(item))
				ok = false
				continue
			}
			out = append(out, item.Value)
			pos = append(pos, position{item.Line, item.Column})
		}
		return out, pos, ok
	}
	p.errorf(n, "%s must be a string or a list of strings, not %s", what, kindName(n))
	return nil, nil, false
}

func (p *fileParser) policy(n *yaml.Node) *policyDef {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "each policy must be a mapping with name and rules, not %s", kindName(n))
		return nil
	}
	pol := &policyDef{priority: 100, enabled: true, line: n.Line, col: n.Column}
	nerr := len(p.errs)
	p.mapping(n, policyKeys, "policy key", func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			pol.name, _ = p.scalar(v, "name")
		case "description":
			if !isNull(v) {
				pol.description, _ = p.scalar(v, "description")
			}
		case "priority":
			if s, ok := p.scalar(v, "priority"); ok {
				n, err := strconv.Atoi(s)
				if err != nil {
					p.errorf(v, "priority must be an integer, not %q", s)
				} else if n != 0 { // 0 means "not set" in older policies
					pol.priority = n
				}
			}
		case "enabled":
			if s, ok := p.scalar(v, "enabled"); ok {
				b, err := strconv.ParseBool(s)
				if err != nil {
					p.errorf(v, "enabled must be true or false, not %q", s)
				}
				pol.enabled = b
			}
		case "match":
			if isNull(v) {
				return
			}
			if v.Kind != yaml.MappingNode {
				p.errorf(v, "match must be a mapping (tool, agent, session), not %s", kindName(v))
				return
			}
			p.mapping(v, matchKeys, "match key", func(key string, _, mv *yaml.Node) {
				list, pos, ok := p.stringList(mv, "match."+key)
				if !ok {
					return
				}
				var globs []*glob
				for i, s := range list {
					g, err := compileGlob(s, globOptions{})
					if err != nil {
						p.errorf(&yaml.Node{Line: pos[i].line, Column: pos[i].col}, "match.%s: bad glob %q: %v", key, s, err)
						continue
					}
					globs = append(globs, g)
				}
				switch key {
				case "tool":
					pol.tools = globs
				case "agent":
					pol.agents = globs
				case "session":
					pol.sessions = globs
				}
			})
		case "rules":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "rules must be a list, not %s", kindName(v))
				return
			}
			for _, item := range v.Content {
				if r := p.rule(item); r != nil {
					pol.rules = append(pol.rules, r)
				}
			}
		}
	})
	if pol.name == "" && len(p.errs) == nerr {
		p.errorf(n, "policy has no name")
	}
	return pol
}

func (p *fileParser) rule(n *yaml.Node) *ruleDef {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "each rule must be a mapping with action and when, not %s", kindName(n))
		return nil
	}
	r := &ruleDef{line: n.Line, col: n.Column}
	hasAction := false
	p.mapping(n, ruleKeys, "rule key", func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			r.name, _ = p.scalar(v, "rule name")
		case "message":
			if !isNull(v) {
				r.message, _ = p.scalar(v, "message")
			}
		case "action":
			if s, ok := p.scalar(v, "action"); ok {
				a, err := ParseAction(s)
				if err != nil {
					p.errorf(v, "unknown action %q%s (want allow, deny, ask, log or watch)", s,
						suggest.DidYouMean(s, []string{"allow", "deny", "ask", "log", "watch", "require_approval"}))
					return
				}
				r.action, hasAction = a, true
			}
		case "ask":
			p.warnf(k, "ask options are ignored here: approvals are configured on the server")
		case "when":
			if isNull(v) || v.Kind == yaml.MappingNode && len(v.Content) == 0 {
				p.warnf(k, "when is empty: the rule matches every call its policy sees (write default: true to say so)")
				return
			}
			if v.Kind != yaml.MappingNode {
				p.errorf(v, "when must be a mapping of conditions, not %s", kindName(v))
				return
			}
			nerr := len(p.errs)
			p.mapping(v, conditionKeys(), "condition", func(key string, ck, cv *yaml.Node) {
				if c := p.condition(key, ck, cv); c != nil {
					r.conds = append(r.conds, c)
				}
			})
			if len(p.errs) == nerr {
				p.checkConditionMix(r.conds)
			}
		}
	})
	if !hasAction && !p.hasErrorAt(n) {
		p.errorf(n, "rule has no action (want allow, deny, ask, log or watch)")
	}
	return r
}

// callConditions look only at calls that are not exec (files, MCP tools);
// commandConditions look only at exec calls. The URL conditions look at
// both.
var (
	callConditions    = []string{"path_matches", "path_not_matches", "name_matches", "tool_param_matches"}
	commandConditions = []string{"command_matches", "command_not_matches", "command_contains", "command_regex",
		"command_name", "command_name_not", "has_flag", "subcommand", "arg_matches", "arg_not_matches",
		"redirects_to", "input_from", "env_sets", "detect"}
)

// checkConditionMix reports conditions that cannot be combined in one
// rule: default with anything else is an error (it would decide alone,
// ignoring the rest); exec conditions with file or MCP conditions are a
// warning (no call is both, so the rule never matches: it changes no
// decision, and a file that loaded before still loads).
func (p *fileParser) checkConditionMix(conds []*condDef) {
	var def, cmd, call *condDef
	for _, c := range conds {
		switch {
		case c.key == "default":
			def = c
		case slices.Contains(commandConditions, c.key) && cmd == nil:
			cmd = c
		case slices.Contains(callConditions, c.key) && call == nil:
			call = c
		}
	}
	if def != nil && len(conds) > 1 {
		p.errorf(&yaml.Node{Line: def.line, Column: def.col},
			"default cannot be combined with other conditions: it alone would decide whether the rule matches (remove it, or move the other conditions to their own rule)")
		return
	}
	if cmd != nil && call != nil {
		p.warnf(&yaml.Node{Line: call.line, Column: call.col},
			"%s cannot be combined with %s (line %d): %s looks at file and MCP calls, %s at commands, so the rule never matches (split it into two rules)",
			call.key, cmd.key, cmd.line, call.key, cmd.key)
	}
}

func (p *fileParser) hasErrorAt(n *yaml.Node) bool {
	for _, e := range p.errs {
		if e.Line >= n.Line {
			return true
		}
	}
	return false
}

func (p *fileParser) condition(key string, k, v *yaml.Node) *condDef {
	spec := conditionSpecs[key]
	c := &condDef{key: key, line: k.Line, col: k.Column}
	switch spec.kind {
	case condBool:
		s, ok := p.scalar(v, key)
		if !ok {
			return nil
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			p.errorf(v, "%s must be true or false, not %q", key, s)
			return nil
		}
		c.flag = b
	case condMap:
		if v.Kind != yaml.MappingNode {
			p.errorf(v, "%s must be a mapping of parameter name to glob, not %s", key, kindName(v))
			return nil
		}
		if len(v.Content) == 0 {
			p.errorf(v, "%s is empty (want at least one parameter name and glob)", key)
			return nil
		}
		c.params = map[string]*glob{}
		seen := map[string]int{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			pk, pv := v.Content[i], v.Content[i+1]
			if pv.Kind == yaml.AliasNode && pv.Alias != nil {
				pv = pv.Alias
			}
			if prev, dup := seen[pk.Value]; dup {
				p.errorf(pk, "%s: parameter %q given twice (first on line %d)", key, pk.Value, prev)
				continue
			}
			seen[pk.Value] = pk.Line
			s, ok := p.scalar(pv, key+"."+pk.Value)
			if !ok {
				continue
			}
			g, err := compileGlob(strings.ToLower(s), globOptions{})
			if err != nil {
				p.errorf(pv, "%s.%s: bad glob %q: %v", key, pk.Value, s, err)
				continue
			}
			c.params[pk.Value] = g
		}
	default:
		list, pos, ok := p.stringList(v, key)
		if !ok {
			return nil
		}
		c.values = list
		for i, s := range list {
			cp, err := compilePattern(spec.pattern, s)
			if err != nil {
				p.errorf(&yaml.Node{Line: pos[i].line, Column: pos[i].col}, "%s: %v", key, err)
				continue
			}
			c.patterns = append(c.patterns, cp)
		}
	}
	if spec.warning != "" {
		p.warnf(k, "%s %s", key, spec.warning)
	}
	return c
}

func conditionKeys() []string {
	keys := make([]string, 0, len(conditionSpecs))
	for k := range conditionSpecs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
