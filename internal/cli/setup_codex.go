package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/integrations"
)

// SetupCodexOptions are the flags of "rampart setup codex".
type SetupCodexOptions struct {
	Proc   *Process
	Remove bool
	DryRun bool
	Force  bool
	Check  bool
	// NoTrust leaves trusting the hooks to the user (Codex's /hooks).
	NoTrust bool
	// Codex is the codex executable whose app server records the trust
	// (default: codex on PATH).
	Codex string
	// Binary is the rampart executable the hooks run (default: this one).
	Binary string
}

// NewCmdSetupCodex builds "rampart setup codex".
func NewCmdSetupCodex(proc *Process, runF func(*SetupCodexOptions) error) *cobra.Command {
	opts := &SetupCodexOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:     "codex [flags]",
		Aliases: []string{"codex-cli"},
		Short:   "Protect Codex CLI: add Rampart's hooks to its hooks.json and trust them",
		Long: `Adds PreToolUse and PostToolUse hooks to Codex CLI's hooks.json
($CODEX_HOME/hooks.json, else ~/.codex/hooks.json). The hooks run this
rampart binary by its absolute path for every tool (matcher "*": shell
commands, apply_patch, MCP tools).

Before each tool call Codex asks "rampart hook codex", which blocks what the
policies deny and tells the model why. Codex hooks cannot ask you, so a
policy's ask blocks the call too and tells the model to ask you. Every
decision, and every file of a patch, goes to the audit trail.

Codex runs a new or changed hook only once it is trusted. Setup trusts
Rampart's two hooks the way Codex's /hooks screen does, through
"codex app-server" (the codex on PATH, or --codex), which records them in
config.toml. With --no-trust, or without codex, open /hooks in Codex and
trust them yourself: until then Codex skips them without a word.

Every other hook is kept as it was. Running setup again changes nothing; a
moved binary is updated in place. The file is written atomically and the
previous version is kept as hooks.json.rampart-backup-TIME. A hooks.json
that is not valid JSON is left alone unless --force. --remove takes out the
hooks and their trust records.`,
		Example: `  rampart setup codex
  rampart setup codex --dry-run   # show the result, change nothing
  rampart setup codex --check     # verify the installed hooks are trusted and answer
  rampart setup codex --remove`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkAlone(opts.Check, opts.Remove, opts.Force, opts.DryRun); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return setupCodexRun(opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Remove, "remove", false, "take out Rampart's hooks and their trust records")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print hooks.json as it would be written; change nothing")
	f.BoolVar(&opts.Force, "force", false, "replace a hooks.json that is not valid JSON (the old one is backed up)")
	f.BoolVar(&opts.Check, "check", false, "verify the installed hooks: present, covering every tool, trusted and answering")
	f.BoolVar(&opts.NoTrust, "no-trust", false, "do not trust the hooks in Codex's config.toml (trust them yourself with /hooks)")
	f.StringVar(&opts.Codex, "codex", "", "the codex `BINARY` that records the trust (default: codex on PATH)")
	f.StringVar(&opts.Binary, "rampart-path", "", "the rampart `BINARY` the hooks run (default: this executable)")
	return cmd
}

func (o *SetupCodexOptions) hooksPath() (string, error) {
	proc := o.Proc
	if proc.Home() == "" && proc.Getenv("CODEX_HOME") == "" {
		return "", withCode(ExitConfig, errors.New("$HOME is not set, so Codex's hooks.json cannot be found"),
			"set HOME, or CODEX_HOME to Codex's home folder")
	}
	return integrations.CodexHooksPath(proc.Home(), proc.Getenv("CODEX_HOME")), nil
}

// appServer is Codex's app server, or ok false when there is no codex.
func (o *SetupCodexOptions) appServer() (integrations.CodexAppServer, bool) {
	bin := o.Codex
	if bin == "" {
		found, err := exec.LookPath("codex")
		if err != nil {
			return integrations.CodexAppServer{}, false
		}
		bin = found
	}
	dir := o.Proc.Home()
	if wd, err := o.Proc.Getwd(); err == nil {
		dir = wd
	}
	return integrations.CodexAppServer{Binary: bin, Dir: dir}, true
}

