package hooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/engine"
)

func sample(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "claude-code", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The inputs captured from the real Claude Code CLI decode to these calls.
func TestClaudeCodeDecodesRealSamples(t *testing.T) {
	const cwd = "/home/user/project"
	tests := []struct {
		file  string
		phase Phase
		want  engine.ToolCall
	}{
		{"pretooluse-bash.json", PhasePre, engine.ToolCall{Tool: "exec", Command: "echo hello from bash"}},
		{"posttooluse-bash.json", PhasePost, engine.ToolCall{Tool: "exec", Command: "echo hello from bash"}},
		{"posttoolusefailure-bash.json", PhasePostFailure, engine.ToolCall{Tool: "exec", Command: "ls /nonexistent-rampart-e2e"}},
		{"pretooluse-write.json", PhasePre, engine.ToolCall{Tool: "write", Path: cwd + "/notes.txt"}},
		{"pretooluse-edit.json", PhasePre, engine.ToolCall{Tool: "edit", Path: cwd + "/notes.txt"}},
		{"pretooluse-read.json", PhasePre, engine.ToolCall{Tool: "read", Path: cwd + "/notes.txt"}},
		{"posttoolusefailure-read.json", PhasePostFailure, engine.ToolCall{Tool: "read", Path: cwd + "/missing.txt"}},
		{"pretooluse-webfetch.json", PhasePre, engine.ToolCall{Tool: "fetch"}},
		{"pretooluse-mcp.json", PhasePre, engine.ToolCall{Tool: "mcp", Name: "mcp__e2e__echo"}},
		{"pretooluse-glob.json", PhasePre, engine.ToolCall{Tool: "read"}},
		{"pretooluse-grep.json", PhasePre, engine.ToolCall{Tool: "read"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := ClaudeCode{}.Decode(sample(t, tt.file), Env{Home: "/home/user"})
			if err != nil {
				t.Fatal(err)
			}
			c := ev.Call
			if ev.Phase != tt.phase || c.Tool != tt.want.Tool || c.Agent != "claude-code" || c.Cwd != cwd ||
				c.Session != "00000000-0000-4000-8000-000000000000" || c.Home != "/home/user" || !strings.HasPrefix(ev.ToolUseID, "toolu_e2e_") {
				t.Fatalf("event %+v", ev)
			}
			if tt.want.Command != "" && c.Command != tt.want.Command {
				t.Errorf("command %q", c.Command)
			}
			if tt.want.Path != "" && c.Path != tt.want.Path {
				t.Errorf("path %q", c.Path)
			}
			if tt.want.Name != "" && c.Name != tt.want.Name {
				t.Errorf("name %q", c.Name)
			}
			if c.Tool == "fetch" && !strings.HasPrefix(c.URL, "https://") {
				t.Errorf("url %q", c.URL)
			}
			if (c.Tool == "read") && !strings.HasPrefix(c.Path, "/") {
				t.Errorf("read path %q is not absolute", c.Path)
			}
		})
	}
}

func TestClaudeCodeOutcome(t *testing.T) {
	ev, err := ClaudeCode{}.Decode(sample(t, "posttoolusefailure-bash.json"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.ExitCode == nil || *ev.ExitCode != 2 || ev.DurationMS == nil || *ev.DurationMS != 7 || !strings.HasPrefix(ev.Error, "Exit code 2") {
		t.Fatalf("outcome %+v", ev)
	}
	ev, _ = ClaudeCode{}.Decode(sample(t, "posttooluse-bash.json"), Env{})
	if ev.ExitCode != nil || ev.DurationMS == nil || ev.Error != "" {
		t.Fatalf("outcome %+v", ev)
	}
}

func TestClaudeCodeToolTable(t *testing.T) {
	tests := []struct {
		tool, input string
		want        engine.ToolCall
	}{
		{"Bash", `{"command":"ls"}`, engine.ToolCall{Tool: "exec", Command: "ls"}},
		{"PowerShell", `{"command":"Get-ChildItem"}`, engine.ToolCall{Tool: "exec", Command: "Get-ChildItem"}},
		{"Monitor", `{"command":"tail -f x.log"}`, engine.ToolCall{Tool: "exec", Command: "tail -f x.log"}},
		// A monitor without a command opens a WebSocket: a fetch.
		{"Monitor", `{"description":"d","timeout_ms":1,"ws":{"url":"wss://x.test/feed"}}`, engine.ToolCall{Tool: "fetch", URL: "wss://x.test/feed"}},
		{"Read", `{"file_path":"rel/x.txt"}`, engine.ToolCall{Tool: "read", Path: "/p/rel/x.txt"}},
		{"Glob", `{"pattern":"**/*.pem"}`, engine.ToolCall{Tool: "read", Path: "/p/**/*.pem"}},
		{"Glob", `{"pattern":"*","path":"/home/u/.ssh"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh/*"}},
		{"Grep", `{"pattern":"BEGIN","path":"/home/u/.ssh"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh"}},
		{"Grep", `{"pattern":"x"}`, engine.ToolCall{Tool: "read", Path: "/p"}},
		{"Write", `{"file_path":"/p/a","content":"hi"}`, engine.ToolCall{Tool: "write", Path: "/p/a", Content: "hi"}},
		{"Edit", `{"file_path":"/p/a","old_string":"x","new_string":"y"}`, engine.ToolCall{Tool: "edit", Path: "/p/a", Content: "y"}},
		{"MultiEdit", `{"file_path":"/p/a","edits":[{"new_string":"y"},{"new_string":"z"}]}`, engine.ToolCall{Tool: "edit", Path: "/p/a", Content: "y\nz"}},
		{"NotebookEdit", `{"notebook_path":"/p/n.ipynb","new_source":"print(1)"}`, engine.ToolCall{Tool: "edit", Path: "/p/n.ipynb", Content: "print(1)"}},
		{"WebFetch", `{"url":"https://x.test/a","prompt":"p"}`, engine.ToolCall{Tool: "fetch", URL: "https://x.test/a"}},
		{"WebSearch", `{"query":"go"}`, engine.ToolCall{Tool: "fetch", Name: "WebSearch"}},
		{"Task", `{"subagent_type":"general-purpose","prompt":"x"}`, engine.ToolCall{Tool: "agent", Name: "general-purpose"}},
		{"Agent", `{"subagent_type":"Explore","prompt":"x"}`, engine.ToolCall{Tool: "agent", Name: "Explore"}},
		{"mcp__github__create_issue", `{"title":"t"}`, engine.ToolCall{Tool: "mcp", Name: "mcp__github__create_issue"}},
		{"TodoWrite", `{"todos":[]}`, engine.ToolCall{Tool: "TodoWrite", Name: "TodoWrite"}},
	}
	for _, tt := range tests {
		in, _ := json.Marshal(map[string]any{"hook_event_name": "PreToolUse", "tool_name": tt.tool, "tool_input": json.RawMessage(tt.input), "cwd": "/p"})
		ev, err := ClaudeCode{}.Decode(in, Env{})
		if err != nil {
			t.Fatalf("%s: %v", tt.tool, err)
		}
		c := ev.Call
		if c.Tool != tt.want.Tool || c.Command != tt.want.Command || c.Path != tt.want.Path || c.URL != tt.want.URL || c.Name != tt.want.Name || c.Content != tt.want.Content {
			t.Errorf("%s %s: got %+v, want %+v", tt.tool, tt.input, c, tt.want)
		}
	}
}

func TestClaudeCodeBadInput(t *testing.T) {
	for _, in := range []string{"", "  \n", "nope", "[]", `"x"`, `{}`, `{"hook_event_name":"PreToolUse"}`, `{"hook_event_name":"PreToolUse","tool_name":"Bash"`} {
		if _, err := (ClaudeCode{}).Decode([]byte(in), Env{}); err == nil {
			t.Errorf("Decode(%q) gave no error", in)
		}
	}
	// An unknown event is recorded, never blocked.
	ev, err := ClaudeCode{}.Decode([]byte(`{"hook_event_name":"Stop"}`), Env{})
	if err != nil || ev.Phase != PhaseOther {
		t.Fatalf("%+v %v", ev, err)
	}
}

func TestClaudeCodeAnswers(t *testing.T) {
	pre := Event{Phase: PhasePre, ToolName: "Bash", Call: engine.ToolCall{Tool: "exec", Command: "rm -rf /"}}
	deny := engine.Decision{Decision: engine.ActionDeny, Policy: "standard", Rule: "block-destructive", Message: "Use rm -rf ./build."}
	got := string(ClaudeCode{}.Answer(pre, deny, Options{}).Stdout)
	want := `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"Rampart blocked this Bash call (rm -rf /) by rule standard/block-destructive. Use rm -rf ./build. Do not retry it or reach the same result another way; if the task needs it, tell the user what you wanted to do and why, and let them run it or change the policy."}}` + "\n"
	if got != want {
		t.Errorf("deny:\n got %s\nwant %s", got, want)
	}
	ask := engine.Decision{Decision: engine.ActionAsk, Policy: "standard", Rule: "sudo", Message: "Runs as root."}
	if got := string(ClaudeCode{}.Answer(pre, ask, Options{}).Stdout); !strings.Contains(got, `"permissionDecision":"ask","permissionDecisionReason":"Rampart: this Bash call needs your approval (rule standard/sudo). Runs as root."`) {
		t.Errorf("ask: %s", got)
	}
	allow := engine.Decision{Decision: engine.ActionAllow}
	if a := (ClaudeCode{}).Answer(pre, allow, Options{}); len(a.Stdout) != 0 || a.ExitCode != 0 {
		t.Errorf("allow must say nothing by default: %+v", a)
	}
	if got := string(ClaudeCode{}.Answer(pre, allow, Options{ExplicitAllow: true}).Stdout); got != `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow","permissionDecisionReason":"Allowed by Rampart."}}`+"\n" {
		t.Errorf("explicit allow: %s", got)
	}
	post := pre
	post.Phase = PhasePost
	if a := (ClaudeCode{}).Answer(post, deny, Options{}); len(a.Stdout) != 0 {
		t.Errorf("a post event must never block: %+v", a)
	}
	if a := (ClaudeCode{}).Refuse(nil, "bad input."); !strings.Contains(string(a.Stdout), `"permissionDecision":"deny"`) || a.ExitCode != 0 {
		t.Errorf("refuse: %+v", a)
	}
}

// A PreToolUse whose call lacks what a decision needs (a renamed field, a
// monitor of something unknown) is refused, not allowed unchecked.
func TestClaudeCodeRefusesCallsWithoutTheirSubject(t *testing.T) {
	for _, in := range []string{
		`{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"cmd":"rm -rf /"},"cwd":"/p"}`,
		`{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":["rm","-rf","/"]},"cwd":"/p"}`,
		`{"hook_event_name":"PreToolUse","tool_name":"Monitor","tool_input":{"socket":"wss://x.test"},"cwd":"/p"}`,
		`{"hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"path":"/home/u/.bashrc","content":"x"},"cwd":"/p"}`,
		`{"hook_event_name":"PreToolUse","tool_name":"WebFetch","tool_input":{"uri":"https://x.test"},"cwd":"/p"}`,
	} {
		if ev, err := (ClaudeCode{}).Decode([]byte(in), Env{}); err == nil {
			t.Errorf("Decode(%s) = %+v, want an error", in, ev.Call)
		}
	}
	// After the tool ran there is nothing to refuse: the outcome is kept.
	post := `{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{},"cwd":"/p"}`
	if _, err := (ClaudeCode{}).Decode([]byte(post), Env{}); err != nil {
		t.Errorf("post event: %v", err)
	}
}
