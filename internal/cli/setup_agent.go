package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-shellwords"
	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/integrations"
)

// SetupAgentOptions are the flags of "rampart setup AGENT" for the agents
// whose setup is the registry's (Cursor, Copilot CLI, Cline, Windsurf).
type SetupAgentOptions struct {
	Proc *Process
	// Agent is the agent's name in the integrations registry.
	Agent  string
	Remove bool
	DryRun bool
	Force  bool
	Check  bool
	// Binary is the rampart executable the hooks run (default: this one).
	Binary string
}

// setupAgentDoc is what one agent's setup command says about itself.
type setupAgentDoc struct {
	agent   string
	aliases []string
	short   string
	long    string
	example string
}

// newCmdSetupAgent builds "rampart setup AGENT" from the agent's doc.
func newCmdSetupAgent(proc *Process, doc setupAgentDoc, runF func(*SetupAgentOptions) error) *cobra.Command {
	opts := &SetupAgentOptions{Proc: proc, Agent: doc.agent}
	cmd := &cobra.Command{
		Use:     doc.agent + " [flags]",
		Aliases: doc.aliases,
		Short:   doc.short,
		Long:    doc.long,
		Example: doc.example,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkAlone(opts.Check, opts.Remove, opts.Force, opts.DryRun); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return setupAgentRun(opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Remove, "remove", false, "take out Rampart's hooks")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print what would be written; change nothing")
	f.BoolVar(&opts.Force, "force", false, "replace a config file that is not valid, or a hook of your own in Rampart's place (the old one is backed up)")
	f.BoolVar(&opts.Check, "check", false, "verify the installed hooks: present, for every event, runnable, and answering")
	f.StringVar(&opts.Binary, "rampart-path", "", "the rampart `BINARY` the hooks run (default: this executable)")
	return cmd
}

// agentEnv is the environment the integrations read: this process's home
// and variables.
func agentEnv(proc *Process) (integrations.Env, error) {
	env := integrations.Env{Home: proc.Home(), Getenv: proc.Getenv}
	if env.Home == "" {
		return env, withCode(ExitConfig, errors.New("$HOME is not set, so the agents' configurations cannot be found"), "set HOME")
	}
	return env, nil
}

// resolveRampartBinary is the absolute, symlink-free path of the rampart
// the hooks run: flag, else this executable.
func resolveRampartBinary(flag string) (string, error) {
	bin := flag
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", withCode(ExitSoftware, fmt.Errorf("cannot find this rampart binary: %w", err), "pass --rampart-path")
		}
		bin = exe
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", usageErrorf("", "--rampart-path %s: %v", bin, err)
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	if st, err := os.Stat(abs); err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return "", usageErrorf("", "%s is not an executable file", abs)
	}
	return abs, nil
}

// planError gives a planning error its exit code and a hint.
func planError(agent string, err error) error {
	var invalid *integrations.InvalidConfigError
	var conflict *integrations.ConflictError
	switch {
	case errors.As(err, &conflict):
		return withCode(ExitConfig, err)
	case errors.As(err, &invalid):
		return withCode(ExitConfig, err, fmt.Sprintf("fix %s by hand, or run \"rampart setup %s --force\" to replace it (the old file is backed up)", invalid.Path, agent))
	}
	return withCode(ExitIOErr, err)
}

func setupAgentRun(opts *SetupAgentOptions) error {
	agent, ok := integrations.LookupAgent(opts.Agent)
	if !ok {
		return withCode(ExitSoftware, fmt.Errorf("no setup for agent %q", opts.Agent))
	}
	env, err := agentEnv(opts.Proc)
	if err != nil {
		return err
	}
	if opts.Check {
		return setupAgentCheck(opts.Proc, agent, env)
	}
	var edits []*integrations.Edit
	if opts.Remove {
		edits, err = agent.PlanRemove(env, opts.Force)
	} else {
		var bin string
		if bin, err = resolveRampartBinary(opts.Binary); err != nil {
			return err
		}
		edits, err = agent.Plan(env, bin, opts.Force)
	}
	if err != nil {
		return planError(agent.Name, err)
	}
	out := opts.Proc.Out
	if opts.DryRun {
		for _, e := range edits {
			printDryRun(out, e.Path, e.After, e.Changed, e.Remove)
		}
		return nil
	}
	changed := false
	for _, e := range edits {
		if !e.Changed {
			continue
		}
		changed = true
		backup, err := e.Apply(time.Now())
		if err != nil {
			return withCode(ExitCantCreate, err)
		}
		printApplied(out, agent.Title, e.Path, e.Remove, e.Summary, backup)
	}
	switch {
	case !changed:
		printUnchanged(out, agent.Title, agent.Name, edits[0].Path, opts.Remove)
		return nil
	case !opts.Remove:
		if agent.Finish != nil {
			note, err := agent.Finish(env)
			if note != "" {
				fmt.Fprintf(out, "  %s\n", note)
			}
			if err != nil {
				return withCode(ExitSoftware, err)
			}
		}
		printSetUp(out, agent.Name, agent.Next)
	}
	return nil
}

// What every "rampart setup AGENT" prints about the files it plans to
// change, changed, or found set up already.

