package cli

import "github.com/spf13/cobra"

// NewCmdSetupCline builds "rampart setup cline".
func NewCmdSetupCline(proc *Process, runF func(*SetupAgentOptions) error) *cobra.Command {
	return newCmdSetupAgent(proc, setupAgentDoc{
		agent: "cline",
		short: "Protect Cline: install Rampart as its global PreToolUse hook",
		long: `Writes Cline's global PreToolUse hook, ~/Documents/Cline/Hooks/PreToolUse
(~/Documents/Cline/Rules/Hooks/PreToolUse for Cline releases that only
have that folder): an executable shell script that execs this rampart
binary, "rampart hook cline", before every tool Cline runs (commands, file
reads and writes, browser and web tools, MCP tools).

A deny cancels the tool with the reason; Cline then stops the task and shows
it. Cline's hooks cannot ask, so an ask cancels too, saying to ask you.

Cline runs hooks only when they are enabled: turn on Settings > Features >
Enable Hooks (for the Cline CLI: cline config set hooks-enabled=true), and
check the hook is switched on in Cline's Hooks tab.

A PreToolUse of your own is never replaced unless --force (it is backed up,
and --remove puts it back). Running setup again changes nothing; --remove
deletes Rampart's script.`,
		example: `  rampart setup cline
  rampart setup cline --check     # verify the installed hook works
  rampart setup cline --remove`,
	}, runF)
}
