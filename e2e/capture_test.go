//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite hooks/testdata/claude-code/ from what the real Claude Code sends its hooks")

// samplesDir holds the captured hook inputs that the hooks package tests with.
const samplesDir = "../hooks/testdata/claude-code"

// Placeholders that make captured samples the same on every run.
const (
	placeholderHome    = "/home/user"
	placeholderSession = "00000000-0000-4000-8000-000000000000"
	placeholderPrompt  = "11111111-1111-4111-8111-111111111111"
)

// captureCall is one tool call the fake model makes while capturing: the
// samples it produces are saved as <event>-<name>.json (the first one of a
// name wins).
type captureCall struct {
	name string
	use  toolUse
}

func captureCalls(s *sandbox) []captureCall {
	notes := filepath.Join(s.project, "notes.txt")
	return []captureCall{
		{"bash", toolUse{ID: "toolu_e2e_01", Name: "Bash", Input: map[string]any{
			"command": "echo hello from bash", "description": "Print a greeting"}}},
		{"bash", toolUse{ID: "toolu_e2e_02", Name: "Bash", Input: map[string]any{
			"command": "ls /nonexistent-rampart-e2e", "description": "List a missing directory"}}},
		{"write", toolUse{ID: "toolu_e2e_03", Name: "Write", Input: map[string]any{
			"file_path": notes, "content": "hello\nworld\n"}}},
		{"edit", toolUse{ID: "toolu_e2e_04", Name: "Edit", Input: map[string]any{
			"file_path": notes, "old_string": "hello", "new_string": "goodbye"}}},
		{"read", toolUse{ID: "toolu_e2e_05", Name: "Read", Input: map[string]any{
			"file_path": notes}}},
		{"read", toolUse{ID: "toolu_e2e_06", Name: "Read", Input: map[string]any{
			"file_path": filepath.Join(s.project, "missing.txt")}}},
		{"glob", toolUse{ID: "toolu_e2e_07", Name: "Glob", Input: map[string]any{
			"pattern": "*.txt", "path": s.project}}},
		{"grep", toolUse{ID: "toolu_e2e_08", Name: "Grep", Input: map[string]any{
			"pattern": "goodbye", "path": s.project, "output_mode": "content"}}},
		{"webfetch", toolUse{ID: "toolu_e2e_09", Name: "WebFetch", Input: map[string]any{
			"url": s.api.PageURL(), "prompt": "What does the page say?"}}},
		{"mcp", toolUse{ID: "toolu_e2e_10", Name: mcpEchoTool, Input: map[string]any{
			"text": "hi"}}},
	}
}

// TestCaptureHookInputs drives the real Claude Code through every common
// tool with a hook on PreToolUse, PostToolUse and PostToolUseFailure that
// saves its stdin, and checks that each tool call reached the hooks. With
// -update it rewrites hooks/testdata/claude-code/ from what arrived;
// without, it checks that the saved samples still have the fields this
// Claude Code sends.
func TestCaptureHookInputs(t *testing.T) {
	api := newFakeAPI(t)
	s := newSandbox(t, api)
	calls := captureCalls(s)
	var script []turn
	for _, c := range calls {
		script = append(script, turn{toolUses: []toolUse{c.use}})
	}
	api.SetScript(script...)
	writeJSON(t, filepath.Join(s.claudeDir(), "settings.json"), map[string]any{
		"hooks":                 hookSettings("*", s.captureHook("all"), toolEvents...),
		"skipWebFetchPreflight": true,
	})

	s.run("Exercise every tool once.", "--allowedTools", "Glob,Grep", "--mcp-config", mcpConfig(t), "--strict-mcp-config")

	samples := s.captured("all")
	byID := map[string][]hookSample{}
	for _, h := range samples {
		byID[h.ToolUseID()] = append(byID[h.ToolUseID()], h)
		t.Logf("%s %s %s", h.Event(), h.ToolName(), h.Raw)
	}
	files := map[string][]byte{}
	for _, c := range calls {
		got := byID[c.use.ID]
		events := map[string]bool{}
		for _, h := range got {
			events[h.Event()] = true
			if h.ToolName() != c.use.Name {
				t.Errorf("%s: hook saw tool_name %q, want %q", c.use.ID, h.ToolName(), c.use.Name)
			}
			file := strings.ToLower(h.Event()) + "-" + c.name + ".json"
			if _, ok := files[file]; !ok {
				files[file] = normalizeSample(t, s, h)
			}
		}
		if !events["PreToolUse"] {
			t.Errorf("%s %s: no PreToolUse hook ran", c.use.ID, c.use.Name)
		}
		if !events["PostToolUse"] && !events["PostToolUseFailure"] {
			t.Errorf("%s %s: neither PostToolUse nor PostToolUseFailure ran", c.use.ID, c.use.Name)
		}
		if res, ok := api.ToolResult(c.use.ID); !ok {
			t.Errorf("%s %s: the model never got a tool_result", c.use.ID, c.use.Name)
		} else {
			t.Logf("%s %s: tool_result is_error=%v: %.300s", c.use.ID, c.use.Name, res.IsError, res.Text)
		}
	}
	for _, r := range api.Requests() {
		t.Logf("api request: %s %s model=%s stream=%v main=%v", r.Method, r.Path, r.Model, r.Stream, r.Main)
		if !r.Main && r.Body != "" {
			t.Logf("side request (offers tools: %v): %.300s", strings.Contains(r.Body, `"tools":[{`), r.Body)
		}
	}
	if *update {
		writeSamples(t, files)
		return
	}
	checkSamples(t, files)
}