// checkAlone refuses --check together with a flag that changes or would
// change the hooks: --check only reads them, so the other flag would be
// silently ignored.
func checkAlone(check, remove, force, dryRun bool) error {
	if check && (remove || force || dryRun) {
		return usageErrorf("", "--check cannot be combined with --remove, --force or --dry-run")
	}
	return nil
}

// printDryRun says what --dry-run would have done to path.
func printDryRun(out io.Writer, path string, after []byte, changed, remove bool) {
	switch {
	case !changed:
		fmt.Fprintf(out, "%s: nothing to change\n", path)
	case remove:
		fmt.Fprintf(out, "# %s would be removed\n", path)
	default:
		fmt.Fprintf(out, "# %s would become:\n", path)
		out.Write(after)
	}
}

// printApplied says that path was written (or removed), what changed in
// it, and where the previous file was kept.
func printApplied(out io.Writer, title, path string, removed bool, summary []string, backup string) {
	verb := "updated"
	if removed {
		verb = "removed"
	}
	fmt.Fprintf(out, "%s: %s %s\n", title, verb, path)
	for _, s := range summary {
		fmt.Fprintf(out, "  %s\n", s)
	}
	if backup != "" {
		fmt.Fprintf(out, "  backup of the previous file: %s\n", backup)
	}
}

// printUnchanged says that setup (or --remove) found nothing to change.
func printUnchanged(out io.Writer, title, agent, path string, remove bool) {
	if remove {
		fmt.Fprintf(out, "%s: Rampart's hooks are not in %s; nothing changed.\n", title, path)
		return
	}
	fmt.Fprintf(out, "%s: already set up in %s; nothing changed.\n", title, path)
	fmt.Fprintf(out, "Check it works: rampart setup %s --check\n", agent)
}

// printSetUp ends a setup that changed something: how to check it, and
// what must happen for it to take effect.
func printSetUp(out io.Writer, agent, next string) {
	fmt.Fprintf(out, "Check it works:  rampart setup %s --check\n", agent)
	fmt.Fprintln(out, next)
}

// setupAgentCheck verifies the installed hooks and runs one.
func setupAgentCheck(proc *Process, agent integrations.Agent, env integrations.Env) error {
	r := &setupReport{out: proc.Out}
	report := r.line
	s := agent.Check(env)
	switch {
	case s.Err != nil:
		report(false, "%v", s.Err)
	case !s.SetUp():
		report(false, "no Rampart hook is installed (run: rampart setup %s)", agent.Name)
	default:
		for _, event := range agent.Events {
			h, ok := hookFor(s.Hooks, event)
			if !ok {
				report(false, "%s: no Rampart hook (run: rampart setup %s)", event, agent.Name)
				continue
			}
			report(true, "%s: %s", event, describeHook(h))
		}
		for _, h := range s.Broken {
			report(false, "%s: %s does not exist or is not executable: %s", h.Event, h.Binary, brokenEffect(agent.Name))
		}
		for _, p := range s.Problems {
			report(false, "%s", p)
		}
		if len(s.Broken) == 0 {
			ok, detail := runHookProbe(agent, s.Hooks[0])
			report(ok, "%s", detail)
		}
	}
	return r.result(agent.Name)
}

// describeHook says what a hook runs and where it is.
func describeHook(h integrations.Hook) string {
	if h.Command == h.File {
		return fmt.Sprintf("%s (a script that runs %s)", h.File, h.Binary)
	}
	return fmt.Sprintf("%s (in %s)", h.Command, h.File)
}

func hookFor(hooks []integrations.Hook, event string) (integrations.Hook, bool) {
	for _, h := range hooks {
		if h.Event == event {
			return h, true
		}
	}
	return integrations.Hook{}, false
}

// brokenEffect says what an agent does with a hook whose binary is gone.
func brokenEffect(agent string) string {
	if agent == "cursor" {
		return "Cursor blocks every tool (the hook fails closed)"
	}
	return "the agent skips the hook and runs every tool unchecked"
}

// runHookProbe runs a hook the way its agent would, with a call the
// standard policies deny, and says whether it was blocked.
func runHookProbe(agent integrations.Agent, h integrations.Hook) (bool, string) {
	words, err := shellwords.Parse(h.Command)
	if err != nil || len(words) == 0 {
		return false, fmt.Sprintf("the hook command %q cannot be parsed", h.Command)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, words[0], words[1:]...)
	cmd.Stdin = strings.NewReader(agent.Probe.Input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return false, fmt.Sprintf("the hook did not run: %v", err)
		}
		code = ee.ExitCode()
	}
	if !agent.Probe.Blocked(stdout.Bytes(), stderr.Bytes(), code) {
		answer := strings.TrimSpace(stdout.String() + " " + stderr.String())
		return false, fmt.Sprintf("the hook did not block a read of ~/.ssh/id_rsa (exit %d, answer %q); check your policies with: rampart check --tool read '~/.ssh/id_rsa'", code, answer)
	}
	return true, "the hook answers: a read of ~/.ssh/id_rsa is blocked (recorded in the audit trail as session rampart-setup-check)"
}
