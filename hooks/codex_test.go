package hooks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/engine"
)

// The inputs captured from the real Codex CLI decode to these calls.
func TestCodexDecodesRealSamples(t *testing.T) {
	const project = "/home/user/project"
	tests := []struct {
		file  string
		phase Phase
		cwd   string
		want  engine.ToolCall
	}{
		{"pretooluse-exec.json", PhasePre, project, engine.ToolCall{Tool: "exec", Command: "echo hello from exec"}},
		{"posttooluse-exec.json", PhasePost, project, engine.ToolCall{Tool: "exec", Command: "echo hello from exec"}},
		// exec_command's workdir arrives as the event's cwd.
		{"pretooluse-exec-fail.json", PhasePre, "/home/user", engine.ToolCall{Tool: "exec", Command: "ls /nonexistent-rampart-e2e"}},
		{"posttooluse-exec-fail.json", PhasePost, "/home/user", engine.ToolCall{Tool: "exec", Command: "ls /nonexistent-rampart-e2e"}},
		{"pretooluse-apply_patch-add.json", PhasePre, project, engine.ToolCall{Tool: "write", Path: project + "/notes.txt", Content: "hello\nworld\n"}},
		{"pretooluse-apply_patch-update.json", PhasePre, project, engine.ToolCall{Tool: "edit", Path: project + "/notes.txt"}},
		{"posttooluse-apply_patch-update.json", PhasePost, project, engine.ToolCall{Tool: "edit", Path: project + "/notes.txt"}},
		{"pretooluse-mcp.json", PhasePre, project, engine.ToolCall{Tool: "mcp", Name: "mcp__e2e__echo"}},
		{"posttooluse-mcp.json", PhasePost, project, engine.ToolCall{Tool: "mcp", Name: "mcp__e2e__echo"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := Codex{}.Decode(agentSample(t, "codex", tt.file), Env{Home: "/home/user"})
			if err != nil {
				t.Fatal(err)
			}
			c := ev.Call
			if ev.Phase != tt.phase || c.Agent != "codex" || c.Cwd != tt.cwd || c.Home != "/home/user" ||
				c.Session != "00000000-0000-4000-8000-000000000000" || !strings.HasPrefix(ev.ToolUseID, "call_e2e_") {
				t.Fatalf("event %+v", ev)
			}
			if !sameCall(c, tt.want) {
				t.Errorf("call %+v, want %+v", c, tt.want)
			}
		})
	}
}

