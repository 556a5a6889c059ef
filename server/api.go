package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/endpoint"
)

// AdapterHeader names the adapter a request comes from ("preload",
// "rampart-sh", ...); the audit records say "server" without it.
const AdapterHeader = endpoint.AdapterHeader

// serveHTTP routes a request. Everything but GET /healthz needs the token.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/healthz" {
		if allowMethods(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, s.Health())
		}
		return
	}
	scope := s.authorize(r)
	if scope == ScopeNone {
		s.metrics.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong token: send \"Authorization: Bearer TOKEN\" (rampart token show prints it)")
		return
	}
	decisionOnly := p == "/v1/check" || strings.HasPrefix(p, "/v1/preflight/") || strings.HasPrefix(p, "/v1/tool/")
	if scope == ScopeCheck && !decisionOnly {
		s.metrics.unauthorized.Add(1)
		writeError(w, http.StatusForbidden, "this token may only ask for decisions (/v1/check, /v1/preflight, /v1/tool); approvals, events, metrics and reload need the server's own token")
		return
	}
	switch {
	case p == "/v1/check":
		if allowMethods(w, r, http.MethodPost) {
			s.handleCheck(w, r)
		}
	case strings.HasPrefix(p, "/v1/preflight/"):
		if allowMethods(w, r, http.MethodPost) {
			s.handlePreflight(w, r, strings.TrimPrefix(p, "/v1/preflight/"), false)
		}
	case strings.HasPrefix(p, "/v1/tool/"):
		if allowMethods(w, r, http.MethodPost) {
			s.handlePreflight(w, r, strings.TrimPrefix(p, "/v1/tool/"), true)
		}
	case p == "/v1/approvals":
		if allowMethods(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, map[string][]Approval{"approvals": s.approvals.list()})
		}
	case strings.HasPrefix(p, "/v1/approvals/"):
		if allowMethods(w, r, http.MethodGet, http.MethodPost) {
			s.handleApproval(w, r, strings.TrimPrefix(p, "/v1/approvals/"))
		}
	case p == "/v1/events":
		if allowMethods(w, r, http.MethodGet) {
			s.handleEvents(w, r)
		}
	case p == "/v1/reload":
		if allowMethods(w, r, http.MethodPost) {
			writeJSON(w, http.StatusOK, s.reload("requested over the API"))
		}
	case p == "/metrics":
		if allowMethods(w, r, http.MethodGet) {
			s.handleMetrics(w)
		}
	default:
		writeError(w, http.StatusNotFound, "no such endpoint: %s %s (see docs/server.md)", r.Method, p)
	}
}

// authorize returns what the request's bearer token allows.
func (s *Server) authorize(r *http.Request) Scope {
	token, ok := bearerToken(r)
	if !ok {
		return ScopeNone
	}
	return s.token.scope(token)
}

// badRequest answers 413 for an oversized body, else 400.
func (s *Server) badRequest(w http.ResponseWriter, err error) {
	s.metrics.badRequests.Add(1)
	status := http.StatusBadRequest
	if errors.Is(err, errBodyTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	writeError(w, status, "%s", err.Error())
}

// adapterOf returns the adapter a request names, or "server".
func adapterOf(r *http.Request) string { return adapterName(r.Header.Get(AdapterHeader)) }

// adapterName returns a, the value of an X-Rampart-Adapter header, when
// it is a short name of letters, digits and "-_.", else "server".
func adapterName(a string) string {
	if a == "" || len(a) > 64 {
		return "server"
	}
	for _, c := range a {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "server"
		}
	}
	return a
}

