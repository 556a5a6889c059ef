package engine

import (
	"errors"
	"strings"
	"testing"
)

func compileOne(t *testing.T, src string) (*Program, error) {
	t.Helper()
	return Compile(Options{Home: "/home/dev"}, Source{Name: "test", Path: "test.yaml", Data: []byte(src)})
}

func TestPolicyErrorsAreLocated(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // each must appear in the error text
	}{
		{"unknown condition with suggestion", `version: "1"
policies:
  - name: p
    rules:
      - action: deny
        when:
          comand_matches: ["rm *"]
`, []string{`test.yaml:7:11: unknown condition "comand_matches" (did you mean "command_matches"?)`}},
		{"bad action", `version: "1"
policies:
  - name: p
    rules:
      - action: dney
        when: {command_matches: ["x"]}
`, []string{`test.yaml:5:17: unknown action "dney" (did you mean "deny"?)`}},
		{"bad glob", `version: "1"
policies:
  - name: p
    rules:
      - action: deny
        when:
          path_matches: ["/etc/[abc"]
`, []string{`test.yaml:7:26: path_matches: bad glob "/etc/[abc"`}},
		{"bad regex", `version: "1"
policies:
  - name: p
    rules:
      - action: deny
        when:
          command_regex: ["(unclosed"]
`, []string{`test.yaml:7:27: command_regex: bad regular expression`}},
		{"unknown top-level key", `version: "1"
default_actoin: deny
`, []string{`test.yaml:2:1: unknown top-level key "default_actoin" (did you mean "default_action"?)`}},
		{"several errors at once", `version: "1"
policies:
  - name: p
    priorty: 5
    rules:
      - action: allow
        when: {path_maches: ["x"]}
`, []string{`test.yaml:4:5: unknown policy key "priorty"`, `test.yaml:7:16: unknown condition "path_maches" (did you mean "path_matches"?)`}},
		{"duplicate policy", `version: "1"
policies:
  - name: p
    rules: []
  - name: p
    rules: []
`, []string{`test.yaml:5:5: duplicate policy name "p" (first defined on line 3)`}},
		{"missing action", `version: "1"
policies:
  - name: p
    rules:
      - when: {default: true}
`, []string{`test.yaml:5:9: rule has no action`}},
		{"wrong type", `version: "1"
policies:
  - name: p
    match:
      tool: {a: b}
`, []string{`test.yaml:5:13: match.tool must be a string or a list of strings, not a mapping`}},
		{"bad yaml", "version: \"1\"\npolicies: [\n", []string{"test.yaml:2:1: invalid YAML"}},
		{"bad version", `version: "2"`, []string{`test.yaml:1:10: unsupported version "2"`}},
		{"unknown detection", `version: "1"
policies:
  - name: p
    rules:
      - action: deny
        when: {detect: [forkbomb]}
`, []string{`detect: unknown detection "forkbomb" (did you mean "fork-bomb"?)`}},
		{"empty file", ``, []string{"test.yaml: file is empty"}},
		{"invalid UTF-8", "version: \"1\"\npolicies:\n  - name: \"\xc3\xa9t\xff\"\n", []string{"test.yaml:3:14: invalid UTF-8"}},
		// Mistakes that used to load and change decisions.
		{"empty condition list", `version: "1"
policies:
  - name: p
    rules:
      - action: deny
        when:
          command_matches: []
`, []string{`test.yaml:7:28: command_matches is an empty list (want at least one pattern)`}},
		{"empty match list", `version: "1"
policies:
  - name: p
    match:
      tool: []
    rules:
      - {action: deny, when: {default: true}}
`, []string{`test.yaml:5:13: match.tool is an empty list`}},
		{"empty tool_param_matches", `version: "1"
policies:
  - name: p
    rules:
      - action: deny
        when:
          tool_param_matches: {}
`, []string{`test.yaml:7:31: tool_param_matches is empty`}},
		{"duplicate tool_param_matches parameter", `version: "1"
policies:
  - name: p
    rules:
      - action: deny
        when:
          tool_param_matches:
            repo: "secret*"
            repo: "*"
`, []string{`test.yaml:9:13: tool_param_matches: parameter "repo" given twice (first on line 8)`}},
		{"default with other conditions", `version: "1"
default_action: deny
policies:
  - name: p
    rules:
      - action: allow
        when:
          default: true
          command_name: [ls]
`, []string{`test.yaml:8:11: default cannot be combined with other conditions`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := compileOne(t, tt.src)
			if err == nil {
				t.Fatalf("want an error, got a program with %d rules", len(p.rules))
			}
			var pe PolicyErrors
			if !errors.As(err, &pe) {
				t.Fatalf("error is %T, want PolicyErrors", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// An empty when is allowed (the rule matches every call its policy sees,
// as a rule without when does) but lint says so: it is more often a
// mistake than a choice.
// A rule that mixes exec and file conditions never matches: a warning,
// not an error, since it changes no decision.
func TestCommandAndFileConditionsWarn(t *testing.T) {
	p, err := compileOne(t, `version: "1"
policies:
  - name: p
    rules:
      - action: deny
        when:
          command_name: [cat]
          path_matches: ["/etc/**"]
`)
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(p.Warnings(), "\n")
	if !strings.Contains(w, "test.yaml:8:11: path_matches cannot be combined with command_name (line 7)") {
		t.Errorf("warnings %q", w)
	}
}

func TestEmptyWhenWarns(t *testing.T) {
	for _, when := range []string{"when:", "when: {}"} {
		p, err := compileOne(t, `version: "1"
policies:
  - name: p
    rules:
      - action: deny
        `+when+`
`)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if d := p.Eval(&ToolCall{Tool: ToolExec, Command: "ls"}); d.Decision != ActionDeny {
			t.Errorf("%s: ls is %s, want deny (the rule matches every call)", when, d.Decision)
		}
		w := strings.Join(p.Warnings(), "\n")
		if !strings.Contains(w, "test.yaml:6:9: when is empty") {
			t.Errorf("%s: warnings %q do not mention the empty when", when, w)
		}
	}
}

func TestBrokenFileNeverHalfLoads(t *testing.T) {
	good := Source{Name: "good", Path: "good.yaml", Data: []byte(`version: "1"
policies:
  - name: g
    rules:
      - {action: deny, when: {command_name: [rm]}}
`)}
	bad := Source{Name: "bad", Path: "bad.yaml", Data: []byte(`version: "1"
policies:
  - name: b
    rules:
      - {action: deny, when: {command_name: [rm]}}
      - {action: allow, when: {bogus: x}}
`)}
	p, err := Compile(Options{}, good, bad)
	if err == nil || p != nil {
		t.Fatalf("a set with a broken file must not load: %v %v", p, err)
	}
	if !strings.Contains(err.Error(), "bad.yaml:6:32") {
		t.Errorf("error should point at bad.yaml:6:32: %v", err)
	}
}

// A policy file written for the reference Rampart loads and keeps its meaning.
func TestReferenceFormatLoads(t *testing.T) {
	src := `version: "1"
default_action: allow
notify:
  url: https://hooks.example/x
policies:
  - name: watch-env
    priority: 0
    match:
      agent: "*"
      tool: ["exec"]
    rules:
      - action: watch
        when:
          command_matches: ["printenv", "printenv *"]
        message: "env dump"
  - name: approve-deploys
    match:
      tool: exec
    rules:
      - action: require_approval
        ask:
          audit: true
        when:
          command_contains: ["kubectl apply"]
  - name: block-keys
    match:
      tool: ["read"]
    rules:
      - action: deny
        when:
          path_matches: ["**\\.ssh\\id_*", "**/.ssh/id_*"]
          path_not_matches: ["**/*.pub"]
`
	p, err := compileOne(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings()) != 2 {
		t.Errorf("want warnings for notify and ask, got %q", p.Warnings())
	}
	for _, c := range []struct {
		call ToolCall
		want Action
	}{
		{ToolCall{Tool: "exec", Command: "printenv HOME"}, ActionLog},
		{ToolCall{Tool: "exec", Command: "KUBECTL APPLY -f x.yaml"}, ActionAsk},
		{ToolCall{Tool: "read", Path: "/home/dev/.ssh/id_ed25519"}, ActionDeny},
		{ToolCall{Tool: "read", Path: "/home/dev/.ssh/id_ed25519.pub"}, ActionAllow},
	} {
		if d := p.Eval(&c.call); d.Decision != c.want {
			t.Errorf("%+v: got %+v, want %v", c.call, d, c.want)
		}
	}
}

// FuzzCompilePolicy: any input either compiles or returns PolicyErrors; no
// panics.
func FuzzCompilePolicy(f *testing.F) {
	f.Add([]byte("version: \"1\"\npolicies:\n  - name: p\n    rules:\n      - {action: deny, when: {command_matches: [\"rm *\"]}}\n"))
	f.Add([]byte("version: \"1\"\ndefault_action: ask\npolicies: []\n"))
	f.Add([]byte("policies:\n  - name: x\n    match: {tool: [exec, read]}\n    rules:\n      - action: allow\n        when:\n          path_matches: [\"~/**\"]\n          tool_param_matches: {a: b}\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		p, err := Compile(Options{Home: "/h"}, Source{Name: "f", Path: "f.yaml", Data: data})
		if err != nil {
			var pe PolicyErrors
			if !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		p.Eval(&ToolCall{Tool: "exec", Command: "rm -rf / && git status | sh"})
		p.Eval(&ToolCall{Tool: "read", Path: "~/.ssh/id_rsa"})
	})
}
