package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The fast path for POST /v1/check on the Unix socket.
//
// The preload library asks once per program start, on a new connection
// each time, and the program waits for the answer. Through net/http each
// such request costs a goroutine per connection plus a background reader,
// hand-offs between them, a request, a header map, a bufio reader and
// writer; here the accept loop itself (or, when it cannot answer at once,
// one goroutine per connection) reads the request, decides, answers with
// one write and writes the audit record. It serves exactly the requests
// parseCheckHead accepts, with a valid token and a valid tool call (what
// the library and the Go client send), and hands everything else, from
// the first byte of the first request it does not take, to the net/http
// server, which answers as it always has: errors, other endpoints,
// ?wait=1, chunked bodies. Both answer a check with the same status,
// headers and JSON, and audit it the same way (see [Server.decide]).

// fastCheckReadSize is the read buffer a connection starts with; a
// request of the library fits.
const fastCheckReadSize = 4 << 10

var fastCheckBuffers = sync.Pool{New: func() any { b := make([]byte, 0, fastCheckReadSize); return &b }}

// readBuffer returns an empty read buffer from the pool.
func readBuffer() *[]byte {
	bufp := fastCheckBuffers.Get().(*[]byte)
	*bufp = (*bufp)[:0]
	return bufp
}

// releaseReadBuffer puts buf, last held in *bufp, back in the pool, unless
// it went to net/http with its connection (nil) or grew for a large body.
func releaseReadBuffer(bufp *[]byte, buf []byte) {
	if cap(buf) > 0 && cap(buf) <= 4*fastCheckReadSize {
		*bufp = buf[:0]
		fastCheckBuffers.Put(bufp)
	}
}

// fastCheckConns are the connections the fast path is serving, so that
// shutdown can close the idle ones and wait for the others.
type fastCheckConns struct {
	mu      sync.Mutex
	conns   map[net.Conn]bool // true while a request is being read or answered
	closing bool
	wg      sync.WaitGroup
}

// add registers c; ok is false when the server is shutting down, and
// alone says that no other connection is open.
func (f *fastCheckConns) add(c net.Conn) (alone, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false, false
	}
	if f.conns == nil {
		f.conns = map[net.Conn]bool{}
	}
	f.conns[c] = false
	f.wg.Add(1)
	return len(f.conns) == 1, true
}

// setBusy marks c busy (a request has started) or idle; it returns false
// when c must stop: the server is shutting down and c is idle, or was
// closed while it was idle (a request that arrived then is not answered,
// and so not decided either).
func (f *fastCheckConns) setBusy(c net.Conn, busy bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, open := f.conns[c]; !open || f.closing && !busy {
		return false
	}
	f.conns[c] = busy
	return true
}

func (f *fastCheckConns) remove(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	f.wg.Done()
}

// shutdown closes the idle connections and waits, until ctx is done, for
// the others to finish their request.
func (f *fastCheckConns) shutdown(done <-chan struct{}) {
	f.mu.Lock()
	f.closing = true
	for c, busy := range f.conns {
		if !busy {
			c.Close()
			delete(f.conns, c)
		}
	}
	f.mu.Unlock()
	finished := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-done:
	}
}

// serveFastCheck accepts connections on ln and serves each on the fast
// path, handing those it does not serve to srv. It returns when ln is
// closed.
//
// A connection that arrives while no other is open, with a whole request
// already sent (the library writes it right after connecting), and that
// asks to close after the answer, is answered here, without starting a
// goroutine; any other is served by a goroutine of its own, so that a
// slow client never holds up the next one.
func (s *Server) serveFastCheck(ln net.Listener, srv *http.Server) error {
	handoff := newHandoffListener(ln)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(handoff) }()
	var retry time.Duration
	for {
		c, err := ln.Accept()
		if err != nil && isTemporaryAcceptError(err) {
			retry = min(max(2*retry, 5*time.Millisecond), time.Second)
			s.log.WithError(err).Warnf("accept on the Unix socket failed; retrying in %s", retry)
			time.Sleep(retry)
			continue
		}
		if err != nil {
			handoff.Close() // stops srv too
			e := <-served
			if !errors.Is(err, net.ErrClosed) {
				return err
			}
			if e != nil && !errors.Is(e, http.ErrServerClosed) && !errors.Is(e, net.ErrClosed) {
				return e
			}
			return nil
		}
		retry = 0
		alone, ok := s.fast.add(c)
		if !ok {
			c.Close()
			continue
		}
		bufp := readBuffer()
		if alone {
			answered := false
			if s.survive(c, func() { answered = s.answerAtOnce(c, bufp) }) {
				s.fast.remove(c)
				continue
			}
			if answered {
				s.fast.remove(c)
				releaseReadBuffer(bufp, *bufp)
				continue
			}
		}
		go s.survive(c, func() { s.serveFastConn(c, handoff, bufp) })
	}
}

