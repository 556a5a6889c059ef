package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/shellwrap"
)

// WrapOptions are the flags and arguments of "rampart wrap".
type WrapOptions struct {
	Proc *Process
	Mode string
	Argv []string
	// RampartSh is the rampart-sh binary (default: next to this binary,
	// else on PATH).
	RampartSh string
}

// NewCmdWrap builds "rampart wrap".
func NewCmdWrap(proc *Process, runF func(*WrapOptions) error) *cobra.Command {
	opts := &WrapOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "wrap [--mode enforce|monitor] -- AGENT [ARGS...]",
		Short: "Run an agent with rampart-sh as its shell",
		Long: `Wrap runs AGENT so that every command it runs through a shell is checked by
rampart-sh first:

  SHELL                     points at a "bash" that is rampart-sh
  PATH                      starts with a folder whose bash, sh and zsh are
                            rampart-sh (it then runs the real shell, found
                            further down PATH)
  CLAUDE_CODE_SHELL_PREFIX  rampart-sh, for Claude Code's Bash tool
  RAMPART_SESSION           wrap-<pid>, so the audit trail groups the run
  RAMPART_MODE              --mode (enforce unless --mode monitor)

The agent's stdin, stdout and terminal are its own; signals are passed on;
wrap exits with the agent's exit code (128+N when a signal N ended it) and
prints a one-line summary on stderr: commands checked and blocked.

This covers commands that go through a shell. Programs an agent starts
directly (execve) are covered by "rampart preload"; agents with a hook
system by "rampart setup AGENT".`,
		Example: `  rampart wrap -- codex
  rampart wrap --mode monitor -- python3 my_agent.py`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkEnforceOrMonitor(opts.Mode); err != nil {
				return err
			}
			opts.Argv = args
			if runF != nil {
				return runF(opts)
			}
			return wrapRun(opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&opts.Mode, "mode", "", "enforce (default) or monitor: record decisions without blocking")
	cmd.Flags().StringVar(&opts.RampartSh, "rampart-sh", "", "the rampart-sh `BINARY` (default: next to rampart, else on PATH)")
	return cmd
}

// findRampartSh looks for rampart-sh next to this executable, then on PATH.
func findRampartSh(proc *Process, flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	if exe, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		candidate := filepath.Join(filepath.Dir(exe), "rampart-sh")
		if st, err := os.Stat(candidate); err == nil && !st.IsDir() {
			return candidate, nil
		}
	}
	for _, dir := range filepath.SplitList(proc.Getenv("PATH")) {
		candidate := filepath.Join(dir, "rampart-sh")
		if st, err := os.Stat(candidate); err == nil && !st.IsDir() && st.Mode().Perm()&0o111 != 0 {
			return filepath.Abs(candidate)
		}
	}
	return "", errors.New("rampart-sh was not found next to rampart or on PATH")
}

// makeShims makes a folder whose bash, sh and zsh are links to rampartSh.
func makeShims(parent, rampartSh string) (string, error) {
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(parent, "shims-")
	if err != nil {
		return "", err
	}
	for _, name := range []string{"bash", "sh", "zsh"} {
		if err := os.Symlink(rampartSh, filepath.Join(dir, name)); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, shellwrap.ShimMarker), []byte("rampart wrap shims\n"), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// defaultPath is where programs look for commands when PATH is unset
// (glibc's execvp and bash use about this).
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

// shimPath returns the PATH of the agent: the shim folder first, then
// path. An empty path becomes [defaultPath], not an empty entry, which
// would mean the working directory: a "git" or "bash" in the project
// would run instead of the real one.
func shimPath(shims, path string) string {
	if path == "" {
		path = defaultPath
	}
	return shims + string(os.PathListSeparator) + path
}

// checkEnforceOrMonitor checks a --mode flag of a command that runs an
// agent and either blocks (enforce, the default) or records only.
func checkEnforceOrMonitor(mode string) error {
	switch mode {
	case "", "enforce", "monitor":
		return nil
	}
	return usageErrorf("", "--mode: want enforce or monitor, got %q", mode)
}

func wrapRun(opts *WrapOptions) error {
	proc := opts.Proc
	sh, err := findRampartSh(proc, opts.RampartSh)
	if err != nil {
		return withCode(ExitConfig, err, "run \"make install\", which installs rampart-sh next to rampart, or pass --rampart-sh")
	}
	home := proc.RampartHome()
	parent := os.TempDir()
	if home != "" {
		parent = filepath.Join(home, "run")
	}
	shims, err := makeShims(parent, sh)
	if err != nil {
		return withCode(ExitCantCreate, fmt.Errorf("make the shell shims: %w", err))
	}
	defer os.RemoveAll(shims)

	session := proc.Getenv("RAMPART_SESSION")
	if session == "" {
		session = "wrap-" + strconv.Itoa(os.Getpid())
	}
	env := os.Environ()
	set := func(k, v string) { env = append(env, k+"="+v) }
	set("SHELL", filepath.Join(shims, "bash"))
	set("PATH", shimPath(shims, proc.Getenv("PATH")))
	set("CLAUDE_CODE_SHELL_PREFIX", sh)
	set("RAMPART_SESSION", session)
	// rampart-sh reads RAMPART_MODE: an inherited "disabled" or
	// "monitor" must not quietly replace the documented default.
	mode := opts.Mode
	if mode == "" {
		mode = "enforce"
	}
	set("RAMPART_MODE", mode)
	if proc.Getenv("RAMPART_AGENT") == "" {
		set("RAMPART_AGENT", filepath.Base(opts.Argv[0]))
	}

	path, err := exec.LookPath(opts.Argv[0])
	if err != nil {
		return withCode(127, fmt.Errorf("%s: %w", opts.Argv[0], err))
	}
	cmd := exec.Command(path, opts.Argv[1:]...)
	cmd.Args[0] = opts.Argv[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = proc.In, proc.Out, proc.Err
	start := time.Now()
	code, err := runForwardingSignals(cmd, proc)
	if err != nil {
		return withCode(126, fmt.Errorf("start %s: %w", opts.Argv[0], err))
	}
	checked, blocked := countSession(home, session, start)
	noun := "commands"
	if checked == 1 {
		noun = "command"
	}
	fmt.Fprintf(proc.Err, "rampart wrap: %d %s checked, %d blocked (session %s; see: rampart audit search --session %s)\n", checked, noun, blocked, session, session)
	return exitCode(code)
}

// countSession counts the decisions of a session in the audit trail since
// start.
func countSession(home, session string, start time.Time) (checked, blocked int) {
	if home == "" {
		return 0, 0
	}
	dir := audit.DefaultDir(home)
	day := start.UTC().Format("2006-01-02")
	files, _ := audit.Files(dir)
	for _, name := range files {
		if name[:len(day)] < day {
			continue
		}
		audit.ScanFrom(dir, name, 0, 0, func(e audit.Entry) error {
			r := e.Record
			if r == nil || r.Session != session || r.Time.Before(start) {
				return nil
			}
			// An ask is a decision record, then an approval record
			// with the final answer.
			if r.Event == audit.EventDecision {
				checked++
			}
			if r.Decision == "deny" && (r.Event == audit.EventDecision || r.Event == audit.EventApproval) {
				blocked++
			}
			return nil
		})
	}
	return checked, blocked
}
