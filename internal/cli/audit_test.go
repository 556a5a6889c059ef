package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
)

// The audit command tests show times in testLoc (one hour east of UTC, so
// a test sees the conversion) and count --since from testNow.
var (
	testLoc = time.FixedZone("TEST", 3600)
	testNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
)

// at is a time on testNow's day, hh:mm UTC.
func at(hour, minute int) time.Time {
	return time.Date(2026, 11, 24, hour, minute, 0, 0, time.UTC)
}

// writeTrail appends recs to the audit folder dir through the real writer.
func writeTrail(t *testing.T, dir string, opts audit.Options, recs ...*audit.Record) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	w, err := audit.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, r := range recs {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
}

// sampleTrail is a small trail of decisions, an outcome and an approval.
func sampleTrail() []*audit.Record {
	exit0, ms := 0, int64(1200)
	return []*audit.Record{
		{Time: at(9, 0), Agent: "claude-code", Session: "s1", Tool: "exec", Command: "git status", Decision: "allow"},
		{Time: at(9, 1), Event: audit.EventOutcome, Agent: "claude-code", Session: "s1", Tool: "exec", Command: "git status", ExitCode: &exit0, DurationMS: &ms},
		{Time: at(9, 2), Agent: "claude-code", Session: "s1", Tool: "exec", Command: "rm -rf /", Decision: "deny", Policy: "standard", Rule: "block-destructive", Message: "Destructive command"},
		{Time: at(10, 0), Agent: "cursor", Session: "s2", Tool: "read", Path: "/home/u/.ssh/id_rsa", Decision: "deny", Policy: "standard", Rule: "block-credentials"},
		{Time: at(10, 5), Agent: "cursor", Session: "s2", Tool: "fetch", URL: "https://example.com/x.sh", Decision: "log", Policy: "standard", Rule: "log-fetch"},
		{Time: at(11, 0), Agent: "claude-code", Session: "s1", Tool: "exec", Command: "sudo apt install jq", Decision: "ask", Policy: "standard", Rule: "ask-sudo"},
		{Time: at(11, 1), Event: audit.EventApproval, Agent: "claude-code", Session: "s1", Tool: "exec", Command: "sudo apt install jq", Decision: "allow", ApprovalID: "ap1", ApprovedBy: "alice"},
		{Time: at(11, 30), Tool: "mcp", Name: "mcp__github__delete_repository", Decision: "deny", Policy: "custom", Rule: "no-deletes"},
	}
}

// auditEnv is a throwaway Rampart home with its audit folder.
type auditEnv struct {
	proc     *Process
	out, err *bytes.Buffer
	dir      string // the audit folder
}

func newAuditEnv(t *testing.T, env map[string]string) *auditEnv {
	t.Helper()
	proc, out, errOut := testProcess(t, env)
	return &auditEnv{proc: proc, out: out, err: errOut, dir: audit.DefaultDir(proc.RampartHome())}
}

// run runs a rampart command line with the test clock and zone, and
// returns the exit code.
func (e *auditEnv) run(args ...string) int { return e.runCtx(context.Background(), args...) }

// runCtx is run with ctx for the commands that follow the trail.
func (e *auditEnv) runCtx(ctx context.Context, args ...string) int {
	e.out.Reset()
	e.err.Reset()
	root := NewCmdRoot(e.proc)
	group, _, err := root.Find([]string{"audit"})
	if err != nil || group.Name() != "audit" {
		panic("no audit command")
	}
	for _, c := range group.Commands() {
		group.RemoveCommand(c)
	}
	group.AddCommand(
		NewCmdAuditVerify(e.proc, nil),
		NewCmdAuditTail(e.proc, func(o *AuditTailOptions) error {
			o.Now, o.Location, o.Poll, o.Context = func() time.Time { return testNow }, testLoc, 5*time.Millisecond, ctx
			return auditTailRun(o)
		}),
		NewCmdAuditSearch(e.proc, func(o *AuditSearchOptions) error {
			o.Now, o.Location = func() time.Time { return testNow }, testLoc
			return auditSearchRun(o)
		}),
		NewCmdAuditStats(e.proc, func(o *AuditStatsOptions) error {
			o.Now, o.Location = func() time.Time { return testNow }, testLoc
			return auditStatsRun(o)
		}),
	)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		return report(e.proc.Err, err)
	}
	return ExitOK
}

// syncBuffer is an output that a command writes to while a test waits for
// what it expects.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the output satisfies ok, or ctx is done; it returns
// the output and whether it did.
func (s *syncBuffer) waitFor(ctx context.Context, ok func(string) bool) (string, bool) {
	for {
		if out := s.String(); ok(out) {
			return out, true
		}
		select {
		case <-s.changed:
		case <-ctx.Done():
			return s.String(), false
		}
	}
}

// trailLines returns the lines of the audit files in dir, in chain order.
func trailLines(t *testing.T, dir string) []string {
	t.Helper()
	files, err := audit.Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")...)
	}
	return lines
}
