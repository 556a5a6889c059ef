package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rampart-dev/rampart/audit"
)

// NewCmdAudit builds "rampart audit", the group of audit trail commands.
func NewCmdAudit(proc *Process) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit <command>",
		Short: "Verify, tail, search and summarise the audit trail",
		Long: `Every decision Rampart makes, from every adapter, is appended to the audit
trail in ~/.rampart/audit/ (RAMPART_HOME moves it) as one JSON line. Each
record carries the hash of the record before it, so an edited, removed or
reordered record breaks the chain, and "rampart audit verify" finds it.

See docs/audit.md for the record format and what the chain does and does
not prove.`,
		Example: `  rampart audit verify
  rampart audit tail -f --decision deny,ask
  rampart audit search --since 24h --agent claude-code --contains .ssh
  rampart audit stats --since 7d`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.Flags().SetInterspersed(false)
	cmd.AddCommand(
		NewCmdAuditVerify(proc, nil),
		NewCmdAuditTail(proc, nil),
		NewCmdAuditSearch(proc, nil),
		NewCmdAuditStats(proc, nil),
	)
	return cmd
}

// addDirFlag adds --dir, the audit folder to read.
func addDirFlag(fs *pflag.FlagSet, dir *string) {
	fs.StringVar(dir, "dir", "", "the audit `DIR` to read (default: $RAMPART_HOME/audit, else ~/.rampart/audit)")
}

// auditDir returns the audit folder: dir when given, else the one under
// the Rampart home.
func auditDir(proc *Process, dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	home := proc.RampartHome()
	if home == "" {
		return "", withCode(ExitUsage, errors.New("cannot find the audit trail: neither RAMPART_HOME nor HOME is set"),
			"set RAMPART_HOME, or name the folder with --dir")
	}
	return audit.DefaultDir(home), nil
}

// interruptible returns ctx (Background when nil), cancelled also by
// Ctrl-C or SIGTERM, so following commands end cleanly.
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}
