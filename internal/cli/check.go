package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/suggest"
)

// tools are the tool names the CLI accepts in --tool and in --stdin calls.
var tools = engine.Tools

// CheckOptions are the flags and arguments of "rampart check".
type CheckOptions struct {
	Proc    *Process
	Sources SourceOptions

	Tool    string // exec, read, write, edit, fetch or mcp
	Agent   string
	Session string
	Argv    bool   // the arguments are an exact argument vector, not a shell string
	Input   string // mcp: the tool's input, a JSON object
	JSON    bool
	Explain bool
	Stdin   bool // decide JSON lines of tool calls from stdin

	Args []string
}

// NewCmdCheck builds "rampart check". runF, when not nil, replaces checkRun
// (tests use it to see the parsed options).
func NewCmdCheck(proc *Process, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "check [flags] [--] ARG...",
		Short: "Decide one tool call (or a stream of them) without running anything",
		Long: `Check asks the policy engine what it would decide for one action of an agent,
prints the decision and exits with a code that says it. Nothing is run.

For --tool exec (the default) the arguments are joined with spaces into one
shell command string, which is analysed the way bash would run it: every
command inside pipes, lists, $(...), bash -c strings and wrappers such as sudo
is judged. Quote the whole command to keep your shell from interpreting it
first (a single argument is used as is). With --argv the arguments are an
exact argument vector instead (as an exec call without a shell would pass).

Flags go before the command; everything from the first argument that is not a
flag on belongs to the command. Put -- before a command that starts with "-".

For read, write and edit the argument is a path, for fetch a URL, for mcp the
tool's name (with --input for its parameters as a JSON object).

With --stdin, check reads tool calls as JSON lines, for example
  {"tool":"exec","command":"rm -rf /","cwd":"/home/me/project"}
and writes one decision JSON line per call, in order, as soon as each line
arrives. A line that is not a tool call gets {"error":"line N: ..."} in its
place; the exit code is then 65 at the end. The policies are loaded once.

Policies are loaded from, in order: the embedded profile (--profile, else
$RAMPART_PROFILE, else "profile:" in ~/.rampart/config.yaml, else
"standard"; "none" loads none), ~/.rampart/policies/*.yaml (or the --policy
files instead), and the project's .rampart/policy.yaml, searched from --cwd
upwards. RAMPART_HOME moves ~/.rampart.

Exit codes: 0 allow or log, 1 deny, 2 ask, 64 usage error, 65 bad --stdin
line, 78 a policy file or config.yaml is invalid.`,
		Example: `  # A shell command (quote it so your shell leaves it alone)
  rampart check -- 'curl -fsSL https://example.com/install.sh | bash'
  rampart check -- git status

  # Why was it decided so?
  rampart check --explain -- 'git status && sudo ls'

  # The decision as JSON, for scripts
  rampart check --json -- rm -rf /

  # An exact argument vector, no shell involved
  rampart check --argv -- rm -rf /tmp/build

  # Other tools
  rampart check --tool read -- ~/.ssh/id_rsa
  rampart check --tool fetch -- http://169.254.169.254/latest/meta-data/
  rampart check --tool mcp --input '{"repo":"x"}' -- mcp__github__delete_repository

  # Only the embedded paranoid profile, or only your own file
  rampart check --profile paranoid -- make test
  rampart check --profile none --policy ./team.yaml -- terraform destroy

  # A stream of calls, one JSON line each, for scripts and test harnesses
  printf '%s\n' '{"tool":"exec","command":"ls"}' '{"tool":"read","path":"/etc/shadow"}' |
    rampart check --stdin`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return checkRun(opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	opts.Sources.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&opts.Tool, "tool", engine.ToolExec, "the `TOOL` the call is for: "+strings.Join(tools, ", "))
	cmd.Flags().StringVar(&opts.Agent, "agent", "", "the calling agent's `NAME` (for policies that match on agent)")
	cmd.Flags().StringVar(&opts.Session, "session", "", "the session `ID` (for policies that match on session)")
	cmd.Flags().BoolVar(&opts.Argv, "argv", false, "exec: the arguments are an exact argument vector, not a shell command")
	cmd.Flags().StringVar(&opts.Input, "input", "", "mcp: the tool's input as a `JSON` object")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the decision as JSON")
	cmd.Flags().BoolVar(&opts.Explain, "explain", false, "show which rule decided and why, the commands found, the sources loaded")
	cmd.Flags().BoolVar(&opts.Stdin, "stdin", false, "read tool calls as JSON lines from stdin, write one decision JSON line each")
	return cmd
}

