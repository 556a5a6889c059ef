package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/integrations"
)

// SetupGeminiOptions are the flags of "rampart setup gemini".
type SetupGeminiOptions struct {
	Proc    *Process
	Project bool
	Remove  bool
	DryRun  bool
	Force   bool
	Check   bool
	// Binary is the rampart executable the hooks run (default: this one).
	Binary string
}

// NewCmdSetupGemini builds "rampart setup gemini".
func NewCmdSetupGemini(proc *Process, runF func(*SetupGeminiOptions) error) *cobra.Command {
	opts := &SetupGeminiOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:     "gemini [flags]",
		Aliases: []string{"gemini-cli"},
		Short:   "Protect Gemini CLI: add Rampart's hooks to its settings.json",
		Long: `Adds BeforeTool and AfterTool hooks to Gemini CLI's settings.json
(~/.gemini/settings.json; with --project, .gemini/settings.json in the
current directory). The hooks run this rampart binary by its absolute path
for every tool (matcher "*": run_shell_command, the file and web tools and
MCP tools alike).

Before each tool call Gemini CLI asks "rampart hook gemini", which blocks
what the policies deny and tells the model why. Gemini CLI's hooks document
no ask, so a policy's ask blocks the call too and tells the model to ask
you. Every decision and every tool's outcome goes to the audit trail.

Every other setting and hook is kept as it was. Running setup again changes
nothing; a moved binary is updated in place. The file is written atomically
and the previous version is kept as settings.json.rampart-backup-TIME. A
settings file that is not plain JSON (Gemini CLI also reads comments, which
Rampart would not keep) is left alone unless --force. --remove takes out
exactly what setup added.`,
		Example: `  rampart setup gemini
  rampart setup gemini --project   # .gemini/settings.json of this project
  rampart setup gemini --check     # verify the installed hooks work
  rampart setup gemini --remove`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkAlone(opts.Check, opts.Remove, opts.Force, opts.DryRun); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return setupGeminiRun(opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Project, "project", false, "edit the project's .gemini/settings.json (current directory) instead of the user's")
	f.BoolVar(&opts.Remove, "remove", false, "take out Rampart's hooks")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the settings file as it would be written; change nothing")
	f.BoolVar(&opts.Force, "force", false, "replace a settings file that is not valid JSON (the old one is backed up)")
	f.BoolVar(&opts.Check, "check", false, "verify the installed hooks: present, covering every tool, enabled and answering")
	f.StringVar(&opts.Binary, "rampart-path", "", "the rampart `BINARY` the hooks run (default: this executable)")
	return cmd
}

func (o *SetupGeminiOptions) settingsPath() (string, error) {
	proc := o.Proc
	var wd string
	if o.Project {
		var err error
		if wd, err = proc.Getwd(); err != nil {
			return "", withCode(ExitIOErr, fmt.Errorf("cannot find the current directory: %w", err))
		}
	} else if proc.Home() == "" {
		return "", withCode(ExitConfig, errors.New("$HOME is not set, so Gemini CLI's settings cannot be found"), "set HOME")
	}
	return integrations.GeminiSettingsPath(proc.Home(), wd, o.Project), nil
}

func setupGeminiRun(opts *SetupGeminiOptions) error {
	path, err := opts.settingsPath()
	if err != nil {
		return err
	}
	if opts.Check {
		return setupGeminiCheck(opts, path)
	}
	var change *integrations.Change
	if opts.Remove {
		change, err = integrations.PlanGeminiRemove(path, opts.Force)
	} else {
		bin, err2 := resolveRampartBinary(opts.Binary)
		if err2 != nil {
			return err2
		}
		change, err = integrations.PlanGemini(path, integrations.HookCommand(bin, "hook", "gemini"), opts.Force)
	}
	var invalid *integrations.InvalidConfigError
	if errors.As(err, &invalid) {
		return withCode(ExitConfig, err, fmt.Sprintf("fix %s by hand (Gemini CLI also reads comments, which Rampart would not keep: remove them), or run again with --force to replace it (the old file is backed up)", path))
	}
	if err != nil {
		return withCode(ExitIOErr, err)
	}
	out := opts.Proc.Out
	if opts.DryRun {
		printDryRun(out, path, change.After, change.Changed, false)
		return nil
	}
	if !change.Changed {
		printUnchanged(out, "Gemini CLI", "gemini", path, opts.Remove)
		return nil
	}
	backup, err := integrations.Apply(change, time.Now())
	if err != nil {
		return withCode(ExitCantCreate, err)
	}
	printApplied(out, "Gemini CLI", path, false, change.Summary, backup)
	if !opts.Remove {
		if off := integrations.GeminiHooksOff(change.After, ""); off != "" {
			fmt.Fprintf(out, "  WARNING: %s; the hooks stay inert until you change that\n", off)
		}
		printSetUp(out, "gemini", "Gemini CLI sessions started from now on are protected; restart running ones.")
	}
	return nil
}

// setupGeminiCheck verifies the installed hooks and runs one.
func setupGeminiCheck(opts *SetupGeminiOptions, path string) error {
	r := &setupReport{out: opts.Proc.Out}
	data, err := os.ReadFile(path)
	if err != nil {
		r.line(false, "settings file %s: %v", path, err)
		return r.result("gemini")
	}
	installed, err := integrations.InstalledGeminiHooks(data)
	if err != nil {
		r.line(false, "settings file %s is not valid: %v", path, err)
		return r.result("gemini")
	}
	r.line(true, "settings file %s", path)
	before := checkHookEntries(r, "gemini", integrations.GeminiEvents, installed)
	if before != "" {
		if off := integrations.GeminiHooksOff(data, before); off != "" {
			r.line(false, "%s", off)
		}
		input := `{"hook_event_name":"BeforeTool","session_id":"rampart-setup-check","cwd":` + jsonString(opts.Proc.Home()) +
			`,"tool_name":"read_file","tool_input":{"file_path":"~/.ssh/id_rsa"}}`
		checkHookAnswers(r, "Gemini CLI", before, input, `"decision":"deny"`, "a read_file of ~/.ssh/id_rsa")
	}
	return r.result("gemini")
}
