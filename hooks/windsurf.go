package hooks

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-dev/rampart/engine"
)

// Windsurf is the hook protocol of Windsurf's agent, Cascade ("Cascade
// Hooks").
//
// Input: one JSON object on stdin with agent_action_name (the hook event:
// pre_run_command, pre_read_code, pre_write_code, pre_mcp_tool_use and
// their post_ twins), trajectory_id, execution_id, timestamp and
// tool_info, which holds the event's fields: command_line and cwd;
// file_path (and edits, a list of old_string/new_string, for writes);
// mcp_server_name, mcp_tool_name and mcp_tool_arguments.
//
// Output: a pre_ hook blocks the action by exiting with code 2; what it
// writes to stderr is shown to Cascade as the reason. Exit 0 lets the
// action run. Any other exit code (a crash) lets it run too, so every
// answer, failures included, is exit 0 or exit 2. Cascade documents no
// JSON answer and no way to ask the user: an ask is a block whose reason
// tells the model to ask.
type Windsurf struct{}

func init() { register(Windsurf{}, "cascade", "windsurf-cascade") }

// Agent returns "windsurf".
func (Windsurf) Agent() string { return "windsurf" }

// windsurfActions maps Cascade's actions, the hook names without their
// pre_/post_ prefix, to the tool they are.
var windsurfActions = map[string]string{
	"run_command":  engine.ToolExec,
	"read_code":    engine.ToolRead,
	"write_code":   engine.ToolWrite,
	"mcp_tool_use": engine.ToolMCP,
}

// Decode parses a Cascade hook input.
func (w Windsurf) Decode(input []byte, env Env) (Event, error) {
	in, err := parseHookObject(input, "Windsurf's")
	if err != nil {
		return Event{}, err
	}
	name := in.Get("agent_action_name").String()
	if name == "" {
		return Event{}, errors.New(`hook input has no "agent_action_name"`)
	}
	ev := Event{Name: name, ToolUseID: in.Get("execution_id").String()}
	action := name
	switch {
	case strings.HasPrefix(name, "pre_"):
		action, ev.Phase = strings.TrimPrefix(name, "pre_"), PhasePre
	case strings.HasPrefix(name, "post_"):
		action, ev.Phase = strings.TrimPrefix(name, "post_"), PhasePost
	default:
		// A bare action name ("run_command"): only pre hooks are
		// installed, so it is checked as one.
		ev.Phase = PhasePre
	}
	tool, known := windsurfActions[action]
	if !known {
		// pre_user_prompt, post_cascade_response, ...: recorded only.
		ev.Phase = PhaseOther
	}
	ev.ToolName = action
	info := in.Get("tool_info")
	if known && !info.IsObject() {
		return Event{}, fmt.Errorf(`%s hook input has no "tool_info" object`, name)
	}
	cwd := info.Get("cwd").String()
	if cwd == "" {
		cwd = env.Cwd
	}
	if known {
		ev.Call = windsurfToolCall(tool, info, cwd, env.Home)
	}
	ev.Call.Agent = w.Agent()
	ev.Call.Session = in.Get("trajectory_id").String()
	ev.Call.Cwd = cwd
	ev.Call.Home = env.Home
	if ev.Phase == PhasePre {
		if err := checkCallFields(ev); err != nil {
			return Event{}, err
		}
	}
	return ev, nil
}

func windsurfToolCall(tool string, info gjson.Result, cwd, home string) engine.ToolCall {
	path := absToolPath(info.Get("file_path").String(), cwd, home)
	switch tool {
	case engine.ToolExec:
		return engine.ToolCall{Tool: tool, Command: info.Get("command_line").String()}
	case engine.ToolRead:
		return engine.ToolCall{Tool: tool, Path: path}
	case engine.ToolWrite:
		// A write replaces text: a new file is one edit from nothing.
		var content []string
		whole := true
		for _, e := range info.Get("edits").Array() {
			content = append(content, e.Get("new_string").String())
			if e.Get("old_string").String() != "" {
				whole = false
			}
		}
		if !whole {
			tool = engine.ToolEdit
		}
		return engine.ToolCall{Tool: tool, Path: path, Content: strings.Join(content, "\n")}
	}
	server, name := info.Get("mcp_server_name").String(), info.Get("mcp_tool_name").String()
	return engine.ToolCall{Tool: engine.ToolMCP, Name: mcpName(server, name), Input: rawArgs(argsObject(info.Get("mcp_tool_arguments")))}
}

// windsurfBlock is Cascade's block: exit 2, the reason on stderr.
func windsurfBlock(reason string) Answer {
	return Answer{Stderr: reason + "\n", ExitCode: 2}
}

// Answer encodes d: a deny or an ask blocks a pre_ hook (exit 2); an
// allow is exit 0 with no output. Post hooks cannot block.
func (Windsurf) Answer(ev Event, d engine.Decision, _ Options) Answer {
	if ev.Phase != PhasePre {
		return Answer{}
	}
	switch d.Decision {
	case engine.ActionDeny:
		return windsurfBlock(denyReason(ev, d))
	case engine.ActionAsk:
		return windsurfBlock(askAsDenyReason(ev, d))
	}
	return Answer{}
}

// Refuse blocks the action (exit 2) and names the problem.
func (Windsurf) Refuse(ev *Event, problem string) Answer {
	if ev != nil && ev.Phase != PhasePre {
		return Answer{}
	}
	return windsurfBlock(refuseReason("windsurf", problem))
}
