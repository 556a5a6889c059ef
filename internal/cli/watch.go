package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/audit"
)

// WatchOptions are the flags of "rampart watch".
type WatchOptions struct {
	Proc     *Process
	Dir      string
	URL      string
	NoServer bool
	Plain    bool
	Filter   FilterOptions

	// Context ends watch when done (nil: the command's context); Ctrl-C,
	// q and SIGTERM end it too.
	Context context.Context
	// Poll is how often the audit files are read (followPoll when zero);
	// Backoff the first wait before reconnecting to the server (250 ms).
	Poll    time.Duration
	Backoff time.Duration
	// Now and Location are the clock and zone (time.Now and the local
	// zone when nil).
	Now      func() time.Time
	Location *time.Location
}

// NewCmdWatch builds "rampart watch".
func NewCmdWatch(proc *Process, runF func(*WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "watch [flags]",
		Short: "Watch decisions as they happen, and answer pending approvals",
		Long: `Watch shows Rampart's decisions live: time, agent, tool, decision, the
command, path or URL, and the rule that decided.

It follows the audit files, which every adapter writes to, and when a Rampart
server answers ("rampart serve") also the server's event stream: the
server's decisions arrive at once, and the approvals it holds for a human
can be answered from here. The server is --url, else $RAMPART_URL, else the
Unix socket ~/.rampart/rampart.sock when it exists, else
http://127.0.0.1:9090, with the token from $RAMPART_TOKEN or
~/.rampart/token; --no-server skips it. The header says what watch reads. If
the server goes away, watch says so, goes on with the files, and reconnects
when the server is back.

On a terminal, watch takes the whole screen: counters, the newest decisions,
and the approvals waiting for a human (ask decisions held by the server).
Keys: a approve the selected approval (the oldest unless you move with the
arrow keys or j/k), d deny it, A always allow it (press twice: it adds an
allow rule to your policy), q or Ctrl-C quit.

When stdout is not a terminal (or with --plain), watch prints one line per
decision as it arrives, and news about approvals and the server on stderr.`,
		Example: `  rampart watch
  rampart watch --decision deny,ask
  rampart watch --agent claude-code --tool exec
  rampart watch --no-server --plain | tee decisions.log
  rampart watch --url unix:/run/user/1000/rampart.sock`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.NoServer && opts.URL != "" {
				return usageErrorf("", "--url and --no-server cannot be used together")
			}
			if opts.Context == nil {
				opts.Context = cmd.Context()
			}
			if runF != nil {
				return runF(opts)
			}
			return watchRun(opts)
		},
	}
	addDirFlag(cmd.Flags(), &opts.Dir)
	cmd.Flags().StringVar(&opts.URL, "url", "", "the server's `URL` (http://HOST:PORT or unix:/path/to/socket; default: $RAMPART_URL, the socket in ~/.rampart, http://127.0.0.1:9090)")
	cmd.Flags().BoolVar(&opts.NoServer, "no-server", false, "follow the audit files only; do not look for a server")
	cmd.Flags().BoolVar(&opts.Plain, "plain", false, "print one line per decision even on a terminal")
	opts.Filter.addFlags(cmd.Flags())
	return cmd
}

// watchSession is what a running watch works with.
type watchSession struct {
	opts   *WatchOptions
	query  audit.Query
	style  recordStyle
	source interface {
		describe() string
		run(ctx context.Context, emit func(watchEvent)) error
	}
	client *watchClient // nil when following the files only
	note   string       // why watch follows the files only, if it does unasked
	now    func() time.Time
	dedup  recordDedup
}

// newRecord reports whether a record event is to be shown: new (not
// already seen from the other source) and selected by the filters.
func (s *watchSession) newRecord(r *audit.Record) bool {
	return s.dedup.first(r) && s.query.Match(r)
}

func watchRun(o *WatchOptions) error {
	dir, err := auditDir(o.Proc, o.Dir)
	if err != nil {
		return err
	}
	now, loc := clockOf(o.Now, o.Location)
	q, err := o.Filter.query(now(), loc)
	if err != nil {
		return err
	}
	ctx, stop := interruptible(o.Context)
	defer stop()
	poll := o.Poll
	if poll <= 0 {
		poll = followPoll
	}
	backoff := o.Backoff
	if backoff <= 0 {
		backoff = 250 * time.Millisecond
	}
	files := &fileSource{dir: dir, poll: poll}
	s := &watchSession{opts: o, query: q, source: files, now: now}
	if !o.NoServer {
		client, err := newWatchClient(o.Proc, o.URL)
		if err != nil {
			return err
		}
		if err := client.healthz(ctx); err != nil {
			s.note = fmt.Sprintf("no Rampart server answered at %s (%v)", client.Label, err)
		} else {
			s.client = client
			s.source = &serverSource{client: client, files: files, backoff: backoff, retries: 3}
		}
	}
	if err := files.begin(); err != nil {
		return withCode(ExitIOErr, err, fmt.Sprintf("check that %s is a folder you can read", dir))
	}
	s.style = recordStyle{Loc: loc, Color: colorOutput(o.Proc)}
	if !o.Plain && isTerminal(o.Proc.Out) {
		return s.runScreen(ctx)
	}
	return s.runLines(ctx)
}

