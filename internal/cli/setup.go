package cli

import (
	"github.com/spf13/cobra"
)

// NewCmdSetup builds "rampart setup", one subcommand per agent.
func NewCmdSetup(proc *Process) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "setup <agent> [flags]",
		Short: "Install Rampart's hooks into an agent's own configuration",
		Long: `Setup edits an agent's configuration so that every tool call it makes goes
through Rampart first. It keeps every other setting as it was, changes
nothing when Rampart is already set up, writes atomically, and keeps a backup
of the previous file next to it. --remove takes out exactly what setup added.`,
		Example: `  rampart setup claude-code            # ~/.claude/settings.json
  rampart setup claude-code --project  # .claude/settings.json of this project
  rampart setup claude-code --check    # is it installed and working?
  rampart setup claude-code --remove`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(NewCmdSetupClaudeCode(proc, nil))
	cmd.AddCommand(NewCmdSetupCodex(proc, nil))
	cmd.AddCommand(NewCmdSetupGemini(proc, nil))
	return cmd
}
