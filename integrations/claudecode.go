package integrations

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mattn/go-shellwords"
)

// Claude Code reads hooks from settings.json:
//
//	{"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": "...", "timeout": 30}]}]}}
//
// Rampart adds one matcher group per event with its own command; it never
// edits groups that hold anything else.

// ClaudeCodeEvents are the hook events Rampart installs: PreToolUse
// decides, the two post events record outcomes.
var ClaudeCodeEvents = []string{"PreToolUse", "PostToolUse", "PostToolUseFailure"}

// ClaudeCodeMatcher matches every tool, MCP tools included.
const ClaudeCodeMatcher = "*"

// ClaudeCodeHookTimeout is the timeout, in seconds, Rampart's entries ask
// Claude Code for. The hook answers (by its fail mode) after 10 s itself.
const ClaudeCodeHookTimeout = 30

// ClaudeSettingsPath returns the settings file to edit: the project's
// .claude/settings.json with project, else $CLAUDE_CONFIG_DIR/settings.json,
// else ~/.claude/settings.json.
func ClaudeSettingsPath(home, configDir, projectDir string, project bool) string {
	switch {
	case project:
		return filepath.Join(projectDir, ".claude", "settings.json")
	case configDir != "":
		return filepath.Join(configDir, "settings.json")
	}
	return filepath.Join(home, ".claude", "settings.json")
}

