package hooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampart-dev/rampart/engine"
)

// FuzzClaudeCodeDecode feeds arbitrary stdin to the decoder: it must never
// panic, and every answer must be empty or one line of valid JSON.
func FuzzClaudeCodeDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "claude-code", "*.json"))
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Add([]byte(`{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":"not an object"}`))
	f.Fuzz(func(t *testing.T, input []byte) {
		ev, err := ClaudeCode{}.Decode(input, Env{Home: "/home/u", Cwd: "/tmp"})
		answers := []Answer{ClaudeCode{}.Refuse(nil, "x")}
		if err == nil {
			for _, a := range []engine.Action{engine.ActionAllow, engine.ActionLog, engine.ActionAsk, engine.ActionDeny} {
				answers = append(answers, ClaudeCode{}.Answer(ev, engine.Decision{Decision: a, Message: string(input)}, Options{ExplicitAllow: true}))
			}
			answers = append(answers, ClaudeCode{}.Refuse(&ev, string(input)))
		}
		for _, a := range answers {
			if a.ExitCode != 0 {
				t.Fatalf("exit code %d", a.ExitCode)
			}
			if len(a.Stdout) > 0 && !json.Valid(a.Stdout) {
				t.Fatalf("answer is not JSON: %q", a.Stdout)
			}
		}
	})
}
