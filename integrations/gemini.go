package integrations

import (
	"encoding/json"
	"fmt"
	"path/filepath"
)

// Gemini CLI reads hooks from settings.json (~/.gemini/settings.json for
// the user, .gemini/settings.json in a project):
//
//	{"hooks": {"BeforeTool": [{"matcher": "*", "hooks": [{"name": "rampart", "type": "command", "command": "...", "timeout": 30000}]}]}}
//
// Its timeouts are in milliseconds. hooksConfig.enabled = false, or the
// hook's name or command in hooksConfig.disabled, turns hooks off.

// GeminiEvents are the hook events Rampart installs: BeforeTool decides,
// AfterTool records outcomes.
var GeminiEvents = []string{"BeforeTool", "AfterTool"}

// GeminiMatcher matches every tool, MCP tools included.
const GeminiMatcher = "*"

// GeminiHookName is the name of Rampart's entries, which /hooks and
// hooksConfig.disabled know them by.
const GeminiHookName = "rampart"

// GeminiHookTimeoutMS is the timeout Rampart's entries ask Gemini CLI for.
// The hook answers (by its fail mode) after 10 s itself.
const GeminiHookTimeoutMS = 30000

// GeminiSettingsPath is the settings file setup edits: the project's
// .gemini/settings.json with project, else ~/.gemini/settings.json.
func GeminiSettingsPath(home, projectDir string, project bool) string {
	if project {
		return filepath.Join(projectDir, ".gemini", "settings.json")
	}
	return filepath.Join(home, ".gemini", "settings.json")
}

// PlanGemini plans adding Rampart's hooks (running command) to the Gemini
// CLI settings file at path. force replaces a file that is not valid JSON
// (Gemini CLI accepts comments in it; Rampart's editor does not keep
// them, so such a file is refused unless forced).
func PlanGemini(path, command string, force bool) (*Change, error) {
	c, err := hookGroupsEdit{path: path, agent: "gemini", events: GeminiEvents, group: matcherGroup(GeminiMatcher, GeminiHookName, command, GeminiHookTimeoutMS), force: force}.plan()
	if err == nil && c.Changed {
		c.Summary = append(c.Summary, hooksSummary(GeminiEvents, GeminiMatcher, command))
	}
	return c, err
}

// PlanGeminiRemove plans taking out exactly the entries setup added.
func PlanGeminiRemove(path string, force bool) (*Change, error) {
	return hookGroupsEdit{path: path, agent: "gemini", events: GeminiEvents, force: force, remove: true}.plan()
}

// InstalledGeminiHooks lists Rampart's entries in a Gemini CLI settings
// file.
func InstalledGeminiHooks(data []byte) (map[string][]InstalledHook, error) {
	return installedAgentHooks(data, "gemini")
}

// GeminiHooksOff says why a settings file turns Rampart's hooks off, or
// "" when it does not: hooksConfig.enabled is false, or hooksConfig.disabled
// names the hook or its command.
func GeminiHooksOff(data []byte, command string) string {
	var s struct {
		HooksConfig struct {
			Enabled  *bool    `json:"enabled"`
			Disabled []string `json:"disabled"`
		} `json:"hooksConfig"`
	}
	if json.Unmarshal(data, &s) != nil {
		return ""
	}
	if e := s.HooksConfig.Enabled; e != nil && !*e {
		return "hooksConfig.enabled is false: Gemini CLI runs no hooks at all"
	}
	for _, d := range s.HooksConfig.Disabled {
		if d == GeminiHookName || d == command {
			return fmt.Sprintf("hooksConfig.disabled lists %q: Gemini CLI skips Rampart's hook", d)
		}
	}
	return ""
}
