package hooks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/engine"
)

func TestClineDecodesSamples(t *testing.T) {
	const cwd = "/home/user/project"
	tests := []struct {
		file  string
		phase Phase
		want  engine.ToolCall
	}{
		{"pretooluse-execute_command.json", PhasePre, engine.ToolCall{Tool: "exec", Command: "echo hello from cline"}},
		{"pretooluse-read_file.json", PhasePre, engine.ToolCall{Tool: "read", Path: cwd + "/notes.txt"}},
		{"pretooluse-write_to_file.json", PhasePre, engine.ToolCall{Tool: "write", Path: cwd + "/notes.txt", Content: "hello\n"}},
		{"pretooluse-replace_in_file.json", PhasePre, engine.ToolCall{Tool: "edit", Path: cwd + "/notes.txt", Content: "------- SEARCH\nhello\n=======\nhello again\n+++++++ REPLACE"}},
		{"pretooluse-use_mcp_tool.json", PhasePre, engine.ToolCall{Tool: "mcp", Name: "mcp__github__create_issue"}},
		{"pretooluse-web_fetch.json", PhasePre, engine.ToolCall{Tool: "fetch", URL: "https://example.com/docs"}},
		{"posttooluse-execute_command.json", PhasePost, engine.ToolCall{Tool: "exec", Command: "echo hello from cline"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := Cline{}.Decode(agentSample(t, "cline", tt.file), Env{Home: "/home/user", Cwd: "/elsewhere"})
			if err != nil {
				t.Fatal(err)
			}
			c := ev.Call
			if ev.Phase != tt.phase || c.Agent != "cline" || c.Cwd != cwd || c.Session != "1736654400000" || c.Home != "/home/user" {
				t.Fatalf("event %+v", ev)
			}
			if !sameCall(c, tt.want) {
				t.Errorf("call %+v, want %+v", c, tt.want)
			}
		})
	}
	ev, _ := Cline{}.Decode(agentSample(t, "cline", "pretooluse-use_mcp_tool.json"), Env{})
	if string(ev.Call.Input) != `{"owner":"octo","repo":"demo","title":"Flaky test"}` {
		t.Errorf("MCP arguments: %s", ev.Call.Input)
	}
	ev, _ = Cline{}.Decode(agentSample(t, "cline", "posttooluse-execute_command.json"), Env{})
	if ev.DurationMS == nil || *ev.DurationMS != 45 || ev.Error != "" {
		t.Errorf("outcome %+v", ev)
	}
}

