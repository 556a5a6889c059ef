package hookrun

import (
	"fmt"
	"io"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/internal/policyload"
)

// Audit appends to the audit trail, warning on errw (never failing) when
// it cannot: the decision stands either way. The guard uses it too.
type Audit struct {
	errw   io.Writer
	writer *audit.Writer
}

// OpenAudit opens the audit trail of the Rampart home getenv names.
func OpenAudit(getenv func(string) string, errw io.Writer) *Audit {
	t := &Audit{errw: errw}
	home := policyload.RampartHome(getenv)
	if home == "" {
		fmt.Fprintln(errw, "rampart: warning: neither $RAMPART_HOME nor $HOME is set; this decision is not recorded")
		return t
	}
	w, err := audit.Open(audit.DefaultDir(home), audit.Options{})
	if err != nil {
		fmt.Fprintf(errw, "rampart: warning: audit trail: %v; this decision is not recorded\n", err)
		return t
	}
	t.writer = w
	return t
}

// Append appends one record.
func (t *Audit) Append(r *audit.Record) {
	if t.writer == nil {
		return
	}
	if err := t.writer.Append(r); err != nil {
		fmt.Fprintf(t.errw, "rampart: warning: %v; this decision is not recorded\n", err)
	}
}

// AppendBatch appends records with one write.
func (t *Audit) AppendBatch(rs []*audit.Record) {
	if t.writer == nil {
		return
	}
	if err := t.writer.Append(rs...); err != nil {
		fmt.Fprintf(t.errw, "rampart: warning: %v; %d decisions are not recorded\n", err, len(rs))
	}
}

// Close releases the trail's files.
func (t *Audit) Close() {
	if t.writer != nil {
		t.writer.Close()
	}
}
