package hooks

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-dev/rampart/engine"
)

// Cursor is the hook protocol of Cursor's agent (the IDE's Agent and
// Cmd-K, and cursor-agent).
//
// Input: one JSON object on stdin with hook_event_name, conversation_id,
// generation_id, workspace_roots and the event's own fields:
// preToolUse has tool_name (Shell, Read, Write, Grep, Delete, Task,
// MCP:<tool>, ...), tool_input, tool_use_id and cwd;
// beforeShellExecution has command and cwd; beforeReadFile has file_path
// (and the file's content); beforeMCPExecution has tool_name and
// tool_input (a JSON string of the arguments).
//
// Output: exit 0 and one flat JSON object,
//
//	{"permission":"deny","user_message":"...","agent_message":"..."}
//
// permission is allow, deny or ask; ask is documented as enforced on
// beforeShellExecution and beforeMCPExecution only (preToolUse accepts
// it but does not enforce it, beforeReadFile knows only allow and deny),
// so elsewhere an ask is a deny that tells the model to ask. Rampart's
// entries are installed with failClosed, under which Cursor blocks the
// tool when the hook fails or prints nothing: every answer to a pre
// event, an allow included, is a decision.
type Cursor struct{}

func init() { register(Cursor{}, "cursor-agent", "cursor-ide") }

// Agent returns "cursor".
func (Cursor) Agent() string { return "cursor" }

// Cursor's hook events.
const (
	cursorPreToolUse   = "preToolUse"
	cursorBeforeShell  = "beforeShellExecution"
	cursorBeforeMCP    = "beforeMCPExecution"
	cursorBeforeRead   = "beforeReadFile"
	cursorPostToolUse  = "postToolUse"
	cursorPostFailure  = "postToolUseFailure"
	cursorAfterShell   = "afterShellExecution"
	cursorAfterMCP     = "afterMCPExecution"
	cursorAfterEdit    = "afterFileEdit"
	cursorToolNameMCP  = "MCP"
	cursorMCPToolName  = "MCP:"
	cursorShellToolKey = "Shell"
)

// Decode parses a Cursor hook input.
func (c Cursor) Decode(input []byte, env Env) (Event, error) {
	in, err := parseHookObject(input, "Cursor's")
	if err != nil {
		return Event{}, err
	}
	ev := Event{Name: in.Get("hook_event_name").String(), ToolUseID: in.Get("tool_use_id").String()}
	switch ev.Name {
	case cursorPreToolUse, cursorBeforeShell, cursorBeforeMCP, cursorBeforeRead:
		ev.Phase = PhasePre
	case cursorPostToolUse, cursorAfterShell, cursorAfterMCP, cursorAfterEdit:
		ev.Phase = PhasePost
	case cursorPostFailure:
		ev.Phase = PhasePostFailure
	case "":
		return Event{}, errors.New(`hook input has no "hook_event_name"`)
	default:
		ev.Phase = PhaseOther
	}
	cwd := in.Get("cwd").String()
	if cwd == "" {
		cwd = in.Get("tool_input.cwd").String()
	}
	if cwd == "" {
		cwd = in.Get("workspace_roots.0").String()
	}
	if cwd == "" {
		cwd = env.Cwd
	}
	switch ev.Name {
	case cursorBeforeShell, cursorAfterShell:
		ev.ToolName = cursorShellToolKey
		ev.Call = engine.ToolCall{Tool: engine.ToolExec, Command: in.Get("command").String()}
	case cursorBeforeRead:
		ev.ToolName = "Read"
		ev.Call = engine.ToolCall{Tool: engine.ToolRead, Path: absToolPath(in.Get("file_path").String(), cwd, env.Home)}
	case cursorAfterEdit:
		ev.ToolName = "Write"
		ev.Call = engine.ToolCall{Tool: engine.ToolEdit, Path: absToolPath(in.Get("file_path").String(), cwd, env.Home)}
	case cursorBeforeMCP, cursorAfterMCP:
		tool := in.Get("tool_name").String()
		ev.ToolName = cursorMCPToolName + tool
		ev.Call = engine.ToolCall{Tool: engine.ToolMCP, Name: mcpName("", tool), Input: rawArgs(argsObject(in.Get("tool_input")))}
	case cursorPreToolUse, cursorPostToolUse, cursorPostFailure:
		ev.ToolName = in.Get("tool_name").String()
		if ev.ToolName == "" {
			return Event{}, errors.New(ev.Name + ` hook input has no "tool_name"`)
		}
		ev.Call = cursorToolCall(ev.ToolName, argsObject(in.Get("tool_input")), cwd, env.Home)
	}
	if ev.Phase == PhasePre {
		if err := checkCallFields(ev); err != nil {
			return Event{}, err
		}
	}
	ev.Call.Agent = c.Agent()
	ev.Call.Session = firstString(in, "conversation_id", "session_id")
	ev.Call.Cwd = cwd
	ev.Call.Home = env.Home
	if ev.Phase == PhasePost || ev.Phase == PhasePostFailure {
		cursorOutcome(&ev, in)
	}
	return ev, nil
}

