// Package engine turns an agent's tool call into a decision.
//
// A policy set is loaded and validated once ([Load], [Compile]) into a
// [Program]; [Program.Eval] then decides tool calls without parsing any
// policy again. A Program never changes after it is built and is safe for
// concurrent use by many goroutines.
package engine

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Action is what a rule or a decision says should happen to a tool call.
// The numeric order is the order of precedence across policies: a higher
// value wins ([ActionDeny] beats [ActionAsk] beats [ActionLog] beats
// [ActionAllow]).
type Action int

const (
	// ActionAllow lets the call run.
	ActionAllow Action = iota
	// ActionLog lets the call run and flags it in the audit trail.
	ActionLog
	// ActionAsk means a human must approve the call before it runs.
	ActionAsk
	// ActionDeny stops the call.
	ActionDeny
)

var actionNames = [...]string{"allow", "log", "ask", "deny"}

// String returns the action's name as it appears in decisions: allow, log,
// ask or deny.
func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return fmt.Sprintf("action(%d)", int(a))
	}
	return actionNames[a]
}

// actionAliases maps every spelling accepted in policy files to an action.
// "watch" and "require_approval" are the names older Rampart policies use.
var actionAliases = map[string]Action{
	"allow":            ActionAllow,
	"deny":             ActionDeny,
	"ask":              ActionAsk,
	"require_approval": ActionAsk,
	"log":              ActionLog,
	"watch":            ActionLog,
}

// ParseAction returns the action named s (case-insensitive). It accepts the
// aliases "watch" (log) and "require_approval" (ask).
func ParseAction(s string) (Action, error) {
	if a, ok := actionAliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return a, nil
	}
	return ActionAllow, fmt.Errorf("unknown action %q (want allow, deny, ask, log or watch)", s)
}

// MarshalJSON encodes the action as its name.
func (a Action) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// UnmarshalJSON decodes an action name.
func (a *Action) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseAction(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Tool names of the tool-call model.
const (
	ToolExec  = "exec"
	ToolRead  = "read"
	ToolWrite = "write"
	ToolEdit  = "edit"
	ToolFetch = "fetch"
	ToolMCP   = "mcp"
)

// ToolCall is one action an agent wants to take: the engine's input and the
// JSON body the server accepts. An exec call carries Command (a shell
// string), Argv (an exact argument vector), or both; when both are given
// both are judged.
type ToolCall struct {
	Tool    string          `json:"tool"`
	Command string          `json:"command,omitempty"`
	Argv    []string        `json:"argv,omitempty"`
	Path    string          `json:"path,omitempty"`
	Content string          `json:"content,omitempty"`
	URL     string          `json:"url,omitempty"`
	Name    string          `json:"name,omitempty"`
	Input   json.RawMessage `json:"input,omitempty"`
	Cwd     string          `json:"cwd,omitempty"`
	Agent   string          `json:"agent,omitempty"`
	Session string          `json:"session,omitempty"`
	// Home is the home directory that "~" and $HOME mean for this call.
	// Empty means the Program's home (see [Options.Home]).
	Home string `json:"home,omitempty"`
}

// Decision is the engine's answer for one tool call.
//
// Policy names the policy source that decided (an embedded profile such as
// "standard", or a policy file's base name), Rule the policy entry (or the
// rule's own name when it has one), Matched the text or value that the
// deciding rule matched. With no matching rule, Policy and Rule are empty and
// Decision is the effective default action.
type Decision struct {
	Decision Action `json:"decision"`
	Policy   string `json:"policy,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Message  string `json:"message,omitempty"`
	Matched  string `json:"matched,omitempty"`
}

// Allowed reports whether the call may run without a human: allow or log.
func (d Decision) Allowed() bool { return d.Decision == ActionAllow || d.Decision == ActionLog }
