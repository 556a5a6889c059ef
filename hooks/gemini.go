package hooks

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-dev/rampart/engine"
)

// Gemini is the hook protocol of Google's Gemini CLI (settings.json,
// hooks.BeforeTool and hooks.AfterTool).
//
// Input: one JSON object on stdin with hook_event_name, session_id,
// transcript_path, cwd, timestamp, tool_name, tool_input and, for MCP
// tools, mcp_context (server_name, tool_name); AfterTool adds
// tool_response (llmContent, returnDisplay and, when the tool failed,
// error). There is no tool call id.
//
// Output of BeforeTool: exit 0 and
//
//	{"decision":"deny","reason":"..."}
//
// which Gemini CLI sends the model as the tool's error: "Tool execution
// blocked: REASON". Its hooks document no ask (the undocumented
// "decision":"ask" waits for a confirmation that never comes in a
// headless run), so an ask is a deny that tells the model to ask the
// user; an allow is silent.
type Gemini struct{}

func init() { register(Gemini{}, "gemini-cli", "google-gemini") }

// Agent returns "gemini".
func (Gemini) Agent() string { return "gemini" }

// Decode parses a Gemini CLI hook input.
func (g Gemini) Decode(input []byte, env Env) (Event, error) {
	in, err := parseHookObject(input, "Gemini CLI's")
	if err != nil {
		return Event{}, err
	}
	ev, cwd, err := readEvent(in, env, func(name string) Phase {
		switch name {
		case "BeforeTool":
			return PhasePre
		case "AfterTool":
			if in.Get("tool_response.error").Exists() {
				return PhasePostFailure
			}
			return PhasePost
		}
		return PhaseOther
	})
	if err != nil {
		return Event{}, err
	}
	ev.Call = geminiToolCall(ev.ToolName, argsObject(in.Get("tool_input")), in.Get("mcp_context"), cwd, env.Home)
	finishCall(&ev, g.Agent(), in, cwd, env)
	if ev.Phase == PhasePre {
		if err := checkCallFields(ev); err != nil {
			return Event{}, err
		}
	}
	if ev.Phase == PhasePost || ev.Phase == PhasePostFailure {
		geminiOutcome(&ev, in.Get("tool_response"))
	}
	return ev, nil
}

// geminiToolCall maps one of Gemini CLI's tools to a tool call. A tool
// this table does not know keeps its own name as the tool.
func geminiToolCall(tool string, input, mcp gjson.Result, cwd, home string) engine.ToolCall {
	str := func(keys ...string) string { return firstString(input, keys...) }
	abs := func(p string) string { return absToolPath(p, cwd, home) }
	dir := func() string {
		if d := str("dir_path", "path", "directory"); d != "" {
			return abs(d)
		}
		return cwd
	}
	switch tool {
	case "run_shell_command":
		c := engine.ToolCall{Tool: engine.ToolExec, Command: str("command")}
		if d := str("dir_path", "directory"); d != "" {
			c.Cwd = abs(d)
		}
		return c
	case "write_file":
		return engine.ToolCall{Tool: engine.ToolWrite, Path: abs(str("file_path", "absolute_path")), Content: str("content")}
	case "replace", "edit":
		return engine.ToolCall{Tool: engine.ToolEdit, Path: abs(str("file_path", "absolute_path")), Content: str("new_string")}
	case "read_file":
		return engine.ToolCall{Tool: engine.ToolRead, Path: abs(str("file_path", "absolute_path"))}
	case "read_many_files":
		if reads := geminiManyFiles(input, cwd, home); len(reads) > 0 {
			c := reads[0]
			c.Input = rawArgs(input)
			return c
		}
		return engine.ToolCall{Tool: engine.ToolRead, Path: cwd, Input: rawArgs(input)}
	case "glob":
		// The pattern is where the reads go, as with Claude Code's Glob.
		p := str("pattern")
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, "~") {
			p = filepath.Join(dir(), p)
		}
		return engine.ToolCall{Tool: engine.ToolRead, Path: abs(p)}
	case "grep_search", "search_file_content", "list_directory":
		return engine.ToolCall{Tool: engine.ToolRead, Path: dir()}
	case "web_fetch":
		if urls := geminiURLs(input); len(urls) > 0 {
			return engine.ToolCall{Tool: engine.ToolFetch, URL: urls[0], Input: rawArgs(input)}
		}
		// A prompt with no URL fetches nothing; policies see it by name.
		return engine.ToolCall{Tool: engine.ToolFetch, Name: tool, Input: rawArgs(input)}
	case "google_web_search":
		return engine.ToolCall{Tool: engine.ToolFetch, Name: tool, Input: rawArgs(input)}
	}
	if server := mcp.Get("server_name").String(); server != "" {
		name := mcp.Get("tool_name").String()
		if name == "" {
			name = strings.TrimPrefix(tool, "mcp_"+server+"_")
		}
		return engine.ToolCall{Tool: engine.ToolMCP, Name: mcpName(server, name), Input: rawArgs(input)}
	}
	if strings.HasPrefix(tool, "mcp_") {
		// mcp_SERVER_TOOL with no context: the split is ambiguous, so
		// the name stays whole after the prefix.
		return engine.ToolCall{Tool: engine.ToolMCP, Name: mcpName("", strings.TrimPrefix(tool, "mcp_")), Input: rawArgs(input)}
	}
	return engine.ToolCall{Tool: tool, Name: tool, Input: rawArgs(input)}
}

