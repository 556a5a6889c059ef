package integrations

import (
	"encoding/json"
	"fmt"
	"strings"
)

// hookFile is a JSON config file whose "hooks" object maps each event to
// a list of hook entries, each running one command: Cursor's hooks.json,
// Windsurf's hooks.json, Copilot CLI's hooks/*.json. Rampart adds one
// entry per event and, on removal, takes out exactly its own entries,
// leaving every other member and entry as it was written.
type hookFile struct {
	path  string
	agent string // the hook protocol: entries running "rampart hook AGENT" are Rampart's
	// events are the events Rampart installs, in the order to write them.
	events []string
	// key is the entry member that holds the command ("command", or
	// Copilot's "bash").
	key string
	// entry is Rampart's entry for an event.
	entry func(command string) any
	// version, when not 0, is the "version" the file must declare; a new
	// file gets it.
	version int
}

// plan plans adding Rampart's entries (running command), or with remove
// taking them out. force replaces a file, or a member, that is not what
// the agent would accept either.
func (h hookFile) plan(command string, force, remove bool) (*Edit, error) {
	before, err := readConfig(h.path)
	if err != nil {
		return nil, err
	}
	c := &Change{Path: h.path, Before: before}
	invalid := func(format string, args ...any) error {
		return &InvalidConfigError{Path: h.path, Err: fmt.Errorf(format, args...)}
	}
	root := newObject()
	if len(strings.TrimSpace(string(before))) > 0 {
		if root, err = parseObject(before); err != nil {
			if !force {
				return nil, &InvalidConfigError{Path: h.path, Err: err}
			}
			root = newObject()
			c.Summary = append(c.Summary, "replaced the invalid file (--force); the old one is in the backup")
		}
	}
	if h.version != 0 && !remove {
		raw, ok := root.get("version")
		switch {
		case !ok:
			root.set("version", json.RawMessage(fmt.Sprint(h.version)))
		case strings.TrimSpace(string(raw)) != fmt.Sprint(h.version):
			if !force {
				return nil, invalid(`"version" is %s; this setup writes version %d`, raw, h.version)
			}
			root.set("version", json.RawMessage(fmt.Sprint(h.version)))
		}
	}
	hooks := newObject()
	if raw, ok := root.get("hooks"); ok {
		if hooks, err = parseObject(raw); err != nil {
			if !force {
				return nil, invalid(`"hooks" is not an object: %v`, err)
			}
			hooks = newObject()
		}
	}
	ours := marshalJSON(h.entry(command))
	removed := 0
	for _, event := range h.events {
		var entries []json.RawMessage
		if raw, ok := hooks.get(event); ok {
			if err := json.Unmarshal(raw, &entries); err != nil {
				if !force {
					return nil, invalid(`"hooks.%s" is not a list: %v`, event, err)
				}
				entries = nil
			}
		}
		kept, at := h.withoutRampart(entries)
		if !remove {
			if at < 0 {
				at = len(kept)
			}
			kept = append(kept[:at], append([]json.RawMessage{ours}, kept[at:]...)...)
		} else if len(kept) < len(entries) {
			removed += len(entries) - len(kept)
			c.Summary = append(c.Summary, fmt.Sprintf("removed Rampart's %s hook", event))
		}
		if len(kept) > 0 {
			arr := marshalJSON(kept)
			hooks.set(event, arr)
		} else {
			hooks.remove(event)
		}
	}
	if c.After, err = withHooks(root, hooks); err != nil {
		return nil, err
	}
	e := &Edit{Change: c}
	switch {
	case remove && removed == 0:
		c.Changed = false
	case remove:
		c.Changed = true
		if orig, ok := originalBytes(h.path, c.After); ok {
			// The user's file as it was before setup, byte for byte.
			c.After = orig
		} else if h.leftover(root) {
			e.Remove, e.Ours = true, true
			c.Summary = append(c.Summary, "removed the file, which held only Rampart's hooks")
		}
	case before == nil:
		c.Changed = true
	default:
		c.Changed = !sameJSON(before, c.After)
	}
	if !remove && c.Changed {
		c.Summary = append(c.Summary, fmt.Sprintf("%s hooks run: %s", strings.Join(h.events, ", "), command))
	}
	return e, nil
}

// leftover reports whether what is left of root after removal is nothing
// of the user's: no hooks, and no member but the version.
func (h hookFile) leftover(root *object) bool {
	for _, k := range root.keys {
		if k != "version" || h.version == 0 {
			return false
		}
	}
	return true
}

// withoutRampart takes Rampart's entries out of an event's list. at is
// the index of the first one (-1 when there was none).
func (h hookFile) withoutRampart(entries []json.RawMessage) (kept []json.RawMessage, at int) {
	at = -1
	for _, raw := range entries {
		if h.isRampart(raw) {
			if at < 0 {
				at = len(kept)
			}
			continue
		}
		kept = append(kept, raw)
	}
	return kept, at
}

func (h hookFile) isRampart(entry json.RawMessage) bool {
	var e map[string]any
	if json.Unmarshal(entry, &e) != nil {
		return false
	}
	cmd, _ := e[h.key].(string)
	return IsRampartHook(cmd, h.agent)
}

// installed lists the Rampart hooks in the file, of any event.
func (h hookFile) installed() ([]Hook, error) {
	data, err := readConfig(h.path)
	if err != nil || len(strings.TrimSpace(string(data))) == 0 {
		return nil, err
	}
	root, err := parseObject(data)
	if err != nil {
		return nil, &InvalidConfigError{Path: h.path, Err: err}
	}
	raw, ok := root.get("hooks")
	if !ok {
		return nil, nil
	}
	hooks, err := parseObject(raw)
	if err != nil {
		return nil, &InvalidConfigError{Path: h.path, Err: fmt.Errorf(`"hooks" is not an object: %w`, err)}
	}
	var list []Hook
	for _, event := range hooks.keys {
		var entries []map[string]any
		if json.Unmarshal(hooks.vals[event], &entries) != nil {
			continue
		}
		for _, e := range entries {
			cmd, _ := e[h.key].(string)
			if IsRampartHook(cmd, h.agent) {
				list = append(list, Hook{Event: event, Command: cmd, Binary: HookBinary(cmd), File: h.path})
			}
		}
	}
	return list, nil
}
