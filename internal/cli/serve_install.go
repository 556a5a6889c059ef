package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/server"
)

// ServeInstallOptions are the flags of "rampart serve install".
type ServeInstallOptions struct {
	Proc   *Process
	DryRun bool
	// ServeArgs are the flags after "--", passed on to rampart serve.
	ServeArgs []string

	// Executable returns the absolute path of the rampart binary.
	Executable func() (string, error)
	// Systemctl runs "systemctl --user ARGS..." and returns its output.
	Systemctl func(args ...string) ([]byte, error)
	// SystemdUser reports whether systemd user services can be used
	// here, and if not why.
	SystemdUser func() (bool, string)
}

// NewCmdServeInstall builds "rampart serve install".
func NewCmdServeInstall(proc *Process, runF func(*ServeInstallOptions) error) *cobra.Command {
	opts := &ServeInstallOptions{Proc: proc, Executable: executablePath, Systemctl: systemctlUser, SystemdUser: systemdUserAvailable}
	cmd := &cobra.Command{
		Use:   "install [--dry-run] [-- SERVE-FLAGS...]",
		Short: "Run the server at login as a systemd user service",
		Long: `Install writes the systemd user unit ~/.config/systemd/user/rampart.service,
which runs this rampart binary (by its absolute path) as "rampart serve", and
enables and starts it with "systemctl --user enable --now rampart". The
server then starts at login and restarts if it fails. Flags after "--" are
passed on to rampart serve.

Where systemd user services are not available (containers, WSL without
systemd, macOS), nothing is written and install says what to do instead.

Remove it with:
  systemctl --user disable --now rampart
  rm ~/.config/systemd/user/rampart.service

Exit codes: 0 installed, 64 usage, 69 systemd user services are not
available, 70 systemctl failed.`,
		Example: `  rampart serve install
  rampart serve install --dry-run
  rampart serve install -- --port 9191 --profile paranoid`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() < 0 && len(args) > 0 || cmd.ArgsLenAtDash() > 0 {
				return usageErrorf(`put "--" before flags for the server: rampart serve install -- --port 9191`,
					"unexpected argument %q", args[0])
			}
			opts.ServeArgs = args
			if err := validateServeArgs(proc, args); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return serveInstallRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the unit and the commands, change nothing")
	return cmd
}

// validateServeArgs parses args with rampart serve's own flags.
func validateServeArgs(proc *Process, args []string) error {
	for _, a := range args {
		if a == "--background" || strings.HasPrefix(a, "--background=") {
			return usageErrorf("systemd keeps the server running itself", "--background cannot be used in a systemd unit")
		}
	}
	serve := NewCmdServe(proc, func(*ServeOptions) error { return nil })
	serve.SetArgs(args)
	serve.SilenceErrors, serve.SilenceUsage = true, true
	serve.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageErrorf(`run "rampart serve --help" for the server's flags`, "server flags: %v", err)
	})
	if err := serve.ParseFlags(args); err != nil {
		return usageErrorf(`run "rampart serve --help" for the server's flags`, "server flags: %v", err)
	}
	if rest := serve.Flags().Args(); len(rest) > 0 {
		return usageErrorf("", "server flags: unexpected argument %q", rest[0])
	}
	return nil
}

// unitPath is where the user unit goes: $XDG_CONFIG_HOME/systemd/user, or
// ~/.config/systemd/user.
func unitPath(proc *Process) string {
	dir := proc.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		dir = filepath.Join(proc.Home(), ".config")
	}
	return filepath.Join(dir, "systemd", "user", "rampart.service")
}

