package cli

import "github.com/spf13/cobra"

// NewCmdSetupWindsurf builds "rampart setup windsurf".
func NewCmdSetupWindsurf(proc *Process, runF func(*SetupAgentOptions) error) *cobra.Command {
	return newCmdSetupAgent(proc, setupAgentDoc{
		agent:   "windsurf",
		aliases: []string{"cascade"},
		short:   "Protect Windsurf: add Rampart's Cascade hooks to ~/.codeium/windsurf/hooks.json",
		long: `Adds Rampart to the user hooks of Windsurf's agent, Cascade,
~/.codeium/windsurf/hooks.json: one entry on each pre hook that acts on a
tool, pre_run_command, pre_read_code, pre_write_code and pre_mcp_tool_use,
running this rampart binary by its absolute path.

"rampart hook windsurf" blocks what the policies deny by exiting 2 with the
reason on stderr, which Cascade shows; Cascade hooks cannot ask, so an ask
blocks too, saying to ask you. Note that Cascade runs an action when its hook
crashes or cannot be found: "rampart setup windsurf --check" (or "rampart
doctor") finds a hook whose binary has moved.

Every other setting and hook is kept as it was. Running setup again changes
nothing; a moved binary is updated in place. --remove takes out exactly
Rampart's entries: a file that existed before comes back byte for byte, and
one that setup created is removed.`,
		example: `  rampart setup windsurf
  rampart setup windsurf --check     # verify the installed hooks work
  rampart setup windsurf --remove`,
	}, runF)
}
