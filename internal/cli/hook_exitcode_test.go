package cli

import (
	"github.com/rampart-dev/rampart/internal/hookrun"

	"io"
	"strings"
	"testing"
	"time"
)

// runHook runs "rampart hook" the way Main does and returns the process
// exit code with stdout and stderr.
func runHook(t *testing.T, opts HookOptions, input string, env map[string]string) (int, string, string) {
	t.Helper()
	proc, out, errOut := testProcess(t, env)
	proc.In = strings.NewReader(input)
	opts.Proc = proc
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	code := ExitOK
	if err := hookRun(&opts); err != nil {
		code = report(io.Discard, err)
	}
	return code, out.String(), errOut.String()
}

const windsurfDeny = `{"agent_action_name":"pre_run_command","trajectory_id":"t1","execution_id":"e1","tool_info":{"command_line":"rm -rf /","cwd":"/tmp"}}`

// Windsurf blocks by exit code 2 with the reason on stderr: the answer's
// exit code must reach the process, for decisions and refusals alike.
func TestHookExitCodeReachesTheAgent(t *testing.T) {
	code, out, errOut := runHook(t, HookOptions{Options: hookrun.Options{Agent: "windsurf"}}, windsurfDeny, nil)
	if code != 2 || out != "" || !strings.HasPrefix(errOut, "Rampart blocked this run_command call (rm -rf /) by rule standard/block-destructive.") {
		t.Errorf("deny: exit %d stdout %q stderr %q", code, out, errOut)
	}

	allow := strings.Replace(windsurfDeny, "rm -rf /", "ls", 1)
	if code, out, errOut := runHook(t, HookOptions{Options: hookrun.Options{Agent: "windsurf"}}, allow, nil); code != 0 || out != "" || errOut != "" {
		t.Errorf("allow: exit %d stdout %q stderr %q", code, out, errOut)
	}

	// A refusal (fail-closed) blocks the same way.
	code, out, errOut = runHook(t, HookOptions{Options: hookrun.Options{Agent: "windsurf"}}, "not json", nil)
	if code != 2 || out != "" || !strings.Contains(errOut, "Rampart could not check this tool call, so it is blocked (fail-closed): hook input is not valid JSON.") ||
		!strings.Contains(errOut, "rampart: error: hook input is not valid JSON. The tool call was blocked (fail-closed).") {
		t.Errorf("refuse: exit %d stdout %q stderr %q", code, out, errOut)
	}

	// Fail-open and monitor mode let it run: exit 0.
	if code, _, errOut := runHook(t, HookOptions{Options: hookrun.Options{Agent: "windsurf", FailOpen: true, FailOpenSet: true}}, "not json", nil); code != 0 || !strings.Contains(errOut, "(fail-open)") {
		t.Errorf("fail-open: exit %d stderr %q", code, errOut)
	}
	if code, _, errOut := runHook(t, HookOptions{Options: hookrun.Options{Agent: "windsurf", Mode: "monitor"}}, windsurfDeny, nil); code != 0 || errOut != "" {
		t.Errorf("monitor: exit %d stderr %q", code, errOut)
	}
}

// A hook that times out refuses with the protocol's exit code too.
func TestHookTimeoutExitCode(t *testing.T) {
	proc, out, errOut := testProcess(t, nil)
	r, w := io.Pipe()
	defer w.Close()
	proc.In = r
	err := hookRun(&HookOptions{Proc: proc, Options: hookrun.Options{Agent: "windsurf", Timeout: 50 * time.Millisecond}})
	if code := report(io.Discard, err); code != 2 || out.Len() != 0 || !strings.Contains(errOut.String(), "no decision within 50ms") {
		t.Errorf("exit %d stdout %q stderr %q", code, out, errOut)
	}
}

// Letting a tool run (monitor mode, disabled, fail-open) is the agent's
// own allow: nothing for Claude Code, an explicit allow for Cursor, whose
// entries fail closed on an empty answer.
func TestHookPassIsTheAgentsAllow(t *testing.T) {
	const cursorDeny = `{"hook_event_name":"beforeShellExecution","conversation_id":"c1","command":"rm -rf /","cwd":"/tmp"}`
	const claudeDeny = `{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"rm -rf /"},"cwd":"/tmp"}`
	cases := []struct {
		name  string
		opts  HookOptions
		input string
		env   map[string]string
	}{
		{"monitor", HookOptions{Options: hookrun.Options{Mode: "monitor"}}, "", nil},
		{"disabled", HookOptions{}, "", map[string]string{"RAMPART_MODE": "disabled"}},
		{"fail-open", HookOptions{Options: hookrun.Options{FailOpen: true, FailOpenSet: true}}, "not json", nil},
	}
	for _, c := range cases {
		for _, agent := range []struct{ name, input, want string }{
			{"cursor", cursorDeny, `{"permission":"allow"}` + "\n"},
			{"claude-code", claudeDeny, ""},
		} {
			opts := c.opts
			opts.Agent = agent.name
			input := c.input
			if input == "" {
				input = agent.input
			}
			code, out, _ := runHook(t, opts, input, c.env)
			if code != 0 || out != agent.want {
				t.Errorf("%s %s: exit %d stdout %q, want %q", c.name, agent.name, code, out, agent.want)
			}
		}
	}
}
