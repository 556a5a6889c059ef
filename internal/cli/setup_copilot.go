package cli

import "github.com/spf13/cobra"

// NewCmdSetupCopilot builds "rampart setup copilot".
func NewCmdSetupCopilot(proc *Process, runF func(*SetupAgentOptions) error) *cobra.Command {
	return newCmdSetupAgent(proc, setupAgentDoc{
		agent:   "copilot",
		aliases: []string{"copilot-cli"},
		short:   "Protect GitHub Copilot CLI: add Rampart's hooks in ~/.copilot/hooks",
		long: `Writes Rampart's hooks for the GitHub Copilot CLI into a file of their own,
hooks/rampart.json in its config folder ($COPILOT_HOME, else ~/.copilot),
which the CLI loads with every other hooks/*.json as user hooks:
preToolUse, before every tool (bash, file tools, web_fetch, MCP tools),
and postToolUse, which records each tool's outcome. They run this rampart
binary by its absolute path.

"rampart hook copilot" blocks what the policies deny and tells the model
why; an ask is a deny that tells the model to ask you, since the CLI's own
ask has not been reliable (older versions ignore it). An allow says
nothing, so the CLI's own permission prompts still apply.

Running setup again changes nothing; a moved binary is updated in place.
--remove takes Rampart's entries out and removes the file when nothing else
is left in it.`,
		example: `  rampart setup copilot
  rampart setup copilot --check     # verify the installed hooks work
  rampart setup copilot --remove`,
	}, runF)
}
