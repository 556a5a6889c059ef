package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Event types of GET /v1/events.
const (
	// EventDecision carries an audit record of a decision, as written to
	// the trail (with its seq, id and hash).
	EventDecision = "decision"
	// EventApproval carries an [Approval] when it is created and when it
	// is answered or expires.
	EventApproval = "approval"
	// EventReload carries a [ReloadResult] after every policy reload.
	EventReload = "reload"
)

// subscriberBuffer is how many events a subscriber may fall behind before
// events are dropped for it.
const subscriberBuffer = 1024

// eventHub fans events out to the subscribers of GET /v1/events. Publishing
// never blocks: a subscriber whose buffer is full misses the event, and the
// drop is counted.
type eventHub struct {
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	n       atomic.Int32
	dropped *atomic.Uint64
}

type subscriber struct {
	ch      chan []byte
	dropped atomic.Uint64 // since last reported to this subscriber
}

func newEventHub(dropped *atomic.Uint64) *eventHub {
	return &eventHub{subs: map[*subscriber]struct{}{}, dropped: dropped}
}

func (h *eventHub) subscribe() *subscriber {
	s := &subscriber{ch: make(chan []byte, subscriberBuffer)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.n.Store(int32(len(h.subs)))
	h.mu.Unlock()
	return s
}

func (h *eventHub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	h.n.Store(int32(len(h.subs)))
	h.mu.Unlock()
}

// active reports whether anyone is listening (so callers can skip encoding).
func (h *eventHub) active() bool { return h.n.Load() > 0 }

func (h *eventHub) count() int { return int(h.n.Load()) }

// publish sends one event to every subscriber: "event: kind" and "data:"
// with v as one line of JSON.
func (h *eventHub) publish(kind string, v any) {
	if !h.active() {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	var b bytes.Buffer
	b.Grow(len(data) + len(kind) + 16)
	b.WriteString("event: ")
	b.WriteString(kind)
	b.WriteString("\ndata: ")
	b.Write(data) // json.Marshal never writes a raw newline
	b.WriteString("\n\n")
	msg := b.Bytes()
	h.mu.Lock()
	for s := range h.subs {
		select {
		case s.ch <- msg:
		default:
			s.dropped.Add(1)
			h.dropped.Add(1)
		}
	}
	h.mu.Unlock()
}

// handleEvents streams events as server-sent events until the client goes
// away or the server shuts down, with a ": ping" comment every
// PingInterval. After events were dropped for this client it sends
// ": dropped N events".
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming is not supported on this connection")
		return
	}
	sub := s.events.subscribe()
	defer s.events.unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(": rampart events: decision, approval, reload\n\n")); err != nil {
		return
	}
	flusher.Flush()

	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case msg := <-sub.ch:
			if n := sub.dropped.Swap(0); n > 0 {
				if _, err := fmt.Fprintf(w, ": dropped %d events\n\n", n); err != nil {
					return
				}
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
			for more := true; more; { // send what else is queued in one flush
				select {
				case msg := <-sub.ch:
					if _, err := w.Write(msg); err != nil {
						return
					}
				default:
					more = false
				}
			}
			flusher.Flush()
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return
			}
			flusher.Flush()
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
}
