// Package hookrun answers one agent hook call: read the hook JSON,
// decode it with the agent's protocol (package hooks), decide every target
// with the policies, record each decision, and answer in the agent's own
// words, by the fail mode when no decision can be made.
//
// It depends on no command-line machinery, so both "rampart hook" and the
// small rampart-hook program, which agents start once per tool call, run
// the same code.
package hookrun

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/hooks"
	"github.com/rampart-dev/rampart/internal/policyload"
	"github.com/rampart-dev/rampart/internal/suggest"
)

// maxHookInput bounds what a hook reads from stdin (a Write of a big file
// carries the whole content).
const maxHookInput = 64 << 20

// Env is what a hook takes from its process.
type Env struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
	Getwd  func() (string, error)
}

// Options are a hook call's settings: its flags and arguments.
type Options struct {
	Env
	Agent    string // the argument or --format
	Mode     string // enforce, monitor or disabled
	FailOpen bool   // let the tool run when no decision can be made
	// FailOpenSet is true when --fail-open was given (else the
	// environment decides).
	FailOpenSet   bool
	ExplicitAllow bool
	Timeout       time.Duration
	Profile       string
}

// AddFlags defines the hook's flags on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Agent, "format", "", "the agent's hook `PROTOCOL` (same as the AGENT argument)")
	fs.StringVar(&o.Mode, "mode", "", "enforce, monitor (record only) or disabled (default: $RAMPART_MODE, else enforce)")
	fs.BoolVar(&o.FailOpen, "fail-open", false, "answer nothing (let the tool run) when no decision can be made (default: $RAMPART_FAIL_OPEN, else fail closed)")
	fs.BoolVar(&o.ExplicitAllow, "explicit-allow", false, "answer allows with the agent's explicit allow, skipping its own permission prompts")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "answer by the fail mode if no decision is made within `DURATION`")
	fs.StringVar(&o.Profile, "profile", "", "embedded profile `NAME` (default: $RAMPART_PROFILE, else config.yaml, else \"standard\")")
}

// SetArgs takes the AGENT argument, checking it against --format.
func (o *Options) SetArgs(args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("one AGENT expected, got %q", strings.Join(args, " "))
	}
	if len(args) == 1 {
		if o.Agent != "" && !strings.EqualFold(o.Agent, args[0]) {
			return fmt.Errorf("--format %s and argument %s name different agents", o.Agent, args[0])
		}
		o.Agent = args[0]
	}
	return nil
}

// UsageError reports a mistake in the hook command line itself and
// returns its exit code. There is no protocol to answer in yet, so it is
// 2, which Claude Code, Codex and Windsurf treat as "block", with the
// reason on stderr.
func UsageError(errw io.Writer, err error) int {
	fmt.Fprintf(errw, "rampart: error: hook: %v (the tool call is blocked)\n", err)
	return 2
}

// Main is the rampart-hook program: "rampart-hook [flags] AGENT", the same
// as "rampart hook [flags] AGENT".
func Main(args []string, env Env) int {
	o := &Options{Env: env}
	fs := pflag.NewFlagSet("rampart-hook", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.AddFlags(fs)
	help := fs.BoolP("help", "h", false, "")
	if err := fs.Parse(args); err != nil {
		return UsageError(env.Err, err)
	}
	if *help {
		fmt.Fprintf(env.Out, "Usage: rampart-hook [flags] AGENT\n\nThe same as \"rampart hook\" (see rampart hook --help), in a smaller program\nthat starts faster: agents start it once per tool call.\n\nFlags:\n%s", fs.FlagUsages())
		return 0
	}
	o.FailOpenSet = fs.Changed("fail-open")
	if err := o.SetArgs(fs.Args()); err != nil {
		return UsageError(env.Err, err)
	}
	return Run(o)
}

func isDir(path string) bool {
	if path == "" {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// hookSettings are the resolved mode settings of one hook run.
type hookSettings struct {
	enforce  bool // false in monitor mode
	failOpen bool
}

func resolveHookSettings(o *Options) (hookSettings, bool, error) {
	mode := o.Mode
	if mode == "" {
		mode = strings.ToLower(strings.TrimSpace(o.Getenv("RAMPART_MODE")))
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
	case o.FailOpenSet:
		s.failOpen = s.failOpen || o.FailOpen
	default:
		switch strings.ToLower(o.Getenv("RAMPART_FAIL_OPEN")) {
		case "1", "true", "yes", "on":
			s.failOpen = true
		}
	}
	return s, true, nil
}

// Run answers one hook call and returns the process's exit code: the
// answer's (0 for most agents, 2 for a Windsurf block), or 2 for a mistake
// in the hook command line itself.
func Run(o *Options) int {
	proc := o
	proto, ok := hooks.Lookup(o.Agent)
	if !ok {
		if o.Agent == "" {
			return UsageError(o.Err, errors.New("no agent given (rampart hook AGENT)"))
		}
		return UsageError(o.Err, fmt.Errorf("unknown agent %q%s; supported: %s",
			o.Agent, suggest.DidYouMean(strings.ToLower(o.Agent), hooks.Names()), strings.Join(hooks.Names(), ", ")))
	}
	settings, active, err := resolveHookSettings(o)
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
		return reply.code
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				reply.fail(nil, fmt.Sprintf("internal error: %v", r), string(debug.Stack()))
			}
		}()
		hookDecide(o, proto, reply)
	}()
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		problem := fmt.Sprintf("no decision within %s.", timeout)
		if reply.fail(nil, problem, "") {
			recordTimeout(o, proto, reply.event.Load(), problem)
		}
	}
	// Once has made the answer's writes, and its code, visible here.
	return reply.code
}

