package shellwrap

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/syntax"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
)

// ExitBlocked is rampart-sh's exit code for a command it did not run, the
// shell's own code for "found but cannot execute".
const ExitBlocked = 126

// adapterScript names script files in the audit trail.
const adapterScript = "shell/script"

// maxScript bounds a script read from stdin or a file for analysis.
const maxScript = 16 << 20

// Env is what rampart-sh takes from its process; tests build their own.
type Env struct {
	Args    []string // argv, argv[0] included
	Getenv  func(string) string
	Environ []string
	Stdin   *os.File
	Stderr  io.Writer
	Getwd   func() (string, error)
	// Self is the rampart-sh executable.
	Self string
	// Exec replaces the process (syscall.Exec); it returns only on error.
	Exec func(path string, argv, env []string) error
}

// OSEnv is the Env of the running process.
func OSEnv() *Env {
	self, _ := os.Executable()
	return &Env{
		Args: os.Args, Getenv: os.Getenv, Environ: os.Environ(), Stdin: os.Stdin, Stderr: os.Stderr,
		Getwd: os.Getwd, Self: self, Exec: syscall.Exec,
	}
}

// Run runs rampart-sh. On allow it execs the real shell and does not
// return; otherwise it returns the exit code.
func Run(e *Env) int {
	args := e.Args[1:]
	if len(args) == 2 {
		if adapter, ok := checkFlags[args[0]]; ok {
			// A DEBUG trap asks about one command line: exit 0 runs it.
			code, _ := e.judge(args[1], adapter)
			return code
		}
	}
	real, err := RealShell(e.Args[0], e.Getenv("RAMPART_REAL_SHELL"), e.Getenv("PATH"), e.Self)
	if err != nil {
		fmt.Fprintf(e.Stderr, "rampart-sh: %v\n", err)
		return ExitBlocked
	}
	mode := strings.ToLower(e.Getenv("RAMPART_MODE"))
	if mode == "disabled" || mode == "off" {
		return e.execShell(real, args)
	}
	inv, err := ParseArgs(args, isFile, isTerminal(e.Stdin))
	if err != nil || inv.InfoOnly {
		// Nothing will run: the real shell reports the mistake itself,
		// or prints its --help or --version.
		return e.execShell(real, args)
	}
	switch inv.Mode {
	case ModeCommand:
		if e.callsSelf(inv.Command) {
			// A shim shell running "rampart-sh 'LINE'" (Claude Code's
			// prefix): the inner rampart-sh judges LINE.
			return e.execShell(real, args)
		}
		if code, ok := e.judge(inv.Command, "shell"); !ok {
			return code
		}
		return e.execShell(real, args)
	case ModePrefix:
		judged := inv.Command
		if cmd, ok := UnwrapClaudeCode(inv.Command); ok {
			judged = cmd
		}
		if code, ok := e.judge(judged, "shell/claude-code-prefix"); !ok {
			return code
		}
		return e.execArgv(real, []string{filepath.Base(real), "-c", inv.Command})
	case ModeScript:
		path := scriptPath(inv.Script, e.Getenv("PATH"))
		data, err := readLimited(path)
		switch {
		case errors.Is(err, errTooLarge):
			fmt.Fprintf(e.Stderr, "rampart: blocked: %s: %v\n", inv.Script, err)
			return ExitBlocked
		case err != nil:
			// The real shell reports a missing or unreadable script.
			return e.execShell(real, args)
		}
		if code, ok := e.judge(string(data), adapterScript); !ok {
			return code
		}
		// bash <(...) and bash /dev/stdin: reading the pipe emptied it.
		if err := refillPipe(path, data); err != nil {
			fmt.Fprintf(e.Stderr, "rampart-sh: %v\n", err)
			return ExitBlocked
		}
		return e.execShell(real, args)
	case ModeStdin:
		if e.streamable(real, inv) && stdinStays(e.Stdin, stdinSettle) {
			return e.stream(real, args)
		}
		data, err := io.ReadAll(io.LimitReader(e.Stdin, maxScript+1))
		if err != nil || len(data) > maxScript {
			fmt.Fprintf(e.Stderr, "rampart: blocked: a script on stdin that could not be read whole for checking\n")
			return ExitBlocked
		}
		if code, ok := e.judge(string(data), "shell/stdin"); !ok {
			return code
		}
		// The real shell reads the same script from a memory file in
		// place of the stdin that was consumed.
		if err := replaceFD(0, data); err != nil {
			fmt.Fprintf(e.Stderr, "rampart-sh: %v\n", err)
			return ExitBlocked
		}
		return e.execShell(real, args)
	default:
		return e.interactive(real, inv)
	}
}

