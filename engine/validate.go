package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rampart-dev/rampart/internal/suggest"
)

// Tools lists the tool names of the tool-call model. Policies may name
// others (adapters pass an agent's unknown tools through by name), but
// [ToolCall.Validate] accepts only these.
var Tools = []string{ToolExec, ToolRead, ToolWrite, ToolEdit, ToolFetch, ToolMCP, ToolAgent}

// ToolAgent is a call that starts a sub-agent (Claude Code's Agent and Task).
const ToolAgent = "agent"

// Validate checks that c names a known tool (see [Tools]) and carries what
// that tool needs: exec a command or argv, read/write/edit a path, fetch a
// URL, mcp a name. Strict inputs (rampart check --stdin, the server) use it
// so a misspelt field cannot turn into an empty, allowed call.
func (c *ToolCall) Validate() error {
	if c.Tool == "" {
		return fmt.Errorf(`missing "tool" (want %s)`, strings.Join(Tools, ", "))
	}
	if !slices.Contains(Tools, c.Tool) {
		return fmt.Errorf("unknown tool %q%s; want one of %s", c.Tool, suggest.DidYouMean(c.Tool, Tools), strings.Join(Tools, ", "))
	}
	need := ""
	switch c.Tool {
	case ToolExec:
		if strings.TrimSpace(c.Command) == "" && len(c.Argv) == 0 {
			need = `"command" or "argv"`
		}
	case ToolRead, ToolWrite, ToolEdit:
		if c.Path == "" {
			need = `"path"`
		}
	case ToolFetch:
		if c.URL == "" {
			need = `"url"`
		}
	case ToolMCP:
		if c.Name == "" {
			need = `"name"`
		}
	}
	if need != "" {
		return fmt.Errorf("%s call without %s", c.Tool, need)
	}
	return nil
}
