package hooks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-dev/rampart/engine"
)

// Cline is the hook protocol of Cline (the VS Code extension and its
// CLI). Cline runs an executable file named after the hook (PreToolUse,
// PostToolUse) from its hooks folder.
//
// Input: one JSON object on stdin with clineVersion, hookName, timestamp,
// taskId, workspaceRoots, userId and the hook's own object: preToolUse
// {toolName, parameters} (execute_command, read_file, write_to_file,
// replace_in_file, use_mcp_tool, ...; every parameter is a string) or
// postToolUse {toolName, parameters, result, success, executionTimeMs}.
//
// Output: exit 0 and
//
//	{"cancel":true,"errorMessage":"...","contextModification":"..."}
//
// cancel true blocks the tool (Cline then stops the task and shows
// errorMessage); contextModification is text added to the conversation.
// Cline honours the JSON whatever the exit code, and runs the tool when a
// hook prints no JSON, so every answer is a JSON object. Cline hooks
// cannot ask the user: an ask is a cancel that says to ask.
type Cline struct{}

func init() { register(Cline{}, "claude-dev", "cline-cli") }

// Agent returns "cline".
func (Cline) Agent() string { return "cline" }

// Decode parses a Cline hook input.
func (c Cline) Decode(input []byte, env Env) (Event, error) {
	in, err := parseHookObject(input, "Cline's")
	if err != nil {
		return Event{}, err
	}
	ev := Event{Name: in.Get("hookName").String()}
	if ev.Name == "" {
		switch {
		case in.Get("preToolUse").Exists():
			ev.Name = "PreToolUse"
		case in.Get("postToolUse").Exists():
			ev.Name = "PostToolUse"
		default:
			return Event{}, fmt.Errorf(`hook input has no "hookName"`)
		}
	}
	var data gjson.Result
	switch ev.Name {
	case "PreToolUse":
		ev.Phase, data = PhasePre, in.Get("preToolUse")
	case "PostToolUse":
		ev.Phase, data = PhasePost, in.Get("postToolUse")
	default:
		ev.Phase = PhaseOther
	}
	cwd := in.Get("workspaceRoots.0").String()
	if cwd == "" {
		cwd = env.Cwd
	}
	if ev.Phase != PhaseOther {
		if !data.IsObject() {
			return Event{}, fmt.Errorf("%s hook input has no %q object", ev.Name, strings.ToLower(ev.Name[:1])+ev.Name[1:])
		}
		ev.ToolName = firstString(data, "toolName", "tool")
		if ev.ToolName == "" {
			return Event{}, fmt.Errorf(`%s hook input has no "toolName"`, ev.Name)
		}
		ev.Call = clineToolCall(ev.ToolName, argsObject(data.Get("parameters")), cwd, env.Home)
	}
	ev.Call.Agent = c.Agent()
	ev.Call.Session = in.Get("taskId").String()
	ev.Call.Cwd = cwd
	ev.Call.Home = env.Home
	switch ev.Phase {
	case PhasePre:
		if err := checkCallFields(ev); err != nil {
			return Event{}, err
		}
	case PhasePost:
		clineOutcome(&ev, data)
	}
	return ev, nil
}

