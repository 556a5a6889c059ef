package hooks

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-dev/rampart/engine"
)

// ClaudeCode is the hook protocol of Anthropic's Claude Code.
//
// Input: one JSON object on stdin with hook_event_name, session_id, cwd,
// tool_name, tool_input, tool_use_id and, after the tool ran,
// tool_response (PostToolUse) or error (PostToolUseFailure).
// Output of PreToolUse: exit 0 and
//
//	{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"..."}}
//
// Claude Code runs the tool when a hook exits with any code but 0 or 2,
// prints something that is not JSON, or times out, so every answer,
// including failures, is exit 0 with documented JSON or nothing.
type ClaudeCode struct{}

func init() { register(ClaudeCode{}, "claude", "claudecode", "claude_code") }

// Agent returns "claude-code".
func (ClaudeCode) Agent() string { return "claude-code" }

// Decode parses a Claude Code hook input.
func (c ClaudeCode) Decode(input []byte, env Env) (Event, error) {
	in, err := parseHookObject(input, "Claude Code's")
	if err != nil {
		return Event{}, err
	}
	ev, cwd, err := readEvent(in, env, func(name string) Phase {
		switch name {
		case "PreToolUse":
			return PhasePre
		case "PostToolUse":
			return PhasePost
		case "PostToolUseFailure":
			return PhasePostFailure
		}
		return PhaseOther
	})
	if err != nil {
		return Event{}, err
	}
	ev.Call = claudeToolCall(ev.ToolName, in.Get("tool_input"), cwd, env.Home)
	finishCall(&ev, c.Agent(), in, cwd, env)
	if ev.Phase == PhasePre {
		if err := checkCallFields(ev); err != nil {
			return Event{}, err
		}
	}

	if ev.Phase == PhasePost || ev.Phase == PhasePostFailure {
		claudeOutcome(&ev, in)
	}
	return ev, nil
}

// claudeToolCall maps one of Claude Code's tools to a tool call. A tool
// this table does not know keeps its own name as the tool, so policies can
// still match it (tool: "*" or its name) and the default action applies.
func claudeToolCall(tool string, input gjson.Result, cwd, home string) engine.ToolCall {
	// Only a string is a string: a number or an array where the tool
	// takes text is no call Claude Code runs, and no text to judge.
	str := func(key string) string { return firstString(input, key) }
	// Paths are made absolute the way the tool will resolve them, so
	// the audit trail shows the file itself.
	abs := func(p string) string { return absToolPath(p, cwd, home) }
	switch tool {
	case "Bash", "PowerShell":
		return engine.ToolCall{Tool: engine.ToolExec, Command: str("command")}
	case "Monitor":
		// A monitor runs a command or opens a WebSocket.
		if u := str("ws.url"); u != "" {
			return engine.ToolCall{Tool: engine.ToolFetch, URL: u, Input: rawInput(input)}
		}
		return engine.ToolCall{Tool: engine.ToolExec, Command: str("command")}
	case "Read", "NotebookRead":
		p := str("file_path")
		if p == "" {
			p = str("notebook_path")
		}
		return engine.ToolCall{Tool: engine.ToolRead, Path: abs(p)}
	case "Glob":
		// The pattern is where the reads go: a pattern of ~/.ssh/* in
		// any folder reads the keys.
		dir := str("path")
		if dir == "" {
			dir = cwd
		}
		p := str("pattern")
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, "~") {
			p = filepath.Join(abs(dir), p)
		}
		return engine.ToolCall{Tool: engine.ToolRead, Path: abs(p)}
	case "Grep", "LS":
		p := str("path")
		if p == "" {
			p = cwd
		}
		return engine.ToolCall{Tool: engine.ToolRead, Path: abs(p)}
	case "Write":
		return engine.ToolCall{Tool: engine.ToolWrite, Path: abs(str("file_path")), Content: str("content")}
	case "Edit":
		return engine.ToolCall{Tool: engine.ToolEdit, Path: abs(str("file_path")), Content: str("new_string")}
	case "MultiEdit":
		var content []string
		for _, e := range input.Get("edits").Array() {
			content = append(content, e.Get("new_string").String())
		}
		return engine.ToolCall{Tool: engine.ToolEdit, Path: abs(str("file_path")), Content: strings.Join(content, "\n")}
	case "NotebookEdit":
		return engine.ToolCall{Tool: engine.ToolEdit, Path: abs(str("notebook_path")), Content: str("new_source")}
	case "WebFetch":
		return engine.ToolCall{Tool: engine.ToolFetch, URL: str("url")}
	case "WebSearch":
		// A search has no URL; policies see it as a fetch by name.
		return engine.ToolCall{Tool: engine.ToolFetch, Name: tool, Input: rawInput(input)}
	case "Agent", "Task":
		return engine.ToolCall{Tool: engine.ToolAgent, Name: str("subagent_type"), Input: rawInput(input)}
	}
	if strings.HasPrefix(tool, "mcp__") {
		return engine.ToolCall{Tool: engine.ToolMCP, Name: tool, Input: rawInput(input)}
	}
	return engine.ToolCall{Tool: tool, Name: tool, Input: rawInput(input)}
}

