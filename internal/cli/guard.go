package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/guard"
	"github.com/rampart-dev/rampart/internal/hookrun"
	"github.com/rampart-dev/rampart/server"
)

// GuardOptions are the flags and arguments of "rampart guard".
type GuardOptions struct {
	Proc     *Process
	Mode     string
	FailOpen bool
	Agent    string
	Session  string
	Profile  string
	Argv     []string
}

// NewCmdGuard builds "rampart guard".
func NewCmdGuard(proc *Process, runF func(*GuardOptions) error) *cobra.Command {
	opts := &GuardOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "guard [flags] -- COMMAND [ARGS...]",
		Short: "Run a command whose every exec, in its whole process tree, passes the policy (seccomp)",
		Long: `Guard runs COMMAND under a seccomp filter that turns every execve and
execveat of COMMAND and of all its descendants into a question to this
rampart process, which reads the program, its arguments and working
directory, decides with the policies, and lets the exec continue or fails
it with EPERM (the reason goes to stderr and the audit trail).

Unlike "rampart preload" (LD_PRELOAD), nothing in the tree can escape it:
statically linked programs (Go binaries such as gh, kubectl, terraform),
programs that clear their environment (env -i) and setuid programs (which
run without their privileges, as no-new-privs requires) are all covered,
and the filter cannot be removed from inside.

It needs Linux 5.5 or later and a kernel or container that allows seccomp
filters; no privileges. If the guard process dies, every later exec in the
tree fails (ENOSYS): the tree is never left unguarded or hanging.

Limits: it guards exec only (files and network are for the hooks and other
adapters). A multi-threaded program could change an exec's arguments in
memory between the check and the kernel's use of them; the check is made
against what the kernel is about to run, and re-validated, but that race is
narrowed, not closed.`,
		Example: `  rampart guard -- codex
  rampart guard --mode monitor -- make -j8
  rampart guard --agent my-agent -- python3 agent.py`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkEnforceOrMonitor(opts.Mode); err != nil {
				return err
			}
			opts.Argv = args
			if runF != nil {
				return runF(opts)
			}
			return guardRun(opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	f := cmd.Flags()
	f.StringVar(&opts.Mode, "mode", "", "enforce (default) or monitor: record every exec, block none")
	f.BoolVar(&opts.FailOpen, "fail-open", false, "let an exec run when its arguments cannot be read or the policies fail (default: refuse it)")
	f.StringVar(&opts.Agent, "agent", "guard", "agent `NAME` for policies and the audit trail")
	f.StringVar(&opts.Session, "session", "", "session `ID` for policies and the audit trail (default guard-PID)")
	f.StringVar(&opts.Profile, "profile", "", "embedded profile `NAME` (default: $RAMPART_PROFILE, else config.yaml, else \"standard\")")
	return cmd
}

// NewCmdGuardChild is the hidden half of guard that runs inside the new
// process: it installs the filter and execs the command.
func NewCmdGuardChild(proc *Process) *cobra.Command {
	return &cobra.Command{
		Use:                "__guard-child -- COMMAND [ARGS...]",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && args[0] == "--" {
				args = args[1:]
			}
			sock := os.NewFile(guard.ChildSocketFD, "guard-socket")
			err := guard.RunChild(sock, args, os.Environ())
			return withCode(126, err)
		},
	}
}

func guardRun(opts *GuardOptions) error {
	proc := opts.Proc
	if opts.Session == "" {
		opts.Session = "guard-" + strconv.Itoa(os.Getpid())
	}
	monitor := opts.Mode == "monitor"
	wd, _ := proc.Getwd()
	l, err := loadHookPolicies(proc, SourceOptions{Profile: opts.Profile, Cwd: wd})
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return withCode(ExitSoftware, fmt.Errorf("cannot find this rampart binary to start the guarded child: %w", err))
	}
	trail := hookrun.OpenAudit(proc.Getenv, proc.Err)
	defer trail.Close()
	// The receiving loop queues the records of its decisions and writes
	// them when it is idle, after answering: an exec waits for its
	// decision, not for the disk, and no other thread is woken for it.
	// An approval, decided on a goroutine of its own, writes its record
	// at once. Whatever is queued is written before exit.
	records := &auditQueue{trail: trail}
	defer records.flush()
	record := records.add

	decide := func(c *guard.ExecCall) guard.Verdict {
		start := time.Now()
		call, d := guardDecide(l.Program, c, opts)
		if d.Decision == engine.ActionAsk && !monitor {
			// The exec waits while a human answers through the server,
			// which records the decision and the answer; other execs
			// are decided meanwhile.
			return guard.Verdict{Wait: func() guard.Verdict { return guardAsk(proc, opts, c, call, d, records.write, start) }}
		}
		rec := audit.FromCall("guard", call, d, time.Since(start))
		record(rec)
		if d.Allowed() || monitor {
			return guard.Verdict{Allow: true}
		}
		reason := strings.TrimSpace(d.Message)
		if d.Rule != "" {
			reason = d.Policy + "/" + d.Rule + ": " + reason
		}
		fmt.Fprintf(proc.Err, "rampart: blocked: %s (%s)\n", c.Describe(), reason)
		return guard.Verdict{}
	}
	unreadable := func(pid int, err error) guard.Verdict {
		record(&audit.Record{Adapter: "guard", Agent: opts.Agent, Session: opts.Session, Tool: engine.ToolExec, Decision: "error",
			Error: fmt.Sprintf("pid %d: the exec's arguments could not be read: %v", pid, err)})
		if opts.FailOpen || monitor {
			return guard.Verdict{Allow: true}
		}
		fmt.Fprintf(proc.Err, "rampart: blocked: an exec of pid %d whose arguments could not be read (%v)\n", pid, err)
		return guard.Verdict{}
	}
	code, err := guard.Run(guard.Config{
		ChildArgv:  append([]string{self, "__guard-child", "--"}, opts.Argv...),
		Env:        os.Environ(),
		Dir:        wd,
		Decide:     decide,
		Unreadable: unreadable,
		Idle:       records.flush,
	})
	if errors.Is(err, guard.ErrUnsupported) || errors.Is(err, guard.ErrRefused) {
		return withCode(ExitConfig, err, "use \"rampart preload -- COMMAND\" instead: it covers dynamically linked programs without seccomp")
	}
	if err != nil {
		return withCode(126, err)
	}
	return exitCode(code)
}