// clineToolCall maps one of Cline's tools to a tool call. A tool this
// table does not know keeps its own name as the tool.
func clineToolCall(tool string, params gjson.Result, cwd, home string) engine.ToolCall {
	str := func(key string) string { return params.Get(key).String() }
	path := absToolPath(str("path"), cwd, home)
	switch tool {
	case "execute_command":
		return engine.ToolCall{Tool: engine.ToolExec, Command: str("command")}
	case "read_file":
		return engine.ToolCall{Tool: engine.ToolRead, Path: path}
	case "list_files", "search_files", "list_code_definition_names":
		if path == "" {
			path = cwd
		}
		return engine.ToolCall{Tool: engine.ToolRead, Path: path}
	case "write_to_file":
		return engine.ToolCall{Tool: engine.ToolWrite, Path: path, Content: str("content")}
	case "replace_in_file", "edit_file":
		return engine.ToolCall{Tool: engine.ToolEdit, Path: path, Content: firstString(params, "diff", "new_string")}
	case "apply_patch":
		patch := firstString(params, "input", "patch")
		return engine.ToolCall{Tool: engine.ToolEdit, Path: absToolPath(patchFirstPath(patch), cwd, home), Content: patch}
	case "web_fetch":
		return engine.ToolCall{Tool: engine.ToolFetch, URL: str("url")}
	case "browser_action":
		if u := str("url"); u != "" {
			return engine.ToolCall{Tool: engine.ToolFetch, URL: u}
		}
		return engine.ToolCall{Tool: tool, Name: tool, Input: rawArgs(params)}
	case "web_search":
		return engine.ToolCall{Tool: engine.ToolFetch, Name: tool, Input: rawArgs(params)}
	case "use_mcp_tool":
		args := argsObject(params.Get("arguments"))
		return engine.ToolCall{Tool: engine.ToolMCP, Name: mcpName(str("server_name"), str("tool_name")), Input: rawArgs(args)}
	case "access_mcp_resource":
		return engine.ToolCall{Tool: engine.ToolMCP, Name: mcpName(str("server_name"), tool), Input: rawArgs(params)}
	case "new_task":
		return engine.ToolCall{Tool: engine.ToolAgent, Name: tool, Input: rawArgs(params)}
	}
	return engine.ToolCall{Tool: tool, Name: tool, Input: rawArgs(params)}
}

// patchFirstPath is the first file a patch in the "*** Begin Patch"
// format touches: the call's own path; [Cline.Targets] has them all.
func patchFirstPath(patch string) string {
	if targets := PatchTargets(patch, "", ""); len(targets) > 0 {
		return targets[0].Path
	}
	return ""
}

// Targets returns every file an apply_patch call writes, so each is
// decided; any other call is ev.Call alone.
func (Cline) Targets(ev Event) []engine.ToolCall {
	if ev.ToolName != "apply_patch" {
		return nil
	}
	targets := PatchTargets(ev.Call.Content, ev.Call.Cwd, ev.Call.Home)
	for i := range targets {
		targets[i].Agent, targets[i].Session, targets[i].Cwd, targets[i].Home = ev.Call.Agent, ev.Call.Session, ev.Call.Cwd, ev.Call.Home
	}
	return targets
}

// clineOutcome reads what a PostToolUse says about the tool's run.
func clineOutcome(ev *Event, data gjson.Result) {
	if ms := data.Get("executionTimeMs"); ms.Type == gjson.Number {
		n := ms.Int()
		ev.DurationMS = &n
	}
	if s := data.Get("success"); s.Exists() && !s.Bool() {
		ev.Phase = PhasePostFailure
		ev.Error = truncate(data.Get("result").String(), 500)
		if ev.Error == "" {
			ev.Error = "failed"
		}
	}
}

// clineOutput is Cline's documented hook answer.
type clineOutput struct {
	Cancel              bool   `json:"cancel"`
	ContextModification string `json:"contextModification,omitempty"`
	ErrorMessage        string `json:"errorMessage,omitempty"`
}

func clineAnswer(cancel bool, reason string) Answer {
	out, _ := json.Marshal(clineOutput{Cancel: cancel, ContextModification: reason, ErrorMessage: reason})
	return Answer{Stdout: append(out, '\n')}
}

// Answer encodes d: a deny or an ask cancels a PreToolUse; everything
// else, post events included, is {"cancel":false}.
func (Cline) Answer(ev Event, d engine.Decision, _ Options) Answer {
	if ev.Phase == PhasePre {
		switch d.Decision {
		case engine.ActionDeny:
			return clineAnswer(true, denyReason(ev, d))
		case engine.ActionAsk:
			return clineAnswer(true, askAsDenyReason(ev, d))
		}
	}
	return clineAnswer(false, "")
}

// Refuse cancels the tool and names the problem. A post event is never
// cancelled: that would stop the task for nothing.
func (Cline) Refuse(ev *Event, problem string) Answer {
	if ev != nil && ev.Phase != PhasePre {
		return clineAnswer(false, "")
	}
	return clineAnswer(true, refuseReason("cline", problem))
}
