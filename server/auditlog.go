package server

import (
	"errors"
	"sync"
	"time"

	"github.com/rampart-dev/rampart/audit"
)

// maxAuditBatch bounds how many records one append writes, and how many
// may wait in the queue before [auditLog.write] waits for room.
const maxAuditBatch = 4096

// quietGap and gatherDelay: a server that made its last append less than
// quietGap ago is busy, and writes the records of the next gatherDelay
// in one append from a goroutine of its own (one wake-up and one append
// for dozens of records); a quieter one writes each record right after
// its answer (one append, no wake-up).
const (
	quietGap    = 500 * time.Microsecond
	gatherDelay = 2 * time.Millisecond
)

// leaderRounds is how many appends a request's goroutine makes as the
// writer before it passes the rest of the queue to a goroutine of its own,
// so that under a steady stream of records no request is held back long.
const leaderRounds = 2

// errAuditClosed is returned for a record that arrives after shutdown.
var errAuditClosed = errors.New("the audit trail is closed (the server is shutting down)")

// errAuditSlow is returned when a waiting caller's record was not written
// in time; the record stays queued and is written later.
var errAuditSlow = errors.New("the audit trail did not answer in time; the record is still queued")

// auditLog appends records to the audit trail in order, with group
// commit: the goroutines that make decisions write the queue themselves,
// one at a time, and every record queued while an append is being written
// goes into the next one, so a busy server writes many records per
// write(2) and per lock of the trail (an append costs about ten system
// calls whatever its size) while a quiet one writes each record at once,
// without waking another goroutine.
//
// A record is queued by [auditLog.write]; [auditLog.flush] writes what is
// queued unless another goroutine is writing it already (which then
// writes it too), or, on a busy server, has the gathering goroutine write
// it within gatherDelay. Callers that answer before the record is written
// queue it, answer, then flush. Records are never dropped: when the queue
// is full, write writes it. [auditLog.close] writes everything queued.
type auditLog struct {
	w *audit.Writer
	// written is called by the writing goroutine after every append,
	// with the records (chain fields filled in when err is nil), one
	// append at a time and in order.
	written func(recs []*audit.Record, err error)

	mu      sync.Mutex
	changed sync.Cond // signalled when writing ends or the queue shrinks
	queue   []*auditItem
	writing bool // a goroutine is appending (the writer)
	closed  bool
	spare   []*auditItem // a drained queue, reused for the next one
	recs    []*audit.Record
	lastEnd time.Time // when the last append ended

	gathering bool          // the gathering goroutine will write the queue
	gather    chan struct{} // wakes the gathering goroutine
	done      chan struct{} // closed by close: the gathering goroutine ends
}

type auditItem struct {
	rec  *audit.Record
	err  error
	done chan struct{} // nil when nobody waits
}

func newAuditLog(w *audit.Writer, written func([]*audit.Record, error)) *auditLog {
	l := &auditLog{w: w, written: written, gather: make(chan struct{}, 1), done: make(chan struct{})}
	l.changed.L = &l.mu
	go l.gatherLoop()
	return l
}

// write queues rec. With wait > 0 it then writes the queue, or waits for
// the goroutine writing it, at most wait, and returns the append's error
// or errAuditSlow (the record is still written later). With wait <= 0 it
// returns once rec is queued, and the caller must call [auditLog.flush]
// (after answering). It returns errAuditClosed after close.
func (l *auditLog) write(rec *audit.Record, wait time.Duration) error {
	item := &auditItem{rec: rec}
	if wait > 0 {
		item.done = make(chan struct{})
	}
	l.mu.Lock()
	for len(l.queue) >= maxAuditBatch && !l.closed {
		if !l.writing {
			l.writing = true
			l.drain(leaderRounds) // unlocks and locks l.mu
			continue
		}
		l.changed.Wait()
	}
	if l.closed {
		l.mu.Unlock()
		return errAuditClosed
	}
	l.queue = append(l.queue, item)
	if wait <= 0 {
		l.mu.Unlock()
		return nil
	}
	if !l.writing {
		l.writing = true
		l.drain(leaderRounds)
		l.mu.Unlock()
		return item.err // drain wrote the whole queue, item included
	}
	l.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-item.done:
		return item.err
	case <-t.C:
		return errAuditSlow
	}
}

// flush writes the queued records, unless another goroutine is writing
// them already or, on a busy server, the gathering goroutine will.
func (l *auditLog) flush() {
	l.mu.Lock()
	switch {
	case l.writing || l.gathering || len(l.queue) == 0:
	case time.Since(l.lastEnd) >= quietGap || l.closed:
		l.writing = true
		l.drain(leaderRounds)
	default:
		l.gathering = true
		select {
		case l.gather <- struct{}{}:
		default: // already awake
		}
	}
	l.mu.Unlock()
}

// gatherLoop is the gathering goroutine: woken by flush on a busy server,
// it waits gatherDelay for more records, then writes the queue.
func (l *auditLog) gatherLoop() {
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-l.gather:
		case <-l.done:
			return
		}
		t.Reset(gatherDelay)
		select {
		case <-t.C:
		case <-l.done: // close writes the queue
			t.Stop()
			return
		}
		l.mu.Lock()
		l.gathering = false
		if !l.writing && len(l.queue) > 0 {
			l.writing = true
			l.drain(-1)
		}
		l.mu.Unlock()
	}
}

// drain appends the queue, batch after batch, until it is empty or rounds
// appends were made; then it hands what is left to a goroutine of its own.
// It is called with l.mu held and l.writing set by the caller, and returns
// with l.mu held and l.writing cleared (or passed on).
func (l *auditLog) drain(rounds int) {
	for ; len(l.queue) > 0; rounds-- {
		if rounds == 0 {
			go l.drainRest()
			return
		}
		batch := l.queue
		l.queue, l.spare = l.spare[:0], nil
		l.changed.Broadcast() // room in the queue
		l.mu.Unlock()

		recs := l.recs[:0]
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
		clear(recs)
		clear(batch)

		l.mu.Lock()
		l.lastEnd = time.Now()
		l.recs = recs
		if cap(batch) <= 2*maxAuditBatch {
			l.spare = batch[:0]
		}
	}
	l.writing = false
	l.changed.Broadcast()
}

// drainRest is drain on a goroutine of its own, for a queue that kept
// filling while a request's goroutine was writing it.
func (l *auditLog) drainRest() {
	l.mu.Lock()
	l.drain(-1)
	l.mu.Unlock()
}

// close writes what is queued and closes the trail. Records written after
// close fail with errAuditClosed.
func (l *auditLog) close() error {
	l.mu.Lock()
	if l.closed {
		for l.writing {
			l.changed.Wait()
		}
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	l.changed.Broadcast() // writers waiting for room give up
	for l.writing {
		l.changed.Wait()
	}
	l.writing = true
	l.drain(-1)
	l.mu.Unlock()
	return l.w.Close()
}
