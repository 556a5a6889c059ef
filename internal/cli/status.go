package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/server"
)

// StatusOptions are the flags of "rampart status".
type StatusOptions struct {
	Proc *Process
	URL  string
	JSON bool
}

// NewCmdStatus builds "rampart status".
func NewCmdStatus(proc *Process, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the policy server runs, where, and what it is doing",
		Long: `Status asks the policy server (rampart serve) how it is: where it listens,
its version, the policy in force and whether the newest policy files loaded,
the audit trail, and the approvals waiting for an answer.

The server is found at --url, else $RAMPART_URL, else the Unix socket
~/.rampart/rampart.sock when it exists, else http://127.0.0.1:9090.

Exit codes: 0 running, 3 not running (nothing answers), 69 the answer
could not be read.`,
		Example: `  rampart status
  rampart status --json | jq .policy
  rampart status --url http://127.0.0.1:9191

  # In a script: start the server unless it runs
  rampart status >/dev/null 2>&1 || rampart serve --background`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return statusRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.URL, "url", "", "the server's `URL` (http://HOST:PORT or unix:/path/to/socket)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the server's /healthz answer (and the pending approvals) as JSON")
	return cmd
}

// statusReport is what status --json prints.
type statusReport struct {
	Running   bool              `json:"running"`
	URL       string            `json:"url"`
	Error     string            `json:"error,omitempty"`
	Health    *server.Health    `json:"health,omitempty"`
	Approvals []server.Approval `json:"approvals,omitempty"`
}

func statusRun(o *StatusOptions) error {
	c, err := serverClient(o.Proc, o.URL)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	rep := statusReport{URL: c.URL}
	h, err := c.Health(ctx)
	if err != nil {
		rep.Error = err.Error()
		if o.JSON {
			writeJSONLine(o.Proc.Out, rep)
			return exitCode(ExitNotRunning)
		}
		return withCode(ExitNotRunning, fmt.Errorf("rampart serve is not running: nothing answers at %s", c.URL),
			`start it with "rampart serve --background" (or "rampart serve install" to run it at login)`)
	}
	rep.Running, rep.Health = true, h
	// The list needs the token; the count in /healthz does not.
	approvals, approvalsErr := c.Approvals(ctx)
	rep.Approvals = approvals
	if o.JSON {
		if err := writeJSONLine(o.Proc.Out, rep); err != nil {
			return withCode(ExitIOErr, err)
		}
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rampart serve is running: pid %d, version %s, up %s\n", h.PID, h.Version, since(h.Started))
	fmt.Fprintf(&b, "  listening: %s\n", strings.Join(h.Listen, ", "))
	var sources []string
	for _, s := range h.Policy.Sources {
		sources = append(sources, fmt.Sprintf("%s (%s)", s.Name, s.Origin))
	}
	fmt.Fprintf(&b, "  policy:    loaded %s ago from %s\n", since(h.Policy.LoadedAt), strings.Join(sources, ", "))
	if h.Policy.LastError != "" {
		fmt.Fprintf(&b, "  POLICY ERROR: the newest policy files do not load; the policy loaded above stays in force:\n%s\n",
			indentLines(h.Policy.LastError, "    "))
	}
	fmt.Fprintf(&b, "  audit:     %s, %d records written since start", h.Audit.Dir, h.Audit.Records)
	if h.Audit.WriteErrors > 0 {
		fmt.Fprintf(&b, ", %d WRITE ERRORS (last: %s)", h.Audit.WriteErrors, h.Audit.LastError)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  pending approvals: %d\n", h.PendingApprovals)
	if approvalsErr == nil && len(approvals) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    ID\tTOOL\tCALL\tRULE\tEXPIRES IN")
		for _, a := range approvals {
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", a.ID, a.Call.Tool, truncateText(callText(a), 60), a.Decision.Rule,
				time.Until(a.Expires).Round(time.Second))
		}
		tw.Flush()
		b.WriteString("  answer with: rampart approve ID [--always], rampart deny ID\n")
	}
	if _, err := fmt.Fprint(o.Proc.Out, b.String()); err != nil {
		return withCode(ExitIOErr, err)
	}
	if approvalsErr != nil && h.PendingApprovals > 0 {
		fmt.Fprintf(o.Proc.Err, "rampart: warning: cannot list the approvals: %v\n", approvalsErr)
	}
	if h.Status != "ok" {
		fmt.Fprintf(o.Proc.Err, "rampart: warning: the server is %s\n", h.Status)
	}
	return nil
}

// since is the time from t to now, rounded for people: to the second
// within the first hour, then to the minute.
func since(t time.Time) string {
	d := time.Since(t)
	if d < time.Hour {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// callText is what an approval's call does, in one line.
func callText(a server.Approval) string {
	c := a.Call
	switch {
	case c.Command != "":
		return c.Command
	case len(c.Argv) > 0:
		return strings.Join(c.Argv, " ")
	case c.Path != "":
		return c.Path
	case c.URL != "":
		return c.URL
	}
	return c.Name
}
