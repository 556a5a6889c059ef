package hooks

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-dev/rampart/engine"
)

// Codex is the hook protocol of OpenAI's Codex CLI (hooks.json in
// $CODEX_HOME, else ~/.codex).
//
// Input: Claude Code's shape. One JSON object on stdin with
// hook_event_name, session_id, turn_id, cwd (the command's working
// directory: exec_command's workdir when the model gave one), model,
// permission_mode, tool_name, tool_input, tool_use_id and, after the
// tool ran, tool_response. Every shell tool (exec_command, shell, ...)
// arrives as tool_name "Bash" with tool_input.command; apply_patch as
// "apply_patch" with the whole patch in tool_input.command; MCP tools as
// mcp__SERVER__TOOL with their own arguments. A command that fails still
// fires PostToolUse: Codex has no failure event.
//
// Output of PreToolUse: exit 0 and
//
//	{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"..."}}
//
// which Codex turns into the tool output the model reads: "Command
// blocked by PreToolUse hook: REASON. Command: ...". Codex treats
// permissionDecision "ask", and "allow" without updatedInput, as an
// invalid answer and runs the tool, so an ask is answered as a deny that
// tells the model to ask the user, and an allow is always silent.
type Codex struct{}

func init() { register(Codex{}, "codex-cli", "openai-codex") }

// Agent returns "codex".
func (Codex) Agent() string { return "codex" }

// Decode parses a Codex hook input.
func (c Codex) Decode(input []byte, env Env) (Event, error) {
	in, err := parseHookObject(input, "Codex's")
	if err != nil {
		return Event{}, err
	}
	ev, cwd, err := readEvent(in, env, func(name string) Phase {
		switch name {
		case "PreToolUse":
			return PhasePre
		case "PostToolUse":
			return PhasePost
		}
		return PhaseOther
	})
	if err != nil {
		return Event{}, err
	}
	ev.Call = codexToolCall(ev.ToolName, in.Get("tool_input"), cwd, env.Home)
	finishCall(&ev, c.Agent(), in, cwd, env)
	if ev.Phase == PhasePre {
		if err := checkCallFields(ev); err != nil {
			return Event{}, err
		}
	}
	if ev.Phase == PhasePost {
		codexOutcome(&ev, in.Get("tool_response"))
	}
	return ev, nil
}

// codexToolCall maps one of Codex's tools to a tool call. A tool this
// table does not know keeps its own name as the tool, so policies can
// still match it and the default action applies.
func codexToolCall(tool string, input gjson.Result, cwd, home string) engine.ToolCall {
	switch tool {
	case "Bash", "shell", "local_shell", "container.exec", "exec_command", "shell_command":
		return codexExec(input)
	case "apply_patch":
		patch := firstString(input, "command", "input", "patch")
		targets := PatchTargets(patch, cwd, home)
		if len(targets) == 0 {
			// Nothing Codex could apply either: let the policies see
			// the patch by the tool's name.
			return engine.ToolCall{Tool: tool, Name: tool, Input: rawArgs(input)}
		}
		call := targets[0]
		call.Input = rawArgs(input)
		return call
	case "Read", "view_image":
		return engine.ToolCall{Tool: engine.ToolRead, Path: absToolPath(firstString(input, "file_path", "path"), cwd, home)}
	}
	if strings.HasPrefix(tool, "mcp__") {
		return engine.ToolCall{Tool: engine.ToolMCP, Name: tool, Input: rawArgs(input)}
	}
	return engine.ToolCall{Tool: tool, Name: tool, Input: rawArgs(input)}
}

// codexExec reads a shell tool's command: a string (what Codex 0.169
// sends for every shell tool), or the older shell tool's argument vector,
// where ["bash", "-lc", SCRIPT] is the script and anything else is an
// exact argv.
func codexExec(input gjson.Result) engine.ToolCall {
	cmd := input.Get("command")
	if !cmd.Exists() {
		cmd = input.Get("cmd")
	}
	if !cmd.IsArray() {
		return engine.ToolCall{Tool: engine.ToolExec, Command: cmd.String()}
	}
	var argv []string
	for _, a := range cmd.Array() {
		argv = append(argv, a.String())
	}
	if len(argv) == 3 && isShell(argv[0]) && (argv[1] == "-c" || argv[1] == "-lc") {
		return engine.ToolCall{Tool: engine.ToolExec, Command: argv[2]}
	}
	return engine.ToolCall{Tool: engine.ToolExec, Argv: argv}
}

func isShell(path string) bool {
	switch filepath.Base(path) {
	case "bash", "sh", "zsh", "dash":
		return true
	}
	return false
}

// codexOutcome reads what a PostToolUse says about the tool's run. Shell
// output carries no exit code; apply_patch and some tools start theirs
// with "Exit code: N".
func codexOutcome(ev *Event, resp gjson.Result) {
	if resp.Type != gjson.String {
		return
	}
	var code int
	if _, err := fmt.Sscanf(resp.String(), "Exit code: %d", &code); err == nil {
		ev.ExitCode = &code
	}
}

// Answer encodes d as Codex's documented PreToolUse deny, which has Claude
// Code's shape. Only PreToolUse can block; an allow is always silent
// (Codex rejects an allow without updatedInput), and an ask is a deny
// that tells the model to ask the user.
func (Codex) Answer(ev Event, d engine.Decision, _ Options) Answer {
	if ev.Phase != PhasePre {
		return Answer{}
	}
	switch d.Decision {
	case engine.ActionDeny:
		return claudeAnswer("deny", denyReason(ev, d))
	case engine.ActionAsk:
		return claudeAnswer("deny", askAsDenyReason(ev, d))
	}
	return Answer{}
}

// Refuse blocks the tool and names the problem; post events get an empty
// answer.
func (c Codex) Refuse(ev *Event, problem string) Answer {
	if ev != nil && ev.Phase != PhasePre {
		return Answer{}
	}
	return claudeAnswer("deny", refuseReason(c.Agent(), problem))
}

// Targets returns every file an apply_patch call writes, each as its own
// call (see [MultiTarget]). A shell command that hands apply_patch a patch
// (["apply_patch", PATCH], or a heredoc in bash -lc) is applied by Codex
// itself, so it stands for the command and every file the patch writes.
// Any other call is just itself.
func (Codex) Targets(ev Event) []engine.ToolCall {
	var targets []engine.ToolCall
	switch {
	case ev.ToolName == "apply_patch" && ev.Call.Input != nil:
		patch := firstString(gjson.ParseBytes(ev.Call.Input), "command", "input", "patch")
		targets = PatchTargets(patch, ev.Call.Cwd, ev.Call.Home)
	case ev.Call.Tool == engine.ToolExec:
		if patch := shellPatch(ev.Call); patch != "" {
			targets = append([]engine.ToolCall{ev.Call}, PatchTargets(patch, ev.Call.Cwd, ev.Call.Home)...)
		}
	}
	for i := range targets {
		targets[i].Agent, targets[i].Session, targets[i].Cwd, targets[i].Home = ev.Call.Agent, ev.Call.Session, ev.Call.Cwd, ev.Call.Home
	}
	return targets
}

// shellPatch is the text of a shell command that runs apply_patch with a
// patch in it, or "" for any other command.
func shellPatch(c engine.ToolCall) string {
	text := c.Command
	if text == "" {
		text = strings.Join(c.Argv, "\n")
	}
	runsApplyPatch := strings.Contains(text, "apply_patch") || strings.Contains(text, "applypatch")
	if !runsApplyPatch || !strings.Contains(text, "*** Begin Patch") {
		return ""
	}
	return text
}
