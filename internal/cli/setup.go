package cli

import (
	"github.com/spf13/cobra"
)

// NewCmdSetup builds "rampart setup": with no agent it sets up every agent
// found here (setup_all.go); each agent is a subcommand.
func NewCmdSetup(proc *Process) *cobra.Command {
	cmd := newCmdSetupAll(proc, nil)
	cmd.AddCommand(NewCmdSetupClaudeCode(proc, nil))
	cmd.AddCommand(NewCmdSetupCline(proc, nil))
	cmd.AddCommand(NewCmdSetupCopilot(proc, nil))
	cmd.AddCommand(NewCmdSetupCursor(proc, nil))
	cmd.AddCommand(NewCmdSetupWindsurf(proc, nil))
	cmd.AddCommand(NewCmdSetupCodex(proc, nil))
	cmd.AddCommand(NewCmdSetupGemini(proc, nil))
	return cmd
}