func rawInput(input gjson.Result) json.RawMessage {
	if !input.Exists() || !gjson.Valid(input.Raw) {
		return nil
	}
	return json.RawMessage(input.Raw)
}

// claudeOutcome reads what a post event says about the tool's run.
func claudeOutcome(ev *Event, in gjson.Result) {
	resp := in.Get("tool_response")
	for _, key := range []string{"exit_code", "exitCode", "code"} {
		if v := resp.Get(key); v.Type == gjson.Number {
			code := int(v.Int())
			ev.ExitCode = &code
			break
		}
	}
	for _, key := range []string{"duration_ms", "durationMs"} {
		for _, src := range []gjson.Result{in, resp} {
			if v := src.Get(key); v.Type == gjson.Number && ev.DurationMS == nil {
				ms := v.Int()
				ev.DurationMS = &ms
			}
		}
	}
	if ev.Phase == PhasePostFailure {
		ev.Error = in.Get("error").String()
		// Bash failures read "Exit code 2\n<stderr>".
		var code int
		if ev.ExitCode == nil {
			if _, err := fmt.Sscanf(ev.Error, "Exit code %d", &code); err == nil {
				ev.ExitCode = &code
			}
		}
		if in.Get("is_interrupt").Bool() && ev.Error == "" {
			ev.Error = "interrupted"
		}
	}
	if ev.Error == "" && resp.Get("interrupted").Bool() {
		ev.Error = "interrupted"
	}
}

// claudeOutput is Claude Code's documented PreToolUse answer.
type claudeOutput struct {
	HookSpecificOutput claudeDecision `json:"hookSpecificOutput"`
}

type claudeDecision struct {
	HookEventName            string `json:"hookEventName"`
	PermissionDecision       string `json:"permissionDecision"`
	PermissionDecisionReason string `json:"permissionDecisionReason,omitempty"`
}

func claudeAnswer(decision, reason string) Answer {
	out, _ := json.Marshal(claudeOutput{claudeDecision{"PreToolUse", decision, reason}})
	return Answer{Stdout: append(out, '\n')}
}

// Answer encodes d. Only PreToolUse can block; every other event gets an
// empty answer. An allow is silent unless opts.ExplicitAllow.
func (ClaudeCode) Answer(ev Event, d engine.Decision, opts Options) Answer {
	if ev.Phase != PhasePre {
		return Answer{}
	}
	switch d.Decision {
	case engine.ActionDeny:
		return claudeAnswer("deny", denyReason(ev, d))
	case engine.ActionAsk:
		return claudeAnswer("ask", askReason(ev, d))
	}
	if opts.ExplicitAllow {
		return claudeAnswer("allow", allowReason(d))
	}
	return Answer{}
}

// Refuse blocks the tool and names the problem. After the tool ran there
// is nothing to block: post events get an empty answer.
func (ClaudeCode) Refuse(ev *Event, problem string) Answer {
	if ev != nil && ev.Phase != PhasePre {
		return Answer{}
	}
	return claudeAnswer("deny", refuseReason("claude-code", problem))
}