// HookCommand is the shell command an agent's hook entry runs: the
// rampart binary's absolute path, quoted when needed, and its arguments.
//
// "rampart hook AGENT" becomes "rampart-hook AGENT" when rampart-hook is
// installed next to rampart (make install puts it there): the same hook
// in a smaller program that starts faster, which an agent pays for on
// every tool call.
func HookCommand(binary string, args ...string) string {
	if len(args) > 0 && args[0] == "hook" && filepath.Base(binary) == "rampart" {
		if slim := filepath.Join(filepath.Dir(binary), "rampart-hook"); isExecutable(slim) {
			binary, args = slim, args[1:]
		}
	}
	words := append([]string{binary}, args...)
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	return strings.Join(words, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// InvalidConfigError means a config file is not what the agent would
// accept either; setup changes nothing unless forced.
type InvalidConfigError struct {
	Path string
	Err  error
}

func (e *InvalidConfigError) Error() string {
	return fmt.Sprintf("%s is not a valid settings file: %v", e.Path, e.Err)
}

func (e *InvalidConfigError) Unwrap() error { return e.Err }

// ConflictError means the config holds a setting of the user's own where
// setup would put Rampart's; setup changes nothing.
type ConflictError struct{ msg string }

func (e *ConflictError) Error() string { return e.msg }

// IsRampartHook reports whether a hook command runs "rampart hook AGENT"
// or "rampart-hook AGENT" (by any path to the binary, with any flags).
func IsRampartHook(command, agent string) bool {
	words, err := shellwords.Parse(command)
	if err != nil || len(words) < 2 {
		return false
	}
	rest := words[1:]
	switch filepath.Base(words[0]) {
	case "rampart":
		if rest[0] != "hook" {
			return false
		}
		rest = rest[1:]
	case "rampart-hook":
	default:
		return false
	}
	for i, w := range rest {
		if w == agent || w == "--format="+agent || w == "--format" && i+1 < len(rest) && rest[i+1] == agent {
			return true
		}
	}
	return false
}

// PlanClaudeCode plans adding Rampart's hooks (running command) to the
// settings file at path. force replaces a file that is not valid JSON.
// shellPrefix, when not empty, is the rampart-sh binary to set as
// env.CLAUDE_CODE_SHELL_PREFIX: a second line of defence behind the hooks.
func PlanClaudeCode(path, command, shellPrefix string, force bool) (*Change, error) {
	return planClaudeCode(path, command, shellPrefix, force, false)
}

// PlanClaudeCodeRemove plans taking out exactly the entries setup added,
// the shell prefix included when it is rampart-sh.
func PlanClaudeCodeRemove(path string, force bool) (*Change, error) {
	return planClaudeCode(path, "", "", force, true)
}

// ClaudeShellPrefixKey is the env setting Claude Code runs its Bash tool's
// commands through.
const ClaudeShellPrefixKey = "CLAUDE_CODE_SHELL_PREFIX"

func planClaudeCode(path, command, shellPrefix string, force, remove bool) (*Change, error) {
	edit := hookGroupsEdit{path: path, agent: "claude-code", events: ClaudeCodeEvents, force: force, remove: remove}
	if !remove {
		edit.group = matcherGroup(ClaudeCodeMatcher, "", command, ClaudeCodeHookTimeout)
	}
	c, err := edit.plan()
	if err != nil {
		return nil, err
	}
	if shellPrefix != "" || remove {
		root, err := parseObject(c.After)
		if err != nil {
			return nil, err
		}
		if err := editShellPrefix(root, shellPrefix, remove, force, path, c); err != nil {
			return nil, err
		}
		raw, _ := root.marshal()
		if c.After, err = indent(raw); err != nil {
			return nil, err
		}
	}
	if remove {
		// Give the user's own file back byte for byte when a backup of
		// it (from setup) holds the same settings.
		if orig, ok := originalBytes(path, c.After); ok {
			c.After = orig
		}
	}
	if c.Before == nil {
		c.Changed = !remove
	} else {
		c.Changed = !sameJSON(c.Before, c.After)
	}
	if !remove && c.Changed {
		c.Summary = append(c.Summary, hooksSummary(ClaudeCodeEvents, ClaudeCodeMatcher, command))
	}
	return c, nil
}

// InstalledClaudeCommands lists, per event, the Rampart hook entries in
// Claude Code's settings file data.
func InstalledClaudeCommands(data []byte) (map[string][]InstalledHook, error) {
	return installedAgentHooks(data, "claude-code")
}

// ClaudeHooksOff says why a Claude Code settings file turns Rampart's
// hooks off, or "" when it does not: "disableAllHooks": true makes Claude
// Code run no hook at all.
func ClaudeHooksOff(data []byte) string {
	var s struct {
		DisableAllHooks bool `json:"disableAllHooks"`
	}
	if json.Unmarshal(data, &s) == nil && s.DisableAllHooks {
		return "disableAllHooks is true: Claude Code runs no hooks at all"
	}
	return ""
}

// editShellPrefix sets env.CLAUDE_CODE_SHELL_PREFIX to rampart-sh, or on
// remove takes it out when it names rampart-sh (a prefix of the user's own
// is left alone).
func editShellPrefix(root *object, shellPrefix string, remove, force bool, path string, c *Change) error {
	if shellPrefix == "" && !remove {
		return nil
	}
	env := newObject()
	if raw, ok := root.get("env"); ok {
		var err error
		if env, err = parseObject(raw); err != nil {
			if !force {
				return &InvalidConfigError{Path: path, Err: fmt.Errorf(`"env" is not an object: %w`, err)}
			}
			env = newObject()
		}
	}
	current := ""
	if raw, ok := env.get(ClaudeShellPrefixKey); ok {
		json.Unmarshal(raw, &current)
	}
	switch {
	case remove && IsRampartSh(current):
		env.remove(ClaudeShellPrefixKey)
		c.Summary = append(c.Summary, "removed "+ClaudeShellPrefixKey)
	case remove:
		return nil
	case current != "" && !IsRampartSh(current):
		return &ConflictError{fmt.Sprintf("%s already sets %s to %q; Rampart will not replace your own prefix (remove it first, or chain it yourself)", path, ClaudeShellPrefixKey, current)}
	default:
		raw := marshalJSON(shellPrefix)
		env.set(ClaudeShellPrefixKey, raw)
		c.Summary = append(c.Summary, fmt.Sprintf("env.%s = %s: Bash commands also pass through rampart-sh", ClaudeShellPrefixKey, shellPrefix))
	}
	if env.len() > 0 {
		raw, _ := env.marshal()
		root.set("env", raw)
	} else {
		root.remove("env")
	}
	return nil
}

// IsRampartSh reports whether a shell prefix runs rampart-sh.
func IsRampartSh(prefix string) bool {
	words, err := shellwords.Parse(prefix)
	return err == nil && len(words) == 1 && filepath.Base(words[0]) == "rampart-sh"
}
