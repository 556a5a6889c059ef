package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/policies"
)

// PolicyListOptions are the flags of "rampart policy list".
type PolicyListOptions struct {
	Proc    *Process
	Sources SourceOptions
	JSON    bool
}

// NewCmdPolicyList builds "rampart policy list".
func NewCmdPolicyList(proc *Process, runF func(*PolicyListOptions) error) *cobra.Command {
	opts := &PolicyListOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the profiles, the loaded sources and the active policies",
		Long: `List shows the embedded profiles (the active one marked with "*" and what
chose it), then what check would load with the same flags: each source in
load order, the default action, and the active policies in evaluation order
with their priority, source, tools and number of rules.`,
		Example: `  rampart policy list
  rampart policy list --profile paranoid
  rampart policy list --cwd ~/src/project --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Sources.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return policyListRun(opts)
		},
	}
	opts.Sources.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the listing as JSON")
	return cmd
}

type profileEntry struct {
	Name   string `json:"name"`
	Active bool   `json:"active"`
}

type policyListing struct {
	Profiles      []profileEntry      `json:"profiles"`
	Profile       string              `json:"profile"`
	ProfileFrom   string              `json:"profile_from"`
	Sources       []engine.SourceInfo `json:"sources"`
	DefaultAction engine.Action       `json:"default_action"`
	Policies      []engine.PolicyInfo `json:"policies"`
	Warnings      []string            `json:"warnings"`
}

func policyListRun(o *PolicyListOptions) error {
	l, err := loadPolicies(o.Proc, o.Sources)
	if err != nil {
		return err
	}
	listing := policyListing{
		Profile:       l.Profile,
		ProfileFrom:   l.ProfileFrom,
		Sources:       l.Program.Sources(),
		DefaultAction: l.Program.DefaultAction(),
		Policies:      l.Program.Policies(),
		Warnings:      l.Program.Warnings(),
	}
	for _, name := range policies.Names() {
		listing.Profiles = append(listing.Profiles, profileEntry{Name: name, Active: name == l.Profile})
	}
	if listing.Sources == nil {
		listing.Sources = []engine.SourceInfo{}
	}
	if listing.Policies == nil {
		listing.Policies = []engine.PolicyInfo{}
	}
	if listing.Warnings == nil {
		listing.Warnings = []string{}
	}
	if o.JSON {
		err = writeJSONLine(o.Proc.Out, listing)
	} else {
		err = writeListing(o.Proc, &listing)
	}
	if err != nil {
		return withCode(ExitIOErr, fmt.Errorf("writing the list: %w", err))
	}
	return nil
}

func writeListing(proc *Process, l *policyListing) error {
	var b strings.Builder
	b.WriteString("profiles:\n")
	for _, p := range l.Profiles {
		if p.Active {
			fmt.Fprintf(&b, "* %s (active, from %s)\n", p.Name, l.ProfileFrom)
		} else {
			fmt.Fprintf(&b, "  %s\n", p.Name)
		}
	}
	if l.Profile == "none" {
		fmt.Fprintf(&b, "* none (active, from %s: no profile is loaded)\n", l.ProfileFrom)
	}

	b.WriteString("\nsources, in load order:\n")
	writeSources(&b, l.Sources)
	fmt.Fprintf(&b, "\ndefault action: %s\n", l.DefaultAction)

	b.WriteString("\nactive policies, in evaluation order:\n")
	if len(l.Policies) == 0 {
		b.WriteString("  (none)\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PRIORITY\tPOLICY\tSOURCE\tTOOLS\tRULES")
		for _, p := range l.Policies {
			tools := "all"
			if len(p.Tools) > 0 {
				tools = strings.Join(p.Tools, ",")
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%d\n", p.Priority, p.Name, p.Source, tools, p.Rules)
		}
		tw.Flush()
	}
	if _, err := fmt.Fprint(proc.Out, b.String()); err != nil {
		return err
	}
	for _, w := range l.Warnings {
		fmt.Fprintf(proc.Err, "rampart: warning: %s\n", w)
	}
	return nil
}
