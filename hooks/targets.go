package hooks

import "github.com/rampart-dev/rampart/engine"

// MultiTarget is implemented by protocols in which one tool call can act
// on several targets: a Codex patch that writes three files, a Gemini
// web_fetch of two URLs. The caller decides each target and blocks the
// call when any one is denied (see [Targets]).
type MultiTarget interface {
	// Targets returns every call ev stands for, each complete (agent,
	// session, cwd and home filled in); nil or one means ev.Call alone.
	Targets(ev Event) []engine.ToolCall
}

// Targets returns the tool calls ev stands for: the protocol's targets
// when it has several, else ev.Call.
func Targets(p Protocol, ev Event) []engine.ToolCall {
	if m, ok := p.(MultiTarget); ok {
		if calls := m.Targets(ev); len(calls) > 1 {
			return calls
		}
	}
	return []engine.ToolCall{ev.Call}
}
