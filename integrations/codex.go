package integrations

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Codex CLI reads hooks from hooks.json in its home ($CODEX_HOME, else
// ~/.codex), in Claude Code's layout:
//
//	{"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": "...", "timeout": 30}]}]}}
//
// and runs a hook only once its exact definition is trusted (a hash in
// config.toml's hooks.state, see [CodexAppServer]).

// CodexEvents are the hook events Rampart installs: PreToolUse decides,
// PostToolUse records outcomes (Codex has no failure event).
var CodexEvents = []string{"PreToolUse", "PostToolUse"}

// CodexMatcher matches every tool: shell, apply_patch and MCP tools.
const CodexMatcher = "*"

// CodexHookTimeout is the timeout, in seconds, Rampart's entries ask Codex
// for. The hook answers (by its fail mode) after 10 s itself.
const CodexHookTimeout = 30

// CodexHome is Codex's home: $CODEX_HOME, else ~/.codex.
func CodexHome(home, codexHome string) string {
	if codexHome != "" {
		return codexHome
	}
	return filepath.Join(home, ".codex")
}

// CodexHooksPath is the hooks file setup edits: hooks.json in Codex's home.
func CodexHooksPath(home, codexHome string) string {
	return filepath.Join(CodexHome(home, codexHome), "hooks.json")
}

// PlanCodex plans adding Rampart's hooks (running command) to the Codex
// hooks file at path. force replaces a file that is not valid JSON.
func PlanCodex(path, command string, force bool) (*Change, error) {
	c, err := hookGroupsEdit{path: path, agent: "codex", events: CodexEvents, group: matcherGroup(CodexMatcher, "", command, CodexHookTimeout), force: force}.plan()
	if err == nil && c.Changed {
		c.Summary = append(c.Summary, hooksSummary(CodexEvents, CodexMatcher, command))
	}
	return c, err
}

// PlanCodexRemove plans taking out exactly the entries setup added.
func PlanCodexRemove(path string, force bool) (*Change, error) {
	return hookGroupsEdit{path: path, agent: "codex", events: CodexEvents, force: force, remove: true}.plan()
}

// InstalledCodexHooks lists Rampart's entries in a Codex hooks file.
func InstalledCodexHooks(data []byte) (map[string][]InstalledHook, error) {
	return installedAgentHooks(data, "codex")
}

// BackupFile copies the file at path next to it, as path.rampart-backup-TIME
// (the name [Apply] gives its backups), before a program other than
// Rampart edits it. It returns the backup's path, "" when there is no file.
func BackupFile(path string, now time.Time) (string, error) {
	data, err := readConfig(path)
	if err != nil || data == nil {
		return "", err
	}
	mode := fs.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	backup := fmt.Sprintf("%s.rampart-backup-%s", path, now.UTC().Format("20060102T150405.000000000Z"))
	if err := writeFileSync(backup, data, mode); err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	return backup, nil
}
