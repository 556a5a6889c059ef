// Package server is Rampart's local policy server (rampart serve): one
// engine, kept loaded and hot-reloaded, answering tool calls over HTTP on
// loopback TCP and a Unix socket, for adapters that cannot decide on their
// own (the preload library, rampart-sh) and for people (approvals, live
// events, metrics).
//
// Every decision is appended to the audit trail before it is answered
// (see [auditLog]); requests need the bearer token of the Rampart home,
// except GET /healthz. docs/server.md describes the API.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
)

// Config is what a [Server] needs. Load and AuditDir are required, and
// either Token or TokenFile.
type Config struct {
	// Load compiles the policy; it is called at start and on every
	// reload. [New] returns its error as a [*LoadError].
	Load func() (*engine.Program, error)
	// Watch returns the files whose changes trigger a reload (files that
	// do not exist yet included). Nil means no hot reload.
	Watch func() []string
	// PollInterval is how often the watched files and the token file are
	// checked (1s when zero).
	PollInterval time.Duration

	// AuditDir is the audit trail's folder.
	AuditDir string
	// AuditSync fsyncs every append (see audit.Options.Sync).
	AuditSync bool
	// AuditWait answers a decision only once its audit record is written
	// (group commit), so no answered decision can be missing from the
	// trail even when the server is killed with SIGKILL; it costs
	// latency. Without it a decision is answered once its record is
	// queued, and the record is written right after the answer: a clean
	// shutdown still writes every record, and SIGKILL can lose the last
	// few of them.
	AuditWait bool

	// Token, when set, is the only token accepted ($RAMPART_TOKEN).
	// Otherwise TokenFile holds it, created on first start and re-read
	// when it changes (rampart token rotate).
	Token     string
	TokenFile string

	// ApprovedPolicyFile receives the exact allow rules of "always allow"
	// answers ("" turns "always" off).
	ApprovedPolicyFile string
	// ApprovalTimeout is how long an ask waits for a human (2m when zero).
	ApprovalTimeout time.Duration
	// Home is the user's home directory, for "~" in exact path rules.
	Home string

	// PingInterval is the time between ": ping" comments on /v1/events
	// (15s when zero).
	PingInterval time.Duration
	// Version is reported by /healthz.
	Version string
	// Log receives the server's log lines (discarded when nil).
	Log *logrus.Logger
}

// LoadError is returned by [New] when the first policy load fails; Err is
// what Config.Load returned.
type LoadError struct{ Err error }

