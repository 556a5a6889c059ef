package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/server"
)

// ApproveOptions are the flags and argument of "rampart approve" and
// "rampart deny".
type ApproveOptions struct {
	Proc     *Process
	ID       string
	Decision string // "allow" or "deny"
	Always   bool
	By       string
	URL      string
}

// NewCmdApprove builds "rampart approve".
func NewCmdApprove(proc *Process, runF func(*ApproveOptions) error) *cobra.Command {
	return newCmdAnswer(proc, runF, "allow")
}

// NewCmdDeny builds "rampart deny".
func NewCmdDeny(proc *Process, runF func(*ApproveOptions) error) *cobra.Command {
	return newCmdAnswer(proc, runF, "deny")
}

func newCmdAnswer(proc *Process, runF func(*ApproveOptions) error, decision string) *cobra.Command {
	opts := &ApproveOptions{Proc: proc, Decision: decision}
	cmd := &cobra.Command{
		Use:   "approve ID [--always]",
		Short: "Allow a tool call that waits for a human (an ask held by rampart serve)",
		Long: `Approve answers a pending approval of the policy server: a tool call that a
policy asks about ("ask"), sent by an adapter that has no prompt of its own
(the preload library, rampart-sh), which waits until a human answers or the
server's approval timeout denies it. The waiting call then runs.

With --always, the server also writes an exact allow rule for this call
(its exact commands, path, URL or MCP tool) into
~/.rampart/policies/approved.yaml, so the same call is allowed from then on
without asking. Similar calls still ask. Edit or delete that file to undo it.

"rampart status" lists the pending approvals and their IDs; "rampart watch"
shows them as they come.

Exit codes: 0 answered, 1 no such pending approval (unknown, answered or
expired), 64 usage, 69 no server answers, 77 the server refused the token.`,
		Example: `  rampart status            # lists the pending approvals
  rampart approve 3f2a9c1d
  rampart approve 3f2a9c1d --always
  rampart deny 3f2a9c1d`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf(`run "rampart status" to see the pending approvals and their IDs`,
					"%s takes one approval ID, got %d arguments", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = strings.TrimSpace(args[0])
			if runF != nil {
				return runF(opts)
			}
			return approveRun(opts)
		},
	}
	if decision == "deny" {
		cmd.Use = "deny ID"
		cmd.Short = "Deny a tool call that waits for a human (an ask held by rampart serve)"
		cmd.Long = `Deny answers a pending approval of the policy server with "no": the waiting
tool call is denied, with the policy's message. "rampart status" lists the
pending approvals and their IDs.

Exit codes: 0 answered, 1 no such pending approval (unknown, answered or
expired), 64 usage, 69 no server answers, 77 the server refused the token.`
		cmd.Example = `  rampart status
  rampart deny 3f2a9c1d`
	} else {
		cmd.Flags().BoolVar(&opts.Always, "always", false, "also allow exactly this call from now on (writes ~/.rampart/policies/approved.yaml)")
	}
	cmd.Flags().StringVar(&opts.By, "by", "", "the `NAME` the audit trail records as the one who answered (default: $USER)")
	cmd.Flags().StringVar(&opts.URL, "url", "", "the server's `URL` (http://HOST:PORT or unix:/path/to/socket)")
	return cmd
}

func approveRun(o *ApproveOptions) error {
	c, err := serverClient(o.Proc, o.URL)
	if err != nil {
		return err
	}
	by := o.By
	if by == "" {
		by = o.Proc.Getenv("USER")
	}
	if by == "" {
		by = "cli"
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	a, err := c.Resolve(ctx, o.ID, server.Answer{Decision: o.Decision, Always: o.Always, By: by})
	var apiErr *server.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Status {
		case 404:
			return withCode(ExitFailed, fmt.Errorf("no pending approval %q", o.ID),
				`run "rampart status" to see the pending approvals (an approval is denied when it times out)`)
		case 409:
			return withCode(ExitFailed, errors.New(apiErr.Message))
		}
	}
	if err != nil {
		return clientError(c, err)
	}
	verb := "approved"
	if a.Status == server.StatusDenied {
		verb = "denied"
	}
	fmt.Fprintf(o.Proc.Out, "%s %s: %s %s\n", verb, a.ID, a.Call.Tool, truncateText(callText(*a), 120))
	if a.Reason != "" {
		fmt.Fprintf(o.Proc.Out, "  %s\n", a.Reason)
	}
	return nil
}
