package cli

import (
	"io"
	"reflect"
	"testing"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/internal/hookrun"
)

// The guard's queue writes nothing until it is flushed (the receiving
// loop flushes when it is idle, after answering), then everything, in
// order; write appends at once, after what was queued.
func TestGuardAuditQueue(t *testing.T) {
	home := t.TempDir()
	getenv := func(k string) string {
		if k == "RAMPART_HOME" {
			return home
		}
		return ""
	}
	trail := hookrun.OpenAudit(getenv, io.Discard)
	defer trail.Close()
	q := &auditQueue{trail: trail}
	written := func() []string {
		t.Helper()
		var cmds []string
		err := audit.Scan(audit.DefaultDir(home), func(e audit.Entry) error {
			if e.Record == nil || !e.HashOK {
				t.Fatalf("%s:%d: %v", e.File, e.Line, e.Err)
			}
			cmds = append(cmds, e.Record.Command)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return cmds
	}
	rec := func(cmd string) *audit.Record {
		return &audit.Record{Adapter: "guard", Tool: "exec", Command: cmd, Decision: "allow"}
	}
	q.add(rec("one"))
	q.add(rec("two"))
	if got := written(); len(got) != 0 {
		t.Fatalf("written before a flush: %q", got)
	}
	q.flush()
	q.flush() // nothing queued: nothing written
	if got, want := written(), []string{"one", "two"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after flush: %q, want %q", got, want)
	}
	q.add(rec("three"))
	q.write(rec("approved"))
	if got, want := written(), []string{"one", "two", "three", "approved"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after write: %q, want %q", got, want)
	}
	// The buffers are reused; nothing written twice, nothing lost.
	for i := 0; i < 3; i++ {
		q.add(rec("again"))
		q.flush()
	}
	if got := written(); len(got) != 7 {
		t.Fatalf("%d records, want 7: %q", len(got), got)
	}
}
