package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rampart-dev/rampart/hooks"
	"github.com/rampart-dev/rampart/integrations"
)

// SetupAllOptions are the flags of "rampart setup" with no agent.
type SetupAllOptions struct {
	Proc   *Process
	List   bool
	Yes    bool
	DryRun bool
	// Binary is the rampart executable the hooks run (default: this one).
	Binary string
	// Interactive reports whether a person can answer on stdin.
	Interactive func() bool
}

// newCmdSetupAll builds the "rampart setup" command itself: with no
// agent it sets up every agent it finds; the agents are its subcommands.
func newCmdSetupAll(proc *Process, runF func(*SetupAllOptions) error) *cobra.Command {
	opts := &SetupAllOptions{Proc: proc, Interactive: func() bool { return stdinIsTerminal(proc) }}
	cmd := &cobra.Command{
		Use:   "setup [<agent>] [flags]",
		Short: "Install Rampart's hooks into your agents' own configurations",
		Long: `Setup edits an agent's configuration so that every tool call it makes goes
through Rampart first. It keeps every other setting as it was, changes
nothing when Rampart is already set up, writes atomically, and keeps a backup
of the previous file next to it. --remove takes out exactly what setup added.

With no agent, setup finds the agents installed here (their programs on
PATH, their folders in your home), shows what it would change in each, asks
before it changes anything (--yes for scripts; --dry-run to only look), and
sets up every one. "rampart setup --list" shows every agent Rampart supports
and whether it is protected.`,
		Example: `  rampart setup                        # every agent found here, after asking
  rampart setup --yes                  # the same, without asking
  rampart setup --list                 # which agents are protected?
  rampart setup claude-code            # one agent
  rampart setup cursor --check         # is it installed and working?
  rampart setup windsurf --remove`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return groupRunE(cmd, args)
			}
			if opts.List && (opts.Yes || opts.DryRun) {
				return usageErrorf("", "--list cannot be combined with --yes or --dry-run")
			}
			if runF != nil {
				return runF(opts)
			}
			if opts.List {
				return setupListRun(opts)
			}
			return setupAllRun(opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.List, "list", false, "list every supported agent, whether it is installed and whether it is protected")
	f.BoolVarP(&opts.Yes, "yes", "y", false, "set up every agent found without asking")
	f.BoolVar(&opts.DryRun, "dry-run", false, "show what would change; change nothing")
	f.StringVar(&opts.Binary, "rampart-path", "", "the rampart `BINARY` the hooks run (default: this executable)")
	return cmd
}

