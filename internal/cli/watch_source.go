package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/audit"
)

// watchEvent is one thing a watch source reports; one field is set.
type watchEvent struct {
	Record *audit.Record // a new record of the trail
	// Approval is an approval that changed state; Approvals, when Snapshot
	// is set, is every pending approval (sent on connecting).
	Approval  *approval
	Approvals []approval
	Snapshot  bool
	Reload    *reloadEvent
	// Notice is news about the source; Warning marks bad news. Source,
	// when set, is the new description of where events come from, and
	// Offline says approvals can no longer be answered.
	Notice  string
	Warning bool
	Source  string
	Offline bool
}

// fileSource follows the audit files.
type fileSource struct {
	dir  string
	poll time.Duration
	// afterSeq, when not zero, starts at the newest file instead of the
	// end, skipping records up to it: what a server that went away may
	// have written before watch switched to the files.
	afterSeq uint64
	cur      *audit.Cursor // where to start; set by begin
}

func (f *fileSource) describe() string { return "audit files in " + f.dir }

// begin fixes where following starts: the end of the trail now (or the
// start of its newest file, with afterSeq). Records appended after begin
// returns are all reported.
func (f *fileSource) begin() error {
	_, cur, err := audit.Last(f.dir, 0, audit.Query{})
	if err != nil {
		return err
	}
	if f.afterSeq > 0 && cur.File != "" {
		cur = audit.Cursor{File: cur.File}
	}
	f.cur = &cur
	return nil
}

func (f *fileSource) run(ctx context.Context, emit func(watchEvent)) error {
	if f.cur == nil {
		if err := f.begin(); err != nil {
			return err
		}
	}
	_, err := audit.Follow(ctx, f.dir, *f.cur, f.poll, func(e audit.Entry) error {
		if e.Record != nil && e.Record.Seq > f.afterSeq {
			emit(watchEvent{Record: e.Record})
		}
		return nil
	})
	return err
}

// serverSource reads the server's event stream, reconnects when it drops,
// and falls back to the audit files when the server stays away.
type serverSource struct {
	client  *serverClient
	files   *fileSource
	backoff time.Duration // the first wait before reconnecting
	retries int           // reconnects before falling back to the files
	lastSeq uint64        // the last record seen
}

func (s *serverSource) describe() string { return "server " + s.client.Label + " (live events)" }

func (s *serverSource) run(ctx context.Context, emit func(watchEvent)) error {
	wait, failures, lost := s.backoff, 0, false
	for {
		connected := false
		err := s.client.events(ctx, func() {
			connected = true
			if lost {
				emit(watchEvent{Notice: "reconnected to " + s.client.Label, Source: s.describe()})
			}
			failures, wait, lost = 0, s.backoff, false
			s.sendApprovals(ctx, emit)
		}, func(m sseMessage) error {
			s.dispatch(m, emit)
			return nil
		})
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errUnauthorized) {
			return s.fallBack(ctx, emit, fmt.Sprintf("the server at %s refused the token; check RAMPART_TOKEN or the token file", s.client.Label))
		}
		if !connected {
			failures++
		}
		if failures > s.retries {
			return s.fallBack(ctx, emit, fmt.Sprintf("the server at %s is gone (%v)", s.client.Label, err))
		}
		lost = true
		emit(watchEvent{Warning: true, Offline: true, Source: "server " + s.client.Label + " (reconnecting)",
			Notice: fmt.Sprintf("lost the server at %s (%v); reconnecting in %s", s.client.Label, err, wait)})
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// fallBack switches to following the audit files, saying why.
func (s *serverSource) fallBack(ctx context.Context, emit func(watchEvent), why string) error {
	s.files.afterSeq, s.files.cur = s.lastSeq, nil
	emit(watchEvent{Warning: true, Offline: true, Source: s.files.describe(),
		Notice: why + "; following the " + s.files.describe() + " instead"})
	return s.files.run(ctx, emit)
}

// sendApprovals reports the pending approvals after (re)connecting.
func (s *serverSource) sendApprovals(ctx context.Context, emit func(watchEvent)) {
	list, err := s.client.approvals(ctx)
	if err != nil {
		emit(watchEvent{Warning: true, Notice: "cannot list pending approvals: " + err.Error()})
		return
	}
	emit(watchEvent{Approvals: list, Snapshot: true})
}

// dispatch decodes one message of the event stream. Messages it does not
// know or cannot decode are reported, not fatal: the server may be newer.
func (s *serverSource) dispatch(m sseMessage, emit func(watchEvent)) {
	if n, ok := strings.CutPrefix(m.Comment, "dropped "); ok {
		emit(watchEvent{Warning: true, Notice: "the server skipped " + printable(n) + " for this watch, which fell behind"})
		return
	}
	var err error
	switch m.Event {
	case "decision":
		r := new(audit.Record)
		if err = json.Unmarshal([]byte(m.Data), r); err == nil {
			s.lastSeq = max(s.lastSeq, r.Seq)
			emit(watchEvent{Record: r})
		}
	case "approval":
		a := new(approval)
		if err = json.Unmarshal([]byte(m.Data), a); err == nil {
			emit(watchEvent{Approval: a})
		}
	case "reload":
		r := new(reloadEvent)
		if err = json.Unmarshal([]byte(m.Data), r); err == nil {
			emit(watchEvent{Reload: r})
		}
	default:
		return
	}
	if err != nil {
		emit(watchEvent{Warning: true, Notice: fmt.Sprintf("cannot read a %q event from the server: %v", m.Event, err)})
	}
}

// pendingList keeps the pending approvals, oldest first.
type pendingList []approval

// apply updates the list with one approval's new state.
func (p pendingList) apply(a approval) pendingList {
	i := slices.IndexFunc(p, func(x approval) bool { return x.ID == a.ID })
	switch {
	case a.Status != "pending" && i >= 0:
		return slices.Delete(p, i, i+1)
	case a.Status == "pending" && i >= 0:
		p[i] = a
	case a.Status == "pending":
		p = append(p, a)
		slices.SortStableFunc(p, func(x, y approval) int { return x.Created.Compare(y.Created) })
	}
	return p
}

// approvalRecord is the record an approval's call and decision would make,
// for filtering and printing approvals like records.
func approvalRecord(a approval) *audit.Record {
	r := audit.FromCall("", a.Call, a.Decision, 0)
	r.Time = a.Created
	return r
}
