package hooks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/engine"
)

func TestCursorDecodesSamples(t *testing.T) {
	const cwd = "/home/user/project"
	tests := []struct {
		file  string
		phase Phase
		label string
		want  engine.ToolCall
	}{
		{"pretooluse-shell.json", PhasePre, "Shell", engine.ToolCall{Tool: "exec", Command: "echo hello from cursor"}},
		{"pretooluse-read.json", PhasePre, "Read", engine.ToolCall{Tool: "read", Path: cwd + "/notes.txt"}},
		{"pretooluse-grep.json", PhasePre, "Grep", engine.ToolCall{Tool: "read", Path: cwd}},
		{"pretooluse-write.json", PhasePre, "Write", engine.ToolCall{Tool: "write", Path: cwd + "/notes.txt", Content: "hello\n"}},
		{"pretooluse-mcp.json", PhasePre, "MCP:create_issue", engine.ToolCall{Tool: "mcp", Name: "mcp__create_issue"}},
		{"beforeshellexecution.json", PhasePre, "Shell", engine.ToolCall{Tool: "exec", Command: "echo hello from cursor"}},
		{"beforereadfile.json", PhasePre, "Read", engine.ToolCall{Tool: "read", Path: cwd + "/notes.txt"}},
		{"beforemcpexecution.json", PhasePre, "MCP:create_issue", engine.ToolCall{Tool: "mcp", Name: "mcp__create_issue"}},
		{"posttooluse-shell.json", PhasePost, "Shell", engine.ToolCall{Tool: "exec", Command: "echo hello from cursor"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := Cursor{}.Decode(agentSample(t, "cursor", tt.file), Env{Home: "/home/user", Cwd: "/elsewhere"})
			if err != nil {
				t.Fatal(err)
			}
			c := ev.Call
			// An empty cwd in the input means the workspace root.
			if ev.Phase != tt.phase || ev.ToolName != tt.label || c.Agent != "cursor" || c.Cwd != cwd ||
				c.Session != "74676b03-0000-4000-8000-000000000000" || c.Home != "/home/user" {
				t.Fatalf("event %+v", ev)
			}
			if !sameCall(c, tt.want) {
				t.Errorf("call %+v, want %+v", c, tt.want)
			}
		})
	}
	ev, _ := Cursor{}.Decode(agentSample(t, "cursor", "beforemcpexecution.json"), Env{})
	if string(ev.Call.Input) != `{"title":"Flaky test"}` {
		t.Errorf("MCP arguments given as a JSON string: %s", ev.Call.Input)
	}
	ev, _ = Cursor{}.Decode(agentSample(t, "cursor", "posttooluse-shell.json"), Env{})
	if ev.ExitCode == nil || *ev.ExitCode != 0 || ev.DurationMS == nil || *ev.DurationMS != 728 || ev.ToolUseID == "" {
		t.Errorf("outcome %+v", ev)
	}
}

