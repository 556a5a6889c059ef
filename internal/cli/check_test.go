package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// testProcess is a Process with buffers, an empty environment (plus env)
// and a fixed working directory.
func testProcess(t *testing.T, env map[string]string) (*Process, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errOut bytes.Buffer
	home := t.TempDir()
	full := map[string]string{"HOME": home, "RAMPART_HOME": home + "/.rampart"}
	for k, v := range env {
		full[k] = v
	}
	return &Process{
		In: strings.NewReader(""), Out: &out, Err: &errOut,
		Getenv: func(k string) string { return full[k] },
		Getwd:  func() (string, error) { return home, nil },
	}, &out, &errOut
}

// parseCheck runs "check args..." with a runF that captures the options.
func parseCheck(t *testing.T, args ...string) (*CheckOptions, int, string) {
	t.Helper()
	proc, _, errOut := testProcess(t, nil)
	var got *CheckOptions
	cmd := NewCmdRoot(proc)
	for _, c := range cmd.Commands() {
		if c.Name() == "check" {
			cmd.RemoveCommand(c)
		}
	}
	cmd.AddCommand(NewCmdCheck(proc, func(o *CheckOptions) error { got = o; return nil }))
	cmd.SetArgs(append([]string{"check"}, args...))
	code := ExitOK
	if err := cmd.Execute(); err != nil {
		code = report(errOut, err)
	}
	return got, code, errOut.String()
}

func TestCheckFlagParsing(t *testing.T) {
	for _, c := range []struct {
		name    string
		args    []string
		check   func(*CheckOptions) bool
		wantErr string // substring of stderr; exit 64
	}{
		{name: "after dash dash", args: []string{"--", "rm", "-rf", "/"},
			check: func(o *CheckOptions) bool {
				return o.Tool == "exec" && slices.Equal(o.Args, []string{"rm", "-rf", "/"}) &&
					o.toolCall("/w").Command == "rm -rf /"
			}},
		{name: "without dash dash flags stop at the command", args: []string{"--json", "rm", "-rf", "/", "--explain"},
			check: func(o *CheckOptions) bool {
				return o.JSON && !o.Explain && o.toolCall("/w").Command == "rm -rf / --explain"
			}},
		{name: "single argument used as is", args: []string{"--", "curl -s x | sh"},
			check: func(o *CheckOptions) bool { return o.toolCall("/w").Command == "curl -s x | sh" }},
		{name: "argv", args: []string{"--argv", "--", "rm", "-rf", "/tmp/a b"},
			check: func(o *CheckOptions) bool {
				c := o.toolCall("/w")
				return c.Command == "" && slices.Equal(c.Argv, []string{"rm", "-rf", "/tmp/a b"})
			}},
		{name: "read", args: []string{"--tool", "read", "--", "~/.ssh/id_rsa"},
			check: func(o *CheckOptions) bool {
				c := o.toolCall("/w")
				return c.Tool == "read" && c.Path == "~/.ssh/id_rsa"
			}},
		{name: "tool is case-insensitive", args: []string{"--tool", "FETCH", "https://x"},
			check: func(o *CheckOptions) bool { c := o.toolCall("/w"); return c.Tool == "fetch" && c.URL == "https://x" }},
		{name: "mcp with input", args: []string{"--tool", "mcp", "--input", `{"a":1}`, "mcp__x__y"},
			check: func(o *CheckOptions) bool {
				c := o.toolCall("/w")
				return c.Name == "mcp__x__y" && string(c.Input) == `{"a":1}`
			}},
		{name: "sources and identity", args: []string{"--profile", "none", "--policy", "a.yaml", "--policy", "b.yaml", "--agent", "codex", "--session", "s1", "--", "ls"},
			check: func(o *CheckOptions) bool {
				c := o.toolCall("/w")
				return o.Sources.Profile == "none" && slices.Equal(o.Sources.Policies, []string{"a.yaml", "b.yaml"}) &&
					c.Agent == "codex" && c.Session == "s1" && c.Cwd == "/w"
			}},
		{name: "stdin", args: []string{"--stdin", "--agent", "a"},
			check: func(o *CheckOptions) bool { return o.Stdin && o.Sources.Policies == nil }},

		{name: "missing command", args: nil, wantErr: "missing command to check"},
		{name: "empty command", args: []string{"--", " "}, wantErr: "the command to check is empty"},
		{name: "unknown tool", args: []string{"--tool", "exce", "ls"}, wantErr: `unknown tool "exce" (did you mean "exec"?)`},
		{name: "unknown flag", args: []string{"--jsn", "ls"}, wantErr: "unknown flag: --jsn"},
		{name: "dash command without dash dash", args: []string{"-rf"}, wantErr: `put "--" before a command`},
		{name: "two paths", args: []string{"--tool", "read", "a", "b"}, wantErr: "--tool read takes one path, got 2 arguments"},
		{name: "argv with read", args: []string{"--tool", "read", "--argv", "a"}, wantErr: "--argv is only for --tool exec"},
		{name: "input with exec", args: []string{"--input", "{}", "ls"}, wantErr: "--input is only for --tool mcp"},
		{name: "input not an object", args: []string{"--tool", "mcp", "--input", "[1]", "x"}, wantErr: "--input: want a JSON object"},
		{name: "stdin with args", args: []string{"--stdin", "ls"}, wantErr: "--stdin takes no arguments"},
		{name: "stdin with explain", args: []string{"--stdin", "--explain"}, wantErr: "--explain cannot be used with --stdin"},
		{name: "unknown profile", args: []string{"--profile", "standrd", "ls"}, wantErr: `unknown profile "standrd" (did you mean "standard"?)`},
		{name: "policy flag without value", args: []string{"--policy"}, wantErr: "flag needs an argument: --policy"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts, code, stderr := parseCheck(t, c.args...)
			if c.wantErr != "" {
				if code != ExitUsage || !strings.Contains(stderr, c.wantErr) {
					t.Fatalf("exit %d, stderr:\n%s\nwant exit 64 and %q", code, stderr, c.wantErr)
				}
				if !strings.HasPrefix(stderr, "rampart: error: ") {
					t.Errorf("stderr does not start with \"rampart: error: \":\n%s", stderr)
				}
				if opts != nil {
					t.Errorf("runF was called for a usage error")
				}
				return
			}
			if code != ExitOK || opts == nil {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			if !c.check(opts) {
				t.Errorf("unexpected options: %+v", *opts)
			}
		})
	}
}
