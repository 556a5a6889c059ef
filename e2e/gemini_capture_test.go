//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lower is strings.ToLower, for sample file names.
func lower(s string) string { return strings.ToLower(s) }

// TestGeminiCaptureHookInputs drives the real Gemini CLI through the calls
// hooks/testdata/gemini/ was captured from, with a hook on BeforeTool and
// AfterTool that saves its stdin, and checks that the saved samples still
// have the fields this Gemini CLI sends.
func TestGeminiCaptureHookInputs(t *testing.T) {
	b := newGeminiBox(t) // Rampart's hooks are replaced below by the capture hook
	s := &sandbox{t: t, home: b.home}
	notes := filepath.Join(b.project, "notes.txt")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(b.home, ".gemini", "settings.json"), map[string]any{
		"security":   map[string]any{"auth": map[string]any{"selectedType": "gemini-api-key"}, "folderTrust": map[string]any{"enabled": false}},
		"general":    map[string]any{"enableAutoUpdate": false, "enableAutoUpdateNotification": false},
		"privacy":    map[string]any{"usageStatisticsEnabled": false},
		"telemetry":  map[string]any{"enabled": false},
		"model":      map[string]any{"name": "gemini-2.5-flash"},
		"mcpServers": map[string]any{"e2e": map[string]any{"command": self, "args": []string{"-test.run=^$"}, "env": map[string]string{mcpServerEnv: "1"}}},
		"hooks":      hookSettings("*", s.captureHook("gemini"), "BeforeTool", "AfterTool"),
	})
	// Each call's file suffix, and a string only its hook input holds.
	type call struct{ suffix, needle string }
	script := []struct {
		call geminiCall
		file call
	}{
		{geminiCall{"run_shell_command", map[string]any{"command": "echo hello from shell", "description": "greet"}}, call{"", "hello from shell"}},
		{geminiCall{"run_shell_command", map[string]any{"command": "ls /nonexistent-rampart-e2e", "dir_path": "."}}, call{"-fail", "nonexistent-rampart-e2e"}},
		{geminiCall{"write_file", map[string]any{"file_path": notes, "content": "hello\nworld\n"}}, call{"", ""}},
		{geminiCall{"replace", map[string]any{"file_path": notes, "old_string": "hello", "new_string": "goodbye", "instruction": "greet less"}}, call{"", ""}},
		{geminiCall{"read_file", map[string]any{"file_path": notes}}, call{"", "notes.txt"}},
		{geminiCall{"read_file", map[string]any{"file_path": filepath.Join(b.project, "missing.txt")}}, call{"-missing", "missing.txt"}},
		{geminiCall{"glob", map[string]any{"pattern": "*.txt", "dir_path": b.project}}, call{"", ""}},
		{geminiCall{"grep_search", map[string]any{"pattern": "goodbye", "dir_path": b.project}}, call{"", ""}},
		{geminiCall{"list_directory", map[string]any{"dir_path": b.project}}, call{"", ""}},
		{geminiCall{"web_fetch", map[string]any{"prompt": "Summarize http://127.0.0.1:1/page please"}}, call{"", ""}},
		{geminiCall{"google_web_search", map[string]any{"query": "rampart"}}, call{"", ""}},
		{geminiCall{"mcp_e2e_echo", map[string]any{"text": "hi"}}, call{"", ""}},
	}
	var calls []geminiCall
	for _, c := range script {
		calls = append(calls, c.call)
	}
	b.api.setScript(calls...)

	b.run("Exercise every tool once.")

	capturedShapes(t, "gemini", s.captured("gemini"), func(h hookSample) string {
		suffix := ""
		for _, c := range script {
			if c.call.Name == h.ToolName() && c.file.suffix != "" && strings.Contains(string(h.Raw), c.file.needle) {
				suffix = c.file.suffix
			}
		}
		return lower(h.Event()) + "-" + h.ToolName() + suffix + ".json"
	})
}
