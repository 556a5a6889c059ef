// Package hooks speaks the hook protocols of AI coding agents: each file
// decodes one agent's hook JSON into an [Event] carrying an
// [engine.ToolCall], and encodes a decision exactly the way that agent
// documents it (stdout JSON and exit code).
//
// An adapter never decides anything itself; the caller evaluates the call
// with the engine and hands the decision back to [Protocol.Answer].
package hooks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rampart-dev/rampart/engine"
)

// Phase says when in a tool call's life a hook event fires.
type Phase int

const (
	// PhasePre is before the tool runs: the only phase that can block.
	PhasePre Phase = iota
	// PhasePost is after the tool ran and succeeded.
	PhasePost
	// PhasePostFailure is after the tool ran and failed.
	PhasePostFailure
	// PhaseOther is any other event; it is recorded and never blocked.
	PhaseOther
)

func (p Phase) String() string {
	switch p {
	case PhasePre:
		return "pre"
	case PhasePost:
		return "post"
	case PhasePostFailure:
		return "post-failure"
	}
	return "other"
}

// Event is one decoded hook invocation.
type Event struct {
	Phase Phase
	// Name is the agent's own name of the event (PreToolUse, ...).
	Name string
	// ToolName is the agent's own name of the tool (Bash, Read, ...).
	ToolName string
	// Call is the tool call in Rampart's model.
	Call      engine.ToolCall
	ToolUseID string
	// Outcome of a post event, when the agent reports it.
	ExitCode   *int
	DurationMS *int64
	Error      string
}

// Options change how decisions are answered.
type Options struct {
	// ExplicitAllow answers an allow with the agent's explicit allow,
	// which skips the agent's own permission prompts. Off by default:
	// an allow then says nothing and the agent's own rules still apply.
	ExplicitAllow bool
}

// Answer is what the hook process writes and exits with.
type Answer struct {
	Stdout   []byte
	Stderr   string
	ExitCode int
}

// Env is what a decoder may need from the hook's process.
type Env struct {
	Home string
	Cwd  string // the process's working directory, when the input has none
}

// Protocol is one agent's hook protocol.
type Protocol interface {
	// Agent is the agent's canonical name, used as ToolCall.Agent.
	Agent() string
	// Decode parses the hook's standard input.
	Decode(input []byte, env Env) (Event, error)
	// Answer encodes decision d for ev.
	Answer(ev Event, d engine.Decision, opts Options) Answer
	// Refuse is the fail-closed answer when no decision could be made
	// (bad input, broken policy, internal error): it blocks the tool and
	// says why. ev is nil when the input could not be decoded.
	Refuse(ev *Event, problem string) Answer
}

var (
	protocols = map[string]Protocol{}
	aliases   = map[string]string{}
)

// register adds p under its agent name and aliases.
func register(p Protocol, alias ...string) {
	protocols[p.Agent()] = p
	for _, a := range alias {
		aliases[a] = p.Agent()
	}
}

// Lookup returns the protocol of an agent, by name or alias
// (case-insensitive).
func Lookup(name string) (Protocol, bool) {
	name = strings.ToLower(name)
	if canon, ok := aliases[name]; ok {
		name = canon
	}
	p, ok := protocols[name]
	return p, ok
}

// Names lists the canonical agent names, sorted.
func Names() []string {
	names := make([]string, 0, len(protocols))
	for n := range protocols {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// denyReason is the text a model reads when a call is blocked: what was
// blocked, by which rule, and what to do instead.
func denyReason(ev Event, d engine.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rampart blocked this %s call", toolLabel(ev))
	if what := subject(ev.Call); what != "" {
		fmt.Fprintf(&b, " (%s)", what)
	}
	if d.Rule != "" {
		fmt.Fprintf(&b, " by rule %s/%s", d.Policy, d.Rule)
	} else {
		b.WriteString(" by the default policy")
	}
	endSentence(&b, d.Message)
	b.WriteString(" Do not retry it or reach the same result another way; if the task needs it, tell the user what you wanted to do and why, and let them run it or change the policy.")
	return b.String()
}

// endSentence ends the sentence in b and adds the rule's message, if any.
func endSentence(b *strings.Builder, message string) {
	b.WriteString(".")
	if msg := strings.TrimSpace(message); msg != "" {
		b.WriteString(" ")
		b.WriteString(msg)
	}
}

// askReason is the text shown with an ask: why a human must look.
func askReason(ev Event, d engine.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rampart: this %s call needs your approval", toolLabel(ev))
	if d.Rule != "" {
		fmt.Fprintf(&b, " (rule %s/%s)", d.Policy, d.Rule)
	}
	endSentence(&b, d.Message)
	return b.String()
}

func toolLabel(ev Event) string {
	if ev.ToolName != "" {
		return ev.ToolName
	}
	return ev.Call.Tool
}

// subject is the short description of what a call touches.
func subject(c engine.ToolCall) string {
	s := c.Command
	switch {
	case s != "":
	case len(c.Argv) > 0:
		s = strings.Join(c.Argv, " ")
	case c.Path != "":
		s = c.Path
	case c.URL != "":
		s = c.URL
	case c.Name != "":
		s = c.Name
	}
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
