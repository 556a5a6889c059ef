package cli

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/hooks"
	"github.com/rampart-dev/rampart/internal/suggest"
)

// maxHookInput bounds what a hook reads from stdin (a Write of a big file
// carries the whole content).
const maxHookInput = 64 << 20

// HookOptions are the flags and arguments of "rampart hook".
type HookOptions struct {
	Proc     *Process
	Agent    string // the argument or --format
	Mode     string // enforce, monitor or disabled
	FailOpen bool   // answer nothing when no decision can be made
	// FailOpenSet is true when --fail-open was given (else the
	// environment decides).
	FailOpenSet   bool
	ExplicitAllow bool
	Timeout       time.Duration
	Profile       string
}

// NewCmdHook builds "rampart hook".
func NewCmdHook(proc *Process, runF func(*HookOptions) error) *cobra.Command {
	opts := &HookOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "hook AGENT",
		Short: "Answer an agent's hook: decide the tool call it describes on stdin",
		Long: `Hook is what an agent's hook configuration runs before (and after) every tool
call: it reads the agent's hook JSON from stdin, decides the tool call with
the policies (the same ones "rampart check" uses, with the project policy
searched from the call's working directory), writes the decision to the audit
trail (~/.rampart/audit) and answers in exactly the format the agent
documents. "rampart setup AGENT" installs it; you rarely run it by hand.

Agents: ` + strings.Join(hooks.Names(), ", ") + `.

An allow is answered with nothing, so the agent's own permission rules and
prompts still apply; --explicit-allow answers with the agent's allow instead,
which skips its prompts. A deny blocks the tool and tells the model why and
what to do instead; an ask makes the agent ask you.

When no decision can be made (empty or malformed input, a broken policy file,
an internal error, no answer within --timeout) the hook fails closed: it
blocks the tool and names the problem. With --fail-open (or
RAMPART_FAIL_OPEN=1) it lets the tool run and warns on stderr instead. In
--mode monitor (or RAMPART_MODE=monitor) decisions are only recorded, never
enforced; RAMPART_MODE=disabled skips everything. Letting a tool run is the
agent's answer to an allow: nothing at all for most agents, an explicit
allow for Cursor, whose hooks Rampart installs to block on silence.

The exit code is 0 for every answer (agents run the tool on most other
codes), except for agents that block by exit code: for Windsurf a block is
exit 2 with the reason on stderr. An unknown AGENT exits 2, which blocks in
the agents that use exit codes.`,
		Example: `  # What Claude Code would get for a Bash call
  echo '{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"rm -rf /"},"cwd":"/tmp","session_id":"s1"}' \
    | rampart hook claude-code

  # Install it for Claude Code instead of writing settings by hand
  rampart setup claude-code`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if opts.Agent != "" && !strings.EqualFold(opts.Agent, args[0]) {
					return hookUsageError(proc, fmt.Errorf("--format %s and argument %s name different agents", opts.Agent, args[0]))
				}
				opts.Agent = args[0]
			}
			opts.FailOpenSet = cmd.Flags().Changed("fail-open")
			if runF != nil {
				return runF(opts)
			}
			return hookRun(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Agent, "format", "", "the agent's hook `PROTOCOL` (same as the AGENT argument)")
	f.StringVar(&opts.Mode, "mode", "", "enforce, monitor (record only) or disabled (default: $RAMPART_MODE, else enforce)")
	f.BoolVar(&opts.FailOpen, "fail-open", false, "answer nothing (let the tool run) when no decision can be made (default: $RAMPART_FAIL_OPEN, else fail closed)")
	f.BoolVar(&opts.ExplicitAllow, "explicit-allow", false, "answer allows with the agent's explicit allow, skipping its own permission prompts")
	f.DurationVar(&opts.Timeout, "timeout", 10*time.Second, "answer by the fail mode if no decision is made within `DURATION`")
	f.StringVar(&opts.Profile, "profile", "", "embedded profile `NAME` (default: $RAMPART_PROFILE, else config.yaml, else \"standard\")")
	// A flag mistake must still answer the agent: exit 2 blocks in most
	// agents, while cobra's usage error (64) would let the tool run.
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return hookUsageError(proc, err) })
	return cmd
}

// hookUsageError reports a mistake in the hook command line itself. There
// is no protocol to answer in yet, so it exits 2, which Claude Code, Codex
// and Windsurf treat as "block", with the reason on stderr.
func hookUsageError(proc *Process, err error) error {
	fmt.Fprintf(proc.Err, "rampart: error: hook: %v (the tool call is blocked)\n", err)
	return exitCode(2)
}

