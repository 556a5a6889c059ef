package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-shellwords"
	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/integrations"
)

// SetupClaudeCodeOptions are the flags of "rampart setup claude-code".
type SetupClaudeCodeOptions struct {
	Proc    *Process
	Project bool
	Remove  bool
	DryRun  bool
	Force   bool
	Check   bool
	// Shell also sets CLAUDE_CODE_SHELL_PREFIX to rampart-sh.
	Shell bool
	// Binary is the rampart executable the hook runs (default: this one).
	Binary string
}

// NewCmdSetupClaudeCode builds "rampart setup claude-code".
func NewCmdSetupClaudeCode(proc *Process, runF func(*SetupClaudeCodeOptions) error) *cobra.Command {
	opts := &SetupClaudeCodeOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:     "claude-code [flags]",
		Aliases: []string{"claude"},
		Short:   "Protect Claude Code: add Rampart's hooks to its settings.json",
		Long: `Adds PreToolUse, PostToolUse and PostToolUseFailure hooks to Claude Code's
settings.json ($CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json;
with --project, .claude/settings.json in the current directory). The hooks
run this rampart binary by its absolute path, for every tool (matcher "*":
Bash, file tools, web tools, sub-agents and MCP tools alike).

Before each tool call Claude Code asks "rampart hook claude-code", which
blocks what the policies deny (telling the model why), makes Claude Code ask
you where a policy says ask, and otherwise leaves Claude Code's own
permission settings in charge. Every decision and every tool's outcome goes
to the audit trail.

Every other setting and hook is kept as it was. Running setup again changes
nothing; a moved binary is updated in place. The file is written atomically
and the previous version is kept as settings.json.rampart-backup-TIME.
A settings file that is not valid JSON is left alone unless --force.

--shell also sets env.CLAUDE_CODE_SHELL_PREFIX to rampart-sh (installed
next to rampart), which Claude Code runs every Bash command through: a
second check of the same command behind the hook (see "rampart-sh").
--remove takes it out again; a prefix of your own is never replaced.`,
		Example: `  rampart setup claude-code
  rampart setup claude-code --shell     # and Bash through rampart-sh too
  rampart setup claude-code --dry-run   # show the result, change nothing
  rampart setup claude-code --check     # verify the installed hooks work
  rampart setup claude-code --remove`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkAlone(opts.Check, opts.Remove, opts.Force, opts.DryRun); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return setupClaudeCodeRun(opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Project, "project", false, "edit the project's .claude/settings.json (current directory) instead of the user's")
	f.BoolVar(&opts.Remove, "remove", false, "take out Rampart's hooks")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the settings file as it would be written; change nothing")
	f.BoolVar(&opts.Force, "force", false, "replace a settings file that is not valid JSON (the old one is backed up)")
	f.BoolVar(&opts.Shell, "shell", false, "also run Bash commands through rampart-sh (env.CLAUDE_CODE_SHELL_PREFIX), a second line of defence")
	f.BoolVar(&opts.Check, "check", false, "verify the installed hooks: present, covering every tool, and answering")
	f.StringVar(&opts.Binary, "rampart-path", "", "the rampart `BINARY` the hooks run (default: this executable)")
	return cmd
}

func (o *SetupClaudeCodeOptions) settingsPath() (string, error) {
	proc := o.Proc
	var wd string
	if o.Project {
		var err error
		if wd, err = proc.Getwd(); err != nil {
			return "", withCode(ExitIOErr, fmt.Errorf("cannot find the current directory: %w", err))
		}
	} else if proc.Home() == "" && proc.Getenv("CLAUDE_CONFIG_DIR") == "" {
		return "", withCode(ExitConfig, errors.New("$HOME is not set, so Claude Code's settings cannot be found"),
			"set HOME, or CLAUDE_CONFIG_DIR to Claude Code's config folder")
	}
	return integrations.ClaudeSettingsPath(proc.Home(), proc.Getenv("CLAUDE_CONFIG_DIR"), wd, o.Project), nil
}

