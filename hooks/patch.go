package hooks

import (
	"strings"

	"github.com/rampart-dev/rampart/engine"
)

// PatchTargets reads the files a patch in Codex's apply_patch format
// writes, in order, one tool call each:
//
//	*** Begin Patch
//	*** Add File: PATH      a write of PATH (content: its + lines)
//	*** Update File: PATH   an edit of PATH (content: its + lines)
//	*** Move to: NEW        a write of NEW, the updated file's new name
//	*** Delete File: PATH   a write of PATH with no content
//	*** End Patch
//
// Relative paths are made absolute in cwd, the way Codex applies them. A
// header may be padded with white space, which Codex ignores. A path
// named twice is one call. A text with no such header gives none.
func PatchTargets(patch, cwd, home string) []engine.ToolCall {
	var calls []engine.ToolCall
	seen := map[string]int{} // tool + path -> index in calls
	var added []string
	current := -1 // the call whose + lines are being read
	flush := func() {
		if current >= 0 && len(added) > 0 {
			calls[current].Content = strings.Join(added, "\n") + "\n"
		}
		added = nil
	}
	add := func(tool, path string) int {
		path = absToolPath(strings.TrimSpace(path), cwd, home)
		if path == "" {
			return -1
		}
		if i, ok := seen[tool+"\x00"+path]; ok {
			return i
		}
		seen[tool+"\x00"+path] = len(calls)
		calls = append(calls, engine.ToolCall{Tool: tool, Path: path})
		return len(calls) - 1
	}
	for _, line := range strings.Split(patch, "\n") {
		line = strings.TrimSuffix(line, "\r")
		// Codex reads a hunk's header with the padding around it trimmed.
		header, rest, ok := strings.Cut(strings.TrimSpace(line), ": ")
		switch {
		case ok && header == "*** Add File":
			flush()
			current = add(engine.ToolWrite, rest)
		case ok && header == "*** Update File":
			flush()
			current = add(engine.ToolEdit, rest)
		case ok && header == "*** Move to":
			// The updated file's content lands here.
			if i := add(engine.ToolWrite, rest); i >= 0 {
				current = i
			}
		case ok && header == "*** Delete File":
			flush()
			add(engine.ToolWrite, rest)
			current = -1
		case strings.HasPrefix(strings.TrimSpace(line), "*** "):
			flush()
			current = -1
		case strings.HasPrefix(line, "+") && current >= 0:
			added = append(added, line[1:])
		}
	}
	flush()
	return calls
}
