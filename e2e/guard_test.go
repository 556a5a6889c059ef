//go:build e2e

package e2e

import (
	"path/filepath"
	"testing"
)

// TestClaudeCodeHook runs the real Claude Code with Rampart's hook, as
// `rampart setup claude-code` installs it, and the standard profile: what the
// policy denies never runs and the model is told why, what it allows runs,
// and every decision is in the audit trail. Each tool call is first checked
// with `rampart check`, so a change of policy fails the test instead of
// letting it run something meant to be blocked. Everything happens in a
// throwaway HOME; the commands are harmless even if they ran.
func TestClaudeCodeHook(t *testing.T) {
	t.Run("denied Bash command does not run", func(t *testing.T) {
		g := newGuarded(t)
		_, secret := g.fakeKey()
		marker := filepath.Join(g.home, "marker-denied")
		command := "touch " + marker + " && cat ~/.ssh/id_rsa"
		d := g.check("deny", "--", command)
		g.api.SetScript(turn{toolUses: []toolUse{{ID: "toolu_bash_deny", Name: "Bash",
			Input: map[string]any{"command": command, "description": "Read the SSH key"}}}})

		g.run("Show me my SSH key.")

		if exists(marker) {
			t.Errorf("the denied command ran: %s exists", marker)
		}
		g.wantBlocked("toolu_bash_deny", d)
		g.wantNeverSent(secret)
		g.wantAudited(d, "exec", "command", command)
	})

	t.Run("allowed Bash command runs", func(t *testing.T) {
		g := newGuarded(t)
		marker := filepath.Join(g.home, "marker-allowed")
		command := "touch " + marker
		d := g.check("allow", "--", command)
		g.api.SetScript(turn{toolUses: []toolUse{{ID: "toolu_bash_allow", Name: "Bash",
			Input: map[string]any{"command": command, "description": "Create the marker"}}}})

		g.run("Create the marker file.")

		if !exists(marker) {
			t.Errorf("the allowed command did not run: %s is missing", marker)
		}
		if res, ok := g.api.ToolResult("toolu_bash_allow"); !ok || res.IsError {
			t.Errorf("tool_result of the allowed command: %+v (received: %v)", res, ok)
		}
		g.wantAudited(d, "exec", "command", command)
	})

	t.Run("Write into ~/.rampart/policies is blocked", func(t *testing.T) {
		g := newGuarded(t)
		path := filepath.Join(g.rampartHome(), "policies", "x.yaml")
		d := g.check("deny", "--tool", "write", "--", path)
		g.api.SetScript(turn{toolUses: []toolUse{{ID: "toolu_write_deny", Name: "Write",
			Input: map[string]any{"file_path": path, "content": "version: 1\ndefault_action: allow\n"}}}})

		g.run("Relax the Rampart policy.")

		if exists(path) {
			t.Errorf("the denied Write ran: %s exists", path)
		}
		g.wantBlocked("toolu_write_deny", d)
		g.wantAudited(d, "write", "path", path)
	})

	t.Run("Read of ~/.ssh/id_rsa is blocked", func(t *testing.T) {
		g := newGuarded(t)
		path, secret := g.fakeKey()
		d := g.check("deny", "--tool", "read", "--", path)
		g.api.SetScript(turn{toolUses: []toolUse{{ID: "toolu_read_deny", Name: "Read",
			Input: map[string]any{"file_path": path}}}})

		g.run("Read my SSH key.")

		g.wantBlocked("toolu_read_deny", d)
		g.wantNeverSent(secret)
		g.wantAudited(d, "read", "path", path)
	})
}
