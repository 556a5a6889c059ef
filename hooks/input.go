package hooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-dev/rampart/engine"
)

// parseHookObject checks that a hook's standard input is one JSON object
// and returns it. agent names the agent in the errors ("Cursor's hook
// JSON").
func parseHookObject(input []byte, agent string) (gjson.Result, error) {
	trimmed := strings.TrimSpace(string(input))
	if trimmed == "" {
		return gjson.Result{}, fmt.Errorf("empty hook input (expected %s hook JSON on stdin)", agent)
	}
	if !gjson.Valid(trimmed) {
		return gjson.Result{}, errors.New("hook input is not valid JSON")
	}
	in := gjson.Parse(trimmed)
	if !in.IsObject() {
		return gjson.Result{}, errors.New("hook input is not a JSON object")
	}
	if key := duplicateKey(in); key != "" {
		return gjson.Result{}, fmt.Errorf("hook input has the key %q twice (the agent reads the last one, Rampart the first)", key)
	}
	return in, nil
}

// encodedArgsKeys name the fields in which agents send a tool's arguments
// as a JSON string that holds an object (see [argsObject]).
var encodedArgsKeys = map[string]bool{
	"toolArgs": true, "tool_input": true, "parameters": true, "arguments": true, "mcp_tool_arguments": true,
}

// duplicateKey returns the path of the first key that an object in v
// holds twice, looking into the arguments agents send as JSON strings
// too, or "" when there is none. gjson reads the first of two equal
// keys, while the agents' JSON parsers (JavaScript, serde, Go) keep the
// last, so a call with a duplicate key could be judged on a value the
// agent never runs. It walks v with its own stack: the input's nesting
// is the sender's choice.
func duplicateKey(v gjson.Result) string {
	type node struct {
		value gjson.Result
		path  string
	}
	stack := []node{{v, ""}}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		dup := ""
		switch {
		case n.value.IsObject():
			seen := map[string]bool{}
			n.value.ForEach(func(k, val gjson.Result) bool {
				name := k.String()
				path := name
				if n.path != "" {
					path = n.path + "." + name
				}
				if seen[name] {
					dup = path
					return false
				}
				seen[name] = true
				if val.Type == gjson.String && encodedArgsKeys[name] {
					if s := strings.TrimSpace(val.String()); gjson.Valid(s) {
						val = gjson.Parse(s)
					}
				}
				stack = append(stack, node{val, path})
				return true
			})
		case n.value.IsArray():
			i := 0
			n.value.ForEach(func(_, val gjson.Result) bool {
				stack = append(stack, node{val, fmt.Sprintf("%s.%d", n.path, i)})
				i++
				return true
			})
		}
		if dup != "" {
			return dup
		}
	}
	return ""
}

// argsObject returns a tool's arguments as an object: agents send them as
// an object, or as a JSON string that holds one (Copilot CLI's toolArgs,
// Cursor's MCP tool_input). Anything else is an empty result.
func argsObject(v gjson.Result) gjson.Result {
	if v.Type == gjson.String {
		if s := strings.TrimSpace(v.String()); gjson.Valid(s) {
			if p := gjson.Parse(s); p.IsObject() {
				return p
			}
		}
		return gjson.Result{}
	}
	if v.IsObject() {
		return v
	}
	return gjson.Result{}
}

// rawArgs is the tool input kept in the tool call for policies and the
// audit trail: the object itself, or nil when there is none.
func rawArgs(v gjson.Result) json.RawMessage {
	if !v.Exists() || !v.IsObject() {
		return nil
	}
	return json.RawMessage(v.Raw)
}

// absToolPath makes a path the way the agent's tool will resolve it:
// "~/x" in home, a relative path in cwd. Paths that cannot be resolved
// are kept as they are.
func absToolPath(p, cwd, home string) string {
	switch {
	case p == "" || filepath.IsAbs(p):
	case (p == "~" || strings.HasPrefix(p, "~/")) && home != "":
		p = filepath.Join(home, p[1:])
	case !strings.HasPrefix(p, "~") && cwd != "":
		p = filepath.Join(cwd, p)
	}
	return p
}

// firstString is the first of keys that holds a non-empty string in obj.
func firstString(obj gjson.Result, keys ...string) string {
	for _, k := range keys {
		if v := obj.Get(k); v.Type == gjson.String && v.String() != "" {
			return v.String()
		}
	}
	return ""
}

