package hookrun

import (
	"bytes"
	"strings"
	"testing"
)

func testEnv(t *testing.T, input string) (Env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	home := t.TempDir()
	vars := map[string]string{"HOME": home, "RAMPART_HOME": home + "/.rampart"}
	var out, errOut bytes.Buffer
	return Env{In: strings.NewReader(input), Out: &out, Err: &errOut,
		Getenv: func(k string) string { return vars[k] }, Getwd: func() (string, error) { return home, nil }}, &out, &errOut
}

// rampart-hook reads its command line as rampart hook does: a mistake in
// it blocks (exit 2) instead of letting the tool run.
func TestMainCommandLine(t *testing.T) {
	deny := `{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"rm -rf /"},"cwd":"/tmp"}`
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"claude-code"}, 0, `"permissionDecision":"deny"`, ""},
		{[]string{"--format", "claude-code"}, 0, `"permissionDecision":"deny"`, ""},
		{[]string{"--mode", "monitor", "claude-code"}, 0, "", ""},
		{[]string{"--bogus", "claude-code"}, 2, "", "unknown flag: --bogus (the tool call is blocked)"},
		{[]string{"claude-code", "codex"}, 2, "", "one AGENT expected"},
		{[]string{"--format", "codex", "claude-code"}, 2, "", "name different agents"},
		{[]string{"claud"}, 2, "", `unknown agent "claud" (did you mean "claude-code"?)`},
		{[]string{}, 2, "", "no agent given"},
		{[]string{"--help"}, 0, "Usage: rampart-hook [flags] AGENT", ""},
	}
	for _, tt := range tests {
		env, out, errOut := testEnv(t, deny)
		code := Main(tt.args, env)
		if code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errOut.String(), tt.stderr) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tt.args, code, out, errOut)
		}
		if tt.stdout == "" && out.Len() != 0 {
			t.Errorf("%q: unexpected stdout %q", tt.args, out)
		}
	}
}