// guardDecide judges an exec: the program the kernel will run (argv with
// argv[0] replaced by its path), and also the argv as given when its
// argv[0] names another program (busybox-style multi-call binaries, exec
// -a): the stricter decision wins.
func guardDecide(p *engine.Program, c *guard.ExecCall, opts *GuardOptions) (engine.ToolCall, engine.Decision) {
	argv := append([]string{c.Path}, c.Argv[min(1, len(c.Argv)):]...)
	call := engine.ToolCall{Tool: engine.ToolExec, Argv: argv, Cwd: c.Cwd, Agent: opts.Agent, Session: opts.Session, Home: opts.Proc.Home()}
	d := p.Eval(&call)
	if len(c.Argv) > 0 && filepath.Base(c.Argv[0]) != filepath.Base(c.Path) {
		alt := call
		alt.Argv = c.Argv
		if d2 := p.Eval(&alt); d2.Decision > d.Decision {
			return alt, d2
		}
	}
	return call, d
}

// auditQueue holds audit records until flush appends them to the trail,
// all in one write. It is safe for concurrent use; batches are written in
// the order they were queued.
type auditQueue struct {
	trail *hookrun.Audit

	mu     sync.Mutex // guards queued
	queued []*audit.Record

	writing sync.Mutex // held by flush: one batch at a time, in order
	spare   []*audit.Record
}

// add queues r for the next flush.
func (q *auditQueue) add(r *audit.Record) {
	q.mu.Lock()
	q.queued = append(q.queued, r)
	q.mu.Unlock()
}

// write appends r, and whatever is queued before it, now.
func (q *auditQueue) write(r *audit.Record) {
	q.add(r)
	q.flush()
}

// flush appends the queued records.
func (q *auditQueue) flush() {
	q.writing.Lock()
	defer q.writing.Unlock()
	q.mu.Lock()
	batch := q.queued
	q.queued = q.spare[:0]
	q.mu.Unlock()
	if len(batch) > 0 {
		q.trail.AppendBatch(batch)
	}
	clear(batch) // the records are written: let them go
	q.spare = batch[:0]
}

// guardAsk turns an ask into a human's answer through the running server,
// or a deny when there is none.
func guardAsk(proc *Process, opts *GuardOptions, c *guard.ExecCall, call engine.ToolCall, d engine.Decision, record func(*audit.Record), start time.Time) guard.Verdict {
	fmt.Fprintf(proc.Err, "rampart: waiting for a human to approve: %s (rampart watch, or rampart approve ID)\n", c.Describe())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	answer, ok, err := server.AskHuman(ctx, proc.Getenv, proc.RampartHome(), "guard", &call)
	cancel()
	switch {
	case ok && answer.Allowed():
		return guard.Verdict{Allow: true}
	case ok:
		fmt.Fprintf(proc.Err, "rampart: blocked: %s (%s)\n", c.Describe(), strings.TrimSpace(answer.Message))
		return guard.Verdict{}
	case err != nil:
		d.Decision, d.Message = engine.ActionDeny, strings.TrimSpace(d.Message+" The approval could not be asked for: "+err.Error())
	default:
		d.Decision, d.Message = engine.ActionDeny, strings.TrimSpace(d.Message+` No Rampart server is running to ask a human (start one with "rampart serve --background").`)
	}
	record(audit.FromCall("guard", call, d, time.Since(start)))
	fmt.Fprintf(proc.Err, "rampart: blocked: %s (%s)\n", c.Describe(), strings.TrimSpace(d.Message))
	return guard.Verdict{}
}
