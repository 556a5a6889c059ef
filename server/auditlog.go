package server

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-dev/rampart/audit"
)

// maxAuditBatch bounds how many records one append writes.
const maxAuditBatch = 4096

// maxLinger bounds how long the writer waits for records that are on
// their way before it writes the ones it has.
const maxLinger = 100 * time.Microsecond

// errAuditClosed is returned for a record that arrives after shutdown.
var errAuditClosed = errors.New("the audit trail is closed (the server is shutting down)")

// auditLog appends records to the audit trail from one goroutine, with
// group commit: every record that arrives while an append is being
// written goes into the next append, so a busy server writes many records
// per write(2) and per lock of the trail. [auditLog.write] returns once its
// record is on disk (or failed), so a client never gets a decision whose
// record could still be lost.
type auditLog struct {
	w        *audit.Writer
	in       chan *auditItem
	mu       sync.RWMutex // guards closed against sends on a closed channel
	closed   bool
	finished chan struct{}
	// written is called from the writer goroutine after every append,
	// with the records (chain fields filled in when err is nil).
	written func(recs []*audit.Record, err error)
	// coming counts requests that will write a record soon (they are
	// being read or decided); the writer waits a moment for them.
	coming atomic.Int64
}

type auditItem struct {
	rec  *audit.Record
	err  error
	done chan struct{}
}

func newAuditLog(w *audit.Writer, written func([]*audit.Record, error)) *auditLog {
	l := &auditLog{w: w, in: make(chan *auditItem, maxAuditBatch), finished: make(chan struct{}), written: written}
	go l.run()
	return l
}

// announce tells the writer that a record is on its way: a request is
// being read or decided. [auditLog.write] with announced, or withdraw
// when no record will come, ends the announcement.
func (l *auditLog) announce() { l.coming.Add(1) }

// withdraw ends an announcement without a record.
func (l *auditLog) withdraw() { l.coming.Add(-1) }

// write appends rec and waits until it is written, at most wait. It
// returns the append's error, errAuditClosed after close, or
// errAuditSlow when wait passed (the record is still written later).
// announced ends an [auditLog.announce].
func (l *auditLog) write(rec *audit.Record, wait time.Duration, announced bool) error {
	item := &auditItem{rec: rec, done: make(chan struct{})}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		if announced {
			l.withdraw()
		}
		return errAuditClosed
	}
	l.in <- item
	l.mu.RUnlock()
	if announced {
		l.withdraw()
	}
	if wait == 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-item.done:
		return item.err
	case <-t.C:
		return errAuditSlow
	}
}

var errAuditSlow = errors.New("the audit trail did not answer in time; the record is still queued")

func (l *auditLog) run() {
	defer close(l.finished)
	batch := make([]*auditItem, 0, 64)
	recs := make([]*audit.Record, 0, 64)
	for item := range l.in {
		batch = append(batch[:0], item)
		// Each append costs about ten system calls whatever its size, so
		// while other requests are about to write a record, give them a
		// moment to join this one (bounded by maxLinger).
		lingerUntil := time.Now().Add(maxLinger)
	drain:
		for len(batch) < maxAuditBatch {
			select {
			case more, ok := <-l.in:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				if l.coming.Load() <= 0 || time.Now().After(lingerUntil) {
					break drain
				}
				runtime.Gosched()
			}
		}
		recs = recs[:0]
		for _, it := range batch {
			recs = append(recs, it.rec)
		}
		err := l.w.Append(recs...)
		for _, it := range batch {
			it.err = err
			close(it.done)
		}
		l.written(recs, err)
		clear(batch)
		clear(recs)
	}
}

// close writes what is queued, stops the writer and closes the trail.
// Records written after close fail with errAuditClosed.
func (l *auditLog) close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.finished
		return nil
	}
	l.closed = true
	close(l.in)
	l.mu.Unlock()
	<-l.finished
	return l.w.Close()
}