// fastCheckTestHook, when set (by tests only), runs before each check
// the fast path answers.
var fastCheckTestHook atomic.Pointer[func()]

// survive runs f, which serves c on the fast path, and reports whether it
// panicked: the panic is logged and c closed, as net/http does for its
// handlers, so that one bad call cannot take the server down (the client
// then sees no answer, and its fail mode decides).
func (s *Server) survive(c net.Conn, f func()) (panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			s.log.WithField("panic", fmt.Sprint(r)).WithField("stack", string(debug.Stack())).
				Error("serving a check on the Unix socket panicked; its connection is closed")
			c.Close()
			panicked = true
		}
	}()
	f()
	return false
}

// isTemporaryAcceptError reports whether an error of Accept passes, so
// that accepting goes on after a pause, as net/http's Serve does: the
// process is out of file descriptors or memory for a while, or a client
// went away before its connection was accepted.
func isTemporaryAcceptError(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN, syscall.ETIMEDOUT} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// answerAtOnce answers c's request and closes c when the request is all
// there to read without waiting, is one the fast path takes, and asks to
// close. Otherwise it returns false with what it read in *bufp.
func (s *Server) answerAtOnce(c net.Conn, bufp *[]byte) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	buf := (*bufp)[:cap(*bufp)]
	n := 0
	yielded := false
	raw.Read(func(fd uintptr) bool { //nolint:errcheck // n says what was read
		for {
			m, err := syscall.Read(int(fd), buf[n:])
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN && !yielded {
				// The client writes its request right after connecting,
				// but the kernel may have run this thread, woken by the
				// connection, on the client's CPU before the client
				// wrote: then the request comes only once this thread
				// gives way. One sched_yield lets the client run; on
				// another CPU it costs a system call. Without it such a
				// request goes to a goroutine and waits for the poller:
				// in a shell loop, a third of the checks, each waiting
				// about 35 µs more (docs/preload.md).
				yielded = true
				yieldCPU()
				continue
			}
			if m > 0 {
				n = m
			}
			return true // never wait
		}
	})
	*bufp = buf[:n]
	h, ok, _ := parseCheckHead(*bufp)
	if !ok || !h.close || h.size+h.contentLength != n {
		return false
	}
	s.fast.setBusy(c, true)
	if !s.answerFastCheck(c, h, buf[h.size:n]) {
		return false
	}
	c.Close()
	return true
}

// serveFastConn serves the requests of one connection until it closes,
// asks to close, or sends a request the fast path does not take. *bufp
// holds what was read from c already.
func (s *Server) serveFastConn(c net.Conn, handoff *handoffListener, bufp *[]byte) {
	defer s.fast.remove(c)
	buf := *bufp
	defer func() { releaseReadBuffer(bufp, buf) }()
	// As net/http with ReadHeaderTimeout: the head must arrive in time,
	// and between requests the connection may idle for IdleTimeout.
	c.SetReadDeadline(time.Now().Add(readHeaderTimeout))
	for first := true; ; first = false {
		if !first {
			if !s.fast.setBusy(c, false) {
				c.Close()
				return
			}
			if len(buf) == 0 {
				c.SetReadDeadline(time.Now().Add(idleTimeout))
				if !s.fillBuffer(c, &buf) {
					c.Close()
					return
				}
				c.SetReadDeadline(time.Now().Add(readHeaderTimeout))
			}
		}
		if !s.fast.setBusy(c, true) {
			c.Close()
			return
		}
		h, ok := s.readCheckHead(c, &buf)
		if ok {
			ok = s.readBody(c, &buf, h.size+h.contentLength)
		}
		if ok {
			ok = s.answerFastCheck(c, h, buf[h.size:h.size+h.contentLength])
		}
		if !ok {
			if len(buf) == 0 { // the client went away before a request
				c.Close()
				return
			}
			handoff.give(c, buf) // net/http answers, from this request on
			buf = nil
			return
		}
		if h.close {
			c.Close()
			return
		}
		buf = append(buf[:0], buf[h.size+h.contentLength:]...) // a pipelined request, or nothing
	}
}

