package server

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/policies"
)

// approvedHeader opens a new approved policy file.
const approvedHeader = `# Written by "rampart serve": the "always allow" answers to approvals.
#
# Within a policy the first matching rule wins, and across policies ask beats
# allow, so an exception has to live inside the policy that asks. Each policy
# below is a copy of a policy that asked (from the profile or another file of
# yours) with an exact allow rule (named approved-ID) right before the rule
# that asked; a policy here replaces the one of the same name from the
# profile. Edit or delete entries freely; the server reloads this file when
# it changes. To see a profile's original: rampart policy show standard
`

// alwaysAllow makes calls exactly like a's allowed from now on: into the
// approved policy file it writes, for every policy that asked about the
// call, an allow rule that matches exactly this call (its commands, path,
// URL or MCP tool name) into a copy of that policy (see insertException),
// then reloads the policies. It returns a note saying what it did.
func (s *Server) alwaysAllow(a Approval) (string, error) {
	file := s.cfg.ApprovedPolicyFile
	if file == "" {
		return "", errors.New(`this server does not write "always allow" rules (no approved policy file)`)
	}
	s.alwaysMu.Lock()
	defer s.alwaysMu.Unlock()

	call := a.Call
	prog := s.policies.program()
	d, ex := prog.Explain(&call)
	switch d.Decision {
	case engine.ActionAllow, engine.ActionLog:
		return "the call is already allowed by the policy in force; nothing written", nil
	case engine.ActionDeny:
		return "", fmt.Errorf("the call is now denied (%s/%s); an allow rule cannot override a deny", d.Policy, d.Rule)
	}
	field, patterns, err := exactMatch(&call, ex, s.cfg.Home)
	if err != nil {
		return "", err
	}

	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	doc, err := approvedDocument(file, old)
	if err != nil {
		return "", err
	}
	origins := map[string]string{}
	for _, src := range prog.Sources() {
		origins[src.Path] = src.Origin
	}
	rule := exactAllowRule(a, field, patterns)
	var changed, skipped []string
	seen := map[string]bool{}
	for _, m := range ex.Matches {
		if m.Action != engine.ActionAsk {
			continue
		}
		if origins[m.File] == engine.OriginProject.String() {
			skipped = append(skipped, fmt.Sprintf("%s (a project policy, which a user policy cannot loosen)", m.Rule))
			continue
		}
		name, err := addException(doc, file, m, rule)
		if err != nil {
			return "", err
		}
		if !seen[name] {
			seen[name] = true
			changed = append(changed, name)
		}
	}
	if len(changed) == 0 {
		return "", fmt.Errorf("no policy could take an exception for this call: %s", strings.Join(skipped, "; "))
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return "", fmt.Errorf("encode %s: %w", file, err)
	}
	if err := writeFileAtomic(file, buf.Bytes(), true); err != nil {
		return "", err
	}
	res := s.reload("always allow " + a.ID)
	if !res.OK {
		// Never leave a file behind that breaks the policy.
		if old == nil {
			os.Remove(file)
		} else if werr := writeFileAtomic(file, old, true); werr != nil {
			s.log.WithError(werr).Error("could not restore the approved policy file")
		}
		s.reload("restore " + filepath.Base(file))
		return "", fmt.Errorf("the exact allow rule did not load, nothing was changed: %s", res.Error)
	}
	note := fmt.Sprintf("added an exact allow rule to %s in %s", strings.Join(changed, ", "), file)
	if len(skipped) > 0 {
		note += "; not to " + strings.Join(skipped, "; ")
	}
	call = a.Call
	if after := s.policies.program().Eval(&call); !after.Allowed() {
		note += fmt.Sprintf("; the call is still %s (%s/%s): another rule or a later policy file decides it",
			after.Decision, after.Policy, after.Rule)
	}
	return note, nil
}