// cursorToolCall maps one of the tools preToolUse reports to a tool call.
// A tool this table does not know keeps its own name as the tool.
func cursorToolCall(tool string, input gjson.Result, cwd, home string) engine.ToolCall {
	path := func() string {
		return absToolPath(firstString(input, "file_path", "path", "target_file", "target_notebook"), cwd, home)
	}
	dir := func() string {
		p := firstString(input, "target_directory", "directory", "path", "file_path")
		if p == "" {
			p = cwd
		}
		return absToolPath(p, cwd, home)
	}
	if name, ok := strings.CutPrefix(tool, cursorMCPToolName); ok {
		return engine.ToolCall{Tool: engine.ToolMCP, Name: mcpName("", name), Input: rawArgs(input)}
	}
	switch tool {
	case cursorShellToolKey, "Terminal", "RunTerminalCommand":
		return engine.ToolCall{Tool: engine.ToolExec, Command: input.Get("command").String()}
	case "Read", "TabRead", "ReadFile":
		return engine.ToolCall{Tool: engine.ToolRead, Path: path()}
	case "Grep", "Glob", "LS", "ListDir", "SemanticSearch", "CodebaseSearch", "FileSearch":
		return engine.ToolCall{Tool: engine.ToolRead, Path: dir()}
	case "Write", "TabWrite", "WriteFile":
		return engine.ToolCall{Tool: engine.ToolWrite, Path: path(), Content: firstString(input, "contents", "content", "code_edit")}
	case "Edit", "StrReplace", "MultiEdit", "EditFile", "EditNotebook", "SearchReplace":
		return engine.ToolCall{Tool: engine.ToolEdit, Path: path(), Content: firstString(input, "new_string", "code_edit", "contents", "content", "new_cell_content")}
	case "Delete", "DeleteFile":
		// Deleting destroys the whole content: a write of nothing.
		return engine.ToolCall{Tool: engine.ToolWrite, Path: path()}
	case "WebFetch", "FetchURL", "FetchUrl":
		return engine.ToolCall{Tool: engine.ToolFetch, URL: firstString(input, "url")}
	case "WebSearch":
		return engine.ToolCall{Tool: engine.ToolFetch, Name: tool, Input: rawArgs(input)}
	case "Task":
		return engine.ToolCall{Tool: engine.ToolAgent, Name: firstString(input, "subagent_type", "description"), Input: rawArgs(input)}
	case cursorToolNameMCP:
		name := firstString(input, "tool_name", "name")
		return engine.ToolCall{Tool: engine.ToolMCP, Name: mcpName(firstString(input, "server_name", "server"), name), Input: rawArgs(input)}
	}
	return engine.ToolCall{Tool: tool, Name: tool, Input: rawArgs(input)}
}

// cursorOutcome reads what a post event says about the tool's run.
func cursorOutcome(ev *Event, in gjson.Result) {
	if d := in.Get("duration"); d.Type == gjson.Number {
		ms := int64(d.Float())
		ev.DurationMS = &ms
	}
	out := argsObject(in.Get("tool_output"))
	if code := out.Get("exitCode"); code.Type == gjson.Number {
		n := int(code.Int())
		ev.ExitCode = &n
	}
	if ev.Phase == PhasePostFailure {
		ev.Error = in.Get("error_message").String()
		if ev.Error == "" {
			ev.Error = in.Get("failure_type").String()
		}
	}
}

// cursorOutput is Cursor's answer to a pre event. agent_message is not
// documented for beforeReadFile and is left out there.
type cursorOutput struct {
	Permission   string `json:"permission"`
	UserMessage  string `json:"user_message,omitempty"`
	AgentMessage string `json:"agent_message,omitempty"`
}

func cursorAnswer(ev *Event, permission, reason string) Answer {
	out := cursorOutput{Permission: permission, UserMessage: reason, AgentMessage: reason}
	if ev != nil && ev.Name == cursorBeforeRead {
		out.AgentMessage = ""
	}
	data, _ := json.Marshal(out)
	return Answer{Stdout: append(data, '\n')}
}

// Answer encodes d for a pre event: {"permission":...}, always, since
// Rampart's entries fail closed on an empty answer. Post and other events
// get no answer.
func (Cursor) Answer(ev Event, d engine.Decision, _ Options) Answer {
	if ev.Phase != PhasePre {
		return Answer{}
	}
	switch d.Decision {
	case engine.ActionDeny:
		return cursorAnswer(&ev, "deny", denyReason(ev, d))
	case engine.ActionAsk:
		if ev.Name == cursorBeforeShell || ev.Name == cursorBeforeMCP {
			return cursorAnswer(&ev, "ask", askReason(ev, d))
		}
		return cursorAnswer(&ev, "deny", askAsDenyReason(ev, d))
	}
	return cursorAnswer(&ev, "allow", "")
}

// Refuse denies the tool and names the problem. After the tool ran there
// is nothing to block: post events get no answer.
func (Cursor) Refuse(ev *Event, problem string) Answer {
	if ev != nil && ev.Phase != PhasePre {
		return Answer{}
	}
	return cursorAnswer(ev, "deny", refuseReason("cursor", problem))
}
