package policies_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/policies"
)

// The environment every corpus case runs in unless it says otherwise.
const (
	corpusHome = "/home/dev"
	corpusCwd  = "/home/dev/project"
)

// requiredGroups must each have cases in the standard corpus.
var requiredGroups = []string{
	"destructive", "obfuscated", "credentials", "exfiltration",
	"self-protection", "data-not-command", "everyday",
}

// minCases is the smallest corpus each profile may ship.
var minCases = map[string]int{"standard": 300, "paranoid": 60, "yolo": 15}

// corpusCase is one row of a testdata/NAME.corpus.yaml file.
type corpusCase struct {
	Group  string `yaml:"group"`
	Tool   string `yaml:"tool"`
	Input  string `yaml:"input"`
	Expect string `yaml:"expect"`
	Cwd    string `yaml:"cwd"`
	Agent  string `yaml:"agent"`
	Rule   string `yaml:"rule"`
	Note   string `yaml:"note"`
}

func (c corpusCase) call() *engine.ToolCall {
	call := &engine.ToolCall{Tool: c.Tool, Cwd: c.Cwd, Agent: c.Agent}
	if call.Tool == "" {
		call.Tool = engine.ToolExec
	}
	if call.Cwd == "" {
		call.Cwd = corpusCwd
	}
	switch call.Tool {
	case engine.ToolExec:
		call.Command = c.Input
	case engine.ToolFetch:
		call.URL = c.Input
	case engine.ToolMCP:
		call.Name = c.Input
	default:
		call.Path = c.Input
	}
	return call
}

func (c corpusCase) label() string {
	s := c.Input
	if c.Tool != "" && c.Tool != engine.ToolExec {
		s = c.Tool + " " + s
	}
	if c.Cwd != "" {
		s += " (cwd " + c.Cwd + ")"
	}
	return c.Group + "/" + strings.ReplaceAll(s, "\n", `\n`)
}

