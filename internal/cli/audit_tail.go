package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/audit"
)

// followPoll is how often tail -f and watch look for new records.
const followPoll = 200 * time.Millisecond

// AuditTailOptions are the flags of "rampart audit tail".
type AuditTailOptions struct {
	Proc   *Process
	Dir    string
	Lines  int
	Follow bool
	JSON   bool
	Filter FilterOptions

	// Context ends -f when done (nil: the command's context); Ctrl-C
	// ends it too.
	Context context.Context
	// Poll is how often -f looks for new records (followPoll when zero).
	Poll time.Duration
	// Now and Location are the clock and zone for --since, --until and
	// the times shown (time.Now and the local zone when nil).
	Now      func() time.Time
	Location *time.Location
}

// NewCmdAuditTail builds "rampart audit tail".
func NewCmdAuditTail(proc *Process, runF func(*AuditTailOptions) error) *cobra.Command {
	opts := &AuditTailOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "tail [-n N] [-f] [flags]",
		Short: "Show the newest audit records, and follow new ones with -f",
		Long: `Tail prints the last N records of the audit trail (20 unless -n says
otherwise) that match the filters, oldest first, one line each:

  Nov 24 15:04:05  claude-code  exec   deny   rm -rf /  (standard/block-destructive)

time (local), agent, tool, decision, what the call was about (command,
path, URL or tool name) and the policy/rule that decided. Outcome records
show "ran" and the exit code; approval records who answered. Decisions are
coloured on a terminal unless NO_COLOR is set.

With -f (--follow), tail keeps running and prints records as they are
appended, across the daily and size rotation of the files, until Ctrl-C.

--json prints each record exactly as the trail stores it, one JSON line
each (see docs/audit.md for the fields).`,
		Example: `  rampart audit tail
  rampart audit tail -n 100 --decision deny,ask
  rampart audit tail -f --agent claude-code
  rampart audit tail -f -n 0 --json | jq -c 'select(.tool == "fetch")'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Lines < 0 {
				return usageErrorf("", "-n: want 0 or more records, got %d", opts.Lines)
			}
			if opts.Context == nil {
				opts.Context = cmd.Context()
			}
			if runF != nil {
				return runF(opts)
			}
			return auditTailRun(opts)
		},
	}
	addDirFlag(cmd.Flags(), &opts.Dir)
	cmd.Flags().IntVarP(&opts.Lines, "lines", "n", 20, "show the last `N` matching records")
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep running and print new records as they are appended")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the records as stored, one JSON line each")
	opts.Filter.addFlags(cmd.Flags())
	return cmd
}

func auditTailRun(o *AuditTailOptions) error {
	dir, err := auditDir(o.Proc, o.Dir)
	if err != nil {
		return err
	}
	now, loc := clockOf(o.Now, o.Location)
	q, err := o.Filter.query(now(), loc)
	if err != nil {
		return err
	}
	recs, cur, err := audit.Last(dir, o.Lines, q)
	if err != nil {
		return withCode(ExitIOErr, err, fmt.Sprintf("check that %s is a folder you can read", dir))
	}
	if cur.File == "" && !o.Follow {
		fmt.Fprintf(o.Proc.Err, "rampart: no audit records yet in %s\n", dir)
		return nil
	}
	p := recordPrinter{JSON: o.JSON, Style: recordStyle{Loc: loc, Color: colorOutput(o.Proc)}}
	out := bufio.NewWriter(o.Proc.Out)
	for _, s := range recs {
		p.write(out, s.Raw, s.Record)
	}
	if err := out.Flush(); err != nil {
		return withCode(ExitIOErr, fmt.Errorf("writing the records: %w", err))
	}
	if !o.Follow {
		return nil
	}
	ctx, stop := interruptible(o.Context)
	defer stop()
	poll := o.Poll
	if poll <= 0 {
		poll = followPoll
	}
	_, err = audit.Follow(ctx, dir, cur, poll, func(e audit.Entry) error {
		if e.Record == nil || !q.Match(e.Record) {
			return nil
		}
		if err := p.write(out, e.Raw, e.Record); err != nil {
			return err
		}
		return out.Flush()
	})
	if err != nil {
		return withCode(ExitIOErr, fmt.Errorf("following %s: %w", dir, err))
	}
	return nil
}

// recordPrinter writes records as human lines or exactly as stored.
type recordPrinter struct {
	JSON  bool
	Style recordStyle
}

// write writes one record and its newline. With JSON, raw (the stored
// line) is written as it is.
func (p recordPrinter) write(w io.Writer, raw []byte, r *audit.Record) error {
	if p.JSON {
		if _, err := w.Write(raw); err != nil {
			return err
		}
		_, err := w.Write([]byte{'\n'})
		return err
	}
	_, err := io.WriteString(w, p.Style.line(r)+"\n")
	return err
}

// clockOf fills in the defaults of an injected clock and zone.
func clockOf(now func() time.Time, loc *time.Location) (func() time.Time, *time.Location) {
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = time.Local
	}
	return now, loc
}