func stdinIsTerminal(proc *Process) bool {
	f, ok := proc.In.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// agentPlan is what setup would do to one agent found here.
type agentPlan struct {
	agent integrations.Agent
	found integrations.Detection
	edits []*integrations.Edit
	err   error
}

func (p agentPlan) changes() bool {
	for _, e := range p.edits {
		if e.Changed {
			return true
		}
	}
	return false
}

func setupAllRun(opts *SetupAllOptions) error {
	proc := opts.Proc
	out := proc.Out
	env, err := agentEnv(proc)
	if err != nil {
		return err
	}
	bin, err := resolveRampartBinary(opts.Binary)
	if err != nil {
		return err
	}
	var plans []agentPlan
	var notFound []string
	for _, a := range integrations.Agents() {
		det := a.Detect(env)
		if !det.Found {
			notFound = append(notFound, a.Name)
			continue
		}
		p := agentPlan{agent: a, found: det}
		p.edits, p.err = a.Plan(env, bin, false)
		plans = append(plans, p)
	}
	if len(plans) == 0 {
		fmt.Fprintf(out, "No supported agent was found here (looked for %s).\n", strings.Join(notFound, ", "))
		fmt.Fprintln(out, "Set one up by name: rampart setup AGENT (see rampart setup --list)")
		return nil
	}
	fmt.Fprintf(out, "Found %s:\n", plural(len(plans), "agent", "agents"))
	todo, failed := 0, 0
	for _, p := range plans {
		fmt.Fprintf(out, "  %s (%s)\n", p.agent.Title, strings.Join(p.found.Evidence, ", "))
		switch {
		case p.err != nil:
			failed++
			fmt.Fprintf(out, "    cannot set up: %v\n", p.err)
			fmt.Fprintf(out, "    (fix it, then run \"rampart setup %s\"; --force replaces a broken file)\n", p.agent.Name)
		case !p.changes():
			fmt.Fprintln(out, "    already set up; nothing to change")
		default:
			todo++
			for _, e := range p.edits {
				if !e.Changed {
					continue
				}
				fmt.Fprintf(out, "    will update %s:\n", e.Path)
				for _, s := range e.Summary {
					fmt.Fprintf(out, "      %s\n", s)
				}
			}
		}
	}
	cantSetUp := func() error {
		if failed == 0 {
			return nil
		}
		return withCode(ExitConfig, fmt.Errorf("%s could not be set up", plural(failed, "agent", "agents")))
	}
	if todo == 0 {
		fmt.Fprintln(out, "Nothing to change.")
		return cantSetUp()
	}
	if opts.DryRun {
		fmt.Fprintln(out, "Nothing changed (--dry-run).")
		return cantSetUp()
	}
	if !opts.Yes {
		if !opts.Interactive() {
			return withCode(ExitUsage, errors.New("setup changes these agents' configurations only when you say yes, and stdin is not a terminal"),
				`run "rampart setup --yes" to set them up, or "rampart setup --dry-run" to only look`)
		}
		fmt.Fprintf(out, "Set up %s? [y/N] ", plural(todo, "agent", "agents"))
		answer, _ := bufio.NewReader(proc.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(out, "Nothing changed.")
			return nil
		}
	}
	for _, p := range plans {
		if p.err != nil || !p.changes() {
			continue
		}
		for _, e := range p.edits {
			backup, err := e.Apply(time.Now())
			if err != nil {
				return withCode(ExitCantCreate, fmt.Errorf("%s: %w", p.agent.Title, err))
			}
			if e.Changed {
				fmt.Fprintf(out, "%s: updated %s\n", p.agent.Title, e.Path)
			}
			if backup != "" {
				fmt.Fprintf(out, "  backup of the previous file: %s\n", backup)
			}
		}
		if p.agent.Finish != nil {
			note, err := p.agent.Finish(env)
			if note != "" {
				fmt.Fprintf(out, "  %s\n", note)
			}
			if err != nil {
				fmt.Fprintf(out, "  %s: %v\n", p.agent.Title, err)
				failed++
			}
		}
		fmt.Fprintf(out, "  %s\n", p.agent.Next)
	}
	fmt.Fprintln(out, "Check them: rampart setup --list (or rampart doctor)")
	return cantSetUp()
}

// agentState is one line of "rampart setup --list".
func agentState(a integrations.Agent, s integrations.Status) string {
	switch {
	case s.Err != nil:
		return fmt.Sprintf("config not readable: %v", s.Err)
	case s.Protected():
		return "protected"
	case len(s.Broken) > 0:
		return fmt.Sprintf("BROKEN: its hook runs %s, which is missing or not executable (rampart setup %s)", s.Broken[0].Binary, a.Name)
	case len(s.Missing) > 0:
		return fmt.Sprintf("incomplete: no hook on %s (rampart setup %s)", strings.Join(s.Missing, ", "), a.Name)
	case len(s.Problems) > 0:
		return fmt.Sprintf("NOT RUNNING: %s", s.Problems[0])
	case s.Detection.Found:
		return fmt.Sprintf("not protected (rampart setup %s)", a.Name)
	}
	return "-"
}

func setupListRun(opts *SetupAllOptions) error {
	env, err := agentEnv(opts.Proc)
	if err != nil {
		return err
	}
	type row struct{ name, title, found, state string }
	var rows []row
	listed := map[string]bool{}
	for _, a := range integrations.Agents() {
		s := a.Check(env)
		found := "no"
		if s.Detection.Found {
			found = strings.Join(s.Detection.Evidence, ", ")
		}
		rows = append(rows, row{a.Name, a.Title, found, agentState(a, s)})
		listed[a.Name] = true
	}
	// A hook protocol whose setup is not in the registry is still
	// supported: its own setup command checks it.
	for _, name := range hooks.Names() {
		if !listed[name] {
			rows = append(rows, row{name, name, "?", fmt.Sprintf("see: rampart setup %s --check", name)})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	tw := tabwriter.NewWriter(opts.Proc.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AGENT\tNAME\tINSTALLED\tRAMPART")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, r.title, r.found, r.state)
	}
	return tw.Flush()
}
