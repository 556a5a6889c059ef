package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rampart-dev/rampart/preload"
	"github.com/rampart-dev/rampart/server"
)

// PreloadOptions are the flags and arguments of "rampart preload".
type PreloadOptions struct {
	Proc *Process

	Port     int
	URL      string
	Token    string
	Mode     string // enforce, monitor or disabled
	FailOpen bool
	Agent    string
	Session  string
	Debug    bool
	// Library is a librampart.so to use instead of the one this binary
	// carries (hidden flag; tests use it for the AddressSanitizer build).
	Library string

	Argv []string
	// Environ is the environment the command starts from (os.Environ).
	Environ func() []string
}

// NewCmdPreload builds "rampart preload". runF, when not nil, replaces
// preloadRun (tests use it to see the parsed options).
func NewCmdPreload(proc *Process, runF func(*PreloadOptions) error) *cobra.Command {
	opts := &PreloadOptions{Proc: proc, Environ: os.Environ}
	cmd := &cobra.Command{
		Use:   "preload [flags] -- COMMAND [ARGS...]",
		Short: "Run a command (any agent) with every program it starts checked",
		Long: `Preload runs COMMAND with librampart.so in LD_PRELOAD. Every program that
COMMAND and its children start through libc (execve and the rest of the exec
family, posix_spawn, system, popen) is checked by the policy server first; a
denied one fails with "Permission denied" and one line on stderr:

  rampart: blocked: rm -rf / (standard/block-destructive: ...)

The server is a running "rampart serve" when one answers ($RAMPART_URL, the
socket in ~/.rampart, or http://127.0.0.1:9090), else one that preload runs
itself for the lifetime of COMMAND, on a private socket, with the same
policies and the normal audit trail. An ask waits for a human (rampart
approve); the command's exit code (128+N when signal N ended it) is
preload's. Signals sent to preload are passed on.

A call the server has allowed before (the same program, arguments, working
directory, agent and session) runs without asking again: the server
publishes such allows in a table next to its socket, and each run still
becomes an audit record (marked "cached"). Denied calls are asked about
every time. RAMPART_ALLOW_TABLE=0 asks about every call (docs/preload.md).

LD_PRELOAD cannot see statically linked programs (most Go binaries), setuid
programs, or programs that make the exec system call themselves; preload
warns when COMMAND is static. "rampart guard" checks every exec in the
kernel instead.

Settings come from the flags, else the same RAMPART_* variables the library
reads. Children keep them: a program that starts a child with a changed or
empty environment gets LD_PRELOAD and RAMPART_* back.`,
		Example: `  # An agent without hooks
  rampart preload -- codex

  # See what it would block, without blocking
  rampart preload --mode monitor -- python3 agent.py

  # Use a server you started yourself
  rampart preload --url unix:$HOME/.rampart/rampart.sock -- make test`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("for example: rampart preload -- codex", "preload needs the COMMAND to run")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Argv = args
			if err := opts.complete(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return preloadRun(opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	f := cmd.Flags()
	f.IntVar(&opts.Port, "port", 0, "ask the server on 127.0.0.1:`PORT`")
	f.StringVar(&opts.URL, "url", "", "ask the server at `URL` (http://IP:PORT or unix:/path)")
	f.StringVar(&opts.Token, "token", "", "the server's `TOKEN` (default: $RAMPART_TOKEN, else ~/.rampart/token)")
	f.StringVar(&opts.Mode, "mode", "", "enforce, monitor (decide and audit, never block) or disabled (default: $RAMPART_MODE, else enforce)")
	f.BoolVar(&opts.FailOpen, "fail-open", true, "allow what cannot be checked when the server does not answer (default: $RAMPART_FAIL_OPEN, else true)")
	f.StringVar(&opts.Agent, "agent", "", "the agent `NAME` policies and the audit trail see (default: $RAMPART_AGENT, else preload)")
	f.StringVar(&opts.Session, "session", "", "the session `ID` of the audit records (default: $RAMPART_SESSION, else preload-PID)")
	f.BoolVar(&opts.Debug, "debug", false, "the library prints what it checks on stderr")
	f.StringVar(&opts.Library, "library", "", "use this librampart.so `FILE` instead of the built-in one")
	f.MarkHidden("library")
	return cmd
}

// complete fills what the flags left unset from the environment and checks
// the result.
func (o *PreloadOptions) complete(cmd *cobra.Command) error {
	env := o.Proc.Getenv
	if o.Port != 0 && o.URL != "" {
		return usageErrorf("", "--port and --url: give one of them")
	}
	if o.Port < 0 || o.Port > 65535 {
		return usageErrorf("", "--port %d: want 1 to 65535", o.Port)
	}
	if o.Mode == "" {
		o.Mode = env("RAMPART_MODE")
	}
	switch o.Mode {
	case "":
		o.Mode = "enforce"
	case "enforce", "monitor", "disabled":
	default:
		return usageErrorf("", "--mode: want enforce, monitor or disabled, got %q", o.Mode)
	}
	if !cmd.Flags().Changed("fail-open") {
		if v := env("RAMPART_FAIL_OPEN"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return usageErrorf("", "$RAMPART_FAIL_OPEN: want 1 or 0, got %q", v)
			}
			o.FailOpen = b
		}
	}
	if o.Agent == "" {
		o.Agent = env("RAMPART_AGENT")
	}
	if o.Agent == "" {
		o.Agent = "preload"
	}
	if o.Session == "" {
		o.Session = env("RAMPART_SESSION")
	}
	if o.Session == "" {
		o.Session = "preload-" + strconv.Itoa(os.Getpid())
	}
	if !o.Debug {
		o.Debug = env("RAMPART_DEBUG") != "" && env("RAMPART_DEBUG") != "0"
	}
	return nil
}

// findLibrary returns the librampart.so to preload: --library, else the
// embedded one installed into ~/.rampart/lib.
func findLibrary(opts *PreloadOptions) (string, error) {
	if opts.Library != "" {
		abs, err := filepath.Abs(opts.Library)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			return "", usageErrorf("", "--library: %v", err)
		}
		return abs, checkPreloadable(abs)
	}
	home := opts.Proc.RampartHome()
	if home == "" {
		return "", withCode(ExitConfig, errors.New("no Rampart home to install the preload library in: set HOME or RAMPART_HOME"))
	}
	lib, err := preload.Install(filepath.Join(home, "lib"))
	if errors.Is(err, preload.ErrNotBuilt) {
		return "", withCode(ExitConfig, err, `build Rampart with "make" (it builds preload/lib/librampart.so before the Go binary), then run "make install"`)
	}
	if err != nil {
		return "", withCode(ExitCantCreate, err)
	}
	return lib, checkPreloadable(lib)
}

// checkPreloadable fails when the dynamic loader would not load lib from
// LD_PRELOAD: it splits the variable at spaces and colons, so such a path
// becomes pieces that name no file, and COMMAND would run unchecked.
func checkPreloadable(lib string) error {
	if !strings.ContainsAny(lib, " :") {
		return nil
	}
	return withCode(ExitConfig, fmt.Errorf("the preload library %q has a space or a colon in its path, which LD_PRELOAD cannot hold: it would not be loaded", lib),
		"set RAMPART_HOME to a folder whose path has neither (the library is installed in $RAMPART_HOME/lib)")
}

// warnIfStatic says so when LD_PRELOAD cannot reach the program at path.
func warnIfStatic(opts *PreloadOptions, path string) {
	if l, err := preload.ExecutableLinkage(path); err == nil && l == preload.Static {
		fmt.Fprintf(opts.Proc.Err, "rampart: warning: %s is statically linked: LD_PRELOAD cannot see the programs it starts, so they are not checked\n", path)
		fmt.Fprintf(opts.Proc.Err, "rampart: hint: \"rampart guard -- %s\" checks every exec in the kernel, whatever the program is linked against\n", opts.Argv[0])
	}
}

func preloadRun(opts *PreloadOptions) error {
	proc := opts.Proc
	lib, err := findLibrary(opts)
	if err != nil {
		return err
	}
	path, err := exec.LookPath(opts.Argv[0])
	if err != nil {
		return withCode(127, fmt.Errorf("%s: %w", opts.Argv[0], err))
	}
	warnIfStatic(opts, path)

	srv := &preloadServer{}
	if opts.Mode != "disabled" {
		if srv, err = connectPreloadServer(opts); err != nil {
			return err
		}
		defer srv.Close()
	}
	// The programs get the check-only token: it asks for decisions but
	// cannot answer approvals, so a program cannot approve its own ask.
	childToken := srv.Token
	if childToken != "" && !strings.HasPrefix(childToken, "check-") {
		childToken = server.CheckToken(childToken)
	}
	set := map[string]string{
		"RAMPART_URL": srv.URL, "RAMPART_TOKEN": childToken, "RAMPART_MODE": opts.Mode,
		"RAMPART_FAIL_OPEN": "0", "RAMPART_AGENT": opts.Agent, "RAMPART_SESSION": opts.Session,
	}
	if opts.FailOpen {
		set["RAMPART_FAIL_OPEN"] = "1"
	}
	if opts.Debug {
		set["RAMPART_DEBUG"] = "1"
	}

	cmd := exec.Command(path, opts.Argv[1:]...)
	cmd.Args[0] = opts.Argv[0]
	cmd.Env = preloadChildEnv(opts.Environ(), lib, set)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = proc.In, proc.Out, proc.Err
	start := time.Now()
	code, err := runForwardingSignals(cmd, proc)
	if err != nil {
		return withCode(126, fmt.Errorf("start %s: %w", opts.Argv[0], err))
	}
	if opts.Mode != "disabled" {
		srv.Close() // an embedded server writes its last audit records
		if srv.Embedded == nil {
			// A running server writes the records of calls run on its
			// allow table within NotesWithin.
			time.Sleep(server.NotesWithin + 10*time.Millisecond)
		}
		checked, blocked := countSession(proc.RampartHome(), opts.Session, start)
		if blocked > 0 || opts.Debug {
			fmt.Fprintf(proc.Err, "rampart preload: %d checked, %d blocked (see: rampart audit search --session %s)\n", checked, blocked, opts.Session)
		}
	}
	return exitCode(code)
}

// runForwardingSignals runs cmd to the end, passing on the signals this
// process gets, and returns its exit code (128+N when signal N ended it).
// Ctrl-C and Ctrl-\ from a terminal reach the command's process group by
// themselves, so SIGINT and SIGQUIT are passed on only when stdin is not
// a terminal.
func runForwardingSignals(cmd *exec.Cmd, proc *Process) (int, error) {
	fromTerminal := false
	if f, ok := proc.In.(*os.File); ok {
		fromTerminal = term.IsTerminal(int(f.Fd()))
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGCONT)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case sig := <-signals:
				if fromTerminal && (sig == syscall.SIGINT || sig == syscall.SIGQUIT || sig == syscall.SIGWINCH) {
					continue
				}
				cmd.Process.Signal(sig)
			}
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}