// hookSettings are the resolved mode settings of one hook run.
type hookSettings struct {
	enforce  bool // false in monitor mode
	failOpen bool
}

func resolveHookSettings(opts *HookOptions) (hookSettings, bool, error) {
	mode := opts.Mode
	if mode == "" {
		mode = strings.ToLower(strings.TrimSpace(opts.Proc.Getenv("RAMPART_MODE")))
	}
	s := hookSettings{enforce: true}
	switch mode {
	case "", "enforce":
	case "monitor":
		s.enforce, s.failOpen = false, true
	case "disabled", "off":
		return s, false, nil
	default:
		return s, true, fmt.Errorf("unknown mode %q (want enforce, monitor or disabled)", mode)
	}
	switch {
	case opts.FailOpenSet:
		s.failOpen = s.failOpen || opts.FailOpen
	default:
		switch strings.ToLower(opts.Proc.Getenv("RAMPART_FAIL_OPEN")) {
		case "1", "true", "yes", "on":
			s.failOpen = true
		}
	}
	return s, true, nil
}

func hookRun(opts *HookOptions) error {
	proc := opts.Proc
	proto, ok := hooks.Lookup(opts.Agent)
	if !ok {
		if opts.Agent == "" {
			return hookUsageError(proc, errors.New("no agent given (rampart hook AGENT)"))
		}
		return hookUsageError(proc, fmt.Errorf("unknown agent %q%s; supported: %s",
			opts.Agent, suggest.DidYouMean(strings.ToLower(opts.Agent), hooks.Names()), strings.Join(hooks.Names(), ", ")))
	}
	settings, active, err := resolveHookSettings(opts)
	if err != nil {
		// A misconfigured mode fails closed: enforcing was surely meant.
		settings = hookSettings{enforce: true}
		fmt.Fprintf(proc.Err, "rampart: warning: %v; enforcing\n", err)
	}
	reply := &hookReply{proc: proc, proto: proto, settings: settings}
	if !active {
		// Disabled: let the tool run, in the agent's own words (an
		// agent whose hook fails closed reads silence as a failure).
		reply.pass(nil)
		return exitCode(reply.code)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				reply.fail(nil, fmt.Sprintf("internal error: %v", r), string(debug.Stack()))
			}
		}()
		hookDecide(opts, proto, reply)
	}()
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		reply.fail(nil, fmt.Sprintf("no decision within %s", timeout), "")
	}
	// Once has made the answer's writes, and its code, visible here.
	return exitCode(reply.code)
}

// hookDecide reads the input, decides, records and answers.
func hookDecide(opts *HookOptions, proto hooks.Protocol, reply *hookReply) {
	proc := opts.Proc
	input, err := io.ReadAll(io.LimitReader(proc.In, maxHookInput+1))
	if err != nil {
		reply.fail(nil, fmt.Sprintf("reading the hook input failed: %v.", err), "")
		return
	}
	if len(input) > maxHookInput {
		reply.fail(nil, fmt.Sprintf("the hook input is larger than %d MiB.", maxHookInput>>20), "")
		return
	}
	wd, _ := proc.Getwd()
	ev, err := proto.Decode(input, hooks.Env{Home: proc.Home(), Cwd: wd})
	if err != nil {
		reply.fail(nil, err.Error()+".", "")
		return
	}
	trail := openHookAudit(proc)
	defer trail.close()

	if ev.Phase != hooks.PhasePre {
		trail.append(outcomeRecord(proto, ev))
		reply.send(proto.Answer(ev, engine.Decision{}, hooks.Options{}))
		return
	}

	sources := SourceOptions{Profile: opts.Profile, Cwd: ev.Call.Cwd}
	if !isDir(sources.Cwd) {
		sources.Cwd = "" // a deleted or foreign cwd: search from ours
	}
	l, err := loadHookPolicies(proc, sources)
	if err != nil {
		rec := audit.FromCall(hookAdapter(proto), ev.Call, engine.Decision{}, 0)
		rec.Decision, rec.ToolUseID, rec.Error = "error", ev.ToolUseID, err.Error()
		trail.append(rec)
		reply.fail(&ev, "the policies could not be loaded: "+firstLine(err.Error()), "")
		return
	}
	d := decideTargets(l.Program, proto, &ev, trail)
	if !reply.settings.enforce {
		reply.pass(&ev)
		return
	}
	reply.send(proto.Answer(ev, d, hooks.Options{ExplicitAllow: opts.ExplicitAllow}))
}

