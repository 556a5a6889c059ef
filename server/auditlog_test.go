package server

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
)

// testAuditLog is an auditLog on a throwaway folder, with the records each
// append wrote.
func testAuditLog(t *testing.T) (*auditLog, string, func() [][]string) {
	t.Helper()
	dir := t.TempDir()
	w, err := audit.Open(dir, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var appends [][]string
	l := newAuditLog(w, func(recs []*audit.Record, err error) {
		if err != nil {
			t.Errorf("append: %v", err)
		}
		var cmds []string
		for _, r := range recs {
			cmds = append(cmds, r.Command)
		}
		mu.Lock()
		appends = append(appends, cmds)
		mu.Unlock()
	})
	return l, dir, func() [][]string {
		mu.Lock()
		defer mu.Unlock()
		return append([][]string(nil), appends...)
	}
}

func record(cmd string) *audit.Record {
	return &audit.Record{Tool: "exec", Command: cmd, Decision: "allow"}
}

func trailCommands(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := audit.Scan(dir, func(e audit.Entry) error {
		if e.Record != nil {
			out = append(out, e.Record.Command)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A waiting write returns once its record is in the trail, written by the
// caller itself when nobody else is writing.
func TestAuditLogWaitWritesBeforeReturning(t *testing.T) {
	l, dir, appends := testAuditLog(t)
	if err := l.write(record("a"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := trailCommands(t, dir); fmt.Sprint(got) != "[a]" {
		t.Fatalf("trail %v right after the write returned", got)
	}
	if got := appends(); fmt.Sprint(got) != "[[a]]" {
		t.Errorf("appends %v", got)
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
}

// A write that does not wait only queues; flush writes every record
// queued so far in one append, in order.
func TestAuditLogQueuedUntilFlush(t *testing.T) {
	l, dir, appends := testAuditLog(t)
	for _, c := range []string{"a", "b", "c"} {
		if err := l.write(record(c), 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := trailCommands(t, dir); len(got) != 0 {
		t.Fatalf("written before the flush: %v", got)
	}
	l.flush()
	if got := trailCommands(t, dir); fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("trail %v after the flush", got)
	}
	if got := appends(); fmt.Sprint(got) != "[[a b c]]" {
		t.Errorf("appends %v", got)
	}
	l.flush() // nothing queued: no append
	if got := appends(); len(got) != 1 {
		t.Errorf("appends %v", got)
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
}

// On a busy server (an append ended less than quietGap ago) flush leaves
// the queue to the gathering goroutine, which writes it in one append.
func TestAuditLogBusyServerGathers(t *testing.T) {
	l, dir, appends := testAuditLog(t)
	l.write(record("a"), 0)
	l.flush() // quiet: written at once
	if got := appends(); fmt.Sprint(got) != "[[a]]" {
		t.Fatalf("appends %v", got)
	}
	l.mu.Lock()
	l.lastEnd = time.Now().Add(time.Hour) // busy for the rest of the test
	l.mu.Unlock()
	l.write(record("b"), 0)
	l.write(record("c"), 0)
	l.flush()
	waitFor(t, "the gathered append", func() bool { return len(appends()) == 2 })
	if got := appends(); fmt.Sprint(got) != "[[a] [b c]]" {
		t.Fatalf("appends %v", got)
	}
	l.write(record("d"), 0)
	l.flush()
	if err := l.close(); err != nil { // close writes what is still gathering
		t.Fatal(err)
	}
	if got := trailCommands(t, dir); fmt.Sprint(got) != "[a b c d]" {
		t.Fatalf("trail %v", got)
	}
}

// close writes what is queued; a write after close fails.
func TestAuditLogCloseWritesTheQueue(t *testing.T) {
	l, dir, _ := testAuditLog(t)
	l.write(record("a"), 0)
	l.write(record("b"), 0)
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	if got := trailCommands(t, dir); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("trail %v after close", got)
	}
	if err := l.write(record("c"), 0); !errors.Is(err, errAuditClosed) {
		t.Errorf("write after close: %v", err)
	}
	if err := l.write(record("d"), time.Second); !errors.Is(err, errAuditClosed) {
		t.Errorf("waiting write after close: %v", err)
	}
	if err := l.close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// A full queue is written by the next write rather than dropped or grown
// without bound.
func TestAuditLogFullQueueIsWritten(t *testing.T) {
	l, dir, appends := testAuditLog(t)
	n := maxAuditBatch + 10
	for i := range n {
		if err := l.write(record(fmt.Sprint(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := appends(); len(got) != 1 || len(got[0]) != maxAuditBatch {
		t.Fatalf("%d appends before the flush", len(got))
	}
	l.flush()
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	got := trailCommands(t, dir)
	if len(got) != n {
		t.Fatalf("%d records for %d writes", len(got), n)
	}
	for i, c := range got {
		if c != fmt.Sprint(i) {
			t.Fatalf("record %d is %s: out of order", i, c)
		}
	}
}

// Many goroutines writing, waiting or not, and flushing: every record is
// written once, the chain verifies, and each waiting write returned only
// after its record was appended.
func TestAuditLogConcurrentWriters(t *testing.T) {
	l, dir, appends := testAuditLog(t)
	var wg sync.WaitGroup
	const goroutines, each = 8, 200
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				wait := time.Duration(0)
				if (g+i)%2 == 0 {
					wait = time.Minute
				}
				if err := l.write(record(fmt.Sprintf("%d-%d", g, i)), wait); err != nil {
					t.Error(err)
					return
				}
				if wait == 0 {
					l.flush()
				}
			}
		}()
	}
	wg.Wait()
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(dir)
	if err != nil || !rep.OK || rep.Records != goroutines*each {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	seen := map[string]int{}
	for _, c := range trailCommands(t, dir) {
		seen[c]++
	}
	for c, n := range seen {
		if n != 1 {
			t.Errorf("%s written %d times", c, n)
		}
	}
	var batched int
	for _, a := range appends() {
		batched += len(a)
	}
	if batched != goroutines*each || len(seen) != goroutines*each {
		t.Errorf("%d records in appends, %d distinct, want %d", batched, len(seen), goroutines*each)
	}
}