// start runs the source in the background. Its events arrive on the
// returned channel, which is closed when the source ends; the error (nil
// when ctx ended it) is then on errc.
func (s *watchSession) start(ctx context.Context) (<-chan watchEvent, <-chan error) {
	events := make(chan watchEvent, 64)
	errc := make(chan error, 1)
	go func() {
		defer close(events)
		errc <- s.source.run(ctx, func(e watchEvent) {
			select {
			case events <- e:
			case <-ctx.Done():
			}
		})
	}()
	return events, errc
}

// matchApproval reports whether the filters select an approval: by its
// call and the rule that asked; the decision, event and time filters are
// about records and do not hide a call that waits for an answer.
func (s *watchSession) matchApproval(a approval) bool {
	q := s.query
	q.Events, q.Decisions, q.Since, q.Until = nil, nil, time.Time{}, time.Time{}
	return q.Match(approvalRecord(a))
}

// runLines is watch without a terminal: a line per decision on stdout,
// the rest on stderr.
func (s *watchSession) runLines(ctx context.Context) error {
	errOut := s.opts.Proc.Err
	if s.note != "" {
		fmt.Fprintf(errOut, "rampart: %s\n", s.note)
	}
	header := "rampart: watching " + s.source.describe()
	if f := s.opts.Filter.describe(); f != "" {
		header += " (" + f + ")"
	}
	fmt.Fprintln(errOut, header)
	events, errc := s.start(ctx)
	for e := range events {
		if err := s.printEvent(e); err != nil {
			return withCode(ExitIOErr, fmt.Errorf("writing the decisions: %w", err))
		}
	}
	if err := <-errc; err != nil {
		return withCode(ExitIOErr, fmt.Errorf("watching %s: %w", s.source.describe(), err))
	}
	return nil
}

// printEvent prints one event in line mode.
func (s *watchSession) printEvent(e watchEvent) error {
	errOut := s.opts.Proc.Err
	switch {
	case e.Record != nil:
		if s.newRecord(e.Record) {
			return writeString(s.opts.Proc.Out, s.style.line(e.Record)+"\n")
		}
	case e.Snapshot:
		for _, a := range e.Approvals {
			s.printApproval(errOut, a)
		}
	case e.Approval != nil:
		s.printApproval(errOut, *e.Approval)
	case e.Reload != nil:
		if e.Reload.OK {
			fmt.Fprintf(errOut, "rampart: policies reloaded (%s)\n", plural(len(e.Reload.Sources), "source", "sources"))
		} else {
			fmt.Fprintf(errOut, "rampart: warning: a policy reload failed; the last good policies stay in force: %s\n", printable(e.Reload.Error))
		}
	case e.Notice != "":
		prefix := "rampart: "
		if e.Warning {
			prefix += "warning: "
		}
		fmt.Fprintln(errOut, prefix+printable(e.Notice))
	}
	return nil
}

func (s *watchSession) printApproval(w io.Writer, a approval) {
	if !s.matchApproval(a) {
		return
	}
	r := approvalRecord(a)
	what := strings.TrimSpace(printable(joinNonEmpty(" ", r.Agent, r.Tool)) + " " + printable(recordTarget(r)))
	id := printable(a.ID)
	switch a.Status {
	case "pending":
		fmt.Fprintf(w, "rampart: approval %s waits: %s (%s); answer with \"rampart approve %s\" or \"rampart deny %s\"\n",
			id, what, printable(orDash(policyRule(a.Decision.Policy, a.Decision.Rule))), id, id)
	default:
		by := ""
		if a.ResolvedBy != "" {
			by = " by " + printable(a.ResolvedBy)
		}
		reason := ""
		if a.Reason != "" {
			reason = " (" + printable(a.Reason) + ")"
		}
		fmt.Fprintf(w, "rampart: approval %s %s%s: %s%s\n", id, printable(a.Status), by, what, reason)
	}
}
