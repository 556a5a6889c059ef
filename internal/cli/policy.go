package cli

import (
	"github.com/spf13/cobra"
)

// NewCmdPolicy builds "rampart policy", the group of policy commands.
func NewCmdPolicy(proc *Process) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy <command>",
		Short: "Lint, list and show policies",
		Long: `Work with policy files and the embedded profiles.

A policy file is YAML (see docs/policy.md). Rampart loads the embedded profile,
then ~/.rampart/policies/*.yaml, then the project's .rampart/policy.yaml.`,
		Example: `  rampart policy lint ~/.rampart/policies/*.yaml
  rampart policy list
  rampart policy show standard > standard.yaml`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.Flags().SetInterspersed(false)
	cmd.AddCommand(
		NewCmdPolicyLint(proc, nil),
		NewCmdPolicyList(proc, nil),
		NewCmdPolicyShow(proc, nil),
	)
	return cmd
}