// urlPattern finds the URLs web_fetch reads in its prompt.
var urlPattern = regexp.MustCompile(`https?://[^\s<>"'\x60]+`)

// geminiURLs are the URLs a web_fetch call reads: its url argument (older
// versions), else every http(s) URL in its prompt, trailing punctuation
// trimmed.
func geminiURLs(input gjson.Result) []string {
	if u := firstString(input, "url"); u != "" {
		return []string{u}
	}
	var urls []string
	for _, u := range urlPattern.FindAllString(input.Get("prompt").String(), -1) {
		if u = strings.TrimRight(u, ".,;:!?)]}"); u != "" {
			urls = append(urls, u)
		}
	}
	return urls
}

// geminiManyFiles are the reads of a read_many_files call: one per
// include entry (a path or glob), in cwd unless absolute.
func geminiManyFiles(input gjson.Result, cwd, home string) []engine.ToolCall {
	var reads []engine.ToolCall
	for _, key := range []string{"include", "paths"} {
		for _, p := range input.Get(key).Array() {
			if p.Type == gjson.String && strings.TrimSpace(p.String()) != "" {
				reads = append(reads, engine.ToolCall{Tool: engine.ToolRead, Path: absToolPath(p.String(), cwd, home)})
			}
		}
	}
	return reads
}

// shellExitCode finds run_shell_command's "Exit Code: N" in its output.
var shellExitCode = regexp.MustCompile(`(?m)^Exit Code: (-?\d+)$`)

// geminiOutcome reads what an AfterTool says about the tool's run.
func geminiOutcome(ev *Event, resp gjson.Result) {
	if m := shellExitCode.FindStringSubmatch(resp.Get("llmContent").String()); m != nil {
		var code int
		fmt.Sscanf(m[1], "%d", &code)
		ev.ExitCode = &code
	}
	if e := resp.Get("error"); e.Exists() {
		ev.Error = firstString(e, "message", "type")
		if ev.Error == "" {
			ev.Error = e.String()
		}
	}
}

// geminiOutput is Gemini CLI's documented BeforeTool answer.
type geminiOutput struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

func geminiDeny(reason string) Answer {
	out, _ := json.Marshal(geminiOutput{"deny", reason})
	return Answer{Stdout: append(out, '\n')}
}

// Answer encodes d. Only BeforeTool can block; an allow is silent (Gemini
// CLI's allow skips none of its own confirmations), an ask is a deny that
// tells the model to ask the user.
func (Gemini) Answer(ev Event, d engine.Decision, _ Options) Answer {
	if ev.Phase != PhasePre {
		return Answer{}
	}
	switch d.Decision {
	case engine.ActionDeny:
		return geminiDeny(denyReason(ev, d))
	case engine.ActionAsk:
		return geminiDeny(askAsDenyReason(ev, d))
	}
	return Answer{}
}

// Refuse blocks the tool and names the problem; after the tool ran there
// is nothing to block.
func (g Gemini) Refuse(ev *Event, problem string) Answer {
	if ev != nil && ev.Phase != PhasePre {
		return Answer{}
	}
	return geminiDeny(refuseReason(g.Agent(), problem))
}

// Targets returns every URL of a web_fetch and every path of a
// read_many_files as its own call (see [MultiTarget]).
func (Gemini) Targets(ev Event) []engine.ToolCall {
	if ev.Call.Input == nil {
		return nil
	}
	input := gjson.ParseBytes(ev.Call.Input)
	var calls []engine.ToolCall
	switch ev.ToolName {
	case "web_fetch":
		for _, u := range geminiURLs(input) {
			calls = append(calls, engine.ToolCall{Tool: engine.ToolFetch, URL: u})
		}
	case "read_many_files":
		calls = geminiManyFiles(input, ev.Call.Cwd, ev.Call.Home)
	}
	for i := range calls {
		calls[i].Agent, calls[i].Session, calls[i].Cwd, calls[i].Home = ev.Call.Agent, ev.Call.Session, ev.Call.Cwd, ev.Call.Home
	}
	return calls
}