func serveInstallRun(o *ServeInstallOptions) error {
	if o.Proc.Home() == "" {
		return withCode(ExitConfig, errors.New("$HOME is not set"), "set HOME; the unit goes into ~/.config/systemd/user")
	}
	exe, err := o.Executable()
	if err != nil {
		return withCode(ExitSoftware, fmt.Errorf("find the rampart binary: %w", err))
	}
	unit := systemdUnit(exe, o.ServeArgs, o.Proc.Getenv("RAMPART_HOME"))
	path := unitPath(o.Proc)
	commands := []string{"systemctl --user daemon-reload", "systemctl --user enable --now rampart.service"}
	if o.DryRun {
		fmt.Fprintf(o.Proc.Out, "# %s\n%s\n# then:\n", path, unit)
		for _, c := range commands {
			fmt.Fprintf(o.Proc.Out, "#   %s\n", c)
		}
		return nil
	}
	if ok, why := o.SystemdUser(); !ok {
		return withCode(ExitUnavailable, fmt.Errorf("systemd user services are not available here (%s); nothing was installed", why),
			"start the server yourself: rampart serve --background",
			"to start it at every login, add that line to ~/.profile (it does nothing when a server already runs)",
			`"rampart serve install --dry-run" prints the unit, for a machine with systemd`)
	}
	if pid := runningServer(server.PIDPath(o.Proc.RampartHome())); pid != 0 {
		return withCode(ExitUnavailable, fmt.Errorf("a server started by hand is running (pid %d); the service could not take its socket", pid),
			`stop it first: rampart serve stop`)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return withCode(ExitCantCreate, err)
	}
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		return withCode(ExitCantCreate, fmt.Errorf("write %s: %w", path, err))
	}
	fmt.Fprintf(o.Proc.Out, "wrote %s\n", path)
	for _, args := range [][]string{{"daemon-reload"}, {"enable", "--now", "rampart.service"}} {
		if out, err := o.Systemctl(args...); err != nil {
			return withCode(ExitSoftware, fmt.Errorf("systemctl --user %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(string(out))),
				"journalctl --user -u rampart shows the server's log")
		}
	}
	fmt.Fprintln(o.Proc.Out, "enabled and started rampart.service (systemctl --user status rampart)")
	// Say whether it came up.
	if c, err := serverClient(o.Proc, ""); err == nil {
		for i := 0; i < 50; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			h, err := c.Health(ctx)
			cancel()
			if err == nil {
				fmt.Fprintf(o.Proc.Out, "rampart serve is running (pid %d) on %s\n", h.PID, strings.Join(h.Listen, " and "))
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Fprintln(o.Proc.Err, "rampart: warning: the service does not answer yet; see journalctl --user -u rampart")
	}
	return nil
}

// systemdUnit is the text of the user unit.
func systemdUnit(exe string, serveArgs []string, rampartHome string) string {
	exec := []string{systemdQuote(exe, true), "serve"}
	for _, a := range serveArgs {
		exec = append(exec, systemdQuote(a, true))
	}
	var b strings.Builder
	b.WriteString(`# Written by "rampart serve install". Remove with:
#   systemctl --user disable --now rampart && rm ` + "%h/.config/systemd/user/rampart.service" + `
[Unit]
Description=Rampart policy server (rampart serve)
Documentation=https://github.com/rampart-dev/rampart/blob/main/docs/server.md

[Service]
Type=simple
ExecStart=` + strings.Join(exec, " ") + "\n")
	if rampartHome != "" {
		b.WriteString("Environment=" + systemdQuote("RAMPART_HOME="+rampartHome, false) + "\n")
	}
	b.WriteString(`Restart=on-failure
RestartSec=2s
NoNewPrivileges=yes

[Install]
WantedBy=default.target
`)
	return b.String()
}

// systemdQuote quotes a word for ExecStart= (inExec) or Environment=:
// double quotes when it needs them, "%" doubled (systemd's specifier
// character), backslashes and quotes escaped, and in ExecStart "$" doubled
// (systemd expands variables there).
func systemdQuote(s string, inExec bool) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if inExec {
		s = strings.ReplaceAll(s, "$", "$$")
	}
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// executablePath is the absolute path of this binary, links resolved.
func executablePath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(exe)
}

func systemctlUser(args ...string) ([]byte, error) {
	return exec.Command("systemctl", append([]string{"--user"}, args...)...).CombinedOutput()
}

// systemdUserAvailable reports whether systemd runs this machine and a
// user manager answers.
func systemdUserAvailable() (bool, string) {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return false, "systemd is not running this machine"
	}
	if _, err := exec.LookPath("systemctl"); err != nil {
		return false, "no systemctl"
	}
	if out, err := exec.Command("systemctl", "--user", "show-environment").CombinedOutput(); err != nil {
		return false, "systemctl --user cannot reach a user manager: " + strings.TrimSpace(string(out))
	}
	return true, ""
}