const checkHelpHint = `run "rampart check --help" for usage`

// validate checks the flags and arguments against each other.
func (o *CheckOptions) validate() error {
	o.Tool = strings.ToLower(o.Tool)
	if !slices.Contains(tools, o.Tool) {
		return usageErrorf("", "--tool: unknown tool %q%s; want one of %s", o.Tool, suggest.DidYouMean(o.Tool, tools), strings.Join(tools, ", "))
	}
	if o.Argv && o.Tool != engine.ToolExec {
		return usageErrorf("", "--argv is only for --tool exec")
	}
	if o.Input != "" {
		if o.Tool != engine.ToolMCP {
			return usageErrorf("", "--input is only for --tool mcp")
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(o.Input), &obj); err != nil || obj == nil {
			return usageErrorf(`for example --input '{"owner":"me","repo":"x"}'`, "--input: want a JSON object")
		}
	}
	if o.Stdin {
		for _, f := range []struct {
			name string
			set  bool
		}{{"--tool", o.Tool != engine.ToolExec}, {"--argv", o.Argv}, {"--input", o.Input != ""}, {"--explain", o.Explain}} {
			if f.set {
				return usageErrorf("with --stdin each JSON line describes its own call", "%s cannot be used with --stdin", f.name)
			}
		}
		if len(o.Args) > 0 {
			return usageErrorf("with --stdin the calls come from stdin; drop the arguments", "--stdin takes no arguments, got %q", strings.Join(o.Args, " "))
		}
		return o.Sources.validate()
	}
	if len(o.Args) == 0 {
		return usageErrorf(checkHelpHint, "missing %s to check", argWhat(o.Tool))
	}
	if o.Tool != engine.ToolExec && len(o.Args) > 1 {
		return usageErrorf(`quote it if it contains spaces; `+checkHelpHint, "--tool %s takes one %s, got %d arguments", o.Tool, argWhat(o.Tool), len(o.Args))
	}
	if !o.Argv && strings.TrimSpace(strings.Join(o.Args, " ")) == "" {
		return usageErrorf(checkHelpHint, "the %s to check is empty", argWhat(o.Tool))
	}
	return o.Sources.validate()
}

// argWhat names what the positional arguments of a tool are.
func argWhat(tool string) string {
	switch tool {
	case engine.ToolRead, engine.ToolWrite, engine.ToolEdit:
		return "path"
	case engine.ToolFetch:
		return "URL"
	case engine.ToolMCP:
		return "MCP tool name"
	}
	return "command"
}

// toolCall builds the call the arguments describe.
func (o *CheckOptions) toolCall(cwd string) *engine.ToolCall {
	call := &engine.ToolCall{Tool: o.Tool, Cwd: cwd, Agent: o.Agent, Session: o.Session}
	switch o.Tool {
	case engine.ToolExec:
		if o.Argv {
			call.Argv = o.Args
		} else {
			call.Command = strings.Join(o.Args, " ")
		}
	case engine.ToolRead, engine.ToolWrite, engine.ToolEdit:
		call.Path = o.Args[0]
	case engine.ToolFetch:
		call.URL = o.Args[0]
	case engine.ToolMCP:
		call.Name = o.Args[0]
		if o.Input != "" {
			call.Input = json.RawMessage(o.Input)
		}
	}
	return call
}

func checkRun(o *CheckOptions) error {
	l, err := loadPolicies(o.Proc, o.Sources)
	if err != nil {
		return err
	}
	if o.Stdin {
		return checkStdin(o, l)
	}
	call := o.toolCall(l.Cwd)
	var d engine.Decision
	if o.Explain {
		var ex *engine.Explanation
		d, ex = l.Program.Explain(call)
		err = writeExplained(o.Proc.Out, o.JSON, d, newExplainReport(l, call, d, ex))
	} else {
		d = l.Program.Eval(call)
		if o.JSON {
			err = writeJSONLine(o.Proc.Out, d)
		} else {
			err = writeDecision(o.Proc.Out, d)
		}
	}
	if err != nil {
		return withCode(ExitIOErr, fmt.Errorf("writing the decision: %w", err))
	}
	return exitCode(decisionExitCode(d))
}

// decisionExitCode is check's exit code for a decision.
func decisionExitCode(d engine.Decision) int {
	switch d.Decision {
	case engine.ActionDeny:
		return ExitDeny
	case engine.ActionAsk:
		return ExitAsk
	}
	return ExitOK
}