func (e *LoadError) Error() string { return e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

// GCPercent is the garbage collector target rampart serve runs with when
// $GOGC is not set. The server's live heap is a few MB and every decision
// allocates about 10 KB, so under load the default (100) collects dozens
// of times a second; 400 collects a quarter as often for a process of
// about 35 MB instead of 20 MB (the load test's RSS). See [TuneGC].
const GCPercent = 400

// TuneGC sets the garbage collector target to GCPercent unless $GOGC
// says otherwise. Programs that run a Server call it once at start.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}

// DefaultApprovalTimeout is how long an ask waits for an answer by default.
const DefaultApprovalTimeout = 2 * time.Minute

// auditWaitLimit bounds how long a request waits for its audit record to
// be written (Config.AuditWait) before it is answered anyway.
const auditWaitLimit = 5 * time.Second

// Server is a running policy server. Create it with [New], serve with
// [Server.Serve] (or mount [Server.Handler]), stop it with
// [Server.Shutdown].
type Server struct {
	cfg       Config
	log       *logrus.Logger
	policies  *policyStore
	token     *tokenSource
	audit     *auditLog
	events    *eventHub
	approvals *approvalStore
	metrics   *metrics
	started   time.Time
	auditWait time.Duration // 0 unless Config.AuditWait
	alwaysMu  sync.Mutex    // serialises writes to the approved policy file

	closing   chan struct{}
	closeOnce sync.Once
	pollDone  chan struct{}

	httpMu    sync.Mutex
	httpSrvs  []*http.Server
	listening []string

	fast    fastCheckConns             // connections on the fast path of POST /v1/check
	table   atomic.Pointer[allowTable] // the allow table of the Unix socket, if any (allowtable.go)
	tableMu sync.Mutex                 // held while the table opens, and by Shutdown to wait for that

	auditErrMu   sync.Mutex
	lastAuditErr string
}

// New loads the policy, opens the audit trail and the token, and starts
// the background work (audit writer, file watcher). It does not listen.
func New(cfg Config) (*Server, error) {
	if cfg.Load == nil {
		return nil, errors.New("server: no policy loader")
	}
	if cfg.AuditDir == "" {
		return nil, errors.New("server: no audit folder")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.ApprovalTimeout <= 0 {
		cfg.ApprovalTimeout = DefaultApprovalTimeout
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 15 * time.Second
	}
	log := cfg.Log
	if log == nil {
		log = logrus.New()
		log.SetOutput(io.Discard)
	}
	s := &Server{cfg: cfg, log: log, metrics: newMetrics(), approvals: newApprovalStore(),
		started: time.Now().UTC(), closing: make(chan struct{}), pollDone: make(chan struct{})}
	s.events = newEventHub(&s.metrics.eventsDropped)
	if cfg.AuditWait {
		s.auditWait = auditWaitLimit
	}

	switch {
	case cfg.Token != "":
		s.token = newFixedToken(cfg.Token)
	case cfg.TokenFile != "":
		t, created, err := newFileToken(cfg.TokenFile)
		if err != nil {
			return nil, err
		}
		s.token = t
		if created {
			log.WithField("file", cfg.TokenFile).Info("created a new token")
		} else if fi, err := os.Stat(cfg.TokenFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.WithField("file", cfg.TokenFile).Warnf("the token file can be read by others (mode %04o); run: chmod 600 %s", fi.Mode().Perm(), cfg.TokenFile)
		}
	default:
		return nil, errors.New("server: no token and no token file")
	}

	var err error
	if s.policies, err = newPolicyStore(cfg.Load, cfg.Watch); err != nil {
		return nil, &LoadError{Err: err}
	}
	w, err := audit.Open(cfg.AuditDir, audit.Options{Sync: cfg.AuditSync})
	if err != nil {
		return nil, err
	}
	s.audit = newAuditLog(w, s.auditWritten)
	s.policies.swapped = func(prog *engine.Program) {
		if t := s.table.Load(); t != nil {
			t.reset(prog)
		}
	}
	go s.poll()
	return s, nil
}

// Handler returns the HTTP handler of the API.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Serve answers requests on ln until [Server.Shutdown]. It may be called
// for several listeners at once (TCP and a Unix socket). It returns nil
// after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          newStdLogger(s.log),
	}
	s.httpMu.Lock()
	select {
	case <-s.closing:
		s.httpMu.Unlock()
		ln.Close()
		return nil
	default:
	}
	s.httpSrvs = append(s.httpSrvs, srv)
	s.listening = append(s.listening, listenerURL(ln))
	s.httpMu.Unlock()
	if ln.Addr().Network() == "unix" {
		s.startAllowTable(ln.Addr().String())
		return s.serveFastCheck(ln, srv)
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// The timeouts of every connection: the head of a request must arrive
// within readHeaderTimeout, and a connection may wait idleTimeout for its
// next request.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// Listening returns the URLs the server listens on ("http://HOST:PORT",
// "unix:/path"), sorted (TCP first).
func (s *Server) Listening() []string {
	s.httpMu.Lock()
	defer s.httpMu.Unlock()
	out := append([]string(nil), s.listening...)
	sort.Strings(out)
	return out
}

// listenerURL names a listener the way clients address it.
func listenerURL(ln net.Listener) string {
	if ln.Addr().Network() == "unix" {
		return "unix:" + ln.Addr().String()
	}
	return "http://" + ln.Addr().String()
}

// Shutdown stops the server: pending approvals are denied (their callers
// answered), event streams end, the listeners stop and in-flight requests
// finish (until ctx is done), and every queued audit record is written
// before the trail is closed.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		s.httpMu.Lock()
		close(s.closing) // waiting approvals and event streams end
		srvs := s.httpSrvs
		s.httpMu.Unlock()
		// From now on every exec asks; after closing, so that a table
		// Serve opens meanwhile sees it (startAllowTable).
		s.stopAllowTable()
		var errs []error
		for _, srv := range srvs {
			if e := srv.Shutdown(ctx); e != nil {
				errs = append(errs, e)
			}
		}
		s.fast.shutdown(ctx.Done()) // the fast path's connections (see serveFastCheck)
		<-s.pollDone
		if e := s.audit.close(); e != nil {
			errs = append(errs, fmt.Errorf("close the audit trail: %w", e))
		}
		err = errors.Join(errs...)
	})
	return err
}

