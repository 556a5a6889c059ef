package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestQueryMatch(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	rec := &Record{Time: t0, Event: EventDecision, Agent: "claude-code", Session: "s1", Tool: "exec",
		Command: "rm -rf /tmp/Build", Argv: []string{"rm", "-rf", "/tmp/Build"}, Decision: "deny",
		Policy: "standard", Rule: "block-destructive", Message: "Destructive command"}
	for _, c := range []struct {
		name string
		q    Query
		want bool
	}{
		{"zero query selects all", Query{}, true},
		{"decision one of", Query{Decisions: []string{"allow", "deny"}}, true},
		{"decision other", Query{Decisions: []string{"allow"}}, false},
		{"case is ignored", Query{Agents: []string{"Claude-Code"}, Tools: []string{"EXEC"}}, true},
		{"agent other", Query{Agents: []string{"cursor"}}, false},
		{"session", Query{Sessions: []string{"s1"}}, true},
		{"policy and rule", Query{Policies: []string{"standard"}, Rules: []string{"block-destructive"}}, true},
		{"rule other", Query{Rules: []string{"x"}}, false},
		{"event", Query{Events: []string{EventOutcome}}, false},
		{"since is inclusive", Query{Since: t0}, true},
		{"since after", Query{Since: t0.Add(time.Second)}, false},
		{"until is exclusive", Query{Until: t0}, false},
		{"until after", Query{Until: t0.Add(time.Second)}, true},
		{"contains command", Query{Contains: "/TMP/build"}, true},
		{"contains message", Query{Contains: "destructive"}, true},
		{"contains nothing", Query{Contains: "ssh"}, false},
		{"all must match", Query{Decisions: []string{"deny"}, Agents: []string{"cursor"}}, false},
	} {
		if got := c.q.Match(rec); got != c.want {
			t.Errorf("%s: Match = %v, want %v", c.name, got, c.want)
		}
	}
	if (&Query{}).Match(nil) {
		t.Errorf("a nil record matched")
	}
	argvOnly := &Record{Tool: "exec", Argv: []string{"curl", "https://x.example"}}
	if !(&Query{Contains: "x.example"}).Match(argvOnly) {
		t.Errorf("contains does not look into argv")
	}
}

func TestLastAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{MaxFileBytes: 600})
	for i := 1; i <= 12; i++ {
		d := "allow"
		if i%3 == 0 {
			d = "deny"
		}
		if err := w.Append(&Record{Tool: "exec", Command: fmt.Sprintf("cmd %d", i), Decision: d}); err != nil {
			t.Fatal(err)
		}
	}
	files := mustFiles(t, dir)
	if len(files) < 3 {
		t.Fatalf("want several files, got %v", files)
	}

	got, cur, err := Last(dir, 5, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if s := commands(got); s != "cmd 8,cmd 9,cmd 10,cmd 11,cmd 12" {
		t.Errorf("last 5: %s", s)
	}
	last := files[len(files)-1]
	fi, err := os.Stat(filepath.Join(dir, last))
	if err != nil {
		t.Fatal(err)
	}
	if cur.File != last || cur.Offset != fi.Size() || cur.Line != strings.Count(readFile(t, dir, last), "\n") {
		t.Errorf("cursor %+v, want the end of %s (%d bytes)", cur, last, fi.Size())
	}
	for _, s := range got {
		if !strings.HasPrefix(string(s.Raw), `{"time":`) || s.Record.Command == "" || s.Line < 1 {
			t.Errorf("stored %+v", s)
		}
	}

	got, _, _ = Last(dir, 3, Query{Decisions: []string{"deny"}})
	if s := commands(got); s != "cmd 6,cmd 9,cmd 12" {
		t.Errorf("last 3 denied: %s", s)
	}
	got, _, _ = Last(dir, 100, Query{})
	if len(got) != 12 || got[0].Record.Seq != 1 {
		t.Errorf("last 100 of 12: %d records", len(got))
	}
	got, cur, _ = Last(dir, 0, Query{})
	if len(got) != 0 || cur.File != last {
		t.Errorf("last 0: %d records, cursor %+v", len(got), cur)
	}
	got, cur, err = Last(filepath.Join(dir, "missing"), 5, Query{})
	if err != nil || len(got) != 0 || cur != (Cursor{}) {
		t.Errorf("missing folder: %v %v %+v", got, err, cur)
	}
}