func (e *Env) argv0For(real string) string {
	name := strings.TrimPrefix(filepath.Base(e.Args[0]), "-")
	if knownShells[name] {
		return e.Args[0] // keeps a login shell's "-bash"
	}
	return filepath.Base(real)
}

// execShell runs the real shell with the original arguments.
func (e *Env) execShell(real string, args []string) int {
	return e.execArgv(real, append([]string{e.argv0For(real)}, args...))
}

func (e *Env) execArgv(real string, argv []string) int { return e.execEnv(real, argv, e.Environ) }

// execEnv runs the real shell with argv and env; it returns only when
// that failed.
func (e *Env) execEnv(real string, argv, env []string) int {
	err := e.Exec(real, argv, env)
	fmt.Fprintf(e.Stderr, "rampart-sh: cannot run the real shell %s: %v\n", real, err)
	return 127
}

// callsSelf reports whether cmd is only "rampart-sh 'ARG'", naming this
// executable by its path (or by its name alone).
func (e *Env) callsSelf(cmd string) bool {
	if e.Self == "" {
		return false
	}
	file, err := syntax.NewParser().Parse(strings.NewReader(cmd), "")
	if err != nil || len(file.Stmts) != 1 || len(file.Stmts[0].Redirs) > 0 {
		return false
	}
	call, ok := file.Stmts[0].Cmd.(*syntax.CallExpr)
	if !ok || len(call.Assigns) > 0 || len(call.Args) != 2 {
		return false
	}
	name, ok := quotedLiteral(call.Args[0])
	if !ok || !(name == e.Self || name == filepath.Base(e.Self) && !strings.Contains(name, "/")) {
		return false
	}
	_, ok = quotedLiteral(call.Args[1])
	return ok
}

// judge decides cmd; ok is true when it may run. Otherwise code is the
// exit code and the reason is on stderr.
func (e *Env) judge(cmd, adapter string) (code int, ok bool) {
	cwd, _ := e.Getwd()
	call := engine.ToolCall{Tool: engine.ToolExec, Command: cmd, Cwd: cwd, Agent: agentName(e.Getenv), Session: sessionID(e.Getenv), Home: e.Getenv("HOME")}
	enforce := strings.ToLower(e.Getenv("RAMPART_MODE")) != "monitor"
	prog, err := loadProgram(e.Getenv, cwd)
	if err != nil {
		e.record(&audit.Record{Adapter: adapter, Agent: call.Agent, Session: call.Session, Tool: call.Tool, Command: cmd, Cwd: cwd, Decision: "error", Error: err.Error()})
		if failOpen(e.Getenv) || !enforce {
			fmt.Fprintf(e.Stderr, "rampart-sh: warning: the policies could not be loaded, the command runs unchecked (fail-open): %v\n", err)
			return 0, true
		}
		fmt.Fprintf(e.Stderr, "rampart: blocked: %s\nrampart: the policies could not be loaded (fail-closed): %v\n", oneLine(cmd), err)
		return ExitBlocked, false
	}
	start := time.Now()
	d := prog.Eval(&call)
	if adapter == adapterScript && engine.IsUnresolvedAsk(d) {
		// A script run as a program (often through its #! line, by a
		// tool such as a pyenv shim) is full of command names in
		// variables. Those are flagged, not stopped; what its literal
		// commands deny is still denied.
		d.Decision = engine.ActionLog
	}
	rec := audit.FromCall(adapter, call, d, time.Since(start))
	recorded := false
	if d.Decision == engine.ActionAsk && enforce {
		d, recorded = e.approve(call, d, adapter)
		rec = audit.FromCall(adapter, call, d, time.Since(start))
	}
	if !recorded {
		e.record(rec)
	}
	if d.Allowed() || !enforce {
		return 0, true
	}
	fmt.Fprintf(e.Stderr, "rampart: blocked: %s\n", oneLine(cmd))
	reason := strings.TrimSpace(d.Message)
	if d.Rule != "" {
		reason = fmt.Sprintf("%s/%s: %s", d.Policy, d.Rule, reason)
	}
	fmt.Fprintf(e.Stderr, "rampart: %s\n", reason)
	return ExitBlocked, false
}

