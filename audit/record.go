// Package audit is Rampart's tamper-evident audit trail: every decision of
// every adapter, appended as one JSON line to files under ~/.rampart/audit/.
//
// Each record carries the hash of the record before it, so editing,
// removing or reordering a record breaks the chain at that point and
// [Verify] names the first broken record. Appends from many processes are
// serialised with a file lock and each record is written with one write(2),
// so a record lands whole or not at all; a tail torn by a crash is fenced
// off by the next writer and reported, never silently dropped. Files rotate
// by day (UTC) and size without breaking the chain.
//
// The chain proves the trail was not edited after the fact by someone who
// cannot recompute every later hash; it cannot stop someone with write
// access to the files from rewriting the whole chain. Ship the head hash
// (rampart audit verify --json) somewhere else to close that gap.
package audit

import (
	"time"

	"github.com/rampart-dev/rampart/engine"
)

// Events a record can describe.
const (
	// EventDecision is a decision of the engine on a tool call.
	EventDecision = "decision"
	// EventOutcome is what happened when an allowed tool call ran (exit
	// code, duration, error), as an agent's post-tool hook reports it.
	EventOutcome = "outcome"
	// EventApproval is a human's answer to an ask decision.
	EventApproval = "approval"
)

// Record is one line of the audit trail. The chain fields (Seq, ID, PrevID,
// PrevHash, Hash) are filled in by [Writer.Append]; callers set the rest.
type Record struct {
	Time    time.Time `json:"time"`
	Seq     uint64    `json:"seq"`
	ID      string    `json:"id"`
	PrevID  string    `json:"prev_id,omitempty"`
	Event   string    `json:"event"`
	Adapter string    `json:"adapter,omitempty"`
	Agent   string    `json:"agent,omitempty"`
	Session string    `json:"session,omitempty"`

	// The tool call (secrets redacted; written content is never stored,
	// only its size).
	Tool         string   `json:"tool,omitempty"`
	Command      string   `json:"command,omitempty"`
	Argv         []string `json:"argv,omitempty"`
	Path         string   `json:"path,omitempty"`
	URL          string   `json:"url,omitempty"`
	Name         string   `json:"name,omitempty"`
	Cwd          string   `json:"cwd,omitempty"`
	ContentBytes int      `json:"content_bytes,omitempty"`
	ToolUseID    string   `json:"tool_use_id,omitempty"`

	// The decision.
	Decision string `json:"decision,omitempty"`
	Policy   string `json:"policy,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Message  string `json:"message,omitempty"`
	Matched  string `json:"matched,omitempty"`
	EvalUS   int64  `json:"eval_us,omitempty"`
	// Cached: the call ran on an allow the server had published for
	// exactly this call (rampart preload's allow table), without asking;
	// the record was sent right after. The decision is the one published.
	Cached bool `json:"cached,omitempty"`

	// The outcome (EventOutcome) or the approval (EventApproval).
	ExitCode   *int   `json:"exit_code,omitempty"`
	DurationMS *int64 `json:"duration_ms,omitempty"`
	Error      string `json:"error,omitempty"`
	ApprovalID string `json:"approval_id,omitempty"`
	ApprovedBy string `json:"approved_by,omitempty"`

	// Torn, on the first record written after a crash, describes the
	// fragment of a record that the crash left behind (see [Verify]).
	Torn *Torn `json:"torn,omitempty"`

	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// Torn describes a partial record that a crashed writer left at the end of
// a file, which the next writer terminated with a newline.
type Torn struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Bytes int    `json:"bytes"`
}

// FromCall builds a decision record for call and d. Content is not copied,
// only its length; [Writer.Append] redacts secrets.
func FromCall(adapter string, call engine.ToolCall, d engine.Decision, eval time.Duration) *Record {
	r := &Record{
		Event:        EventDecision,
		Adapter:      adapter,
		Agent:        call.Agent,
		Session:      call.Session,
		Tool:         call.Tool,
		Command:      call.Command,
		Argv:         call.Argv,
		Path:         call.Path,
		URL:          call.URL,
		Name:         call.Name,
		Cwd:          call.Cwd,
		ContentBytes: len(call.Content),
		Decision:     d.Decision.String(),
		Policy:       d.Policy,
		Rule:         d.Rule,
		Message:      d.Message,
		Matched:      d.Matched,
		EvalUS:       eval.Microseconds(),
	}
	return r
}