func hookAdapter(p hooks.Protocol) string { return "hook/" + p.Agent() }

// outcomeRecord is the audit record of a post-tool event.
func outcomeRecord(proto hooks.Protocol, ev hooks.Event) *audit.Record {
	rec := audit.FromCall(hookAdapter(proto), ev.Call, engine.Decision{}, 0)
	rec.Event, rec.Decision = audit.EventOutcome, ""
	rec.ToolUseID, rec.ExitCode, rec.DurationMS, rec.Error = ev.ToolUseID, ev.ExitCode, ev.DurationMS, ev.Error
	return rec
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (and more)"
	}
	return s
}

// hookReply makes sure the agent gets exactly one answer, whichever of
// the decision, a failure or the timeout comes first. code is the
// answer's exit code, for the agents that read one (a block is exit 2 in
// Windsurf); it is written inside once, so it may be read after a call
// of send, pass or fail has returned.
type hookReply struct {
	proc     *Process
	proto    hooks.Protocol
	settings hookSettings
	once     sync.Once
	code     int
}

func (r *hookReply) send(a hooks.Answer) {
	r.once.Do(func() { r.write(a) })
}

// write writes a and keeps its exit code; only ever called inside once.
func (r *hookReply) write(a hooks.Answer) {
	if len(a.Stdout) > 0 {
		r.proc.Out.Write(a.Stdout)
	}
	if a.Stderr != "" {
		fmt.Fprint(r.proc.Err, a.Stderr)
	}
	r.code = a.ExitCode
}

// pass lets the tool run without enforcing anything (monitor mode,
// disabled, fail-open): the protocol's answer to an allow, which is
// silence for most agents and an explicit allow for those whose hooks
// fail closed on silence (Cursor). ev is nil when there is no event.
func (r *hookReply) pass(ev *hooks.Event) {
	r.send(r.passAnswer(ev))
}

func (r *hookReply) passAnswer(ev *hooks.Event) hooks.Answer {
	if ev == nil {
		ev = &hooks.Event{Phase: hooks.PhasePre}
	}
	return r.proto.Answer(*ev, engine.Decision{Decision: engine.ActionAllow}, hooks.Options{})
}

// fail answers by the fail mode when no decision could be made.
func (r *hookReply) fail(ev *hooks.Event, problem, detail string) {
	r.once.Do(func() {
		if r.settings.failOpen {
			r.write(r.passAnswer(ev))
			fmt.Fprintf(r.proc.Err, "rampart: warning: %s The tool call was not checked (fail-open).\n", problem)
		} else {
			r.write(r.proto.Refuse(ev, problem))
			fmt.Fprintf(r.proc.Err, "rampart: error: %s The tool call was blocked (fail-closed).\n", problem)
		}
		if detail != "" {
			fmt.Fprintln(r.proc.Err, detail)
		}
	})
}

// hookAudit appends to the audit trail, warning (never failing) when it
// cannot: the decision stands either way.
type hookAudit struct {
	proc   *Process
	writer *audit.Writer
}

func openHookAudit(proc *Process) *hookAudit {
	t := &hookAudit{proc: proc}
	home := proc.RampartHome()
	if home == "" {
		fmt.Fprintln(proc.Err, "rampart: warning: neither $RAMPART_HOME nor $HOME is set; this decision is not recorded")
		return t
	}
	w, err := audit.Open(audit.DefaultDir(home), audit.Options{})
	if err != nil {
		fmt.Fprintf(proc.Err, "rampart: warning: audit trail: %v; this decision is not recorded\n", err)
		return t
	}
	t.writer = w
	return t
}

func (t *hookAudit) append(r *audit.Record) {
	if t.writer == nil {
		return
	}
	if err := t.writer.Append(r); err != nil {
		fmt.Fprintf(t.proc.Err, "rampart: warning: %v; this decision is not recorded\n", err)
	}
}

// appendBatch appends records with one write.
func (t *hookAudit) appendBatch(rs []*audit.Record) {
	if t.writer == nil {
		return
	}
	if err := t.writer.Append(rs...); err != nil {
		fmt.Fprintf(t.proc.Err, "rampart: warning: %v; %d decisions are not recorded\n", err, len(rs))
	}
}

func (t *hookAudit) close() {
	if t.writer != nil {
		t.writer.Close()
	}
}