// mcpName is the name of an MCP tool in Rampart's model,
// mcp__SERVER__TOOL (Claude Code's spelling, which the profiles' rules
// match), or mcp__TOOL when the agent does not say which server.
func mcpName(server, tool string) string {
	if server == "" {
		return "mcp__" + tool
	}
	return "mcp__" + server + "__" + tool
}

// askAsDenyReason is the text of an ask answered as a deny, for agents
// whose hooks cannot make them ask the user: the call is blocked, and the
// model is told to get the human's approval instead of working around it.
func askAsDenyReason(ev Event, d engine.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rampart blocked this %s call", toolLabel(ev))
	if what := subject(ev.Call); what != "" {
		fmt.Fprintf(&b, " (%s)", what)
	}
	b.WriteString(" because it needs a human's approval")
	if d.Rule != "" {
		fmt.Fprintf(&b, " (rule %s/%s)", d.Policy, d.Rule)
	}
	endSentence(&b, d.Message)
	b.WriteString(" This agent cannot ask the user from a hook. Do not retry it or reach the same result another way; ask the user: tell them what you wanted to do and why, and let them run it themselves or change the policy.")
	return b.String()
}

// refuseReason is the text of a fail-closed refusal; agent is the name
// "rampart setup" knows the agent by.
// allowReason is the reason of an explicit allow (Options.ExplicitAllow).
func allowReason(d engine.Decision) string {
	if d.Rule != "" {
		return fmt.Sprintf("Allowed by Rampart (rule %s/%s).", d.Policy, d.Rule)
	}
	return "Allowed by Rampart."
}

func refuseReason(agent, problem string) string {
	return "Rampart could not check this tool call, so it is blocked (fail-closed): " + problem +
		" Tell the user: they can run `rampart setup " + agent + " --check` to find the problem."
}

// checkCallFields reports a pre event whose call lacks what a decision
// needs: a command to run, a path, a URL, an MCP tool's name. Deciding
// such a call would judge nothing, and an agent that renamed a field
// would then pass every call unchecked; refusing it fails closed and
// says what is missing.
func checkCallFields(ev Event) error {
	c := ev.Call
	missing := ""
	switch c.Tool {
	case engine.ToolExec:
		if strings.TrimSpace(c.Command) == "" && len(c.Argv) == 0 {
			missing = "command"
		}
	case engine.ToolRead, engine.ToolWrite, engine.ToolEdit:
		if c.Path == "" {
			missing = "file path"
		}
	case engine.ToolFetch:
		if c.URL == "" && c.Name == "" {
			missing = "URL"
		}
	case engine.ToolMCP:
		if c.Name == "" || strings.HasSuffix(c.Name, "__") {
			missing = "MCP tool name"
		}
	}
	if missing == "" {
		return nil
	}
	return fmt.Errorf("the %s %s call in the hook input has no %s", ev.Name, toolLabel(ev), missing)
}

// readEvent reads the envelope that Claude Code, Codex and Gemini CLI
// share: hook_event_name (phase maps it to a [Phase]; PhaseOther for
// events that are only recorded), tool_name, tool_use_id, and cwd (the
// hook process's own when the input has none). A tool event without a
// tool name is an error.
func readEvent(in gjson.Result, env Env, phase func(name string) Phase) (Event, string, error) {
	ev := Event{
		Name:      in.Get("hook_event_name").String(),
		ToolName:  in.Get("tool_name").String(),
		ToolUseID: in.Get("tool_use_id").String(),
	}
	if ev.Name == "" {
		return Event{}, "", errors.New(`hook input has no "hook_event_name"`)
	}
	ev.Phase = phase(ev.Name)
	if ev.Phase != PhaseOther && ev.ToolName == "" {
		return Event{}, "", fmt.Errorf(`%s hook input has no "tool_name"`, ev.Name)
	}
	cwd := in.Get("cwd").String()
	if cwd == "" {
		cwd = env.Cwd
	}
	return ev, cwd, nil
}

// finishCall gives ev's call the agent, the session_id, the working
// directory (unless the tool named its own) and the home.
func finishCall(ev *Event, agent string, in gjson.Result, cwd string, env Env) {
	ev.Call.Agent = agent
	ev.Call.Session = in.Get("session_id").String()
	if ev.Call.Cwd == "" {
		ev.Call.Cwd = cwd
	}
	ev.Call.Home = env.Home
}