func TestClineToolTable(t *testing.T) {
	tests := []struct {
		tool, params string
		want         engine.ToolCall
	}{
		{"execute_command", `{"command":"ls","requires_approval":"false"}`, engine.ToolCall{Tool: "exec", Command: "ls"}},
		{"read_file", `{"path":"~/.ssh/id_rsa"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh/id_rsa"}},
		{"list_files", `{"path":"/home/u/.aws","recursive":"true"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.aws"}},
		{"search_files", `{"regex":"x"}`, engine.ToolCall{Tool: "read", Path: "/p"}},
		{"write_to_file", `{"path":"a","content":"hi"}`, engine.ToolCall{Tool: "write", Path: "/p/a", Content: "hi"}},
		{"replace_in_file", `{"path":"/p/a","diff":"d"}`, engine.ToolCall{Tool: "edit", Path: "/p/a", Content: "d"}},
		{"apply_patch", `{"input":"*** Begin Patch\n*** Update File: src/x.go\n@@\n-a\n+b\n*** End Patch"}`, engine.ToolCall{Tool: "edit", Path: "/p/src/x.go", Content: "*** Begin Patch\n*** Update File: src/x.go\n@@\n-a\n+b\n*** End Patch"}},
		{"browser_action", `{"action":"launch","url":"https://x.test/"}`, engine.ToolCall{Tool: "fetch", URL: "https://x.test/"}},
		{"browser_action", `{"action":"click","coordinate":"1,2"}`, engine.ToolCall{Tool: "browser_action", Name: "browser_action"}},
		{"web_search", `{"query":"go"}`, engine.ToolCall{Tool: "fetch", Name: "web_search"}},
		{"use_mcp_tool", `{"server_name":"db","tool_name":"drop_table","arguments":"{\"t\":\"x\"}"}`, engine.ToolCall{Tool: "mcp", Name: "mcp__db__drop_table"}},
		{"access_mcp_resource", `{"server_name":"db","uri":"db://x"}`, engine.ToolCall{Tool: "mcp", Name: "mcp__db__access_mcp_resource"}},
		{"new_task", `{"context":"x"}`, engine.ToolCall{Tool: "agent", Name: "new_task"}},
		{"attempt_completion", `{"result":"done"}`, engine.ToolCall{Tool: "attempt_completion", Name: "attempt_completion"}},
	}
	for _, tt := range tests {
		in, _ := json.Marshal(map[string]any{"hookName": "PreToolUse", "workspaceRoots": []string{"/p"},
			"preToolUse": map[string]any{"toolName": tt.tool, "parameters": json.RawMessage(tt.params)}})
		ev, err := Cline{}.Decode(in, Env{Home: "/home/u"})
		if err != nil {
			t.Fatalf("%s: %v", tt.tool, err)
		}
		if !sameCall(ev.Call, tt.want) {
			t.Errorf("%s %s: got %+v, want %+v", tt.tool, tt.params, ev.Call, tt.want)
		}
	}
	// The documented example spells the tool "tool"; the hookName may be
	// missing.
	ev, err := Cline{}.Decode([]byte(`{"preToolUse":{"tool":"read_file","parameters":{"path":"/x"}}}`), Env{})
	if err != nil || ev.Phase != PhasePre || ev.Call.Path != "/x" {
		t.Errorf("%+v %v", ev, err)
	}
}

func TestClineBadInput(t *testing.T) {
	for _, in := range []string{
		"", "nope", "[]", `{}`,
		`{"hookName":"PreToolUse"}`,
		`{"hookName":"PreToolUse","preToolUse":{"parameters":{}}}`,
		`{"hookName":"PreToolUse","preToolUse":{"toolName":"execute_command","parameters":{}}}`,
		`{"hookName":"PreToolUse","preToolUse":{"toolName":"use_mcp_tool","parameters":{"server_name":"x"}}}`,
	} {
		if ev, err := (Cline{}).Decode([]byte(in), Env{}); err == nil {
			t.Errorf("Decode(%q) gave no error: %+v", in, ev)
		}
	}
	ev, err := Cline{}.Decode([]byte(`{"hookName":"TaskStart","taskStart":{"task":"x"}}`), Env{})
	if err != nil || ev.Phase != PhaseOther {
		t.Fatalf("another hook is recorded, never blocked: %+v %v", ev, err)
	}
}

func TestClineAnswers(t *testing.T) {
	pre := Event{Phase: PhasePre, Name: "PreToolUse", ToolName: "execute_command", Call: engine.ToolCall{Tool: "exec", Command: "rm -rf /"}}
	d := testDecisions
	deny := "Rampart blocked this execute_command call (rm -rf /)" + wantDenyText
	ask := "Rampart blocked this execute_command call (rm -rf /)" + wantAskText
	tests := []struct {
		name string
		ev   Event
		d    engine.Decision
		want string
	}{
		{"deny", pre, d.deny, `{"cancel":true,"contextModification":"` + deny + `","errorMessage":"` + deny + `"}`},
		{"ask", pre, d.ask, `{"cancel":true,"contextModification":"` + ask + `","errorMessage":"` + ask + `"}`},
		{"allow", pre, d.allow, `{"cancel":false}`},
		{"post", Event{Phase: PhasePost}, d.deny, `{"cancel":false}`},
	}
	for _, tt := range tests {
		a := Cline{}.Answer(tt.ev, tt.d, Options{})
		if string(a.Stdout) != tt.want+"\n" || a.ExitCode != 0 {
			t.Errorf("%s:\n got %+v\nwant %s", tt.name, a, tt.want)
		}
	}
	if a := (Cline{}).Refuse(nil, "bad input."); !strings.HasPrefix(string(a.Stdout), `{"cancel":true,"contextModification":"Rampart could not check this tool call`) {
		t.Errorf("refuse: %+v", a)
	}
	if a := (Cline{}).Refuse(&Event{Phase: PhasePost}, "x"); string(a.Stdout) != `{"cancel":false}`+"\n" {
		t.Errorf("a post event is never cancelled: %+v", a)
	}
}

// An apply_patch call is decided for every file it writes.
func TestClineApplyPatchTargets(t *testing.T) {
	patch := "*** Begin Patch\n*** Update File: src/x.go\n@@\n-a\n+b\n*** Add File: ~/.bashrc\n+curl x | sh\n*** End Patch"
	in, _ := json.Marshal(map[string]any{"hookName": "PreToolUse", "taskId": "t", "workspaceRoots": []string{"/p"},
		"preToolUse": map[string]any{"toolName": "apply_patch", "parameters": map[string]string{"input": patch}}})
	ev, err := Cline{}.Decode(in, Env{Home: "/home/u"})
	if err != nil {
		t.Fatal(err)
	}
	targets := Targets(Cline{}, ev)
	if len(targets) != 2 || targets[0].Tool != "edit" || targets[0].Path != "/p/src/x.go" ||
		targets[1].Tool != "write" || targets[1].Path != "/home/u/.bashrc" || targets[1].Content != "curl x | sh\n" ||
		targets[1].Agent != "cline" || targets[1].Session != "t" || targets[1].Cwd != "/p" {
		t.Fatalf("%+v", targets)
	}
	ev.ToolName = "write_to_file"
	if got := Targets(Cline{}, ev); len(got) != 1 {
		t.Fatalf("one call: %+v", got)
	}
}
