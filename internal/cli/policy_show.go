package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/internal/suggest"
	"github.com/rampart-dev/rampart/policies"
)

// PolicyShowOptions are the arguments of "rampart policy show".
type PolicyShowOptions struct {
	Proc *Process
	Name string
}

// NewCmdPolicyShow builds "rampart policy show".
func NewCmdPolicyShow(proc *Process, runF func(*PolicyShowOptions) error) *cobra.Command {
	opts := &PolicyShowOptions{Proc: proc}
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Print an embedded profile's YAML",
		Long: `Show prints the YAML of an embedded profile exactly as Rampart loads it, to
read what it stops or to start a policy of your own from it. The profiles are
listed by "rampart policy list".`,
		Example: `  rampart policy show standard | less
  rampart policy show paranoid > ~/.rampart/policies/my-paranoid.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			available := "available profiles: " + strings.Join(policies.Names(), ", ")
			if len(args) != 1 {
				return usageErrorf(available, "want one profile NAME, got %d arguments", len(args))
			}
			opts.Name = args[0]
			if _, ok := policies.Profile(opts.Name); !ok {
				return usageErrorf(available, "unknown profile %q%s", opts.Name, suggest.DidYouMean(opts.Name, policies.Names()))
			}
			if runF != nil {
				return runF(opts)
			}
			return policyShowRun(opts)
		},
	}
}

func policyShowRun(o *PolicyShowOptions) error {
	data, _ := policies.Profile(o.Name)
	if _, err := o.Proc.Out.Write(data); err != nil {
		return withCode(ExitIOErr, fmt.Errorf("writing profile %s: %w", o.Name, err))
	}
	return nil
}
