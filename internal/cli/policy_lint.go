package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/engine"
)

// PolicyLintOptions are the arguments of "rampart policy lint".
type PolicyLintOptions struct {
	Proc  *Process
	Files []string
}

// NewCmdPolicyLint builds "rampart policy lint".
func NewCmdPolicyLint(proc *Process, runF func(*PolicyLintOptions) error) *cobra.Command {
	opts := &PolicyLintOptions{Proc: proc}
	return &cobra.Command{
		Use:   "lint FILE...",
		Short: "Validate policy files",
		Long: `Lint loads each policy file on its own, exactly as check would, and reports
every problem with file:line:col: an unknown key or condition (with a "did you
mean"), a bad action, a glob or regular expression that does not compile. A
file with any error would stop every check from loading, so lint it after
each edit.

For a valid file lint prints "FILE: ok (N policies, M rules)"; warnings (keys
that are accepted but ignored, rules that can never match) are printed to
stderr as "rampart: warning: ...". Exit code 0 when every file is valid, 78
when any is not.`,
		Example: `  rampart policy lint ~/.rampart/policies/custom.yaml
  rampart policy lint .rampart/policy.yaml ~/.rampart/policies/*.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf(`for example: rampart policy lint ~/.rampart/policies/custom.yaml`, "missing the policy FILE to lint")
			}
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return policyLintRun(opts)
		},
	}
}

func policyLintRun(o *PolicyLintOptions) error {
	invalid := 0
	for _, file := range o.Files {
		prog, warnings, err := engine.LintFile(file, lintOrigin(file))
		if err != nil {
			invalid++
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintf(o.Proc.Err, "rampart: error: %s\n", line)
			}
			continue
		}
		for _, w := range warnings {
			fmt.Fprintf(o.Proc.Err, "rampart: warning: %s\n", w)
		}
		policies, rules := 0, 0
		for _, s := range prog.Sources() {
			policies += s.Policies
			rules += s.Rules
		}
		fmt.Fprintf(o.Proc.Out, "%s: ok (%s, %s)\n", file, plural(policies, "policy", "policies"), plural(rules, "rule", "rules"))
	}
	if invalid > 0 {
		return exitCode(ExitConfig)
	}
	return nil
}

// lintOrigin reads a project's .rampart/policy.yaml as a project policy, so
// lint also reports the rules a project may not use; any other file is a
// user policy.
func lintOrigin(file string) engine.Origin {
	if filepath.Base(file) == "policy.yaml" && filepath.Base(filepath.Dir(file)) == ".rampart" {
		return engine.OriginProject
	}
	return engine.OriginUser
}