func setupCodexRun(opts *SetupCodexOptions) error {
	path, err := opts.hooksPath()
	if err != nil {
		return err
	}
	if opts.Check {
		return setupCodexCheck(opts, path)
	}
	out := opts.Proc.Out
	server, haveCodex := opts.appServer()
	if opts.Codex != "" {
		if st, err := os.Stat(opts.Codex); err != nil || st.IsDir() {
			return usageErrorf("", "--codex %s: no such executable", opts.Codex)
		}
	}
	var change *integrations.Change
	// Before the hooks leave hooks.json, find their trust records.
	var trusted []integrations.CodexHook
	if opts.Remove {
		if haveCodex && !opts.NoTrust && !opts.DryRun {
			if listed, err := server.ListHooks(); err == nil {
				for _, h := range integrations.RampartCodexHooks(listed, path) {
					if h.TrustStatus == "trusted" {
						trusted = append(trusted, h)
					}
				}
			}
		}
		change, err = integrations.PlanCodexRemove(path, opts.Force)
	} else {
		bin, err2 := resolveRampartBinary(opts.Binary)
		if err2 != nil {
			return err2
		}
		change, err = integrations.PlanCodex(path, integrations.HookCommand(bin, "hook", "codex"), opts.Force)
	}
	var invalid *integrations.InvalidConfigError
	if errors.As(err, &invalid) {
		return withCode(ExitConfig, err, fmt.Sprintf("fix %s by hand, or run again with --force to replace it (the old file is backed up)", path))
	}
	if err != nil {
		return withCode(ExitIOErr, err)
	}
	if opts.DryRun {
		printDryRun(out, path, change.After, change.Changed, false)
		if !opts.Remove && !opts.NoTrust {
			fmt.Fprintln(out, "# and Rampart's hooks would be trusted in Codex's config.toml (through codex app-server)")
		}
		return nil
	}
	if change.Changed {
		backup, err := integrations.Apply(change, time.Now())
		if err != nil {
			return withCode(ExitCantCreate, err)
		}
		printApplied(out, "Codex", path, false, change.Summary, backup)
	}
	if opts.Remove {
		if !change.Changed {
			printUnchanged(out, "Codex", "codex", path, true)
		}
		if len(trusted) > 0 {
			keys := make([]string, len(trusted))
			for i, h := range trusted {
				keys[i] = h.Key
			}
			config := filepath.Join(integrations.CodexHome(opts.Proc.Home(), opts.Proc.Getenv("CODEX_HOME")), "config.toml")
			if _, err := integrations.BackupFile(config, time.Now()); err != nil {
				return withCode(ExitCantCreate, err)
			}
			if err := server.Forget(keys); err != nil {
				return withCode(ExitIOErr, fmt.Errorf("removing the hooks' trust records: %w", err), "remove their [hooks.state] entries from Codex's config.toml by hand")
			}
			fmt.Fprintf(out, "  removed the trust records of %d hook(s) from Codex's config.toml\n", len(keys))
		}
		return nil
	}
	trustNote, err := setupCodexTrust(opts, server, haveCodex, path)
	if err != nil {
		return err
	}
	if !change.Changed && !strings.HasPrefix(trustNote, "trusted ") {
		fmt.Fprintf(out, "Codex: already set up in %s; nothing changed.\n", path)
		if trustNote != "" {
			fmt.Fprintf(out, "  %s\n", trustNote)
		}
		fmt.Fprintln(out, "Check it works: rampart setup codex --check")
		return nil
	}
	if !change.Changed {
		fmt.Fprintf(out, "Codex: %s already holds Rampart's hooks\n", path)
	}
	if trustNote != "" {
		fmt.Fprintf(out, "  %s\n", trustNote)
	}
	printSetUp(out, "codex", "Codex sessions started from now on are protected; restart running ones.")
	return nil
}

