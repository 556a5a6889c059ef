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

// fileSource follows the audit files, which every adapter writes to.
type fileSource struct {
	dir  string
	poll time.Duration
	cur  *audit.Cursor // where to start; set by begin
}

func (f *fileSource) describe() string { return "audit files in " + f.dir }

// begin fixes where following starts: the end of the trail now. Records
// appended after begin returns are all reported.
func (f *fileSource) begin() error {
	_, cur, err := audit.Last(f.dir, 0, audit.Query{})
	if err != nil {
		return err
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
		if e.Record != nil {
			emit(watchEvent{Record: e.Record})
		}
		return nil
	})
	return err
}

// serverSource follows the audit files and, alongside, the server's event
// stream: the files have every adapter's decisions (the hooks and the
// shell wrapper write them directly), the stream has the server's at once
// and the approvals it holds. A decision in both arrives twice; the
// session shows it once (see [recordDedup]). When the stream drops,
// serverSource says so and keeps trying to reconnect.
type serverSource struct {
	client  *watchClient
	files   *fileSource
	backoff time.Duration // the first wait before reconnecting
	retries int           // failed reconnects before saying the server is gone
}

func (s *serverSource) describe() string {
	return "server " + s.client.Label + " and " + s.files.describe()
}

func (s *serverSource) run(ctx context.Context, emit func(watchEvent)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.follow(ctx, emit)
	}()
	err := s.files.run(ctx, emit)
	cancel()
	<-done
	return err
}

// follow reads the event stream until ctx is done, reconnecting with
// backoff when it drops.
func (s *serverSource) follow(ctx context.Context, emit func(watchEvent)) {
	filesOnly := s.files.describe()
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
			return
		}
		if errors.Is(err, errUnauthorized) {
			emit(watchEvent{Warning: true, Offline: true, Source: filesOnly,
				Notice: fmt.Sprintf("the server at %s refused the token (check RAMPART_TOKEN or the token file); showing the %s only", s.client.Label, filesOnly)})
			return
		}
		if !connected {
			failures++
		}
		switch {
		case !lost:
			lost = true
			emit(watchEvent{Warning: true, Offline: true, Source: "server " + s.client.Label + " (reconnecting) and " + filesOnly,
				Notice: fmt.Sprintf("lost the server at %s (%v); reconnecting", s.client.Label, err)})
		case failures == s.retries:
			emit(watchEvent{Warning: true, Offline: true, Source: filesOnly + " (the server is gone)",
				Notice: fmt.Sprintf("the server at %s is still gone (%v); showing the %s only until it is back", s.client.Label, err, filesOnly)})
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
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

// recordDedup remembers the ids of the last records seen, so a record
// that arrives from both the event stream and the files is shown once.
type recordDedup struct {
	seen  map[string]struct{}
	order []string // ring of the ids in seen
	next  int
}

// dedupWindow is how many record ids recordDedup remembers: far more than
// can arrive from one source before the other delivers the same record.
const dedupWindow = 4096

// first reports whether r has not been seen before; records without an
// id always count as new.
func (d *recordDedup) first(r *audit.Record) bool {
	if r.ID == "" {
		return true
	}
	if d.seen == nil {
		d.seen, d.order = make(map[string]struct{}, dedupWindow), make([]string, dedupWindow)
	}
	if _, ok := d.seen[r.ID]; ok {
		return false
	}
	if old := d.order[d.next]; old != "" {
		delete(d.seen, old)
	}
	d.seen[r.ID], d.order[d.next] = struct{}{}, r.ID
	d.next = (d.next + 1) % dedupWindow
	return true
}