func setupClaudeCodeRun(opts *SetupClaudeCodeOptions) error {
	path, err := opts.settingsPath()
	if err != nil {
		return err
	}
	if opts.Check {
		return setupClaudeCodeCheck(opts, path)
	}
	var change *integrations.Change
	if opts.Remove {
		change, err = integrations.PlanClaudeCodeRemove(path, opts.Force)
	} else {
		var bin string
		if bin, err = resolveRampartBinary(opts.Binary); err != nil {
			return err
		}
		prefix := ""
		if opts.Shell {
			sh, err := findRampartSh(opts.Proc, filepath.Join(filepath.Dir(bin), "rampart-sh"))
			if err == nil {
				_, err = os.Stat(sh)
			}
			if err != nil {
				return withCode(ExitConfig, fmt.Errorf("--shell: rampart-sh is not installed next to %s", bin), "run \"make install\", which installs both")
			}
			prefix = sh
		}
		change, err = integrations.PlanClaudeCode(path, integrations.HookCommand(bin, "hook", "claude-code"), prefix, opts.Force)
	}
	var invalid *integrations.InvalidConfigError
	var conflict *integrations.ConflictError
	if errors.As(err, &conflict) {
		return withCode(ExitConfig, err)
	}
	if errors.As(err, &invalid) {
		return withCode(ExitConfig, err, fmt.Sprintf("fix %s by hand, or run again with --force to replace it (the old file is backed up)", path))
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
		printUnchanged(out, "Claude Code", "claude-code", path, opts.Remove)
		return nil
	}
	backup, err := integrations.Apply(change, time.Now())
	if err != nil {
		return withCode(ExitCantCreate, err)
	}
	printApplied(out, "Claude Code", path, false, change.Summary, backup)
	if !opts.Remove {
		if off := integrations.ClaudeHooksOff(change.After); off != "" {
			fmt.Fprintf(out, "  WARNING: %s; the hooks stay inert until you change that\n", off)
		}
		printSetUp(out, "claude-code", "Claude Code sessions started from now on are protected; restart running ones.")
	}
	return nil
}

// setupClaudeCodeCheck verifies the installed hooks and runs one.
func setupClaudeCodeCheck(opts *SetupClaudeCodeOptions, path string) error {
	r := &setupReport{out: opts.Proc.Out}
	report := r.line
	data, err := os.ReadFile(path)
	if err != nil {
		report(false, "settings file %s: %v", path, err)
		return r.result("claude-code")
	}
	installed, err := integrations.InstalledClaudeCommands(data)
	if err != nil {
		report(false, "settings file %s is not valid: %v", path, err)
		return r.result("claude-code")
	}
	report(true, "settings file %s", path)
	if off := integrations.ClaudeHooksOff(data); off != "" {
		report(false, "%s", off)
	}
	// The project of the current directory can turn every hook off too,
	// in its shared or its personal settings.
	if wd, err := opts.Proc.Getwd(); err == nil {
		for _, name := range []string{"settings.json", "settings.local.json"} {
			p := filepath.Join(wd, ".claude", name)
			if p == path {
				continue
			}
			if d, err := os.ReadFile(p); err == nil {
				if off := integrations.ClaudeHooksOff(d); off != "" {
					report(false, "%s, in %s: in this project", off, p)
				}
			}
		}
	}
	var pre string
	for _, event := range integrations.ClaudeCodeEvents {
		entries := installed[event]
		if len(entries) == 0 {
			report(false, "%s: no Rampart hook (run: rampart setup claude-code)", event)
			continue
		}
		matcher, command := entries[0].Matcher, entries[0].Command
		allTools := entries[0].MatchesEveryTool()
		report(allTools, "%s: %s (matcher %q%s)", event, command, matcher, map[bool]string{true: ", every tool", false: ": NOT every tool"}[allTools])
		if event == "PreToolUse" {
			pre = command
		}
	}
	if pre != "" {
		checkHookRuns(pre, report)
	}
	return r.result("claude-code")
}

// checkHookRuns runs the installed PreToolUse command the way Claude Code
// would, with a call the standard policies deny, and checks the answer.
func checkHookRuns(command string, report func(bool, string, ...any)) {
	words, err := shellwords.Parse(command)
	if err != nil || len(words) == 0 {
		report(false, "the hook command cannot be parsed: %v", err)
		return
	}
	if st, err := os.Stat(words[0]); err != nil || st.Mode().Perm()&0o111 == 0 {
		report(false, "the hook's binary %s does not exist or is not executable: Claude Code would skip the hook and run every tool unchecked", words[0])
		return
	}
	report(true, "binary %s exists", words[0])
	input := `{"hook_event_name":"PreToolUse","session_id":"rampart-setup-check","tool_name":"Read","tool_input":{"file_path":"~/.ssh/id_rsa"},"tool_use_id":"rampart-setup-check"}`
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, words[0], words[1:]...)
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	switch {
	case runErr != nil:
		report(false, "the hook failed: %v %s", runErr, strings.TrimSpace(stderr.String()))
	case !bytes.Contains(stdout.Bytes(), []byte(`"permissionDecision":"deny"`)):
		report(false, "the hook did not deny a read of ~/.ssh/id_rsa (answer: %q); check your policies with: rampart check --tool read '~/.ssh/id_rsa'", strings.TrimSpace(stdout.String()))
	default:
		report(true, "the hook answers: a Read of ~/.ssh/id_rsa is denied (recorded in the audit trail as session rampart-setup-check)")
	}
}