func TestCursorToolTable(t *testing.T) {
	tests := []struct {
		tool, input string
		want        engine.ToolCall
	}{
		{"Shell", `{"command":"ls","cwd":"/p"}`, engine.ToolCall{Tool: "exec", Command: "ls"}},
		{"Read", `{"file_path":"rel/x.txt"}`, engine.ToolCall{Tool: "read", Path: "/p/rel/x.txt"}},
		{"Read", `{"path":"~/.ssh/id_rsa"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh/id_rsa"}},
		{"Grep", `{"pattern":"x"}`, engine.ToolCall{Tool: "read", Path: "/p"}},
		{"Glob", `{"target_directory":"/home/u/.aws"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.aws"}},
		{"Write", `{"file_path":"/p/a","contents":"hi"}`, engine.ToolCall{Tool: "write", Path: "/p/a", Content: "hi"}},
		{"StrReplace", `{"file_path":"/p/a","old_string":"x","new_string":"y"}`, engine.ToolCall{Tool: "edit", Path: "/p/a", Content: "y"}},
		{"Edit", `{"target_file":"a","code_edit":"z"}`, engine.ToolCall{Tool: "edit", Path: "/p/a", Content: "z"}},
		{"Delete", `{"file_path":"/p/a"}`, engine.ToolCall{Tool: "write", Path: "/p/a"}},
		{"WebFetch", `{"url":"https://x.test/a"}`, engine.ToolCall{Tool: "fetch", URL: "https://x.test/a"}},
		{"WebSearch", `{"query":"go"}`, engine.ToolCall{Tool: "fetch", Name: "WebSearch"}},
		{"Task", `{"subagent_type":"explore","prompt":"x"}`, engine.ToolCall{Tool: "agent", Name: "explore"}},
		{"MCP:delete_repo", `{"repo":"x"}`, engine.ToolCall{Tool: "mcp", Name: "mcp__delete_repo"}},
		{"TodoWrite", `{"todos":[]}`, engine.ToolCall{Tool: "TodoWrite", Name: "TodoWrite"}},
	}
	for _, tt := range tests {
		in, _ := json.Marshal(map[string]any{"hook_event_name": "preToolUse", "tool_name": tt.tool, "tool_input": json.RawMessage(tt.input), "workspace_roots": []string{"/p"}})
		ev, err := Cursor{}.Decode(in, Env{Home: "/home/u"})
		if err != nil {
			t.Fatalf("%s: %v", tt.tool, err)
		}
		if !sameCall(ev.Call, tt.want) {
			t.Errorf("%s %s: got %+v, want %+v", tt.tool, tt.input, ev.Call, tt.want)
		}
	}
}

func TestCursorBadInput(t *testing.T) {
	for _, in := range []string{
		"", "nope", "[]", `{}`,
		`{"hook_event_name":"preToolUse"}`,
		`{"hook_event_name":"preToolUse","tool_name":"Shell","tool_input":{}}`,
		`{"hook_event_name":"preToolUse","tool_name":"Read","tool_input":{"pattern":"x"}}`,
		`{"hook_event_name":"beforeShellExecution","cwd":"/p"}`,
		`{"hook_event_name":"beforeReadFile","content":"x"}`,
		`{"hook_event_name":"beforeMCPExecution","tool_input":"{}"}`,
	} {
		if ev, err := (Cursor{}).Decode([]byte(in), Env{}); err == nil {
			t.Errorf("Decode(%q) gave no error: %+v", in, ev)
		}
	}
	ev, err := Cursor{}.Decode([]byte(`{"hook_event_name":"stop","status":"completed"}`), Env{})
	if err != nil || ev.Phase != PhaseOther {
		t.Fatalf("an unknown event is recorded, never blocked: %+v %v", ev, err)
	}
}

func TestCursorAnswers(t *testing.T) {
	shell := Event{Phase: PhasePre, Name: "beforeShellExecution", ToolName: "Shell", Call: engine.ToolCall{Tool: "exec", Command: "rm -rf /"}}
	pre := shell
	pre.Name = "preToolUse"
	read := Event{Phase: PhasePre, Name: "beforeReadFile", ToolName: "Read", Call: engine.ToolCall{Tool: "read", Path: "/k"}}
	d := testDecisions
	deny := "Rampart blocked this Shell call (rm -rf /)" + wantDenyText
	tests := []struct {
		name string
		ev   Event
		d    engine.Decision
		want string
	}{
		{"deny", pre, d.deny, `{"permission":"deny","user_message":"` + deny + `","agent_message":"` + deny + `"}`},
		{"deny shell", shell, d.deny, `{"permission":"deny","user_message":"` + deny + `","agent_message":"` + deny + `"}`},
		{"ask shell", shell, d.ask, `{"permission":"ask","user_message":"Rampart: this Shell call needs your approval (rule standard/sudo). Runs as root.","agent_message":"Rampart: this Shell call needs your approval (rule standard/sudo). Runs as root."}`},
		{"ask pretooluse", pre, d.ask, `{"permission":"deny","user_message":"Rampart blocked this Shell call (rm -rf /)` + wantAskText + `","agent_message":"Rampart blocked this Shell call (rm -rf /)` + wantAskText + `"}`},
		{"deny read", read, d.deny, `{"permission":"deny","user_message":"Rampart blocked this Read call (/k)` + wantDenyText + `"}`},
		{"allow", pre, d.allow, `{"permission":"allow"}`},
		{"log", read, engine.Decision{Decision: engine.ActionLog}, `{"permission":"allow"}`},
	}
	for _, tt := range tests {
		got := string(Cursor{}.Answer(tt.ev, tt.d, Options{}).Stdout)
		if got != tt.want+"\n" {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	post := pre
	post.Phase = PhasePost
	if a := (Cursor{}).Answer(post, d.deny, Options{}); len(a.Stdout) != 0 || a.ExitCode != 0 {
		t.Errorf("a post event must never block: %+v", a)
	}
	a := Cursor{}.Refuse(nil, "bad input.")
	if !strings.HasPrefix(string(a.Stdout), `{"permission":"deny","user_message":"Rampart could not check this tool call, so it is blocked (fail-closed): bad input. Tell the user: they can run `+"`rampart setup cursor --check`") || a.ExitCode != 0 {
		t.Errorf("refuse: %+v", a)
	}
}