// readCheckHead reads until buf holds a whole request head the fast path
// takes; false when it is another request (buf then holds what was read)
// or the connection failed.
func (s *Server) readCheckHead(c net.Conn, buf *[]byte) (checkHead, bool) {
	for {
		h, ok, more := parseCheckHead(*buf)
		if ok || !more {
			return h, ok
		}
		if !s.fillBuffer(c, buf) {
			return h, false
		}
	}
}

// readBody reads until buf holds n bytes.
func (s *Server) readBody(c net.Conn, buf *[]byte, n int) bool {
	for len(*buf) < n {
		if !s.fillBuffer(c, buf) {
			return false
		}
	}
	return true
}

// fillBuffer reads once more into buf; false on an error or end of input.
func (s *Server) fillBuffer(c net.Conn, buf *[]byte) bool {
	b := *buf
	if len(b) == cap(b) {
		b = append(b, make([]byte, max(cap(b), fastCheckReadSize))...)[:len(b)]
	}
	n, err := c.Read(b[len(b):cap(b)])
	*buf = b[:len(b)+n]
	return n > 0 || err == nil
}

// answerFastCheck decides the check in body and writes the answer; false
// when the request is not one the fast path answers (a wrong token or a
// body that is not a tool call), so net/http answers it.
func (s *Server) answerFastCheck(c net.Conn, h checkHead, body []byte) bool {
	if hook := fastCheckTestHook.Load(); hook != nil {
		(*hook)()
	}
	if !h.hasToken || s.token.scope(h.token) == ScopeNone {
		return false
	}
	call, err := DecodeCall(body)
	if err != nil {
		return false
	}
	adapter := adapterName(h.adapter)
	d, took, stable := s.decideStable(call, adapter)
	status, resp := jsonBody(http.StatusOK, checkResponse(d, took))
	out := make([]byte, 0, 160+len(resp))
	out = append(out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(status), 10)
	out = append(out, ' ')
	out = append(out, http.StatusText(status)...)
	out = append(out, "\r\nContent-Type: application/json\r\nDate: "...)
	out = time.Now().UTC().AppendFormat(out, http.TimeFormat)
	out = append(out, "\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(resp)), 10)
	if h.close {
		out = append(out, "\r\nConnection: close"...)
	}
	out = append(out, "\r\n\r\n"...)
	out = append(out, resp...)
	c.Write(out) //nolint:errcheck // the client went away; the decision is audited all the same
	if t := s.table.Load(); t != nil && adapter == "preload" {
		t.publish(stable, body, d)
	}
	s.audit.flush()
	return true
}

// handoffListener is the listener of the net/http server behind the fast
// path: it yields the connections the fast path hands over, with the
// bytes already read put back in front.
type handoffListener struct {
	ln     net.Listener
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newHandoffListener(ln net.Listener) *handoffListener {
	return &handoffListener{ln: ln, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// give hands c to the net/http server, which reads read before the rest
// of the connection.
func (l *handoffListener) give(c net.Conn, read []byte) {
	rc := &replayConn{Conn: c, pending: read}
	select {
	case l.conns <- rc:
	case <-l.closed:
		c.Close()
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops both servers: the listener underneath closes too.
func (l *handoffListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.closed)
		err = l.ln.Close()
	})
	return err
}

func (l *handoffListener) Addr() net.Addr { return l.ln.Addr() }

// replayConn is a connection whose first bytes were already read.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes the connection, as net/http does before it
// closes a connection it answered with an error.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
