package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/hooks"
	"github.com/rampart-dev/rampart/internal/hookrun"
)

// HookOptions are the flags and arguments of "rampart hook": the hook
// runner's options, and the process they run in.
type HookOptions struct {
	Proc *Process
	hookrun.Options
}

// NewCmdHook builds "rampart hook".
func NewCmdHook(proc *Process, runF func(*HookOptions) error) *cobra.Command {
	opts := &HookOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "hook AGENT",
		Short: "Answer an agent's hook: decide the tool call it describes on stdin",
		Long: `Hook is what an agent's hook configuration runs before (and after) every tool
call: it reads the agent's hook JSON from stdin, decides the tool call with
the policies (the same ones "rampart check" uses, with the project policy
searched from the call's working directory), writes the decision to the audit
trail (~/.rampart/audit) and answers in exactly the format the agent
documents. "rampart setup AGENT" installs it; you rarely run it by hand.

Agents: ` + strings.Join(hooks.Names(), ", ") + `.

An allow is answered with nothing, so the agent's own permission rules and
prompts still apply; --explicit-allow answers with the agent's allow instead,
which skips its prompts. A deny blocks the tool and tells the model why and
what to do instead; an ask makes the agent ask you.

When no decision can be made (empty or malformed input, a broken policy file,
an internal error, no answer within --timeout) the hook fails closed: it
blocks the tool and names the problem. With --fail-open (or
RAMPART_FAIL_OPEN=1) it lets the tool run and warns on stderr instead. In
--mode monitor (or RAMPART_MODE=monitor) decisions are only recorded, never
enforced; RAMPART_MODE=disabled skips everything. Letting a tool run is the
agent's answer to an allow: nothing at all for most agents, an explicit
allow for Cursor, whose hooks Rampart installs to block on silence.

The exit code is 0 for every answer (agents run the tool on most other
codes), except for agents that block by exit code: for Windsurf a block is
exit 2 with the reason on stderr. An unknown AGENT exits 2, which blocks in
the agents that use exit codes.`,
		Example: `  # What Claude Code would get for a Bash call
  echo '{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"rm -rf /"},"cwd":"/tmp","session_id":"s1"}' \
    | rampart hook claude-code

  # Install it for Claude Code instead of writing settings by hand
  rampart setup claude-code`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.SetArgs(args); err != nil {
				return hookUsageError(proc, err)
			}
			opts.FailOpenSet = cmd.Flags().Changed("fail-open")
			if runF != nil {
				return runF(opts)
			}
			return hookRun(opts)
		},
	}
	opts.AddFlags(cmd.Flags())
	// A flag mistake must still answer the agent: exit 2 blocks in most
	// agents, while cobra's usage error (64) would let the tool run.
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return hookUsageError(proc, err) })
	return cmd
}

// hookUsageError reports a mistake in the hook command line itself (see
// [hookrun.UsageError]): exit 2.
func hookUsageError(proc *Process, err error) error {
	return exitCode(hookrun.UsageError(proc.Err, err))
}

// hookRun answers one hook call in proc (see [hookrun.Run]).
func hookRun(opts *HookOptions) error {
	proc := opts.Proc
	opts.Env = hookrun.Env{In: proc.In, Out: proc.Out, Err: proc.Err, Getenv: proc.Getenv, Getwd: proc.Getwd}
	return exitCode(hookrun.Run(&opts.Options))
}

// firstLine is the first line of s, marked when there is more.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (and more)"
	}
	return s
}
