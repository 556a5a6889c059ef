package hooks

import (
	"strings"
	"testing"
)

// gjson reads the first of two equal keys, the agents the last: an input
// with a duplicate key, in the hook JSON or in arguments sent as a JSON
// string, is refused instead of judged on a value the agent never runs.
func TestDuplicateKeysAreRefused(t *testing.T) {
	tests := []struct {
		p     Protocol
		input string
		key   string
	}{
		{ClaudeCode{}, `{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls","command":"rm -rf /"},"cwd":"/p"}`, "tool_input.command"},
		{ClaudeCode{}, `{"hook_event_name":"PreToolUse","tool_name":"Read","tool_name":"Bash","tool_input":{"command":"rm -rf /"}}`, "tool_name"},
		// An escaped key is the same key.
		{Codex{}, `{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls","comm\u0061nd":"rm -rf /"}}`, "tool_input.command"},
		{Gemini{}, `{"hook_event_name":"BeforeTool","tool_name":"write_file","tool_input":{"file_path":"/p/a","file_path":"/home/u/.bashrc","content":"x"}}`, "tool_input.file_path"},
		{Copilot{}, `{"toolName":"bash","cwd":"/p","toolArgs":"{\"command\":\"ls\",\"command\":\"rm -rf /\"}"}`, "toolArgs.command"},
		{Cursor{}, `{"hook_event_name":"beforeMCPExecution","tool_name":"run","tool_input":"{\"q\":1,\"q\":2}"}`, "tool_input.q"},
		{Cline{}, `{"hookName":"PreToolUse","preToolUse":{"toolName":"use_mcp_tool","parameters":{"server_name":"s","tool_name":"t","arguments":"{\"a\":{\"b\":1,\"b\":2}}"}}}`, "preToolUse.parameters.arguments.a.b"},
		{Windsurf{}, `{"agent_action_name":"pre_write_code","tool_info":{"file_path":"/p/a","edits":[{"new_string":"x","new_string":"y"}]}}`, "tool_info.edits.0.new_string"},
	}
	for _, tt := range tests {
		ev, err := tt.p.Decode([]byte(tt.input), Env{Home: "/home/u", Cwd: "/p"})
		if err == nil || !strings.Contains(err.Error(), `"`+tt.key+`" twice`) {
			t.Errorf("%s %s: got %+v, %v; want an error naming %q", tt.p.Agent(), tt.input, ev.Call, err, tt.key)
		}
	}
	// Equal keys in different objects, and a duplicate in text that is
	// only content, are fine.
	for _, in := range []string{
		`{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls","o":{"command":"x"}},"cwd":"/p"}`,
		`{"hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"file_path":"/p/a.json","content":"{\"a\":1,\"a\":2}"},"cwd":"/p"}`,
	} {
		if _, err := (ClaudeCode{}).Decode([]byte(in), Env{}); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}
