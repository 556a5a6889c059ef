package hooks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-dev/rampart/engine"
)

// Copilot is the hook protocol of the GitHub Copilot CLI ("copilot").
//
// Input of the camelCase events (preToolUse, postToolUse and
// postToolUseFailure): one JSON object on stdin with sessionId, timestamp,
// cwd, toolName (bash, view, create, edit, glob, grep, web_fetch, task,
// MCP tools as SERVER-TOOL, ...) and toolArgs, the tool's arguments,
// which arrive as a JSON string or an object. The input does not name its
// event: a postToolUse adds toolResult and a postToolUseFailure adds error.
// The VS Code compatible spelling (hook_event_name, session_id,
// tool_name, tool_input) is read too.
//
// Output of preToolUse: exit 0 and
//
//	{"permissionDecision":"deny","permissionDecisionReason":"..."}
//
// Empty output lets the tool run. Copilot CLI runs the tool when a hook
// fails (any non-zero exit or a timeout), so every answer is exit 0. Its
// documented "ask" has not been reliable (older versions processed only
// deny; issue github/copilot-cli#3590 reports asks approved without the
// user), so an ask is a deny that tells the model to ask.
type Copilot struct{}

func init() { register(Copilot{}, "copilot-cli", "github-copilot") }

// Agent returns "copilot".
func (Copilot) Agent() string { return "copilot" }

// Decode parses a Copilot CLI hook input.
func (c Copilot) Decode(input []byte, env Env) (Event, error) {
	in, err := parseHookObject(input, "Copilot CLI's")
	if err != nil {
		return Event{}, err
	}
	ev := Event{
		Name:     in.Get("hook_event_name").String(),
		ToolName: firstString(in, "toolName", "tool_name"),
	}
	args := in.Get("toolArgs")
	if !args.Exists() {
		args = in.Get("tool_input")
	}
	result := in.Get("toolResult")
	if !result.Exists() {
		result = in.Get("tool_result")
	}
	switch ev.Name {
	case "PreToolUse", "preToolUse":
		ev.Phase = PhasePre
	case "PostToolUse", "postToolUse":
		ev.Phase = PhasePost
	case "PostToolUseFailure", "postToolUseFailure":
		ev.Phase = PhasePostFailure
	case "":
		// camelCase inputs do not name their event.
		switch {
		case ev.ToolName == "":
			ev.Phase = PhaseOther
		case result.Exists():
			ev.Name, ev.Phase = "postToolUse", PhasePost
		case in.Get("error").Exists():
			ev.Name, ev.Phase = "postToolUseFailure", PhasePostFailure
		default:
			ev.Name, ev.Phase = "preToolUse", PhasePre
		}
	default:
		ev.Phase = PhaseOther
	}
	if ev.Phase != PhaseOther && ev.ToolName == "" {
		return Event{}, fmt.Errorf(`%s hook input has no "toolName"`, ev.Name)
	}
	if ev.Phase == PhasePre && args.Exists() && args.Type != gjson.Null && !argsObject(args).Exists() {
		return Event{}, fmt.Errorf(`%s hook input: "toolArgs" of %s is not a JSON object`, ev.Name, ev.ToolName)
	}
	cwd := in.Get("cwd").String()
	if cwd == "" {
		cwd = env.Cwd
	}
	if ev.Phase != PhaseOther {
		ev.Call = copilotToolCall(ev.ToolName, argsObject(args), cwd, env.Home)
	}
	ev.Call.Agent = c.Agent()
	ev.Call.Session = firstString(in, "sessionId", "session_id")
	ev.Call.Cwd = cwd
	ev.Call.Home = env.Home
	switch ev.Phase {
	case PhasePre:
		if err := checkCallFields(ev); err != nil {
			return Event{}, err
		}
	case PhasePost, PhasePostFailure:
		copilotOutcome(&ev, in, result)
	}
	return ev, nil
}