// exactMatch returns the condition and patterns that match exactly call:
// the text of every command it runs (exec), its path in both forms file
// rules see (read, write, edit), its URL (fetch) or its name (mcp).
func exactMatch(call *engine.ToolCall, ex *engine.Explanation, home string) (string, []string, error) {
	var patterns []string
	add := func(p string) {
		if !slices.Contains(patterns, p) {
			patterns = append(patterns, p)
		}
	}
	switch call.Tool {
	case engine.ToolExec:
		for _, c := range ex.Commands {
			if c.Dynamic {
				return "", nil, fmt.Errorf("%q runs a command whose name is only known at run time; no exact rule can allow it", c.Text)
			}
			add(escapeGlob(c.Text))
		}
		if len(patterns) == 0 {
			return "", nil, errors.New("the call runs no command an exact rule could name")
		}
		return "command_matches", patterns, nil
	case engine.ToolRead, engine.ToolWrite, engine.ToolEdit:
		if call.Home != "" {
			home = call.Home
		}
		p := strings.ReplaceAll(call.Path, `\`, "/")
		if home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
			p = strings.TrimSuffix(home, "/") + p[1:]
		}
		if !path.IsAbs(p) {
			if call.Cwd == "" {
				return "", nil, fmt.Errorf("the path %q is relative and the call has no cwd; no exact rule can name it", call.Path)
			}
			p = path.Join(call.Cwd, p)
		}
		p = path.Clean(p)
		add(escapePathGlob(p))
		if resolved := resolvePath(p); resolved != "" {
			add(escapePathGlob(resolved))
		}
		return "path_matches", patterns, nil
	case engine.ToolFetch:
		return "url_matches", []string{escapeGlob(call.URL)}, nil
	case engine.ToolMCP:
		return "name_matches", []string{escapeGlob(call.Name)}, nil
	}
	return "", nil, fmt.Errorf("no exact rule can be written for a %s call", call.Tool)
}

// escapeGlob makes s a glob that matches only s (command, URL and name
// globs, where "\" escapes).
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '*', '?', '[', ']':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// escapePathGlob makes an absolute path a glob that matches only it. Path
// globs read "\" as "/", so metacharacters go into classes instead.
func escapePathGlob(p string) string {
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// resolvePath returns p with the symbolic links of its existing part
// resolved, or "" when that fails or changes nothing.
func resolvePath(p string) string {
	dir, rest := p, ""
	for {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			out := filepath.Join(r, rest)
			if out == p {
				return ""
			}
			return out
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}

// exactAllowRule builds the rule node for an always-allow answer.
func exactAllowRule(a Approval, field string, patterns []string) *yaml.Node {
	by := a.ResolvedBy
	if by == "" {
		by = "someone"
	}
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, p := range patterns {
		list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p, Style: yaml.DoubleQuotedStyle})
	}
	return mapping(
		"name", scalar("approved-"+a.ID),
		"action", scalar("allow"),
		"when", mapping(field, list),
		"message", scalar(fmt.Sprintf("Always allowed by %s on %s (approval %s)", by, time.Now().UTC().Format("2006-01-02"), a.ID)),
	)
}

// approvedDocument parses the approved policy file, or starts a new one.
func approvedDocument(file string, data []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		root := mapping("version", &yaml.Node{Kind: yaml.ScalarNode, Value: "1", Style: yaml.DoubleQuotedStyle},
			"policies", &yaml.Node{Kind: yaml.SequenceNode})
		root.HeadComment = strings.TrimSuffix(approvedHeader, "\n")
		return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: cannot add a rule to it: %w", file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: cannot add a rule to it: not a policy file", file)
	}
	if policiesOf(doc.Content[0]) == nil {
		doc.Content[0].Content = append(doc.Content[0].Content, scalar("policies"), &yaml.Node{Kind: yaml.SequenceNode})
	}
	return &doc, nil
}

// addException puts rule at the top of the policy that m names: in the
// approved document itself when the policy lives there, else in a copy of
// the policy from its source. It returns the policy's name.
func addException(doc *yaml.Node, approvedFile string, m engine.RuleMatch, rule *yaml.Node) (string, error) {
	target := doc.Content[0]
	var pol *yaml.Node
	if m.File == approvedFile {
		pol = policyAtLine(target, m.Line)
	} else {
		src, err := sourceDocument(m.File)
		if err != nil {
			return "", err
		}
		orig := policyAtLine(src, m.Line)
		if orig == nil {
			return "", fmt.Errorf("%s:%d: cannot find the policy of rule %q", m.File, m.Line, m.Rule)
		}
		name := mappingValue(orig, "name")
		if name != nil {
			pol = policyNamed(target, name.Value)
		}
		if pol == nil {
			pol = copyNode(orig)
			seq := policiesOf(target)
			seq.Content = append(seq.Content, pol)
		}
	}
	if pol == nil {
		return "", fmt.Errorf("%s:%d: cannot find the policy of rule %q", m.File, m.Line, m.Rule)
	}
	rules := mappingValue(pol, "rules")
	if rules == nil || rules.Kind != yaml.SequenceNode {
		return "", fmt.Errorf("%s:%d: the policy of rule %q has no rules", m.File, m.Line, m.Rule)
	}
	insertException(rules, m.Line, rule)
	name := mappingValue(pol, "name")
	if name == nil {
		return m.Rule, nil
	}
	return name.Value, nil
}

// insertException puts the exception right before the rule at line, so
// the rules before it still come first. The deny rules after that rule are
// repeated in front of the exception: the exception matches the call's
// text, and the same text in another context (another working directory)
// must still meet every deny rule it met before.
func insertException(rules *yaml.Node, line int, exception *yaml.Node) {
	at := 0
	for i, r := range rules.Content {
		if r.Line <= line {
			at = i
		}
	}
	var denies []*yaml.Node
	for _, r := range rules.Content[at+1:] {
		if a := mappingValue(r, "action"); a != nil && a.Value == "deny" {
			denies = append(denies, copyNode(r))
		}
	}
	ex := copyNode(exception)
	if len(denies) > 0 {
		ex.HeadComment = "The deny rules above repeat the ones that follow the rule this exception is for."
	}
	out := append([]*yaml.Node{}, rules.Content[:at]...)
	out = append(out, denies...)
	out = append(out, ex)
	rules.Content = append(out, rules.Content[at:]...)
}

// sourceDocument parses the policy source file names ("profile:NAME" for
// an embedded profile) and returns its top-level mapping.
func sourceDocument(file string) (*yaml.Node, error) {
	var data []byte
	if name, ok := strings.CutPrefix(file, "profile:"); ok {
		var found bool
		if data, found = policies.Profile(name); !found {
			return nil, fmt.Errorf("unknown profile %q", name)
		}
	} else {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: not a policy file", file)
	}
	return doc.Content[0], nil
}

// policyAtLine returns the policy entry of root whose text contains line.
func policyAtLine(root *yaml.Node, line int) *yaml.Node {
	seq := policiesOf(root)
	if seq == nil {
		return nil
	}
	var found *yaml.Node
	for _, item := range seq.Content {
		if item.Line <= line {
			found = item
		}
	}
	if found == nil || found.Kind != yaml.MappingNode {
		return nil
	}
	return found
}

func policyNamed(root *yaml.Node, name string) *yaml.Node {
	seq := policiesOf(root)
	if seq == nil {
		return nil
	}
	for _, item := range seq.Content {
		if n := mappingValue(item, "name"); n != nil && n.Value == name {
			return item
		}
	}
	return nil
}

func policiesOf(root *yaml.Node) *yaml.Node {
	seq := mappingValue(root, "policies")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	return seq
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// copyNode deep-copies n without comments and anchors, replacing aliases
// by copies of what they point to (the copy stands alone in another file).
func copyNode(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return copyNode(n.Alias)
	}
	c := *n
	c.Anchor, c.HeadComment, c.LineComment, c.FootComment = "", "", "", ""
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		c.Content[i] = copyNode(child)
	}
	return &c
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

func mapping(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Content = append(m.Content, scalar(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return m
}
