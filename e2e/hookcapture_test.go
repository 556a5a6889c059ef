//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
)

// toolEvents are the hook events that fire around a tool call.
var toolEvents = []string{"PreToolUse", "PostToolUse", "PostToolUseFailure"}

// hookSample is the stdin of one hook invocation, raw and decoded.
type hookSample struct {
	Raw    []byte
	Fields map[string]any
}

// Event is the sample's hook_event_name.
func (h hookSample) Event() string { s, _ := h.Fields["hook_event_name"].(string); return s }

// ToolUseID is the sample's tool_use_id.
func (h hookSample) ToolUseID() string { s, _ := h.Fields["tool_use_id"].(string); return s }

// ToolName is the sample's tool_name.
func (h hookSample) ToolName() string { s, _ := h.Fields["tool_name"].(string); return s }

// captureHook writes a hook script into the sandbox that saves its stdin as
// a new file in a capture directory and prints nothing; tag names the
// directory, so several hooks can be told apart. It returns the script's
// path.
func (s *sandbox) captureHook(tag string) string {
	s.t.Helper()
	dir := filepath.Join(s.home, "captured", tag)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	script := filepath.Join(s.home, "hook-"+tag+".sh")
	body := "#!/bin/sh\nf=$(mktemp '" + dir + "/hook.XXXXXXXX') && cat > \"$f\"\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		s.t.Fatal(err)
	}
	return script
}

// captured returns what the hook made by captureHook(tag) received, in the
// order the invocations happened.
func (s *sandbox) captured(tag string) []hookSample {
	s.t.Helper()
	dir := filepath.Join(s.home, "captured", tag)
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.t.Fatal(err)
	}
	type timed struct {
		sample hookSample
		order  int64
	}
	var all []timed
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		raw, err := os.ReadFile(path)
		if err != nil {
			s.t.Fatal(err)
		}
		info, err := os.Stat(path)
		if err != nil {
			s.t.Fatal(err)
		}
		sample := hookSample{Raw: raw}
		if err := json.Unmarshal(raw, &sample.Fields); err != nil {
			s.t.Fatalf("hook stdin %s is not a JSON object: %v\n%s", path, err, raw)
		}
		all = append(all, timed{sample, info.ModTime().UnixNano()})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].order < all[j].order })
	samples := make([]hookSample, len(all))
	for i, t := range all {
		samples[i] = t.sample
	}
	return samples
}

// hookSettings is a settings.json "hooks" value that runs command for each
// of events on every tool, using matcher.
func hookSettings(matcher, command string, events ...string) map[string]any {
	hooks := map[string]any{}
	for _, event := range events {
		hooks[event] = []any{map[string]any{
			"matcher": matcher,
			"hooks":   []any{map[string]any{"type": "command", "command": command}},
		}}
	}
	return hooks
}
