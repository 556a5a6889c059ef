package server

import (
	"errors"
	"sync"
	"time"

	"github.com/rampart-dev/rampart/audit"
)

// maxAuditBatch bounds how many records one append writes.
const maxAuditBatch = 4096

// queuedFlushDelay is how long the writer gathers queued records before
// an append when nobody waits for them: an append costs about ten system
// calls whatever its size, and gathering turns a busy server's appends of
// one record into appends of dozens.
const queuedFlushDelay = 2 * time.Millisecond

// maxGather stops gathering early once this many records are waiting.
const maxGather = 256

// errAuditClosed is returned for a record that arrives after shutdown.
var errAuditClosed = errors.New("the audit trail is closed (the server is shutting down)")

// auditLog appends records to the audit trail from one goroutine, with
// group commit: every record that arrives while an append is being
// written goes into the next append, so a busy server writes many records
// per write(2) and per lock of the trail (an append costs about ten system
// calls whatever its size). Records queue in order and are never dropped:
// when the queue is full, [auditLog.write] waits. [auditLog.close] writes
// everything queued.
type auditLog struct {
	w        *audit.Writer
	in       chan *auditItem
	mu       sync.RWMutex // guards closed against sends on a closed channel
	closed   bool
	finished chan struct{}
	// gather is how long to collect records before an append
	// (queuedFlushDelay, or 0 when callers wait for their record).
	gather time.Duration
	// written is called from the writer goroutine after every append,
	// with the records (chain fields filled in when err is nil).
	written func(recs []*audit.Record, err error)
}

type auditItem struct {
	rec  *audit.Record
	err  error
	done chan struct{} // nil when nobody waits
}

func newAuditLog(w *audit.Writer, gather time.Duration, written func([]*audit.Record, error)) *auditLog {
	l := &auditLog{w: w, in: make(chan *auditItem, maxAuditBatch), finished: make(chan struct{}), gather: gather, written: written}
	go l.run()
	return l
}

// write queues rec. With wait > 0 it then waits until the record is
// written, at most wait, and returns the append's error or errAuditSlow
// (the record is still written later). It returns errAuditClosed after
// close.
func (l *auditLog) write(rec *audit.Record, wait time.Duration) error {
	item := &auditItem{rec: rec}
	if wait > 0 {
		item.done = make(chan struct{})
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return errAuditClosed
	}
	l.in <- item
	l.mu.RUnlock()
	if wait <= 0 {
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
	var timer *time.Timer
	for item := range l.in {
		batch = append(batch[:0], item)
		if l.gather > 0 {
			// Gather: wait for more records, up to l.gather or
			// maxGather of them (the channel closing ends it too).
			if timer == nil {
				timer = time.NewTimer(l.gather)
			} else {
				timer.Reset(l.gather)
			}
		gather:
			for len(batch) < maxGather {
				select {
				case more, ok := <-l.in:
					if !ok {
						break gather
					}
					batch = append(batch, more)
				case <-timer.C:
					break gather
				}
			}
			timer.Stop()
		}
	drain:
		for len(batch) < maxAuditBatch {
			select {
			case more, ok := <-l.in:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		recs = recs[:0]
		for _, it := range batch {
			recs = append(recs, it.rec)
		}
		err := l.w.Append(recs...)
		for _, it := range batch {
			if it.done != nil {
				it.err = err
				close(it.done)
			}
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
