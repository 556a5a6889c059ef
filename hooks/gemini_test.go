package hooks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/engine"
)

// The inputs captured from the real Gemini CLI decode to these calls.
func TestGeminiDecodesRealSamples(t *testing.T) {
	const project = "/home/user/project"
	tests := []struct {
		file  string
		phase Phase
		want  engine.ToolCall
	}{
		{"beforetool-run_shell_command.json", PhasePre, engine.ToolCall{Tool: "exec", Command: "echo hello from shell"}},
		{"aftertool-run_shell_command.json", PhasePost, engine.ToolCall{Tool: "exec", Command: "echo hello from shell"}},
		{"beforetool-run_shell_command-fail.json", PhasePre, engine.ToolCall{Tool: "exec", Command: "ls /nonexistent-rampart-e2e"}},
		{"beforetool-write_file.json", PhasePre, engine.ToolCall{Tool: "write", Path: project + "/notes.txt", Content: "hello\nworld\n"}},
		{"aftertool-write_file.json", PhasePost, engine.ToolCall{Tool: "write", Path: project + "/notes.txt", Content: "hello\nworld\n"}},
		{"beforetool-replace.json", PhasePre, engine.ToolCall{Tool: "edit", Path: project + "/notes.txt", Content: "goodbye"}},
		{"beforetool-read_file.json", PhasePre, engine.ToolCall{Tool: "read", Path: project + "/notes.txt"}},
		{"aftertool-read_file-missing.json", PhasePostFailure, engine.ToolCall{Tool: "read", Path: project + "/missing.txt"}},
		{"beforetool-glob.json", PhasePre, engine.ToolCall{Tool: "read", Path: project + "/*.txt"}},
		{"beforetool-grep_search.json", PhasePre, engine.ToolCall{Tool: "read", Path: project}},
		{"beforetool-list_directory.json", PhasePre, engine.ToolCall{Tool: "read", Path: project}},
		{"beforetool-web_fetch.json", PhasePre, engine.ToolCall{Tool: "fetch", URL: "http://127.0.0.1:1/page"}},
		{"aftertool-web_fetch.json", PhasePostFailure, engine.ToolCall{Tool: "fetch", URL: "http://127.0.0.1:1/page"}},
		{"beforetool-google_web_search.json", PhasePre, engine.ToolCall{Tool: "fetch", Name: "google_web_search"}},
		{"beforetool-mcp_e2e_echo.json", PhasePre, engine.ToolCall{Tool: "mcp", Name: "mcp__e2e__echo"}},
		{"aftertool-mcp_e2e_echo.json", PhasePost, engine.ToolCall{Tool: "mcp", Name: "mcp__e2e__echo"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := Gemini{}.Decode(agentSample(t, "gemini", tt.file), Env{Home: "/home/user"})
			if err != nil {
				t.Fatal(err)
			}
			c := ev.Call
			if ev.Phase != tt.phase || c.Agent != "gemini" || c.Cwd != project || c.Home != "/home/user" ||
				c.Session != "00000000-0000-4000-8000-000000000000" {
				t.Fatalf("event %+v", ev)
			}
			if !sameCall(c, tt.want) {
				t.Errorf("call %+v, want %+v", c, tt.want)
			}
		})
	}
}

func TestGeminiOutcome(t *testing.T) {
	ev, err := Gemini{}.Decode(agentSample(t, "gemini", "aftertool-run_shell_command-fail.json"), Env{})
	if err != nil || ev.ExitCode == nil || *ev.ExitCode != 2 || ev.Phase != PhasePost {
		t.Fatalf("shell outcome %+v %v", ev, err)
	}
	ev, _ = Gemini{}.Decode(agentSample(t, "gemini", "aftertool-read_file-missing.json"), Env{})
	if !strings.HasPrefix(ev.Error, "File not found: ") {
		t.Errorf("error %q", ev.Error)
	}
	ev, _ = Gemini{}.Decode(agentSample(t, "gemini", "aftertool-run_shell_command.json"), Env{})
	if ev.ExitCode != nil || ev.Error != "" {
		t.Errorf("success outcome %+v", ev)
	}
}

