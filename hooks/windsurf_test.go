package hooks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/engine"
)

func TestWindsurfDecodesSamples(t *testing.T) {
	const cwd = "/home/user/project"
	tests := []struct {
		file  string
		phase Phase
		env   Env
		want  engine.ToolCall
	}{
		{"pre_run_command.json", PhasePre, Env{}, engine.ToolCall{Tool: "exec", Command: "echo hello from windsurf"}},
		{"pre_read_code.json", PhasePre, Env{Cwd: cwd}, engine.ToolCall{Tool: "read", Path: cwd + "/notes.txt"}},
		{"pre_write_code.json", PhasePre, Env{Cwd: cwd}, engine.ToolCall{Tool: "edit", Path: cwd + "/notes.txt", Content: "hello again"}},
		{"pre_mcp_tool_use.json", PhasePre, Env{Cwd: cwd}, engine.ToolCall{Tool: "mcp", Name: "mcp__github__create_issue"}},
		{"post_run_command.json", PhasePost, Env{}, engine.ToolCall{Tool: "exec", Command: "echo hello from windsurf"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tt.env.Home = "/home/user"
			ev, err := Windsurf{}.Decode(agentSample(t, "windsurf", tt.file), tt.env)
			if err != nil {
				t.Fatal(err)
			}
			c := ev.Call
			if ev.Phase != tt.phase || c.Agent != "windsurf" || c.Cwd != cwd || c.Session != "traj-0000-4000-8000-000000000000" ||
				c.Home != "/home/user" || !strings.HasPrefix(ev.ToolUseID, "exec-") {
				t.Fatalf("event %+v", ev)
			}
			if !sameCall(c, tt.want) {
				t.Errorf("call %+v, want %+v", c, tt.want)
			}
		})
	}
}

func TestWindsurfToolTable(t *testing.T) {
	tests := []struct {
		action, info string
		want         engine.ToolCall
	}{
		{"pre_run_command", `{"command_line":"ls","cwd":"/p"}`, engine.ToolCall{Tool: "exec", Command: "ls"}},
		{"run_command", `{"command_line":"ls"}`, engine.ToolCall{Tool: "exec", Command: "ls"}},
		{"pre_read_code", `{"file_path":"~/.ssh/id_rsa"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh/id_rsa"}},
		{"pre_write_code", `{"file_path":"a","edits":[{"old_string":"","new_string":"new file"}]}`, engine.ToolCall{Tool: "write", Path: "/p/a", Content: "new file"}},
		{"pre_write_code", `{"file_path":"/p/a","edits":[{"old_string":"x","new_string":"y"},{"old_string":"u","new_string":"v"}]}`, engine.ToolCall{Tool: "edit", Path: "/p/a", Content: "y\nv"}},
		{"pre_mcp_tool_use", `{"mcp_server_name":"db","mcp_tool_name":"drop_table","mcp_tool_arguments":{"t":"x"}}`, engine.ToolCall{Tool: "mcp", Name: "mcp__db__drop_table"}},
	}
	for _, tt := range tests {
		in, _ := json.Marshal(map[string]any{"agent_action_name": tt.action, "tool_info": json.RawMessage(tt.info)})
		ev, err := Windsurf{}.Decode(in, Env{Home: "/home/u", Cwd: "/p"})
		if err != nil {
			t.Fatalf("%s: %v", tt.action, err)
		}
		if ev.Phase != PhasePre || !sameCall(ev.Call, tt.want) {
			t.Errorf("%s %s: got %+v, want %+v", tt.action, tt.info, ev.Call, tt.want)
		}
	}
}

func TestWindsurfBadInput(t *testing.T) {
	for _, in := range []string{
		"", "nope", "[]", `{}`,
		`{"agent_action_name":"pre_run_command"}`,
		`{"agent_action_name":"pre_run_command","tool_info":"x"}`,
		`{"agent_action_name":"pre_run_command","tool_info":{"cwd":"/p"}}`,
		`{"agent_action_name":"pre_read_code","tool_info":{}}`,
		`{"agent_action_name":"pre_mcp_tool_use","tool_info":{"mcp_server_name":"x"}}`,
	} {
		if ev, err := (Windsurf{}).Decode([]byte(in), Env{}); err == nil {
			t.Errorf("Decode(%q) gave no error: %+v", in, ev)
		}
	}
	for _, in := range []string{`{"agent_action_name":"pre_user_prompt","tool_info":{"user_prompt":"hi"}}`, `{"agent_action_name":"post_cascade_response"}`} {
		ev, err := Windsurf{}.Decode([]byte(in), Env{})
		if err != nil || ev.Phase != PhaseOther {
			t.Errorf("%s is recorded, never blocked: %+v %v", in, ev, err)
		}
	}
}

func TestWindsurfAnswers(t *testing.T) {
	pre := Event{Phase: PhasePre, Name: "pre_run_command", ToolName: "run_command", Call: engine.ToolCall{Tool: "exec", Command: "rm -rf /"}}
	d := testDecisions
	tests := []struct {
		name string
		d    engine.Decision
		want Answer
	}{
		{"deny", d.deny, Answer{ExitCode: 2, Stderr: "Rampart blocked this run_command call (rm -rf /)" + wantDenyText + "\n"}},
		{"ask", d.ask, Answer{ExitCode: 2, Stderr: "Rampart blocked this run_command call (rm -rf /)" + wantAskText + "\n"}},
		{"allow", d.allow, Answer{}},
		{"log", engine.Decision{Decision: engine.ActionLog}, Answer{}},
	}
	for _, tt := range tests {
		a := Windsurf{}.Answer(pre, tt.d, Options{ExplicitAllow: true})
		if a.ExitCode != tt.want.ExitCode || a.Stderr != tt.want.Stderr || len(a.Stdout) != 0 {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, a, tt.want)
		}
	}
	post := pre
	post.Phase = PhasePost
	if a := (Windsurf{}).Answer(post, d.deny, Options{}); a.ExitCode != 0 || a.Stderr != "" {
		t.Errorf("a post event must never block: %+v", a)
	}
	if a := (Windsurf{}).Refuse(nil, "bad input."); a.ExitCode != 2 || !strings.HasPrefix(a.Stderr, "Rampart could not check this tool call, so it is blocked (fail-closed): bad input. Tell the user: they can run `rampart setup windsurf --check`") {
		t.Errorf("refuse: %+v", a)
	}
}
