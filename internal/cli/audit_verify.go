package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/audit"
)

// ExitChainBroken is the exit code of "rampart audit verify" when the
// chain does not verify (the same code as a deny: "no").
const ExitChainBroken = 1

// AuditVerifyOptions are the flags of "rampart audit verify".
type AuditVerifyOptions struct {
	Proc *Process
	Dir  string
	JSON bool
}

// NewCmdAuditVerify builds "rampart audit verify".
func NewCmdAuditVerify(proc *Process, runF func(*AuditVerifyOptions) error) *cobra.Command {
	opts := &AuditVerifyOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit trail's hash chain and find the first broken record",
		Long: `Verify reads every record of the audit trail and checks that its hash matches
its content and that it follows the record before it. It prints a summary
(files, records, the range of sequence numbers and the hash of the last
record, the head), then every problem as FILE:LINE: kind: detail, and names
the first broken or edited record. Records before it verify.

A record cut short by a crash (a torn write) is a warning, not a failure:
the records before it verify, and the next writer fences it off.

The chain shows that records were not edited, removed or reordered by
someone who cannot rewrite every record after them. To protect against
someone who can, keep the head hash somewhere else (another machine, a
ticket): if that record still has the same hash later, nothing up to it was
rewritten.

--json prints the report as one JSON object:
  {"ok":true,"files":2,"records":120,"first_seq":1,"last_seq":120,
   "head_id":"...","head_hash":"...","problems":[],"warnings":[]}
where each problem and warning is {"file","line","seq","kind","detail"}.

Exit codes: 0 the chain verifies (or there are no records yet), 1 it does
not, 74 the audit folder cannot be read.`,
		Example: `  rampart audit verify
  rampart audit verify --json | jq -r .head_hash
  rampart audit verify --dir /backup/rampart-audit`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return auditVerifyRun(opts)
		},
	}
	addDirFlag(cmd.Flags(), &opts.Dir)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	return cmd
}

func auditVerifyRun(o *AuditVerifyOptions) error {
	dir, err := auditDir(o.Proc, o.Dir)
	if err != nil {
		return err
	}
	rep, err := audit.Verify(dir)
	if err != nil {
		return withCode(ExitIOErr, err, fmt.Sprintf("check that %s is a folder you can read", dir))
	}
	if o.JSON {
		err = writeJSONLine(o.Proc.Out, rep)
	} else {
		err = writeString(o.Proc.Out, verifyText(dir, rep))
	}
	if err != nil {
		return withCode(ExitIOErr, fmt.Errorf("writing the report: %w", err))
	}
	if rep.OK {
		return nil
	}
	if o.JSON {
		return exitCode(ExitChainBroken)
	}
	first := rep.Problems[0]
	return withCode(ExitChainBroken,
		fmt.Errorf("the audit trail does not verify: the first problem is at %s", problemPlace(dir, first)),
		"the records before it verify; see docs/audit.md for what each kind of problem means")
}

// verifyText is the human report of verify.
func verifyText(dir string, rep *audit.Report) string {
	var b strings.Builder
	if rep.Records == 0 && len(rep.Problems) == 0 {
		fmt.Fprintf(&b, "audit trail %s: no records yet\n", dir)
		writeProblems(&b, "warning: ", dir, rep.Warnings)
		return b.String()
	}
	fmt.Fprintf(&b, "audit trail %s: %s, %s", dir, plural(rep.Files, "file", "files"), plural(rep.Records, "record", "records"))
	if rep.Records > 0 {
		fmt.Fprintf(&b, " (seq %d to %d)", rep.FirstSeq, rep.LastSeq)
	}
	b.WriteString("\n")
	if rep.HeadHash != "" {
		fmt.Fprintf(&b, "head: record %d, hash %s\n", rep.LastSeq, rep.HeadHash)
	}
	writeProblems(&b, "warning: ", dir, rep.Warnings)
	writeProblems(&b, "", dir, rep.Problems)
	if rep.Truncated {
		fmt.Fprintf(&b, "(more problems follow; only the first %d are listed)\n", len(rep.Problems))
	}
	if rep.OK {
		b.WriteString("OK: every record matches its hash and follows the one before it\n")
		fmt.Fprintf(&b, "Keep the head hash somewhere the agents cannot write: if record %d still has it later, nothing up to it was rewritten.\n", rep.LastSeq)
		return b.String()
	}
	fmt.Fprintf(&b, "FAILED: the first broken record is at %s; the records before it verify\n", problemPlace(dir, rep.Problems[0]))
	return b.String()
}

func writeProblems(b *strings.Builder, prefix, dir string, problems []audit.Problem) {
	for _, p := range problems {
		fmt.Fprintf(b, "%s%s:%d: %s: %s\n", prefix, filepath.Join(dir, p.File), p.Line, p.Kind, p.Detail)
	}
}

// problemPlace is "FILE:LINE (record N, edited)".
func problemPlace(dir string, p audit.Problem) string {
	place := fmt.Sprintf("%s:%d (", filepath.Join(dir, p.File), p.Line)
	if p.Seq != 0 {
		place += fmt.Sprintf("record %d, ", p.Seq)
	}
	return place + p.Kind + ")"
}