// copilotToolCall maps one of Copilot CLI's tools to a tool call. A tool
// this table does not know keeps its own name as the tool, except names
// with a hyphen: built-in tools are snake_case, MCP tools SERVER-TOOL.
func copilotToolCall(tool string, args gjson.Result, cwd, home string) engine.ToolCall {
	path := absToolPath(firstString(args, "path", "file_path"), cwd, home)
	switch tool {
	case "bash", "powershell", "shell":
		return engine.ToolCall{Tool: engine.ToolExec, Command: args.Get("command").String()}
	case "write_bash", "write_powershell":
		// Input typed into a running shell session is a command.
		return engine.ToolCall{Tool: engine.ToolExec, Command: args.Get("input").String()}
	case "view", "read", "read_file":
		return engine.ToolCall{Tool: engine.ToolRead, Path: path}
	case "glob", "grep", "rg", "list_dir":
		if path == "" {
			path = cwd
		}
		if p := args.Get("pattern").String(); tool == "glob" && p != "" {
			path = absToolPath(p, path, home)
		}
		return engine.ToolCall{Tool: engine.ToolRead, Path: path}
	case "create":
		return engine.ToolCall{Tool: engine.ToolWrite, Path: path, Content: firstString(args, "file_text", "content")}
	case "edit", "str_replace", "insert":
		return engine.ToolCall{Tool: engine.ToolEdit, Path: path, Content: firstString(args, "new_str", "new_string", "insert_text")}
	case "str_replace_editor":
		switch args.Get("command").String() {
		case "view":
			return engine.ToolCall{Tool: engine.ToolRead, Path: path}
		case "create":
			return engine.ToolCall{Tool: engine.ToolWrite, Path: path, Content: args.Get("file_text").String()}
		}
		return engine.ToolCall{Tool: engine.ToolEdit, Path: path, Content: firstString(args, "new_str", "insert_text")}
	case "web_fetch", "fetch":
		return engine.ToolCall{Tool: engine.ToolFetch, URL: args.Get("url").String()}
	case "web_search":
		return engine.ToolCall{Tool: engine.ToolFetch, Name: tool, Input: rawArgs(args)}
	case "task":
		return engine.ToolCall{Tool: engine.ToolAgent, Name: firstString(args, "agent_type", "subagent_type", "description"), Input: rawArgs(args)}
	}
	if strings.Contains(tool, "-") {
		return engine.ToolCall{Tool: engine.ToolMCP, Name: mcpName("", tool), Input: rawArgs(args)}
	}
	return engine.ToolCall{Tool: tool, Name: tool, Input: rawArgs(args)}
}

// copilotOutcome reads what a post event says about the tool's run.
func copilotOutcome(ev *Event, in, result gjson.Result) {
	kind := firstString(result, "resultType", "result_type")
	if kind != "" && kind != "success" {
		ev.Phase = PhasePostFailure
		ev.Error = kind
		if text := firstString(result, "textResultForLlm", "text_result_for_llm"); text != "" {
			ev.Error += ": " + truncate(text, 500)
		}
	}
	if e := in.Get("error"); e.Exists() {
		ev.Phase = PhasePostFailure
		ev.Error = e.String()
		if e.IsObject() {
			ev.Error = e.Get("message").String()
		}
		ev.Error = truncate(ev.Error, 500)
	}
}

func truncate(s string, max int) string {
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// copilotOutput is Copilot CLI's documented preToolUse answer.
type copilotOutput struct {
	PermissionDecision       string `json:"permissionDecision"`
	PermissionDecisionReason string `json:"permissionDecisionReason,omitempty"`
}

func copilotAnswer(decision, reason string) Answer {
	out, _ := json.Marshal(copilotOutput{decision, reason})
	return Answer{Stdout: append(out, '\n')}
}

// Answer encodes d. Only preToolUse can block; every other event gets an
// empty answer. An allow is silent unless opts.ExplicitAllow.
func (Copilot) Answer(ev Event, d engine.Decision, opts Options) Answer {
	if ev.Phase != PhasePre {
		return Answer{}
	}
	switch d.Decision {
	case engine.ActionDeny:
		return copilotAnswer("deny", denyReason(ev, d))
	case engine.ActionAsk:
		return copilotAnswer("deny", askAsDenyReason(ev, d))
	}
	if opts.ExplicitAllow {
		return copilotAnswer("allow", allowReason(d))
	}
	return Answer{}
}

// Refuse denies the tool and names the problem; post events get an empty
// answer.
func (Copilot) Refuse(ev *Event, problem string) Answer {
	if ev != nil && ev.Phase != PhasePre {
		return Answer{}
	}
	return copilotAnswer("deny", refuseReason("copilot", problem))
}
