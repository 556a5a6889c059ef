package cli

import (
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/audit"
)

func TestAuditSearch(t *testing.T) {
	e := newAuditEnv(t, nil)
	writeTrail(t, e.dir, audit.Options{}, sampleTrail()...)
	stored := trailLines(t, e.dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, lines(sampleLines...)},
		{[]string{"--decision", "deny"}, lines(sampleLines[2], sampleLines[3], sampleLines[7])},
		{[]string{"--decision", "deny", "--limit", "1"}, lines(sampleLines[2])},
		{[]string{"--decision", "DENY", "--decision", "ask"}, lines(sampleLines[2], sampleLines[3], sampleLines[5], sampleLines[7])},
		{[]string{"--contains", ".SSH"}, lines(sampleLines[3])},
		{[]string{"--contains", "destructive"}, lines(sampleLines[2])}, // in the message
		{[]string{"--policy", "custom"}, lines(sampleLines[7])},
		{[]string{"--rule", "block-destructive,log-fetch"}, lines(sampleLines[2], sampleLines[4])},
		{[]string{"--event", "outcome,approval"}, lines(sampleLines[1], sampleLines[6])},
		{[]string{"--session", "s2", "--tool", "fetch"}, lines(sampleLines[4])},
		// The zone of a date without one is the local zone (testLoc, UTC+1).
		{[]string{"--since", "2026-11-24T11:00", "--until", "2026-11-24T12:00"}, lines(sampleLines[3], sampleLines[4])},
		{[]string{"--since", "2026-11-24T10:00:00Z", "--until", "2026-11-24T10:05:00Z"}, lines(sampleLines[3])},
		{[]string{"--since", "1h"}, lines(sampleLines[5:]...)},
		{[]string{"--since", "today"}, lines(sampleLines...)},
		{[]string{"--since", "yesterday", "--until", "today"}, ""},
		{[]string{"--agent", "cursor", "--json"}, lines(stored[3], stored[4])},
	} {
		args := append([]string{"audit", "search"}, c.args...)
		if code := e.run(args...); code != ExitOK {
			t.Errorf("%q: exit %d: %s", c.args, code, e.err)
			continue
		}
		if got := e.out.String(); got != c.want {
			t.Errorf("%q:\n%s\nwant:\n%s", c.args, got, c.want)
		}
	}

	if code := e.run("audit", "search", "--agent", "nobody"); code != ExitOK || e.out.Len() != 0 || e.err.String() != "rampart: no records match\n" {
		t.Errorf("no match: exit %d, %q, %q", code, e.out, e.err)
	}
	empty := newAuditEnv(t, nil)
	if code := empty.run("audit", "search"); code != ExitOK || !strings.Contains(empty.err.String(), "no audit records yet") {
		t.Errorf("empty trail: exit %d, %q", code, empty.err)
	}
}

func TestAuditFilterUsageErrors(t *testing.T) {
	e := newAuditEnv(t, nil)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"search", "--decision", "deny,alow"}, `--decision: unknown value "alow" (did you mean "allow"?); want allow, deny, ask, log`},
		{[]string{"tail", "--event", "outcomes"}, `--event: unknown value "outcomes" (did you mean "outcome"?)`},
		{[]string{"stats", "--since", "last tuesday"}, `--since: cannot read "last tuesday" as a duration or a date and time`},
		{[]string{"search", "--since", "1h", "--until", "2h"}, "--since 1h is not before --until 2h"},
		{[]string{"search", "--limit", "-2"}, "--limit: want 0 (no limit) or more"},
		{[]string{"stats", "--top", "-1"}, "--top: want 0 or more"},
		{[]string{"verify", "extra"}, "takes no arguments"},
		{[]string{"vrify"}, `did you mean "rampart audit verify"?`},
	} {
		args := append([]string{"audit"}, c.args...)
		if code := e.run(args...); code != ExitUsage || !strings.Contains(e.err.String(), c.want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit 64 and %q", c.args, code, e.err, c.want)
		}
	}
}

func TestAuditStats(t *testing.T) {
	e := newAuditEnv(t, nil)
	writeTrail(t, e.dir, audit.Options{}, sampleTrail()...)
	if code := e.run("audit", "stats", "--json"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, e.err)
	}
	want := `{"records":8,"unreadable":0,"first":"2026-11-24T09:00:00Z","last":"2026-11-24T11:30:00Z",` +
		`"events":{"approval":1,"decision":6,"outcome":1},"decisions":6,` +
		`"by_decision":{"allow":1,"ask":1,"deny":3,"log":1},` +
		`"by_tool":{"exec":3,"fetch":1,"mcp":1,"read":1},"by_agent":{"(none)":1,"claude-code":3,"cursor":2},` +
		`"top_denied":[{"policy":"custom","rule":"no-deletes","count":1},{"policy":"standard","rule":"block-credentials","count":1},{"policy":"standard","rule":"block-destructive","count":1}],` +
		`"top_asked":[{"policy":"standard","rule":"ask-sudo","count":1}],` +
		`"per_day":[{"day":"2026-11-24","records":8,"allow":1,"deny":3,"ask":1,"log":1}]}` + "\n"
	if got := e.out.String(); got != want {
		t.Errorf("stats --json:\n%s\nwant:\n%s", got, want)
	}

	if code := e.run("audit", "stats", "--top", "2"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, e.err)
	}
	wantText := `audit trail DIR: 8 records from 2026-11-24 10:00 to 2026-11-24 12:30
events: decision 6, outcome 1, approval 1

decisions: 6
  allow  1  16.7%
  deny   3  50.0%
  ask    1  16.7%
  log    1  16.7%

by tool:
  exec   3
  fetch  1
  mcp    1
  read   1

by agent:
  claude-code  3
  cursor       2
  (none)       1

rules that denied most:
       1  custom/no-deletes
       1  standard/block-credentials

rules that asked most:
       1  standard/ask-sudo

per day:
  day         records  allow  deny  ask  log
  2026-11-24        8      1     3    1    1
`
	if got := strings.ReplaceAll(e.out.String(), e.dir, "DIR"); got != wantText {
		t.Errorf("stats:\n%s\nwant:\n%s", got, wantText)
	}

	// Filters apply before counting.
	if code := e.run("audit", "stats", "--json", "--agent", "cursor"); code != ExitOK ||
		!strings.Contains(e.out.String(), `"records":2,`) || !strings.Contains(e.out.String(), `"by_decision":{"allow":0,"ask":0,"deny":1,"log":1}`) {
		t.Errorf("stats --agent cursor: %s", e.out)
	}
	empty := newAuditEnv(t, nil)
	if code := empty.run("audit", "stats"); code != ExitOK || empty.out.String() != "audit trail "+empty.dir+": no matching records\n" {
		t.Errorf("empty: exit %d, %q", code, empty.out)
	}
	if code := empty.run("audit", "stats", "--json"); code != ExitOK ||
		empty.out.String() != `{"records":0,"unreadable":0,"events":{},"decisions":0,"by_decision":{"allow":0,"ask":0,"deny":0,"log":0},"by_tool":{},"by_agent":{},"top_denied":[],"top_asked":[],"per_day":[]}`+"\n" {
		t.Errorf("empty --json: exit %d, %s", code, empty.out)
	}
}
