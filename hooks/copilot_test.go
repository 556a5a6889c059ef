package hooks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/engine"
)

func TestCopilotDecodesSamples(t *testing.T) {
	const cwd = "/home/user/project"
	tests := []struct {
		file  string
		phase Phase
		name  string
		want  engine.ToolCall
	}{
		{"pretooluse-bash.json", PhasePre, "preToolUse", engine.ToolCall{Tool: "exec", Command: "echo hello from copilot"}},
		{"pretooluse-bash-object.json", PhasePre, "preToolUse", engine.ToolCall{Tool: "exec", Command: "echo hello from copilot"}},
		{"pretooluse-vscode.json", PhasePre, "PreToolUse", engine.ToolCall{Tool: "exec", Command: "echo hello from copilot"}},
		{"pretooluse-view.json", PhasePre, "preToolUse", engine.ToolCall{Tool: "read", Path: cwd + "/notes.txt"}},
		{"pretooluse-create.json", PhasePre, "preToolUse", engine.ToolCall{Tool: "write", Path: cwd + "/notes.txt", Content: "hello\n"}},
		{"pretooluse-edit.json", PhasePre, "preToolUse", engine.ToolCall{Tool: "edit", Path: cwd + "/notes.txt", Content: "hello again"}},
		{"pretooluse-web_fetch.json", PhasePre, "preToolUse", engine.ToolCall{Tool: "fetch", URL: "https://example.com/docs"}},
		{"pretooluse-mcp.json", PhasePre, "preToolUse", engine.ToolCall{Tool: "mcp", Name: "mcp__github-mcp-server-create_issue"}},
		{"posttooluse-bash.json", PhasePost, "postToolUse", engine.ToolCall{Tool: "exec", Command: "echo hello from copilot"}},
		{"posttoolusefailure-bash.json", PhasePostFailure, "postToolUseFailure", engine.ToolCall{Tool: "exec", Command: "ls /nonexistent-rampart"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := Copilot{}.Decode(agentSample(t, "copilot", tt.file), Env{Home: "/home/user", Cwd: "/elsewhere"})
			if err != nil {
				t.Fatal(err)
			}
			c := ev.Call
			if ev.Phase != tt.phase || ev.Name != tt.name || c.Agent != "copilot" || c.Cwd != cwd ||
				c.Session != "c0ffee00-0000-4000-8000-000000000000" || c.Home != "/home/user" {
				t.Fatalf("event %+v", ev)
			}
			if !sameCall(c, tt.want) {
				t.Errorf("call %+v, want %+v", c, tt.want)
			}
		})
	}
	ev, _ := Copilot{}.Decode(agentSample(t, "copilot", "posttoolusefailure-bash.json"), Env{})
	if !strings.HasPrefix(ev.Error, "ls: cannot access") {
		t.Errorf("outcome %+v", ev)
	}
}

