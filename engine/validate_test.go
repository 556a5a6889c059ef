package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		call ToolCall
		want string // "" for valid
	}{
		{ToolCall{Tool: "exec", Command: "ls"}, ""},
		{ToolCall{Tool: "exec", Argv: []string{"ls"}}, ""},
		{ToolCall{Tool: "exec", Command: "  "}, `exec call without "command" or "argv"`},
		{ToolCall{Tool: "read"}, `read call without "path"`},
		{ToolCall{Tool: "fetch"}, `fetch call without "url"`},
		{ToolCall{Tool: "mcp"}, `mcp call without "name"`},
		{ToolCall{Tool: "exce", Command: "ls"}, `unknown tool "exce" (did you mean "exec"?)`},
		{ToolCall{}, `missing "tool"`},
		{ToolCall{Tool: "agent"}, ""},
	} {
		err := tt.call.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: got %v, want %q", tt.call, err, tt.want)
		}
	}
}

func TestDefaultRampartHomeIsNeverRelative(t *testing.T) {
	t.Setenv("RAMPART_HOME", "")
	t.Setenv("HOME", "")
	if got := DefaultRampartHome(); got != "" {
		t.Errorf("without a home: %q, want \"\"", got)
	}
	t.Setenv("RAMPART_HOME", "rel")
	if got := DefaultRampartHome(); !filepath.IsAbs(got) {
		t.Errorf("RAMPART_HOME=rel gave %q", got)
	}
}

func TestLoadSources(t *testing.T) {
	home := t.TempDir()
	project := filepath.Join(t.TempDir(), "repo")
	for _, d := range []string{filepath.Join(home, "policies"), filepath.Join(project, ".rampart"), filepath.Join(project, ".git"), filepath.Join(project, "sub")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(home, "policies", "mine.yaml"), "version: \"1\"\npolicies:\n  - name: mine\n    rules:\n      - {action: ask, when: {command_name: [make]}}\n")
	write(filepath.Join(project, ".rampart", "policy.yaml"), "version: \"1\"\npolicies:\n  - name: repo\n    rules:\n      - {action: deny, when: {command_name: [terraform]}}\n")
	p, err := Load(LoadOptions{Profile: "none", RampartHome: home, ProjectDir: filepath.Join(project, "sub"), Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Eval(&ToolCall{Tool: "exec", Command: "make"}); d.Decision != ActionAsk || d.Policy != "mine" {
		t.Errorf("user policy: %+v", d)
	}
	if d := p.Eval(&ToolCall{Tool: "exec", Command: "terraform apply"}); d.Decision != ActionDeny || d.Policy != "project" {
		t.Errorf("project policy: %+v", d)
	}
	if _, err := Load(LoadOptions{Profile: "nope"}); err == nil || !strings.Contains(err.Error(), `unknown profile "nope"`) {
		t.Errorf("unknown profile: %v", err)
	}
}