// timeoutRecordWait bounds how long a hook that timed out waits to record
// that: the trail itself may be what is stuck (a lock held by a writer
// that hangs), and the agent has its answer already.
const timeoutRecordWait = 2 * time.Second

// recordTimeout records a call answered by the fail mode because no
// decision came in time (with what is known of the call: nothing when
// its input had not been read yet). A fail-open answer let the tool run
// unchecked, and the trail must say so.
func recordTimeout(o *Options, proto hooks.Protocol, ev *hooks.Event, problem string) {
	rec := errorRecord(proto, ev, problem)
	written := make(chan struct{})
	go func() {
		defer close(written)
		trail := OpenAudit(o.Getenv, o.Err)
		defer trail.Close()
		trail.Append(rec)
	}()
	select {
	case <-written:
	case <-time.After(timeoutRecordWait):
		fmt.Fprintf(o.Err, "rampart: warning: the audit trail did not take the record of this timeout within %s; it is not recorded\n", timeoutRecordWait)
	}
}

// hookDecide reads the input, decides, records and answers.
func hookDecide(o *Options, proto hooks.Protocol, reply *hookReply) {
	proc := o
	input, err := io.ReadAll(io.LimitReader(proc.In, maxHookInput+1))
	if err != nil {
		refuseInput(o, proto, reply, fmt.Sprintf("reading the hook input failed: %v.", err))
		return
	}
	if len(input) > maxHookInput {
		refuseInput(o, proto, reply, fmt.Sprintf("the hook input is larger than %d MiB.", maxHookInput>>20))
		return
	}
	wd, _ := proc.Getwd()
	ev, err := proto.Decode(input, hooks.Env{Home: o.Getenv("HOME"), Cwd: wd})
	if err != nil {
		refuseInput(o, proto, reply, err.Error()+".")
		return
	}
	reply.event.Store(&ev) // for the record of a timeout
	trail := OpenAudit(o.Getenv, o.Err)
	defer trail.Close()

	if ev.Phase != hooks.PhasePre {
		trail.Append(outcomeRecord(proto, ev))
		reply.send(proto.Answer(ev, engine.Decision{}, hooks.Options{}))
		return
	}

	cwd := ev.Call.Cwd
	if !isDir(cwd) {
		cwd = wd // a deleted or foreign cwd: search from ours
	}
	prog, err := policyload.ForCall(o.Getenv, o.Profile, cwd)
	if err != nil {
		trail.Append(errorRecord(proto, &ev, err.Error()))
		reply.fail(&ev, sentence("the policies could not be loaded: "+firstLine(err.Error())), "")
		return
	}
	d := decideTargets(prog, proto, &ev, trail)
	if !reply.settings.enforce {
		reply.pass(&ev)
		return
	}
	reply.send(proto.Answer(ev, d, hooks.Options{ExplicitAllow: o.ExplicitAllow}))
}

func hookAdapter(p hooks.Protocol) string { return "hook/" + p.Agent() }

// errorRecord is the record of a hook call that got no decision: the call
// when its input was decoded (ev), else only the agent; problem says why.
func errorRecord(proto hooks.Protocol, ev *hooks.Event, problem string) *audit.Record {
	call, toolUseID := engine.ToolCall{Agent: proto.Agent()}, ""
	if ev != nil {
		call, toolUseID = ev.Call, ev.ToolUseID
	}
	rec := audit.FromCall(hookAdapter(proto), call, engine.Decision{}, 0)
	rec.Decision, rec.ToolUseID, rec.Error = "error", toolUseID, problem
	return rec
}

// refuseInput answers a hook call whose input could not be read or
// decoded by the fail mode, and records that in the audit trail: a
// blocked call (or one let through unchecked) is a decision too, even
// when there is no tool call to show. Input that ends only after the
// timeout answered is not recorded again.
func refuseInput(o *Options, proto hooks.Protocol, reply *hookReply, problem string) {
	if !reply.fail(nil, problem, "") {
		return
	}
	trail := OpenAudit(o.Getenv, o.Err)
	defer trail.Close()
	trail.Append(errorRecord(proto, nil, problem))
}

// outcomeRecord is the audit record of a post-tool event.
func outcomeRecord(proto hooks.Protocol, ev hooks.Event) *audit.Record {
	rec := audit.FromCall(hookAdapter(proto), ev.Call, engine.Decision{}, 0)
	rec.Event, rec.Decision = audit.EventOutcome, ""
	rec.ToolUseID, rec.ExitCode, rec.DurationMS, rec.Error = ev.ToolUseID, ev.ExitCode, ev.DurationMS, ev.Error
	return rec
}

// sentence ends s with a full stop: the fail mode's text follows it.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
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
	proc     *Options
	proto    hooks.Protocol
	settings hookSettings
	once     sync.Once
	code     int
	event    atomic.Pointer[hooks.Event] // the call, once its input is decoded
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

// fail answers by the fail mode when no decision could be made; false
// when the call was answered already (after a timeout).
func (r *hookReply) fail(ev *hooks.Event, problem, detail string) (answered bool) {
	r.once.Do(func() {
		answered = true
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
	return answered
}