func loadCorpus(t *testing.T, profile string) []corpusCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", profile+".corpus.yaml"))
	if err != nil {
		t.Fatalf("profile %s has no corpus: %v", profile, err)
	}
	var doc struct {
		Cases []corpusCase `yaml:"cases"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s.corpus.yaml: %v", profile, err)
	}
	for i, c := range doc.Cases {
		if c.Group == "" || c.Input == "" {
			t.Fatalf("%s.corpus.yaml: case %d (%q) needs a group and an input", profile, i+1, c.Input)
		}
		if _, err := engine.ParseAction(c.Expect); err != nil {
			t.Fatalf("%s.corpus.yaml: case %s: %v", profile, c.label(), err)
		}
	}
	return doc.Cases
}

func compileProfile(t *testing.T, name string) *engine.Program {
	t.Helper()
	src, err := engine.ProfileSource(name)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := engine.Compile(engine.Options{Home: corpusHome}, src)
	if err != nil {
		t.Fatalf("profile %s: %v", name, err)
	}
	return prog
}

func TestProfilesCompileWithoutWarnings(t *testing.T) {
	for _, name := range policies.Names() {
		prog := compileProfile(t, name)
		for _, w := range prog.Warnings() {
			t.Errorf("profile %s: warning: %s", name, w)
		}
	}
}

// TestCorpus runs every case of every profile's corpus, one subtest per
// profile and group: go test -run 'TestCorpus/standard/destructive'.
func TestCorpus(t *testing.T) {
	for _, name := range policies.Names() {
		t.Run(name, func(t *testing.T) {
			prog := compileProfile(t, name)
			cases := loadCorpus(t, name)
			var groups []string
			byGroup := map[string][]corpusCase{}
			for _, c := range cases {
				if _, ok := byGroup[c.Group]; !ok {
					groups = append(groups, c.Group)
				}
				byGroup[c.Group] = append(byGroup[c.Group], c)
			}
			for _, g := range groups {
				t.Run(g, func(t *testing.T) {
					for _, c := range byGroup[g] {
						d := prog.Eval(c.call())
						if got := d.Decision.String(); got != c.Expect || (c.Rule != "" && d.Rule != c.Rule) {
							want := c.Expect
							if c.Rule != "" {
								want += " (rule " + c.Rule + ")"
							}
							t.Errorf("%s: got %s (%s/%s: %s) want %s", c.label(), got, d.Policy, d.Rule, d.Message, want)
						}
					}
				})
			}
		})
	}
}

func TestCorpusSize(t *testing.T) {
	for _, name := range policies.Names() {
		cases := loadCorpus(t, name)
		if min := minCases[name]; len(cases) < min {
			t.Errorf("%s corpus has %d cases, want at least %d", name, len(cases), min)
		}
		if name != policies.DefaultProfile {
			continue
		}
		count := map[string]int{}
		for _, c := range cases {
			count[c.Group]++
		}
		for _, g := range requiredGroups {
			if count[g] == 0 {
				t.Errorf("%s corpus has no %q cases", name, g)
			}
		}
	}
}

// profileRule is one rule of a profile as written, with the name decisions
// show for it and the line Explain reports.
type profileRule struct {
	policy, name string
	line         int
}

// profileRules lists the rules of an embedded profile by reading its YAML.
func profileRules(t *testing.T, name string) []profileRule {
	t.Helper()
	data, ok := policies.Profile(name)
	if !ok {
		t.Fatalf("no profile %s", name)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var out []profileRule
	pols := mappingValue(doc.Content[0], "policies")
	if pols == nil {
		return nil
	}
	for _, pol := range pols.Content {
		polName := scalarValue(mappingValue(pol, "name"))
		rules := mappingValue(pol, "rules")
		if rules == nil {
			continue
		}
		for _, r := range rules.Content {
			n := scalarValue(mappingValue(r, "name"))
			if n == "" {
				n = polName
			}
			out = append(out, profileRule{policy: polName, name: n, line: r.Line})
		}
	}
	return out
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

func scalarValue(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

func TestCorpusRulesExist(t *testing.T) {
	for _, name := range policies.Names() {
		known := map[string]bool{"default_action": true}
		for _, r := range profileRules(t, name) {
			known[r.name] = true
		}
		for _, c := range loadCorpus(t, name) {
			if c.Rule != "" && !known[c.Rule] {
				t.Errorf("%s corpus: %s expects rule %q, which profile %s does not have", name, c.label(), c.Rule, name)
			}
		}
	}
}

// TestParanoidKeepsStandardProtections checks that paranoid, which repeats
// the standard protections under a deny-by-default allow-list, denies
// everything standard denies and at least asks for everything standard asks
// for.
func TestParanoidKeepsStandardProtections(t *testing.T) {
	prog := compileProfile(t, "paranoid")
	for _, c := range loadCorpus(t, "standard") {
		if c.Expect != "deny" && c.Expect != "ask" {
			continue
		}
		d := prog.Eval(c.call())
		ok := d.Decision == engine.ActionDeny || (c.Expect == "ask" && d.Decision == engine.ActionAsk)
		if !ok {
			t.Errorf("standard %s: paranoid gives %s (%s/%s: %s), standard expects %s",
				c.label(), d.Decision, d.Policy, d.Rule, d.Message, c.Expect)
		}
	}
}

// TestEveryRuleExercised checks that each rule of each profile decides at
// least one case of that profile's corpus. Paranoid's copies of standard
// policies are exercised by the standard corpus (TestParanoidRepeatsStandard
// keeps them identical, and some are shadowed there by paranoid's own asks),
// so only its paranoid-* policies are checked against its corpus.
func TestEveryRuleExercised(t *testing.T) {
	standardPolicies := map[string]bool{}
	for _, r := range profileRules(t, "standard") {
		standardPolicies[r.policy] = true
	}
	for _, name := range policies.Names() {
		prog := compileProfile(t, name)
		cases := loadCorpus(t, name)
		decided := map[int]bool{}
		for _, c := range cases {
			d, ex := prog.Explain(c.call())
			for _, m := range ex.Matches {
				if m.Policy == d.Policy && m.Rule == d.Rule && m.Action == d.Decision {
					decided[m.Line] = true
				}
			}
		}
		var missing []string
		for _, r := range profileRules(t, name) {
			if name != "standard" && standardPolicies[r.policy] {
				continue
			}
			if !decided[r.line] {
				missing = append(missing, fmt.Sprintf("%s (line %d)", r.name, r.line))
			}
		}
		sort.Strings(missing)
		for _, m := range missing {
			t.Errorf("profile %s: rule %s decides no corpus case", name, m)
		}
	}
}

// TestParanoidRepeatsStandard checks that paranoid carries every standard
// policy unchanged, and that its own policies are the "paranoid-" ones.
func TestParanoidRepeatsStandard(t *testing.T) {
	load := func(name string) map[string]any {
		data, _ := policies.Profile(name)
		var doc struct {
			Policies []map[string]any `yaml:"policies"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		byName := map[string]any{}
		for _, p := range doc.Policies {
			byName[fmt.Sprint(p["name"])] = p
		}
		return byName
	}
	standard, paranoid := load("standard"), load("paranoid")
	for name, pol := range standard {
		if !reflect.DeepEqual(pol, paranoid[name]) {
			t.Errorf("paranoid's copy of policy %q differs from standard's (copy it again from standard.yaml)", name)
		}
	}
	for name := range paranoid {
		if _, ok := standard[name]; !ok && !strings.HasPrefix(name, "paranoid-") {
			t.Errorf("paranoid policy %q is neither a copy of a standard policy nor named paranoid-*", name)
		}
	}
}

// TestCorpusCached loads each profile through the compiled-policy cache,
// once to fill it and once from it, and checks that every corpus case is
// decided and explained exactly as by the compiled profile.
func TestCorpusCached(t *testing.T) {
	for _, name := range policies.Names() {
		t.Run(name, func(t *testing.T) {
			want := compileProfile(t, name)
			o := engine.LoadOptions{Profile: name, Files: []string{}, Home: corpusHome}
			dir := t.TempDir()
			for _, status := range []engine.CacheStatus{engine.CacheMiss, engine.CacheHit} {
				got, s, err := engine.LoadCached(o, dir)
				if err != nil || s != status {
					t.Fatalf("LoadCached: cache %s, error %v; want cache %s", s, err, status)
				}
				// Paranoid and yolo decide the standard corpus too.
				cases := loadCorpus(t, name)
				if name != "standard" {
					cases = append(cases, loadCorpus(t, "standard")...)
				}
				for _, c := range cases {
					wd, wex := want.Explain(c.call())
					gd, gex := got.Explain(c.call())
					if gd != wd || !reflect.DeepEqual(gex, wex) {
						t.Errorf("cache %s: %s:\n got  %+v %+v\n want %+v %+v", status, c.label(), gd, gex, wd, wex)
					}
					if d := got.Eval(c.call()); d != wd {
						t.Errorf("cache %s: %s: Eval %+v, want %+v", status, c.label(), d, wd)
					}
				}
				if !reflect.DeepEqual(got.Warnings(), want.Warnings()) || !reflect.DeepEqual(got.Policies(), want.Policies()) ||
					!reflect.DeepEqual(got.Sources(), want.Sources()) || got.DefaultAction() != want.DefaultAction() {
					t.Errorf("cache %s: warnings, policies, sources or default action differ", status)
				}
			}
		})
	}
}
