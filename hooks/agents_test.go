package hooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampart-dev/rampart/engine"
)

// agentSample reads hooks/testdata/AGENT/NAME.
func agentSample(t testing.TB, agent, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", agent, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sameCall compares the fields of a call that a decoder sets from the
// tool's input.
func sameCall(got, want engine.ToolCall) bool {
	return got.Tool == want.Tool && got.Command == want.Command && got.Path == want.Path &&
		got.URL == want.URL && got.Name == want.Name && got.Content == want.Content
}

var testDecisions = struct {
	deny, ask, allow engine.Decision
}{
	engine.Decision{Decision: engine.ActionDeny, Policy: "standard", Rule: "block-destructive", Message: "Use rm -rf ./build."},
	engine.Decision{Decision: engine.ActionAsk, Policy: "standard", Rule: "sudo", Message: "Runs as root."},
	engine.Decision{Decision: engine.ActionAllow},
}

// The reasons every adapter writes, for the exact-answer tests.
const (
	wantDenyText = " by rule standard/block-destructive. Use rm -rf ./build. Do not retry it or reach the same result another way; if the task needs it, tell the user what you wanted to do and why, and let them run it or change the policy."
	wantAskText  = " because it needs a human's approval (rule standard/sudo). Runs as root. This agent cannot ask the user from a hook. Do not retry it or reach the same result another way; ask the user: tell them what you wanted to do and why, and let them run it themselves or change the policy."
)

// fuzzProtocol feeds arbitrary stdin to a decoder: it must never panic,
// and every answer must be empty or one line of valid JSON, with an exit
// code the agent reads as allow (0) or block (2).
func fuzzProtocol(f *testing.F, p Protocol, dir string, extra ...string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	for _, e := range extra {
		f.Add([]byte(e))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		ev, err := p.Decode(input, Env{Home: "/home/u", Cwd: "/tmp"})
		answers := []Answer{p.Refuse(nil, "x")}
		if err == nil {
			for _, a := range []engine.Action{engine.ActionAllow, engine.ActionLog, engine.ActionAsk, engine.ActionDeny} {
				answers = append(answers, p.Answer(ev, engine.Decision{Decision: a, Message: string(input)}, Options{ExplicitAllow: true}))
			}
			answers = append(answers, p.Refuse(&ev, string(input)))
		}
		for _, a := range answers {
			if a.ExitCode != 0 && a.ExitCode != 2 {
				t.Fatalf("exit code %d", a.ExitCode)
			}
			if len(a.Stdout) > 0 && !json.Valid(a.Stdout) {
				t.Fatalf("answer is not JSON: %q", a.Stdout)
			}
		}
	})
}

func FuzzCursorDecode(f *testing.F) {
	fuzzProtocol(f, Cursor{}, "cursor", `{"hook_event_name":"preToolUse","tool_name":"Shell","tool_input":"not an object"}`)
}

func FuzzCopilotDecode(f *testing.F) {
	fuzzProtocol(f, Copilot{}, "copilot", `{"toolName":"bash","toolArgs":"{\"command\":"}`)
}

func FuzzClineDecode(f *testing.F) {
	fuzzProtocol(f, Cline{}, "cline", `{"hookName":"PreToolUse","preToolUse":{"toolName":"use_mcp_tool","parameters":{"arguments":"[1]"}}}`)
}

func FuzzWindsurfDecode(f *testing.F) {
	fuzzProtocol(f, Windsurf{}, "windsurf", `{"agent_action_name":"pre_write_code","tool_info":{"edits":"x"}}`)
}
