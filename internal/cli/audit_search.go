package cli

import (
	"bufio"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/audit"
)

// AuditSearchOptions are the flags of "rampart audit search".
type AuditSearchOptions struct {
	Proc   *Process
	Dir    string
	JSON   bool
	Limit  int
	Filter FilterOptions

	// Now and Location are the clock and zone for --since, --until and
	// the times shown (time.Now and the local zone when nil).
	Now      func() time.Time
	Location *time.Location
}

// NewCmdAuditSearch builds "rampart audit search".
func NewCmdAuditSearch(proc *Process, runF func(*AuditSearchOptions) error) *cobra.Command {
	opts := &AuditSearchOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "search [flags]",
		Short: "Find audit records by decision, agent, tool, rule, time or text",
		Long: `Search prints every record of the audit trail that matches all the filters
given, oldest first, in the format of "rampart audit tail" (or, with --json,
exactly as stored, one JSON line each). --limit stops after the first N; for
the newest N use "rampart audit tail -n N" with the same filters.

List filters take comma-separated values and may be repeated; a record
matches a list when it matches any value in it. --since and --until take a
duration back from now (30m, 2h, 7d, 2w) or a date and time in the local
zone (today, yesterday, 2026-11-24, 2026-11-24T15:04) or with one (RFC 3339). --since is
inclusive, --until exclusive: --since 2026-11-24 --until 2026-11-25 is one
whole day. --contains looks into the command, argument vector, path, URL,
tool name, message and matched text, ignoring case.

Search does not check hashes; "rampart audit verify" does.`,
		Example: `  # What was denied or asked today?
  rampart audit search --since today --decision deny,ask

  # Everything an agent did with SSH keys
  rampart audit search --agent claude-code --contains .ssh

  # One session, as JSON for jq
  rampart audit search --session 5d1c --json | jq -r .command

  # The decisions of one rule in a time window
  rampart audit search --rule block-destructive --since 2026-11-01 --until 2026-12-01`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Limit < 0 {
				return usageErrorf("", "--limit: want 0 (no limit) or more, got %d", opts.Limit)
			}
			if runF != nil {
				return runF(opts)
			}
			return auditSearchRun(opts)
		},
	}
	addDirFlag(cmd.Flags(), &opts.Dir)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the records as stored, one JSON line each")
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "stop after the first `N` matching records (0: no limit)")
	opts.Filter.addFlags(cmd.Flags())
	return cmd
}

func auditSearchRun(o *AuditSearchOptions) error {
	dir, err := auditDir(o.Proc, o.Dir)
	if err != nil {
		return err
	}
	now, loc := clockOf(o.Now, o.Location)
	q, err := o.Filter.query(now(), loc)
	if err != nil {
		return err
	}
	p := recordPrinter{JSON: o.JSON, Style: recordStyle{Loc: loc, Color: colorOutput(o.Proc)}}
	out := bufio.NewWriter(o.Proc.Out)
	found := 0
	var writeErr error
	err = scanSelected(dir, &q, func(e audit.Entry) error {
		if e.Record == nil || !q.Match(e.Record) {
			return nil
		}
		if writeErr = p.write(out, e.Raw, e.Record); writeErr != nil {
			return audit.ErrStop
		}
		found++
		if found == o.Limit {
			return audit.ErrStop
		}
		return nil
	})
	if err != nil {
		return withCode(ExitIOErr, err, fmt.Sprintf("check that %s is a folder you can read", dir))
	}
	if err := errors.Join(writeErr, out.Flush()); err != nil {
		return withCode(ExitIOErr, fmt.Errorf("writing the records: %w", err))
	}
	if found == 0 && !o.JSON {
		if files, _ := audit.Files(dir); len(files) == 0 {
			fmt.Fprintf(o.Proc.Err, "rampart: no audit records yet in %s\n", dir)
		} else {
			fmt.Fprintln(o.Proc.Err, "rampart: no records match")
		}
	}
	return nil
}

// scanSelected calls fn for every whole line of the audit files that can
// hold records q selects (see [audit.Query.Files]), in chain order; fn's
// audit.ErrStop ends it early without an error.
func scanSelected(dir string, q *audit.Query, fn func(audit.Entry) error) error {
	files, err := q.Files(dir)
	if err != nil {
		return err
	}
	for _, name := range files {
		if _, _, err := audit.ScanFrom(dir, name, 0, 0, fn); err != nil {
			if errors.Is(err, audit.ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}