func TestCopilotToolTable(t *testing.T) {
	tests := []struct {
		tool, args string
		want       engine.ToolCall
	}{
		{"bash", `{"command":"ls"}`, engine.ToolCall{Tool: "exec", Command: "ls"}},
		{"powershell", `{"command":"Get-ChildItem"}`, engine.ToolCall{Tool: "exec", Command: "Get-ChildItem"}},
		{"write_bash", `{"shellId":"1","input":"rm -rf /\n"}`, engine.ToolCall{Tool: "exec", Command: "rm -rf /\n"}},
		{"view", `{"path":"~/.ssh/id_rsa"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh/id_rsa"}},
		{"glob", `{"pattern":"**/*.pem"}`, engine.ToolCall{Tool: "read", Path: "/p/**/*.pem"}},
		{"grep", `{"pattern":"BEGIN","path":"/home/u/.ssh"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh"}},
		{"create", `{"path":"a","file_text":"hi"}`, engine.ToolCall{Tool: "write", Path: "/p/a", Content: "hi"}},
		{"edit", `{"path":"/p/a","old_str":"x","new_str":"y"}`, engine.ToolCall{Tool: "edit", Path: "/p/a", Content: "y"}},
		{"str_replace_editor", `{"command":"create","path":"/p/a","file_text":"z"}`, engine.ToolCall{Tool: "write", Path: "/p/a", Content: "z"}},
		{"str_replace_editor", `{"command":"view","path":"/p/a"}`, engine.ToolCall{Tool: "read", Path: "/p/a"}},
		{"web_fetch", `{"url":"https://x.test/a"}`, engine.ToolCall{Tool: "fetch", URL: "https://x.test/a"}},
		{"task", `{"agent_type":"explore","prompt":"x"}`, engine.ToolCall{Tool: "agent", Name: "explore"}},
		{"github-mcp-server-delete_repo", `{"repo":"x"}`, engine.ToolCall{Tool: "mcp", Name: "mcp__github-mcp-server-delete_repo"}},
		{"report_intent", `{"intent":"x"}`, engine.ToolCall{Tool: "report_intent", Name: "report_intent"}},
	}
	for _, tt := range tests {
		// toolArgs arrive as a JSON string (documented) or an object.
		for _, args := range []any{tt.args, json.RawMessage(tt.args)} {
			in, _ := json.Marshal(map[string]any{"toolName": tt.tool, "toolArgs": args, "cwd": "/p"})
			ev, err := Copilot{}.Decode(in, Env{Home: "/home/u"})
			if err != nil {
				t.Fatalf("%s: %v", tt.tool, err)
			}
			if !sameCall(ev.Call, tt.want) {
				t.Errorf("%s %s: got %+v, want %+v", tt.tool, tt.args, ev.Call, tt.want)
			}
		}
	}
}

func TestCopilotBadInput(t *testing.T) {
	for _, in := range []string{
		"", "nope", "[]",
		`{"toolName":"bash","toolArgs":"{\"command\":"}`,
		`{"toolName":"bash","toolArgs":"[1,2]"}`,
		`{"toolName":"bash","toolArgs":{}}`,
		`{"toolName":"view","toolArgs":"{}"}`,
		`{"hook_event_name":"PreToolUse"}`,
	} {
		if ev, err := (Copilot{}).Decode([]byte(in), Env{}); err == nil {
			t.Errorf("Decode(%q) gave no error: %+v", in, ev)
		}
	}
	for _, in := range []string{`{}`, `{"sessionId":"s","source":"new"}`, `{"hook_event_name":"SessionStart"}`} {
		ev, err := Copilot{}.Decode([]byte(in), Env{})
		if err != nil || ev.Phase != PhaseOther {
			t.Errorf("%s: an event without a tool is recorded, never blocked: %+v %v", in, ev, err)
		}
	}
}

func TestCopilotAnswers(t *testing.T) {
	pre := Event{Phase: PhasePre, Name: "preToolUse", ToolName: "bash", Call: engine.ToolCall{Tool: "exec", Command: "rm -rf /"}}
	d := testDecisions
	tests := []struct {
		name string
		d    engine.Decision
		opts Options
		want string
	}{
		{"deny", d.deny, Options{}, `{"permissionDecision":"deny","permissionDecisionReason":"Rampart blocked this bash call (rm -rf /)` + wantDenyText + `"}` + "\n"},
		{"ask", d.ask, Options{}, `{"permissionDecision":"deny","permissionDecisionReason":"Rampart blocked this bash call (rm -rf /)` + wantAskText + `"}` + "\n"},
		{"allow", d.allow, Options{}, ""},
		{"explicit allow", d.allow, Options{ExplicitAllow: true}, `{"permissionDecision":"allow","permissionDecisionReason":"Allowed by Rampart."}` + "\n"},
	}
	for _, tt := range tests {
		a := Copilot{}.Answer(pre, tt.d, tt.opts)
		if string(a.Stdout) != tt.want || a.ExitCode != 0 || a.Stderr != "" {
			t.Errorf("%s:\n got %+v\nwant %s", tt.name, a, tt.want)
		}
	}
	post := pre
	post.Phase = PhasePost
	if a := (Copilot{}).Answer(post, d.deny, Options{}); len(a.Stdout) != 0 {
		t.Errorf("a post event must never block: %+v", a)
	}
	if a := (Copilot{}).Refuse(nil, "bad input."); !strings.HasPrefix(string(a.Stdout), `{"permissionDecision":"deny","permissionDecisionReason":"Rampart could not check this tool call`) || a.ExitCode != 0 {
		t.Errorf("refuse: %+v", a)
	}
}
