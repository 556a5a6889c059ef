//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tests in this file pin down the parts of Claude Code's hook protocol
// that Rampart's hook relies on, against the real CLI: which matcher covers
// every tool (MCP tools too), and what a PreToolUse deny does.

// TestHookMatcherCoversEveryTool checks which PreToolUse matchers run the hook
// for a built-in tool, a file tool and an MCP tool.
func TestHookMatcherCoversEveryTool(t *testing.T) {
	api := newFakeAPI(t)
	s := newSandbox(t, api)
	notes := filepath.Join(s.project, "notes.txt")
	if err := os.WriteFile(notes, []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	api.SetScript(
		turn{toolUses: []toolUse{{ID: "toolu_m_1", Name: "Bash", Input: map[string]any{"command": "true"}}}},
		turn{toolUses: []toolUse{{ID: "toolu_m_2", Name: "Read", Input: map[string]any{"file_path": notes}}}},
		turn{toolUses: []toolUse{{ID: "toolu_m_3", Name: mcpEchoTool, Input: map[string]any{"text": "hi"}}}},
	)
	// tag -> matcher; "omitted" has no matcher key at all.
	matchers := map[string]string{
		"star": "*", "empty": "", "dotstar": ".*", "bash": "Bash", "mcp": "mcp__.*",
	}
	var entries []any
	for tag, matcher := range matchers {
		entries = append(entries, map[string]any{"matcher": matcher,
			"hooks": []any{map[string]any{"type": "command", "command": s.captureHook(tag)}}})
	}
	entries = append(entries, map[string]any{
		"hooks": []any{map[string]any{"type": "command", "command": s.captureHook("omitted")}}})
	writeJSON(t, filepath.Join(s.claudeDir(), "settings.json"), map[string]any{
		"hooks": map[string]any{"PreToolUse": entries},
	})

	s.run("Run three tools.", "--mcp-config", mcpConfig(t), "--strict-mcp-config")

	want := map[string]string{
		"star": "Bash,Read," + mcpEchoTool, "empty": "Bash,Read," + mcpEchoTool,
		"dotstar": "Bash,Read," + mcpEchoTool, "omitted": "Bash,Read," + mcpEchoTool,
		"bash": "Bash", "mcp": mcpEchoTool,
	}
	for tag, wantTools := range want {
		var got []string
		for _, h := range s.captured(tag) {
			got = append(got, h.ToolName())
		}
		if strings.Join(got, ",") != wantTools {
			t.Errorf("matcher %s (%q): hook ran for [%s], want [%s]", tag, matchers[tag], strings.Join(got, ","), wantTools)
		}
	}
}

// TestHookDenyStopsTool checks what each way a PreToolUse hook can answer
// does to a Bash call in a headless run with --dangerously-skip-permissions:
// whether the command runs, and the tool_result text the model is shown.
func TestHookDenyStopsTool(t *testing.T) {
	const reason = "rampart-e2e: this command is not allowed"
	decision := func(d string) string {
		return `cat >/dev/null
printf '%s\n' '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"` + d + `","permissionDecisionReason":"` + reason + `"}}'
`
	}
	tests := []struct {
		name string
		hook string // the hook script's body after #!/bin/sh
		// wantText is the tool_result text when the call is blocked; HOOK
		// stands for the hook command. Empty: the command must run.
		wantText string
	}{
		{"deny", decision("deny"), "PreToolUse:Bash hook error: " + reason},
		// Nobody can answer a question in a headless run: ask blocks too,
		// and the model sees the bare reason.
		{"ask", decision("ask"), reason},
		{"exit2", "cat >/dev/null\necho '" + reason + "' >&2\nexit 2\n",
			"PreToolUse:Bash hook error: [HOOK]: " + reason + "\n"},
		// Any other failing exit is a non-blocking error: the tool runs.
		{"exit1", "cat >/dev/null\necho '" + reason + "' >&2\nexit 1\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			s := newSandbox(t, api)
			marker := filepath.Join(s.home, "marker")
			api.SetScript(turn{toolUses: []toolUse{{ID: "toolu_deny_1", Name: "Bash",
				Input: map[string]any{"command": "touch " + marker}}}})
			hook := filepath.Join(s.home, "deny-hook.sh")
			if err := os.WriteFile(hook, []byte("#!/bin/sh\n"+tc.hook), 0o755); err != nil {
				t.Fatal(err)
			}
			hooks := hookSettings("*", s.captureHook("post"), "PostToolUse", "PostToolUseFailure")
			hooks["PreToolUse"] = []any{map[string]any{"matcher": "*",
				"hooks": []any{map[string]any{"type": "command", "command": hook}}}}
			writeJSON(t, filepath.Join(s.claudeDir(), "settings.json"), map[string]any{"hooks": hooks})

			out := s.run("Touch the marker.")

			res, ok := api.ToolResult("toolu_deny_1")
			if !ok {
				t.Fatal("the model never got a tool_result for the call")
			}
			_, statErr := os.Stat(marker)
			ran := statErr == nil
			post := s.captured("post")
			if tc.wantText == "" {
				if !ran || res.IsError {
					t.Errorf("the command did not run (marker exists: %v, tool_result is_error=%v %q)", ran, res.IsError, res.Text)
				}
				return
			}
			if ran {
				t.Errorf("the blocked command ran: %s exists", marker)
			}
			want := strings.ReplaceAll(tc.wantText, "HOOK", hook)
			if !res.IsError || res.Text != want {
				t.Errorf("tool_result is_error=%v text=%q; want an error %q", res.IsError, res.Text, want)
			}
			if denials, _ := out.Output["permission_denials"].([]any); len(denials) != 1 {
				t.Errorf("permission_denials = %v, want the one blocked call", out.Output["permission_denials"])
			}
			for _, h := range post {
				t.Errorf("after a blocked call no Post hook should run; %s ran", h.Event())
			}
		})
	}
}