// CheckResponse is the answer of POST /v1/check.
type CheckResponse struct {
	Decision string `json:"decision"`
	Policy   string `json:"policy,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Message  string `json:"message,omitempty"`
	Matched  string `json:"matched,omitempty"`
	EvalUS   int64  `json:"eval_us"`
	// ApprovalID and ApprovedBy are set when the call waited for a human
	// (?wait=1 and an ask).
	ApprovalID string `json:"approval_id,omitempty"`
	ApprovedBy string `json:"approved_by,omitempty"`
}

// checkResponse is the answer to a check decided as d in took.
func checkResponse(d engine.Decision, took time.Duration) CheckResponse {
	return CheckResponse{Decision: d.Decision.String(), Policy: d.Policy, Rule: d.Rule, Message: d.Message,
		Matched: d.Matched, EvalUS: took.Microseconds()}
}

func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err == nil {
		var call *engine.ToolCall
		if call, err = DecodeCall(body); err == nil {
			s.answerCheck(w, r, call, wantsWait(r))
			return
		}
	}
	s.badRequest(w, err)
}

func wantsWait(r *http.Request) bool {
	if r.URL.RawQuery == "" {
		return false
	}
	switch r.URL.Query().Get("wait") {
	case "1", "true", "yes":
		return true
	}
	return false
}

func (s *Server) answerCheck(w http.ResponseWriter, r *http.Request, call *engine.ToolCall, wait bool) {
	adapter := adapterOf(r)
	d, took := s.decide(call, adapter)
	resp := checkResponse(d, took)
	if wait && d.Decision == engine.ActionAsk {
		s.audit.flush() // the ask is on record before the wait
		final, a, err := s.waitForHuman(r, *call, d, adapter)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "%s", err.Error())
			return
		}
		resp.Decision, resp.Message, resp.ApprovalID, resp.ApprovedBy = final.String(), a.answerMessage(), a.ID, a.ResolvedBy
	}
	writeJSON(w, http.StatusOK, resp)
	s.auditAfterAnswer(w)
}

// auditAfterAnswer sends the answer written to w, then writes the audit
// records queued by decide (see [auditLog]).
func (s *Server) auditAfterAnswer(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	s.audit.flush()
}

// decide evaluates call with the policy in force, counts it and queues
// its audit record; with Config.AuditWait the record is written before
// decide returns, else the caller writes it after answering
// ([Server.auditAfterAnswer]). The decision stands even when the append
// fails.
func (s *Server) decide(call *engine.ToolCall, adapter string) (engine.Decision, time.Duration) {
	d, took, _ := s.decideStable(call, adapter)
	return d, took
}

// decideStable is decide that also returns the program that decided when
// the decision rests on the call alone (engine.Program.EvalStable), nil
// otherwise.
func (s *Server) decideStable(call *engine.ToolCall, adapter string) (engine.Decision, time.Duration, *engine.Program) {
	prog := s.policies.program()
	start := time.Now()
	d, stable := prog.EvalStable(call)
	took := time.Since(start)
	if !stable {
		prog = nil
	}
	s.metrics.observeDecision(d, took)
	// Append errors are logged and counted by auditWritten.
	switch err := s.audit.write(audit.FromCall(adapter, *call, d, took), s.auditWait); {
	case errors.Is(err, errAuditClosed):
		s.metrics.auditErrors.Add(1)
		s.log.WithField("tool", call.Tool).Warn("a decision made while shutting down was not audited")
	case errors.Is(err, errAuditSlow):
		s.log.Warn("the audit trail is slow; answering before the record is written")
	}
	if s.log.IsLevelEnabled(logrus.DebugLevel) {
		s.log.WithFields(logrus.Fields{"adapter": adapter, "tool": call.Tool, "decision": d.Decision.String(),
			"policy": d.Policy, "rule": d.Rule, "eval_us": took.Microseconds()}).Debug("decision")
	}
	return d, took, prog
}

// waitForHuman holds an ask as a pending approval until a human answers,
// it times out, the caller goes away or the server shuts down, and returns
// the final decision (allow or deny).
func (s *Server) waitForHuman(r *http.Request, call engine.ToolCall, d engine.Decision, adapter string) (engine.Action, Approval, error) {
	created, answer, err := s.approvals.create(call, d, adapter, s.cfg.ApprovalTimeout)
	if err != nil {
		return engine.ActionDeny, Approval{}, err
	}
	s.log.WithFields(logrus.Fields{"approval": created.ID, "tool": call.Tool, "rule": d.Rule,
		"call": describeCall(&call)}).Info("waiting for approval: rampart approve " + created.ID + " (or rampart deny)")
	s.events.publish(EventApproval, created)

	timer := time.NewTimer(s.cfg.ApprovalTimeout)
	defer timer.Stop()
	var a Approval
	select {
	case a = <-answer:
	case <-timer.C:
		a = s.expire(created.ID, answer, fmt.Sprintf("nobody answered within %s", s.cfg.ApprovalTimeout))
	case <-r.Context().Done():
		a = s.expire(created.ID, answer, "the caller stopped waiting")
	case <-s.closing:
		a = s.expire(created.ID, answer, "the server shut down")
	}
	if a.Status == StatusApproved {
		return engine.ActionAllow, a, nil
	}
	return engine.ActionDeny, a, nil
}

// expire resolves a held approval as expired, unless a human answered
// first, and returns its final state.
func (s *Server) expire(id string, answer <-chan Approval, reason string) Approval {
	if _, err := s.approvals.resolve(id, StatusExpired, "", reason, false); err != nil { // answered just now
		return <-answer
	}
	a := <-answer // our own resolution
	s.approvalDone(a)
	return a
}

// approvalDone records an answered or expired approval: the audit trail,
// the metrics, the log and an event.
func (s *Server) approvalDone(a Approval) {
	s.metrics.countApproval(a.Status)
	rec := audit.FromCall(a.Adapter, a.Call, a.Decision, 0)
	rec.Event = audit.EventApproval
	rec.ApprovalID, rec.ApprovedBy = a.ID, a.ResolvedBy
	rec.Decision = engine.ActionDeny.String()
	if a.Status == StatusApproved {
		rec.Decision = engine.ActionAllow.String()
	}
	rec.Message = a.answerMessage()
	if err := s.audit.write(rec, s.auditWait); err != nil && errors.Is(err, errAuditClosed) {
		s.log.WithField("approval", a.ID).Error("approval answered while shutting down was not audited")
	}
	s.audit.flush()
	s.log.WithFields(logrus.Fields{"approval": a.ID, "status": a.Status, "by": a.ResolvedBy}).Info(a.answerMessage())
	s.events.publish(EventApproval, a)
}

// answerMessage says how an approval ended, for the waiting caller.
func (a Approval) answerMessage() string {
	switch a.Status {
	case StatusApproved:
		if a.Always {
			return fmt.Sprintf("approved by %s (always allow)", a.ResolvedBy)
		}
		return "approved by " + a.ResolvedBy
	case StatusDenied:
		return fmt.Sprintf("denied by %s: %s", a.ResolvedBy, a.Decision.Message)
	case StatusExpired:
		return fmt.Sprintf("denied: the approval timed out (%s); the call needed a human's approval: %s", a.Reason, a.Decision.Message)
	}
	return "waiting for a human's approval"
}

// describeCall is a short text of what a call does, for log lines.
func describeCall(c *engine.ToolCall) string {
	switch {
	case c.Command != "":
		return truncate(audit.Redact(c.Command), 200)
	case len(c.Argv) > 0:
		return truncate(audit.Redact(strings.Join(c.Argv, " ")), 200)
	case c.Path != "":
		return c.Path
	case c.URL != "":
		return audit.Redact(c.URL)
	}
	return c.Name
}

// answerRequest is the body of POST /v1/approvals/{id}.
type answerRequest struct {
	Decision string `json:"decision"`
	Always   bool   `json:"always"`
	By       string `json:"by"`
}

func (s *Server) handleApproval(w http.ResponseWriter, r *http.Request, id string) {
	if id == "" || strings.Contains(id, "/") {
		writeError(w, http.StatusNotFound, "no such endpoint: %s %s (see docs/server.md)", r.Method, r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		a, ok := s.approvals.get(id)
		if !ok {
			writeError(w, http.StatusNotFound, "no approval %q (it may have been answered more than %s ago)", id, keepResolved)
			return
		}
		writeJSON(w, http.StatusOK, a)
		return
	}
	body, err := readBody(w, r)
	var req answerRequest
	if err == nil {
		err = decodeObject(body, &req, `{"decision":"allow","always":false,"by":"alice"}`)
	}
	if err == nil {
		switch {
		case req.Decision != "allow" && req.Decision != "deny":
			err = fmt.Errorf(`field "decision": want "allow" or "deny", got %q`, req.Decision)
		case req.Always && req.Decision != "allow":
			err = errors.New(`"always" is only for "allow" answers`)
		}
	}
	if err != nil {
		s.badRequest(w, err)
		return
	}
	by := strings.TrimSpace(req.By)
	if by == "" {
		by = "api"
	}
	status := StatusDenied
	if req.Decision == "allow" {
		status = StatusApproved
	}
	a, err := s.approvals.resolve(id, status, truncate(by, 64), "", req.Always)
	switch {
	case errors.Is(err, errNoApproval):
		writeError(w, http.StatusNotFound, "no approval %q (it may have been answered more than %s ago)", id, keepResolved)
		return
	case errors.Is(err, errAlreadyResolved):
		writeError(w, http.StatusConflict, "approval %s is already %s", id, a.Status)
		return
	}
	if req.Always {
		note, err := s.alwaysAllow(a)
		if err != nil {
			note = "approved once; no rule was written: " + err.Error()
			s.log.WithError(err).WithField("approval", id).Warn("always allow failed")
		}
		a.Reason = note
		s.approvals.setReason(id, note)
	}
	s.approvalDone(a)
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) handleMetrics(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	pol := s.policies.status()
	s.metrics.write(w, gauges{pendingApprovals: s.approvals.pendingCount(), subscribers: s.events.count(),
		policyLoadedAt: pol.LoadedAt, policyOK: pol.LastError == ""})
}