// setupCodexTrust trusts Rampart's hooks through Codex's app server. It
// returns what it did for people ("" when they were trusted already) and
// fails when Codex does not list them trusted afterwards.
func setupCodexTrust(opts *SetupCodexOptions, server integrations.CodexAppServer, haveCodex bool, path string) (string, error) {
	manual := fmt.Sprintf("Codex runs these hooks only once they are trusted: open Codex, type /hooks and trust the %d Rampart hooks (until then Codex skips them)", len(integrations.CodexEvents))
	switch {
	case opts.NoTrust:
		return "NOT TRUSTED YET (--no-trust). " + manual, nil
	case !haveCodex:
		return "NOT TRUSTED YET: codex is not on PATH (pass --codex BINARY). " + manual, nil
	}
	listed, err := server.ListHooks()
	if err != nil {
		return "", withCode(ExitSoftware, fmt.Errorf("asking Codex about its hooks: %w", err), manual)
	}
	ours := integrations.RampartCodexHooks(listed, path)
	var untrusted []integrations.CodexHook
	for _, h := range ours {
		if !h.Trusted() {
			untrusted = append(untrusted, h)
		}
	}
	if len(ours) < len(integrations.CodexEvents) {
		return "", withCode(ExitSoftware, fmt.Errorf("%s lists %d of Rampart's %d hooks in %s", server.Binary, len(ours), len(integrations.CodexEvents), path),
			"is this codex the one you run? pass --codex BINARY")
	}
	if len(untrusted) == 0 {
		return "", nil
	}
	config := filepath.Join(integrations.CodexHome(opts.Proc.Home(), opts.Proc.Getenv("CODEX_HOME")), "config.toml")
	backup, err := integrations.BackupFile(config, time.Now())
	if err != nil {
		return "", withCode(ExitCantCreate, err)
	}
	if err := server.Trust(untrusted); err != nil {
		return "", withCode(ExitSoftware, fmt.Errorf("trusting Rampart's hooks: %w", err), manual)
	}
	listed, err = server.ListHooks()
	if err != nil {
		return "", withCode(ExitSoftware, fmt.Errorf("asking Codex about its hooks: %w", err), manual)
	}
	for _, h := range integrations.RampartCodexHooks(listed, path) {
		if !h.Trusted() {
			return "", withCode(ExitSoftware, fmt.Errorf("Codex still lists the %s hook as %s after trusting it", h.EventName, h.TrustStatus), manual)
		}
	}
	note := fmt.Sprintf("trusted %d hook(s) in %s (through %s app-server)", len(untrusted), config, server.Binary)
	if backup != "" {
		note += "\n  backup of the previous config.toml: " + backup
	}
	return note, nil
}

// setupCodexCheck verifies the installed hooks and runs one.
func setupCodexCheck(opts *SetupCodexOptions, path string) error {
	r := &setupReport{out: opts.Proc.Out}
	data, err := os.ReadFile(path)
	if err != nil {
		r.line(false, "hooks file %s: %v", path, err)
		return r.result("codex")
	}
	installed, err := integrations.InstalledCodexHooks(data)
	if err != nil {
		r.line(false, "hooks file %s is not valid: %v", path, err)
		return r.result("codex")
	}
	r.line(true, "hooks file %s", path)
	pre := checkHookEntries(r, "codex", integrations.CodexEvents, installed)
	if len(installed) > 0 {
		if server, ok := opts.appServer(); opts.NoTrust {
			r.note("trust not checked (--no-trust): Codex skips an untrusted hook without a word; see /hooks in Codex")
		} else if !ok {
			r.note("cannot see whether Codex trusts the hooks: codex is not on PATH (pass --codex BINARY); an untrusted hook is skipped without a word")
		} else if listed, err := server.ListHooks(); err != nil {
			r.line(false, "asking Codex about its hooks: %v", err)
		} else {
			ours := integrations.RampartCodexHooks(listed, path)
			if len(ours) == 0 {
				r.line(false, "%s does not list Rampart's hooks: it reads another hooks file (is CODEX_HOME the same?)", server.Binary)
			}
			for _, h := range ours {
				r.line(h.Trusted(), "Codex %s hook is %s%s", h.EventName, h.TrustStatus,
					map[bool]string{true: "", false: " (Codex skips it: run rampart setup codex, or trust it in Codex's /hooks)"}[h.Trusted()])
			}
		}
	}
	if pre != "" {
		input := `{"hook_event_name":"PreToolUse","session_id":"rampart-setup-check","cwd":` + jsonString(opts.Proc.Home()) +
			`,"tool_name":"Bash","tool_input":{"command":"cat ~/.ssh/id_rsa"},"tool_use_id":"rampart-setup-check"}`
		checkHookAnswers(r, "Codex", pre, input, `"permissionDecision":"deny"`, "a Bash cat of ~/.ssh/id_rsa")
	}
	return r.result("codex")
}

// jsonString is s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