// TestFollowAcrossRotation appends records while Follow runs, across file
// rotation, and checks that every record arrives once, in order.
func TestFollowAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{MaxFileBytes: 500})
	appendN(t, w, 2, "before")
	_, cur, err := Last(dir, 0, Query{})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const total = 15
	got := make(chan string, total)
	done := make(chan error, 1)
	go func() {
		_, err := Follow(ctx, dir, cur, 5*time.Millisecond, func(e Entry) error {
			if e.Record == nil {
				return fmt.Errorf("unexpected line %s:%d %q", e.File, e.Line, e.Raw)
			}
			got <- e.Record.Command
			if len(got) == cap(got) {
				return ErrStop
			}
			return nil
		})
		done <- err
	}()
	for i := 0; i < total; i++ {
		if err := w.Append(&Record{Tool: "exec", Command: fmt.Sprintf("after %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("follow did not see every record before the deadline")
	}
	close(got)
	i := 0
	for cmd := range got {
		if want := fmt.Sprintf("after %d", i); cmd != want {
			t.Fatalf("record %d is %q, want %q", i, cmd, want)
		}
		i++
	}
	if n := len(mustFiles(t, dir)); n < 3 {
		t.Fatalf("the trail did not rotate (%d files)", n)
	}
}

// TestFollowEmptyTrail starts before the folder exists and sees the first
// record, and a line written in two pieces only once it is whole.
func TestFollowEmptyTrail(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := make(chan *Record, 1)
	go func() {
		Follow(ctx, dir, Cursor{}, 5*time.Millisecond, func(e Entry) error {
			got <- e.Record
			return ErrStop
		})
	}()
	w := openTest(t, dir, Options{})
	appendN(t, w, 1, "first")
	select {
	case r := <-got:
		if r == nil || r.Command != "first 0" {
			t.Fatalf("got %+v", r)
		}
	case <-ctx.Done():
		t.Fatal("follow did not see the first record")
	}

	// A whole line written in two writes arrives once, whole.
	_, cur, _ := Last(dir, 0, Query{})
	path := filepath.Join(dir, cur.File)
	appendN(t, w, 1, "second")
	data := readFile(t, dir, cur.File)
	line := data[cur.Offset:]
	if err := os.WriteFile(path, []byte(data[:cur.Offset]+line[:10]), 0o600); err != nil {
		t.Fatal(err)
	}
	// A done context makes Follow read once and return.
	stopped, stop := context.WithCancel(context.Background())
	stop()
	var n int
	cur2, err := Follow(stopped, dir, cur, time.Millisecond, func(Entry) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 || cur2 != cur {
		t.Fatalf("a partial line was read: %d entries, cursor %+v", n, cur2)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	var cmds []string
	cur2, _ = Follow(stopped, dir, cur, time.Millisecond, func(e Entry) error { cmds = append(cmds, e.Record.Command); return nil })
	if strings.Join(cmds, ",") != "second 0" || cur2.Offset != int64(len(data)) || cur2.Line != cur.Line+1 {
		t.Fatalf("after completing the line: %q, cursor %+v", cmds, cur2)
	}
}

func commands(s []Stored) string {
	var out []string
	for _, x := range s {
		out = append(out, x.Record.Command)
	}
	return strings.Join(out, ",")
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestQueryFiles(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	w := openTest(t, dir, Options{Now: c.now, MaxFileBytes: 400})
	for _, day := range []int{1, 1, 1, 5, 6, 20} {
		c.t = time.Date(2026, 11, day, 12, 0, 0, 0, time.UTC)
		if err := w.Append(&Record{Tool: "exec", Command: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	all := mustFiles(t, dir)
	d := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		q    Query
		want string
	}{
		{Query{}, strings.Join(all, ",")},
		{Query{Since: d(6, 1)}, "2026-11-05.jsonl,2026-11-06.jsonl,2026-11-20.jsonl"},
		{Query{Since: d(6, 0)}, "2026-11-01.1.jsonl,2026-11-05.jsonl,2026-11-06.jsonl,2026-11-20.jsonl"}, // a day of slack
		{Query{Since: d(19, 0)}, "2026-11-06.jsonl,2026-11-20.jsonl"},                                    // the 6th's file runs until the 20th
		{Query{Since: d(25, 0)}, "2026-11-20.jsonl"},
		{Query{Until: d(2, 0)}, strings.Join(all[:len(all)-3], ",")},
		{Query{Since: d(5, 12), Until: d(5, 13)}, "2026-11-01.1.jsonl,2026-11-05.jsonl,2026-11-06.jsonl"},
	} {
		got, err := c.q.Files(dir)
		if err != nil || strings.Join(got, ",") != c.want {
			t.Errorf("since %v until %v: %v %v, want %s", c.q.Since, c.q.Until, got, err, c.want)
		}
	}
}