// A patch is judged file by file: every target, with its content.
func TestCodexPatchTargets(t *testing.T) {
	ev, err := Codex{}.Decode(agentSample(t, "codex", "pretooluse-apply_patch-update.json"), Env{Home: "/home/user"})
	if err != nil {
		t.Fatal(err)
	}
	got := Targets(Codex{}, ev)
	want := []engine.ToolCall{
		{Tool: "edit", Path: "/home/user/project/notes.txt"},
		{Tool: "write", Path: "/home/user/project/moved.txt", Content: "goodbye\n"},
		{Tool: "write", Path: "/home/user/project/gone.txt"},
	}
	if len(got) != len(want) {
		t.Fatalf("targets %+v", got)
	}
	for i := range want {
		if !sameCall(got[i], want[i]) || got[i].Agent != "codex" || got[i].Session == "" || got[i].Cwd != "/home/user/project" {
			t.Errorf("target %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// One target, or another tool: the call itself.
	ev, _ = Codex{}.Decode(agentSample(t, "codex", "pretooluse-apply_patch-add.json"), Env{})
	if got := Targets(Codex{}, ev); len(got) != 1 || got[0].Path != "/home/user/project/notes.txt" {
		t.Errorf("one target: %+v", got)
	}
}

func TestPatchTargets(t *testing.T) {
	patch := "*** Begin Patch\n*** Add File: a/new.txt\n+one\n+two\n*** Update File: /abs/x.go\n@@ func x\n-old\n+new\n*** Delete File: ~/.rampart/policies/p.yaml\n*** Update File: a/new.txt\n+three\n*** End Patch"
	got := PatchTargets(patch, "/p", "/home/u")
	want := []engine.ToolCall{
		{Tool: "write", Path: "/p/a/new.txt", Content: "one\ntwo\n"},
		{Tool: "edit", Path: "/abs/x.go", Content: "new\n"},
		{Tool: "write", Path: "/home/u/.rampart/policies/p.yaml"},
		{Tool: "edit", Path: "/p/a/new.txt", Content: "three\n"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if !sameCall(got[i], want[i]) {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// Codex trims the padding around a hunk's header.
	padded := PatchTargets("*** Begin Patch\n  *** Add File: /home/u/.ssh/authorized_keys\n+key\n\t*** Delete File: b.txt \n*** End Patch", "/p", "")
	if len(padded) != 2 || padded[0].Path != "/home/u/.ssh/authorized_keys" || padded[0].Content != "key\n" || padded[1].Path != "/p/b.txt" {
		t.Errorf("padded headers: %+v", padded)
	}
	for _, none := range []string{"", "not a patch", "*** Begin Patch\n*** End Patch\n", "*** Add File: \n"} {
		if got := PatchTargets(none, "/p", ""); len(got) != 0 {
			t.Errorf("%q: %+v", none, got)
		}
	}
}

// Codex applies a patch handed to apply_patch in a shell command itself,
// so the command stands for every file the patch writes too.
func TestCodexShellApplyPatchTargets(t *testing.T) {
	patch := "*** Begin Patch\n*** Add File: /home/u/.ssh/authorized_keys\n+key\n*** Update File: notes.txt\n@@\n-a\n+b\n*** End Patch\n"
	for _, input := range []string{
		`{"command":["apply_patch",` + strconvQuote(patch) + `]}`,
		`{"command":["bash","-lc",` + strconvQuote("apply_patch <<'EOF'\n"+patch+"EOF\n") + `]}`,
		`{"command":` + strconvQuote("cd sub && apply_patch <<'EOF'\n"+patch+"EOF\n") + `}`,
	} {
		in := `{"hook_event_name":"PreToolUse","tool_name":"Bash","session_id":"s","tool_input":` + input + `,"cwd":"/p"}`
		ev, err := Codex{}.Decode([]byte(in), Env{Home: "/home/u"})
		if err != nil {
			t.Fatal(err)
		}
		got := Targets(Codex{}, ev)
		if len(got) != 3 || got[0].Tool != "exec" ||
			!sameCall(got[1], engine.ToolCall{Tool: "write", Path: "/home/u/.ssh/authorized_keys", Content: "key\n"}) ||
			!sameCall(got[2], engine.ToolCall{Tool: "edit", Path: "/p/notes.txt", Content: "b\n"}) ||
			got[1].Agent != "codex" || got[1].Session != "s" || got[1].Cwd != "/p" {
			t.Errorf("%s: targets %+v", input, got)
		}
	}
	// A command that only mentions a patch, or does not run apply_patch,
	// is itself alone.
	for _, cmd := range []string{"echo apply_patch", "cat <<'EOF'\n" + patch + "EOF"} {
		in, _ := json.Marshal(map[string]any{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": map[string]any{"command": cmd}, "cwd": "/p"})
		ev, _ := Codex{}.Decode(in, Env{})
		if got := Targets(Codex{}, ev); len(got) != 1 || got[0].Command != cmd {
			t.Errorf("%q: targets %+v", cmd, got)
		}
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestCodexToolTable(t *testing.T) {
	tests := []struct {
		tool, input string
		want        engine.ToolCall
	}{
		{"Bash", `{"command":"ls -la"}`, engine.ToolCall{Tool: "exec", Command: "ls -la"}},
		// The older shell tool's argv: a bash -lc script is the script,
		// anything else an exact argument vector.
		{"Bash", `{"command":["bash","-lc","rm -rf build"]}`, engine.ToolCall{Tool: "exec", Command: "rm -rf build"}},
		{"shell", `{"command":["/bin/sh","-c","echo hi"]}`, engine.ToolCall{Tool: "exec", Command: "echo hi"}},
		{"shell", `{"command":["git","status"]}`, engine.ToolCall{Tool: "exec"}},
		{"exec_command", `{"cmd":"make test"}`, engine.ToolCall{Tool: "exec", Command: "make test"}},
		{"apply_patch", `{"command":"*** Begin Patch\n*** Add File: x.txt\n+hi\n*** End Patch\n"}`, engine.ToolCall{Tool: "write", Path: "/p/x.txt", Content: "hi\n"}},
		{"apply_patch", `{"command":"garbage"}`, engine.ToolCall{Tool: "apply_patch", Name: "apply_patch"}},
		{"Read", `{"file_path":"~/.ssh/id_rsa"}`, engine.ToolCall{Tool: "read", Path: "/home/u/.ssh/id_rsa"}},
		{"view_image", `{"path":"img.png"}`, engine.ToolCall{Tool: "read", Path: "/p/img.png"}},
		{"mcp__github__create_issue", `{"title":"t"}`, engine.ToolCall{Tool: "mcp", Name: "mcp__github__create_issue"}},
		{"update_plan", `{"plan":[]}`, engine.ToolCall{Tool: "update_plan", Name: "update_plan"}},
	}
	for _, tt := range tests {
		in, _ := json.Marshal(map[string]any{"hook_event_name": "PreToolUse", "tool_name": tt.tool, "tool_input": json.RawMessage(tt.input), "cwd": "/p"})
		ev, err := Codex{}.Decode(in, Env{Home: "/home/u"})
		if err != nil {
			t.Fatalf("%s: %v", tt.tool, err)
		}
		if !sameCall(ev.Call, tt.want) {
			t.Errorf("%s %s: got %+v, want %+v", tt.tool, tt.input, ev.Call, tt.want)
		}
	}
	in := `{"hook_event_name":"PreToolUse","tool_name":"shell","tool_input":{"command":["git","status"]},"cwd":"/p"}`
	if ev, _ := (Codex{}).Decode([]byte(in), Env{}); strings.Join(ev.Call.Argv, " ") != "git status" {
		t.Errorf("argv %q", ev.Call.Argv)
	}
}

func TestCodexOutcome(t *testing.T) {
	ev, err := Codex{}.Decode(agentSample(t, "codex", "posttooluse-apply_patch-add.json"), Env{})
	if err != nil || ev.ExitCode == nil || *ev.ExitCode != 0 {
		t.Fatalf("apply_patch outcome %+v %v", ev, err)
	}
	if ev, _ := (Codex{}).Decode(agentSample(t, "codex", "posttooluse-exec-fail.json"), Env{}); ev.ExitCode != nil {
		t.Errorf("shell output has no exit code: %+v", ev)
	}
}

func TestCodexBadInput(t *testing.T) {
	for _, in := range []string{"", "nope", "[]", `{}`, `{"hook_event_name":"PreToolUse"}`,
		`{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{}}`,
		`{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"cmd_renamed":"rm -rf /"}}`} {
		if _, err := (Codex{}).Decode([]byte(in), Env{}); err == nil {
			t.Errorf("Decode(%q) gave no error", in)
		}
	}
	ev, err := Codex{}.Decode([]byte(`{"hook_event_name":"SessionStart","source":"startup"}`), Env{})
	if err != nil || ev.Phase != PhaseOther {
		t.Fatalf("%+v %v", ev, err)
	}
}

func TestCodexAnswers(t *testing.T) {
	pre := Event{Phase: PhasePre, ToolName: "Bash", Call: engine.ToolCall{Tool: "exec", Command: "rm -rf /"}}
	got := string(Codex{}.Answer(pre, testDecisions.deny, Options{}).Stdout)
	want := `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"Rampart blocked this Bash call (rm -rf /)` + wantDenyText + `"}}` + "\n"
	if got != want {
		t.Errorf("deny:\n got %s\nwant %s", got, want)
	}
	got = string(Codex{}.Answer(pre, testDecisions.ask, Options{}).Stdout)
	want = `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"Rampart blocked this Bash call (rm -rf /)` + wantAskText + `"}}` + "\n"
	if got != want {
		t.Errorf("ask:\n got %s\nwant %s", got, want)
	}
	for _, opts := range []Options{{}, {ExplicitAllow: true}} {
		if a := (Codex{}).Answer(pre, testDecisions.allow, opts); len(a.Stdout) != 0 || a.ExitCode != 0 {
			t.Errorf("an allow must be silent (Codex rejects a bare allow): %+v", a)
		}
	}
	post := pre
	post.Phase = PhasePost
	if a := (Codex{}).Answer(post, testDecisions.deny, Options{}); len(a.Stdout) != 0 {
		t.Errorf("a post event must never block: %+v", a)
	}
	a := Codex{}.Refuse(nil, "bad input.")
	if !strings.Contains(string(a.Stdout), `"permissionDecision":"deny","permissionDecisionReason":"Rampart could not check this tool call, so it is blocked (fail-closed): bad input. Tell the user: they can run `+"`rampart setup codex --check`") || a.ExitCode != 0 {
		t.Errorf("refuse: %+v", a)
	}
}

func TestCodexLookup(t *testing.T) {
	for _, name := range []string{"codex", "Codex", "codex-cli", "openai-codex"} {
		if p, ok := Lookup(name); !ok || p.Agent() != "codex" {
			t.Errorf("Lookup(%q) = %v, %v", name, p, ok)
		}
	}
}

func FuzzCodexDecode(f *testing.F) {
	fuzzProtocol(f, Codex{}, "codex",
		`{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":["bash","-lc"]}}`,
		`{"hook_event_name":"PreToolUse","tool_name":"apply_patch","tool_input":{"command":"*** Add File: \n+x"}}`)
}

// FuzzPatchTargets: any text gives absolute, non-empty paths and never
// panics.
func FuzzPatchTargets(f *testing.F) {
	f.Add("*** Begin Patch\n*** Update File: a\n*** Move to: b\n+x\n*** Delete File: c\n*** End Patch\n")
	f.Fuzz(func(t *testing.T, patch string) {
		for _, c := range PatchTargets(patch, "/p", "/home/u") {
			if c.Path == "" || (c.Tool != "write" && c.Tool != "edit") {
				t.Fatalf("target %+v", c)
			}
		}
	})
}
