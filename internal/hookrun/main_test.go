package hookrun

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/audit"
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

// Input that cannot be decoded is refused (fail-closed) and recorded: the
// trail shows that a call was blocked, and why.
func TestRefusedInputIsAudited(t *testing.T) {
	for _, input := range []string{"", "not json", `{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls","command":"rm -rf /"}}`} {
		env, out, errOut := testEnv(t, input)
		code := Main([]string{"claude-code"}, env)
		if code != 0 || !strings.Contains(out.String(), `"permissionDecision":"deny"`) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", input, code, out, errOut)
		}
		var recs []*audit.Record
		err := audit.Scan(audit.DefaultDir(env.Getenv("RAMPART_HOME")), func(e audit.Entry) error {
			recs = append(recs, e.Record)
			return nil
		})
		if err != nil || len(recs) != 1 || recs[0].Decision != "error" || recs[0].Adapter != "hook/claude-code" ||
			recs[0].Agent != "claude-code" || recs[0].Error == "" {
			t.Errorf("%q: records %+v, %v", input, recs, err)
		}
	}
}
