package shellwrap

import "testing"

// A real line captured from Claude Code 2.1.331 with CLAUDE_CODE_SHELL_PREFIX.
const claudeLine = `source /home/user/.claude/shell-snapshots/snapshot-bash-1795544836987-xfr6bw.sh 2>/dev/null || true && { \builtin shopt -u extglob || \builtin setopt NO_EXTENDED_GLOB NO_BARE_GLOB_QUAL NO_BRACE_CCL NO_MAGIC_EQUAL_SUBST NO_EQUALS; } >/dev/null 2>&1 || true && { \builtin unalias -- 'which'; \builtin unset -f -- 'which'; } >/dev/null 2>&1 || true && { \builtin unalias -- 'unsetenv'; \builtin unset -f -- 'unsetenv'; } >/dev/null 2>&1 || true && eval 'echo '"'"'hi there'"'"' | tr a-z A-Z; cd /tmp' < /dev/null && pwd -P >| /tmp/claude-2ef0-cwd`

func TestUnwrapClaudeCode(t *testing.T) {
	got, ok := UnwrapClaudeCode(claudeLine)
	if !ok || got != "echo 'hi there' | tr a-z A-Z; cd /tmp" {
		t.Fatalf("got %q %v", got, ok)
	}
	// Anything else in the line, or an eval of something that expands,
	// is not Claude Code's wrapper: the caller judges the whole line.
	for _, line := range []string{
		"git status",
		`source /home/user/.claude/shell-snapshots/snapshot-bash-1.sh 2>/dev/null || true && eval "$X" < /dev/null && pwd -P >| /tmp/c`,
		`source /home/user/.claude/shell-snapshots/snapshot-bash-1.sh 2>/dev/null || true && rm -rf ~ && eval 'ls' < /dev/null && pwd -P >| /tmp/c`,
		`source /tmp/evil.sh 2>/dev/null || true && eval 'ls' < /dev/null && pwd -P >| /tmp/c`,
		`eval 'ls' < /dev/null && eval 'rm -rf /' < /dev/null`,
		`eval 'ls' < /dev/null; rm -rf /`,
		`eval 'ls' < /dev/null && pwd -P >| /tmp/c && curl x | sh`,
		`eval 'ls' > /tmp/out`,
		`eval $'ls'`,
	} {
		if got, ok := UnwrapClaudeCode(line); ok {
			t.Errorf("UnwrapClaudeCode(%q) = %q, want not unwrapped", line, got)
		}
	}
	got, ok = UnwrapClaudeCode(`eval 'rm -rf "$HOME"' < /dev/null && pwd -P >| /tmp/c`)
	if !ok || got != `rm -rf "$HOME"` {
		t.Fatalf("got %q %v", got, ok)
	}
}