func (e *Env) record(r *audit.Record) {
	home := rampartHome(e.Getenv)
	if home == "" {
		return
	}
	w, err := audit.Open(audit.DefaultDir(home), audit.Options{})
	if err == nil {
		err = w.Append(r)
		w.Close()
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "rampart-sh: warning: %v; this decision is not recorded\n", err)
	}
}

// agentName is $RAMPART_AGENT, else claude-code inside Claude Code, else
// "shell".
func agentName(getenv func(string) string) string {
	if a := getenv("RAMPART_AGENT"); a != "" {
		return a
	}
	if getenv("CLAUDECODE") == "1" || getenv("CLAUDE_CODE_SESSION_ID") != "" {
		return "claude-code"
	}
	return "shell"
}

func sessionID(getenv func(string) string) string {
	for _, k := range []string{"RAMPART_SESSION", "CLAUDE_CODE_SESSION_ID"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

func failOpen(getenv func(string) string) bool {
	switch strings.ToLower(getenv("RAMPART_FAIL_OPEN")) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// scriptPath is the file bash runs for "bash NAME": NAME itself, or, when
// there is no such file and NAME has no slash, the first readable file
// called NAME in a directory of PATH.
func scriptPath(name, path string) string {
	if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) || strings.Contains(name, "/") {
		return name
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		candidate := filepath.Join(dir, name)
		if isFile(candidate) && unix.Access(candidate, unix.R_OK) == nil {
			return candidate
		}
	}
	return name
}

// errTooLarge: a script over maxScript cannot be judged whole, so it does
// not run.
var errTooLarge = fmt.Errorf("a script larger than %d MiB cannot be checked", maxScript>>20)

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxScript+1))
	if err == nil && len(data) > maxScript {
		err = errTooLarge
	}
	return data, err
}

// refillPipe gives back what reading the script at path took from a pipe
// this process holds: for /dev/stdin, /dev/fd/N or /proc/self/fd/N naming
// a pipe or socket, descriptor N becomes a memory file holding data, which
// bash then opens as the script. Other paths are left alone.
func refillPipe(path string, data []byte) error {
	n, err := -1, error(nil)
	switch {
	case path == "/dev/stdin":
		n = 0
	case strings.HasPrefix(path, "/dev/fd/"):
		n, err = strconv.Atoi(strings.TrimPrefix(path, "/dev/fd/"))
	case strings.HasPrefix(path, "/proc/self/fd/"):
		n, err = strconv.Atoi(strings.TrimPrefix(path, "/proc/self/fd/"))
	}
	var st unix.Stat_t
	if err != nil || n < 0 || unix.Fstat(n, &st) != nil {
		return nil
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFIFO && t != unix.S_IFSOCK {
		return nil
	}
	return replaceFD(n, data)
}

// replaceFD puts data on descriptor n as a memory file, rewound.
func replaceFD(n int, data []byte) error {
	fd, err := unix.MemfdCreate("rampart-sh-script", 0)
	if err != nil {
		return fmt.Errorf("cannot hand the script to the shell: %w", err)
	}
	f := os.NewFile(uintptr(fd), "stdin-script")
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("cannot hand the script to the shell: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("cannot hand the script to the shell: %w", err)
	}
	return unix.Dup2(fd, n)
}
