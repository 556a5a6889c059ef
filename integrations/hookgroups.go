package integrations

import (
	"encoding/json"
	"fmt"
	"strings"
)

// hookGroupsEdit describes Rampart's entries in a settings file laid out
// the way Claude Code, Codex and Gemini CLI all lay out hooks:
//
//	{"hooks": {"EVENT": [{"matcher": "...", "hooks": [{"type": "command", "command": "...", ...}]}]}}
//
// Rampart adds one matcher group per event, at the end of the event's
// list, and never edits a group that holds anything else.
type hookGroupsEdit struct {
	path   string
	agent  string   // the AGENT of "rampart hook AGENT" that marks our entries
	events []string // the events to install
	// group is Rampart's matcher group (the same for every event).
	group json.RawMessage
	force bool
	// remove takes Rampart's entries out instead of adding them.
	remove bool
}

// matcherGroup is Rampart's matcher group for one event: one command hook
// with a timeout (in the agent's unit). name is left out when empty; only
// Gemini CLI names its hooks.
func matcherGroup(matcher, name, command string, timeout int) json.RawMessage {
	type hook struct {
		Name    string `json:"name,omitempty"`
		Type    string `json:"type"`
		Command string `json:"command"`
		Timeout int    `json:"timeout"`
	}
	g := struct {
		Matcher string `json:"matcher"`
		Hooks   []hook `json:"hooks"`
	}{matcher, []hook{{name, "command", command, timeout}}}
	raw := marshalJSON(g)
	return raw
}

// hooksSummary is the summary line of an install.
func hooksSummary(events []string, matcher, command string) string {
	return fmt.Sprintf("%s hooks (matcher %q) run: %s", strings.Join(events, ", "), matcher, command)
}

// plan computes the change. The file's other members, their order and
// their values are kept as written.
func (e hookGroupsEdit) plan() (*Change, error) {
	before, err := readConfig(e.path)
	if err != nil {
		return nil, err
	}
	c := &Change{Path: e.path, Before: before}
	root := newObject()
	if len(strings.TrimSpace(string(before))) > 0 {
		if root, err = parseObject(before); err != nil {
			if !e.force {
				return nil, &InvalidConfigError{Path: e.path, Err: err}
			}
			root = newObject()
			c.Summary = append(c.Summary, "replaced the invalid file (--force); the old one is in the backup")
		}
	}
	hooks := newObject()
	if raw, ok := root.get("hooks"); ok {
		if hooks, err = parseObject(raw); err != nil {
			if !e.force {
				return nil, &InvalidConfigError{Path: e.path, Err: fmt.Errorf(`"hooks" is not an object: %w`, err)}
			}
			hooks = newObject()
		}
	}
	for _, event := range e.events {
		var groups []json.RawMessage
		if raw, ok := hooks.get(event); ok {
			if err := json.Unmarshal(raw, &groups); err != nil {
				if !e.force {
					return nil, &InvalidConfigError{Path: e.path, Err: fmt.Errorf(`"hooks.%s" is not a list: %w`, event, err)}
				}
				groups = nil
			}
		}
		kept, at, removed := withoutAgentHooks(groups, e.agent)
		if !e.remove {
			if at < 0 {
				at = len(kept)
			}
			kept = append(kept[:at], append([]json.RawMessage{e.group}, kept[at:]...)...)
		}
		switch {
		case len(kept) > 0:
			arr := marshalJSON(kept)
			hooks.set(event, arr)
		default:
			hooks.remove(event)
		}
		if e.remove && removed > 0 {
			c.Summary = append(c.Summary, fmt.Sprintf("removed Rampart's %s hook", event))
		}
	}
	if c.After, err = withHooks(root, hooks); err != nil {
		return nil, err
	}
	if before == nil {
		c.Changed = !e.remove
	} else {
		c.Changed = !sameJSON(before, c.After)
	}
	return c, nil
}

// withoutAgentHooks takes the entries that run "rampart hook AGENT" out of
// an event's matcher groups, dropping groups left empty. at is the index
// of the first group that held one (-1 when none did), so a reinstall
// puts the new entry where the old one was.
func withoutAgentHooks(groups []json.RawMessage, agent string) (kept []json.RawMessage, at, removed int) {
	at = -1
	for _, raw := range groups {
		g, err := parseObject(raw)
		if err != nil {
			kept = append(kept, raw)
			continue
		}
		hooksRaw, ok := g.get("hooks")
		var entries []json.RawMessage
		if !ok || json.Unmarshal(hooksRaw, &entries) != nil {
			kept = append(kept, raw)
			continue
		}
		var rest []json.RawMessage
		for _, e := range entries {
			var h struct {
				Command string `json:"command"`
			}
			if json.Unmarshal(e, &h) == nil && IsRampartHook(h.Command, agent) {
				removed++
				continue
			}
			rest = append(rest, e)
		}
		switch {
		case len(rest) == len(entries):
			kept = append(kept, raw)
		case len(rest) > 0:
			arr := marshalJSON(rest)
			g.set("hooks", arr)
			out, _ := g.marshal()
			kept = append(kept, out)
		default:
			if at < 0 {
				at = len(kept)
			}
		}
	}
	return kept, at, removed
}

// InstalledHook is one Rampart entry found in a settings file.
type InstalledHook struct {
	Event   string
	Matcher string
	// HasMatcher is false when the group has no "matcher" key.
	HasMatcher bool
	Command    string
}

// installedAgentHooks lists the entries of data's "hooks" that run
// "rampart hook AGENT", in file order per event.
func installedAgentHooks(data []byte, agent string) (map[string][]InstalledHook, error) {
	root, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	out := map[string][]InstalledHook{}
	raw, ok := root.get("hooks")
	if !ok {
		return out, nil
	}
	var hooks map[string]json.RawMessage
	if err := json.Unmarshal(raw, &hooks); err != nil {
		return nil, fmt.Errorf(`"hooks" is not an object: %w`, err)
	}
	for event, rawGroups := range hooks {
		var groups []struct {
			Matcher *string `json:"matcher"`
			Hooks   []struct {
				Command string `json:"command"`
			} `json:"hooks"`
		}
		if json.Unmarshal(rawGroups, &groups) != nil {
			continue // not an event's list of groups (Gemini's hooks hold no such thing, but be lenient)
		}
		for _, g := range groups {
			for _, h := range g.Hooks {
				if IsRampartHook(h.Command, agent) {
					ih := InstalledHook{Event: event, Command: h.Command, HasMatcher: g.Matcher != nil}
					if g.Matcher != nil {
						ih.Matcher = *g.Matcher
					}
					out[event] = append(out[event], ih)
				}
			}
		}
	}
	return out, nil
}

// MatchesEveryTool reports whether a hook group's matcher runs it for
// every tool, MCP tools included, in Codex and Gemini CLI alike.
func (h InstalledHook) MatchesEveryTool() bool {
	return !h.HasMatcher || h.Matcher == "*" || h.Matcher == "" || h.Matcher == ".*"
}