func TestGeminiToolTable(t *testing.T) {
	tests := []struct {
		tool, input string
		want        engine.ToolCall
	}{
		{"run_shell_command", `{"command":"ls","dir_path":"sub"}`, engine.ToolCall{Tool: "exec", Command: "ls"}},
		{"write_file", `{"file_path":"rel/a.txt","content":"x"}`, engine.ToolCall{Tool: "write", Path: "/p/rel/a.txt", Content: "x"}},
		{"replace", `{"file_path":"/p/a","old_string":"x","new_string":"y"}`, engine.ToolCall{Tool: "edit", Path: "/p/a", Content: "y"}},
		{"read_file", `{"file_path":"~/.ssh/id_rsa"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh/id_rsa"}},
		{"read_file", `{"absolute_path":"/etc/shadow"}`, engine.ToolCall{Tool: "read", Path: "/etc/shadow"}},
		{"read_many_files", `{"include":["src/*.go","~/.aws/credentials"]}`, engine.ToolCall{Tool: "read", Path: "/p/src/*.go"}},
		{"read_many_files", `{}`, engine.ToolCall{Tool: "read", Path: "/p"}},
		{"glob", `{"pattern":"*","dir_path":"/home/u/.ssh"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh/*"}},
		{"glob", `{"pattern":"**/*.pem"}`, engine.ToolCall{Tool: "read", Path: "/p/**/*.pem"}},
		{"grep_search", `{"pattern":"BEGIN","dir_path":"~/.ssh"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh"}},
		{"search_file_content", `{"pattern":"x"}`, engine.ToolCall{Tool: "read", Path: "/p"}},
		{"list_directory", `{"dir_path":"/etc"}`, engine.ToolCall{Tool: "read", Path: "/etc"}},
		{"web_fetch", `{"prompt":"Read https://a.test/x, then http://b.test/y."}`, engine.ToolCall{Tool: "fetch", URL: "https://a.test/x"}},
		{"web_fetch", `{"url":"https://c.test/"}`, engine.ToolCall{Tool: "fetch", URL: "https://c.test/"}},
		{"web_fetch", `{"prompt":"no url here"}`, engine.ToolCall{Tool: "fetch", Name: "web_fetch"}},
		{"google_web_search", `{"query":"go"}`, engine.ToolCall{Tool: "fetch", Name: "google_web_search"}},
		{"mcp_github_create_issue", `{"title":"t"}`, engine.ToolCall{Tool: "mcp", Name: "mcp__github_create_issue"}},
		{"write_todos", `{"todos":[]}`, engine.ToolCall{Tool: "write_todos", Name: "write_todos"}},
	}
	for _, tt := range tests {
		in, _ := json.Marshal(map[string]any{"hook_event_name": "BeforeTool", "tool_name": tt.tool, "tool_input": json.RawMessage(tt.input), "cwd": "/p"})
		ev, err := Gemini{}.Decode(in, Env{Home: "/home/u"})
		if err != nil {
			t.Fatalf("%s: %v", tt.tool, err)
		}
		if !sameCall(ev.Call, tt.want) {
			t.Errorf("%s %s: got %+v, want %+v", tt.tool, tt.input, ev.Call, tt.want)
		}
	}
	// A shell command runs in its dir_path.
	ev, _ := Gemini{}.Decode([]byte(`{"hook_event_name":"BeforeTool","tool_name":"run_shell_command","tool_input":{"command":"ls","dir_path":"sub"},"cwd":"/p"}`), Env{})
	if ev.Call.Cwd != "/p/sub" {
		t.Errorf("cwd %q", ev.Call.Cwd)
	}
}

// Every URL of a web_fetch and every path of a read_many_files is judged.
func TestGeminiTargets(t *testing.T) {
	in := `{"hook_event_name":"BeforeTool","session_id":"s","tool_name":"web_fetch","tool_input":{"prompt":"Compare https://a.test/x and https://b.test/y."},"cwd":"/p"}`
	ev, err := Gemini{}.Decode([]byte(in), Env{Home: "/home/u"})
	if err != nil {
		t.Fatal(err)
	}
	got := Targets(Gemini{}, ev)
	if len(got) != 2 || got[0].URL != "https://a.test/x" || got[1].URL != "https://b.test/y" || got[1].Agent != "gemini" || got[1].Session != "s" {
		t.Fatalf("fetch targets %+v", got)
	}
	in = `{"hook_event_name":"BeforeTool","tool_name":"read_many_files","tool_input":{"include":["README.md","~/.ssh/id_rsa"]},"cwd":"/p"}`
	ev, _ = Gemini{}.Decode([]byte(in), Env{Home: "/home/u"})
	got = Targets(Gemini{}, ev)
	if len(got) != 2 || got[0].Path != "/p/README.md" || got[1].Path != "/home/u/.ssh/id_rsa" || got[1].Tool != "read" {
		t.Fatalf("read targets %+v", got)
	}
	ev, _ = Gemini{}.Decode(agentSample(t, "gemini", "beforetool-read_file.json"), Env{})
	if got := Targets(Gemini{}, ev); len(got) != 1 || got[0].Path != ev.Call.Path {
		t.Errorf("single target %+v", got)
	}
}

func TestGeminiBadInput(t *testing.T) {
	for _, in := range []string{"", "nope", "[]", `{}`, `{"hook_event_name":"BeforeTool"}`,
		`{"hook_event_name":"BeforeTool","tool_name":"run_shell_command","tool_input":{}}`,
		`{"hook_event_name":"BeforeTool","tool_name":"read_file","tool_input":{"path_renamed":"/etc/shadow"}}`} {
		if _, err := (Gemini{}).Decode([]byte(in), Env{}); err == nil {
			t.Errorf("Decode(%q) gave no error", in)
		}
	}
	ev, err := Gemini{}.Decode([]byte(`{"hook_event_name":"SessionStart","source":"startup"}`), Env{})
	if err != nil || ev.Phase != PhaseOther {
		t.Fatalf("%+v %v", ev, err)
	}
}

func TestGeminiAnswers(t *testing.T) {
	pre := Event{Phase: PhasePre, ToolName: "run_shell_command", Call: engine.ToolCall{Tool: "exec", Command: "rm -rf /"}}
	got := string(Gemini{}.Answer(pre, testDecisions.deny, Options{}).Stdout)
	want := `{"decision":"deny","reason":"Rampart blocked this run_shell_command call (rm -rf /)` + wantDenyText + `"}` + "\n"
	if got != want {
		t.Errorf("deny:\n got %s\nwant %s", got, want)
	}
	got = string(Gemini{}.Answer(pre, testDecisions.ask, Options{}).Stdout)
	want = `{"decision":"deny","reason":"Rampart blocked this run_shell_command call (rm -rf /)` + wantAskText + `"}` + "\n"
	if got != want {
		t.Errorf("ask:\n got %s\nwant %s", got, want)
	}
	for _, opts := range []Options{{}, {ExplicitAllow: true}} {
		if a := (Gemini{}).Answer(pre, testDecisions.allow, opts); len(a.Stdout) != 0 || a.ExitCode != 0 {
			t.Errorf("an allow must be silent: %+v", a)
		}
	}
	post := pre
	post.Phase = PhasePost
	if a := (Gemini{}).Answer(post, testDecisions.deny, Options{}); len(a.Stdout) != 0 {
		t.Errorf("AfterTool must never block: %+v", a)
	}
	a := Gemini{}.Refuse(nil, "bad input.")
	if got := string(a.Stdout); got != `{"decision":"deny","reason":"Rampart could not check this tool call, so it is blocked (fail-closed): bad input. Tell the user: they can run `+"`rampart setup gemini --check`"+` to find the problem."}`+"\n" || a.ExitCode != 0 {
		t.Errorf("refuse: %q", got)
	}
}

func TestGeminiLookup(t *testing.T) {
	for _, name := range []string{"gemini", "gemini-cli", "google-gemini"} {
		if p, ok := Lookup(name); !ok || p.Agent() != "gemini" {
			t.Errorf("Lookup(%q) = %v, %v", name, p, ok)
		}
	}
}

func FuzzGeminiDecode(f *testing.F) {
	fuzzProtocol(f, Gemini{}, "gemini",
		`{"hook_event_name":"BeforeTool","tool_name":"web_fetch","tool_input":{"prompt":"https://"}}`,
		`{"hook_event_name":"BeforeTool","tool_name":"read_many_files","tool_input":{"include":[1,"",null]}}`)
}