// Reload loads the policy files again now; see [ReloadResult].
func (s *Server) Reload() ReloadResult { return s.reload("requested") }

func (s *Server) reload(reason string) ReloadResult {
	res := s.policies.reload()
	entry := s.log.WithField("reason", reason)
	if res.OK {
		s.metrics.reloadsOK.Add(1)
		names := make([]string, len(res.Sources))
		for i, src := range res.Sources {
			names[i] = src.Path
		}
		entry.WithField("sources", names).Info("policy reloaded")
	} else {
		s.metrics.reloadsFailed.Add(1)
		entry.WithField("error", res.Error).Error("policy reload failed; the last good policy stays in force")
	}
	s.events.publish(EventReload, res)
	return res
}

// poll watches the policy files and the token file until shutdown.
func (s *Server) poll() {
	defer close(s.pollDone)
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			if s.policies.changed() {
				// Let an editor that truncates and then writes finish.
				time.Sleep(min(s.cfg.PollInterval/2, 100*time.Millisecond))
				s.reload("files changed")
			}
			if s.token.refresh() {
				s.log.Info("the token file changed; the new token is in force")
			}
			// Every path that queues a record flushes it after
			// answering; this only bounds how long a record could
			// wait if one did not.
			s.audit.flush()
		}
	}
}

// auditWritten runs on the audit goroutine after each append: count, log
// failures, and publish the decisions as events.
func (s *Server) auditWritten(recs []*audit.Record, err error) {
	if err != nil {
		s.metrics.auditErrors.Add(uint64(len(recs)))
		s.auditErrMu.Lock()
		s.lastAuditErr = err.Error()
		s.auditErrMu.Unlock()
		s.log.WithError(err).WithField("records", len(recs)).Error("audit write failed; the decisions stand")
	} else {
		s.metrics.auditRecords.Add(uint64(len(recs)))
		s.auditErrMu.Lock()
		s.lastAuditErr = ""
		s.auditErrMu.Unlock()
	}
	if !s.events.active() {
		return
	}
	for _, r := range recs {
		if r.Event == audit.EventDecision {
			s.events.publish(EventDecision, r)
		}
	}
}

// Health is the body of GET /healthz.
type Health struct {
	// Status is "ok", or "degraded" when the newest policy files do not
	// load (an older policy is in force) or the last audit write failed.
	Status           string       `json:"status"`
	Version          string       `json:"version"`
	PID              int          `json:"pid"`
	Started          time.Time    `json:"started"`
	Listen           []string     `json:"listen"`
	Policy           PolicyStatus `json:"policy"`
	PendingApprovals int          `json:"pending_approvals"`
	Audit            AuditStatus  `json:"audit"`
}

// AuditStatus is the audit part of [Health].
type AuditStatus struct {
	Dir         string `json:"dir"`
	Records     uint64 `json:"records"` // written since start
	WriteErrors uint64 `json:"write_errors"`
	LastError   string `json:"last_error,omitempty"`
}

// Health reports the server's state, as GET /healthz does.
func (s *Server) Health() Health {
	h := Health{Status: "ok", Version: s.cfg.Version, PID: os.Getpid(), Started: s.started,
		Listen: s.Listening(), Policy: s.policies.status(), PendingApprovals: s.approvals.pendingCount(),
		Audit: AuditStatus{Dir: s.cfg.AuditDir, Records: s.metrics.auditRecords.Load(), WriteErrors: s.metrics.auditErrors.Load()}}
	if h.Listen == nil {
		h.Listen = []string{}
	}
	s.auditErrMu.Lock()
	h.Audit.LastError = s.lastAuditErr
	s.auditErrMu.Unlock()
	if h.Policy.LastError != "" || h.Audit.LastError != "" {
		h.Status = "degraded"
	}
	return h
}
