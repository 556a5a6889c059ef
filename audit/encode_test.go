package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The hand-written encoder writes exactly what encoding/json writes.
func FuzzAppendRecordJSON(f *testing.F) {
	f.Add("git status", "/tmp/x", "standard", int64(3), 0, "a\x00b\"c\\d<e>&\u2028\xff\n\t\b\f")
	f.Add("", "", "", int64(0), -1, "")
	f.Fuzz(func(t *testing.T, command, path, policy string, eval int64, exit int, text string) {
		r := &Record{
			Time: time.Unix(1700000000, eval).UTC(), Seq: uint64(eval), ID: text, PrevID: policy, Event: EventDecision,
			Adapter: text, Agent: command, Session: path, Tool: "exec", Command: command, Path: path, URL: text,
			Name: text, Cwd: path, ContentBytes: exit, ToolUseID: text, Decision: "deny", Policy: policy, Rule: text,
			Message: text, Matched: command, EvalUS: eval, Error: text, ApprovalID: policy, ApprovedBy: text,
			PrevHash: policy, Hash: text,
		}
		if exit >= 0 {
			r.ExitCode = &exit
			r.DurationMS = &eval
			r.Argv = []string{command, text, path}
			r.Torn = &Torn{File: path, Line: exit, Bytes: int(eval)}
			r.Cached = true
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Skip()
		}
		if got := appendRecordJSON(nil, r); !bytes.Equal(got, want) {
			t.Fatalf("encoder differs from encoding/json:\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	r := &Record{Time: time.Now(), Tool: "exec", Command: "git status", Decision: "allow", Agent: "claude-code"}
	for i := 0; i < b.N; i++ {
		seal(r)
	}
}