var (
	mangledPathChars = regexp.MustCompile(`[^a-zA-Z0-9]`)
	durations        = regexp.MustCompile(`"(duration_ms|durationMs)": \d+`)
)

// normalizeSample pretty-prints a hook's stdin with the sandbox's paths and
// the session id replaced by fixed placeholders.
func normalizeSample(t testing.TB, s *sandbox, h hookSample) []byte {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, bytes.TrimSpace(h.Raw), "", "  "); err != nil {
		t.Fatal(err)
	}
	out := pretty.String()
	if id, _ := h.Fields["session_id"].(string); id != "" {
		out = strings.ReplaceAll(out, id, placeholderSession)
	}
	if id, _ := h.Fields["prompt_id"].(string); id != "" {
		out = strings.ReplaceAll(out, id, placeholderPrompt)
	}
	out = durations.ReplaceAllString(out, `"$1": 7`)
	// Claude Code names a project's transcript folder after its path with
	// every other character than a letter or digit made a dash.
	out = strings.ReplaceAll(out, mangledPathChars.ReplaceAllString(s.home, "-"), mangledPathChars.ReplaceAllString(placeholderHome, "-"))
	out = strings.ReplaceAll(out, s.home, placeholderHome)
	out = strings.ReplaceAll(out, s.api.PageURL(), "https://127.0.0.1:8443/page")
	return []byte(out + "\n")
}

// writeSamples replaces the saved samples with files.
func writeSamples(t testing.TB, files map[string][]byte) {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	for _, path := range old {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(samplesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(samplesDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d samples into %s", len(files), samplesDir)
}

// checkSamples fails when a saved sample is missing or left over, or its
// fields (and its tool_input's) differ from what this Claude Code sent.
func checkSamples(t testing.TB, files map[string][]byte) {
	t.Helper()
	saved, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	for _, path := range saved {
		if _, ok := files[filepath.Base(path)]; !ok {
			t.Errorf("%s: this Claude Code sent no such sample (run `make e2e-capture` to refresh the samples)", path)
		}
	}
	for name, data := range files {
		saved, err := os.ReadFile(filepath.Join(samplesDir, name))
		if err != nil {
			t.Errorf("%v (run `make e2e-capture` to save the samples)", err)
			continue
		}
		if got, want := sampleShape(t, data), sampleShape(t, saved); got != want {
			t.Errorf("%s: Claude Code now sends %s, the saved sample has %s (run `make e2e-capture` to refresh the samples)", name, got, want)
		}
	}
}

// sampleShape lists a sample's field names and its tool_input's.
func sampleShape(t testing.TB, data []byte) string {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	var input map[string]json.RawMessage
	_ = json.Unmarshal(fields["tool_input"], &input)
	return "fields " + strings.Join(sortedKeys(fields), ",") + " tool_input " + strings.Join(sortedKeys(input), ",")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
