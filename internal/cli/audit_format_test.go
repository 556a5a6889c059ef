package cli

import (
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
)

func TestRecordLine(t *testing.T) {
	two := 2
	for _, c := range []struct {
		name string
		r    audit.Record
		want string
	}{
		{"argv only", audit.Record{Tool: "exec", Argv: []string{"git", "commit", "-m", "it's done", ""}, Decision: "allow"},
			`Nov 24 10:00:00  -            exec   allow  git commit -m 'it'\''s done' ''`},
		{"default action", audit.Record{Agent: "a-very-long-agent-name", Tool: "write", Path: "/tmp/x", Decision: "ask"},
			"Nov 24 10:00:00  a-very-long-agent-name write  ask    /tmp/x"},
		{"rule without policy", audit.Record{Tool: "edit", Path: "p", Decision: "deny", Rule: "r"},
			"Nov 24 10:00:00  -            edit   deny   p  (r)"},
		{"outcome error", audit.Record{Event: audit.EventOutcome, Tool: "exec", Command: "false", ExitCode: &two, Error: "exit status 2"},
			"Nov 24 10:00:00  -            exec   ran    false  (error: exit status 2)"},
		{"approval without details", audit.Record{Event: audit.EventApproval, Tool: "exec", Command: "x"},
			"Nov 24 10:00:00  -            exec   -      x  (approval)"},
		{"control characters are shown, not obeyed", audit.Record{Agent: "evil\x1b[2J", Tool: "exec",
			Command: "echo hi\n\x1b]0;title\x07\u202egnp.exe\x9b", Decision: "allow", Message: "x"},
			`Nov 24 10:00:00  evil\x1b[2J  exec   allow  echo hi\n\x1b]0;title\x07\u202egnp.exe\x9b`},
		{"control characters in the decision", audit.Record{Tool: "exec", Command: "ls", Decision: "allow\x1b[2J"},
			`Nov 24 10:00:00  -            exec   allow\x1b[2J  ls`},
		{"invalid UTF-8", audit.Record{Tool: "read", Path: "a\xffb", Decision: "allow"},
			`Nov 24 10:00:00  -            read   allow  a\xffb`},
	} {
		c.r.Time = at(9, 0)
		if got := (recordStyle{Loc: testLoc}).line(&c.r); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}

	r := audit.Record{Time: at(9, 0), Tool: "exec", Command: "ls", Decision: "deny", Policy: "p", Rule: "r"}
	want := "Nov 24 10:00:00  -            exec   \x1b[31mdeny \x1b[0m  ls  (p/r)"
	if got := (recordStyle{Loc: testLoc, Color: true}).line(&r); got != want {
		t.Errorf("coloured:\n got %q\nwant %q", got, want)
	}
}

func TestParseTimeFlag(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC) // 01:30 in testLoc
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"90s", now.Add(-90 * time.Second)},
		{"1h30m", now.Add(-90 * time.Minute)},
		{"2d", now.Add(-48 * time.Hour)},
		{"1w", now.Add(-7 * 24 * time.Hour)},
		{"today", time.Date(2026, 11, 24, 0, 0, 0, 0, testLoc)},
		{"Yesterday", time.Date(2026, 11, 23, 0, 0, 0, 0, testLoc)},
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, testLoc)},
		{"2026-11-20T08:15", time.Date(2026, 11, 20, 8, 15, 0, 0, testLoc)},
		{"2026-11-20 08:15:09", time.Date(2026, 11, 20, 8, 15, 9, 0, testLoc)},
		{"2026-11-20T08:15:09Z", time.Date(2026, 11, 20, 8, 15, 9, 0, time.UTC)},
		{"2026-11-20T08:15:09.5-05:00", time.Date(2026, 11, 20, 13, 15, 9, 5e8, time.UTC)},
	} {
		got, err := parseTimeFlag("--since", c.in, now, testLoc)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%q: %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"-1h", "1y", "d", "2026-13-01", "soon", "-2d"} {
		if _, err := parseTimeFlag("--since", bad, now, testLoc); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestFilterDescribe(t *testing.T) {
	f := FilterOptions{Decisions: []string{"deny", " ask"}, Agents: []string{"cursor"}, Since: "1h", Contains: "a b"}
	if got, want := f.describe(), `decision=deny,ask agent=cursor since=1h contains="a b"`; got != want {
		t.Errorf("describe: %q, want %q", got, want)
	}
}
