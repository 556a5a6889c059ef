package cli

import "github.com/spf13/cobra"

// NewCmdSetupCursor builds "rampart setup cursor".
func NewCmdSetupCursor(proc *Process, runF func(*SetupAgentOptions) error) *cobra.Command {
	return newCmdSetupAgent(proc, setupAgentDoc{
		agent:   "cursor",
		aliases: []string{"cursor-agent"},
		short:   "Protect Cursor: add Rampart's hooks to ~/.cursor/hooks.json",
		long: `Adds Rampart to Cursor's user hooks, ~/.cursor/hooks.json, which the IDE's
agent and cursor-agent both run: one entry on each event that can block a
tool, preToolUse (every tool: shell, file, web, MCP, sub-agents),
beforeShellExecution, beforeMCPExecution and beforeReadFile (the events
Cursor had before preToolUse). Each runs this rampart binary by its absolute
path with failClosed set, so that a hook that cannot run (a moved binary)
blocks the tool instead of letting it through unchecked.

"rampart hook cursor" then blocks what the policies deny, telling the agent
why, and answers an ask with Cursor's own ask on shell and MCP calls (a deny
that says to ask you elsewhere, where Cursor does not enforce ask).

Every other setting and hook is kept as it was. Running setup again changes
nothing; a moved binary is updated in place. The file is written atomically
and the previous version is kept as hooks.json.rampart-backup-TIME.
--remove takes out exactly Rampart's entries: a file that existed before
comes back byte for byte, and one that setup created is removed.`,
		example: `  rampart setup cursor
  rampart setup cursor --dry-run   # show the result, change nothing
  rampart setup cursor --check     # verify the installed hooks work
  rampart setup cursor --remove`,
	}, runF)
}
