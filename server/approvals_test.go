package server

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
)

// waitingCheck posts call to /v1/check?wait=1 in the background.
func (e *testEnv) waitingCheck(call *engine.ToolCall) <-chan CheckResponse {
	out := make(chan CheckResponse, 1)
	go func() {
		resp, err := e.client().Check(context.Background(), call, true)
		if err != nil {
			e.t.Errorf("check: %v", err)
			close(out)
			return
		}
		out <- *resp
	}()
	return out
}

// pendingID waits for exactly one pending approval and returns its id.
func (e *testEnv) pendingID() string {
	e.t.Helper()
	var list []Approval
	waitFor(e.t, "a pending approval", func() bool {
		var err error
		list, err = e.client().Approvals(context.Background())
		return err == nil && len(list) == 1
	})
	return list[0].ID
}

func receive(t *testing.T, ch <-chan CheckResponse) CheckResponse {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting check did not return")
	}
	return CheckResponse{}
}

func TestApprovalAllowAndDeny(t *testing.T) {
	e := newTestEnv(t, nil)
	sudo := &engine.ToolCall{Tool: "exec", Command: "sudo apt update", Agent: "preload-test"}

	// Without wait an ask is just an ask.
	if r := e.check(`{"tool":"exec","command":"sudo apt update"}`); r.Decision != "ask" || r.ApprovalID != "" {
		t.Fatalf("without wait: %+v", r)
	}

	done := e.waitingCheck(sudo)
	id := e.pendingID()
	status, body := e.do("GET", "/v1/approvals", "")
	var list struct{ Approvals []map[string]any }
	mustJSON(t, body, &list)
	a := list.Approvals[0]
	for _, key := range []string{"id", "status", "call", "decision", "created", "expires", "resolved_by"} {
		if _, ok := a[key]; !ok {
			t.Errorf("approval lacks %q: %s", key, body)
		}
	}
	if status != 200 || a["status"] != "pending" || a["call"].(map[string]any)["command"] != "sudo apt update" ||
		a["decision"].(map[string]any)["decision"] != "ask" {
		t.Errorf("approvals: %d %s", status, body)
	}
	if h := e.srv.Health(); h.PendingApprovals != 1 {
		t.Errorf("healthz pending_approvals %d", h.PendingApprovals)
	}

	status, body = e.do("POST", "/v1/approvals/"+id, `{"decision":"allow","by":"alice"}`)
	if status != 200 || !strings.Contains(body, `"status":"approved"`) || !strings.Contains(body, `"resolved_by":"alice"`) {
		t.Fatalf("approve: %d %s", status, body)
	}
	r := receive(t, done)
	if r.Decision != "allow" || r.ApprovalID != id || r.ApprovedBy != "alice" || r.Rule != "sudo" {
		t.Errorf("approved check: %+v", r)
	}
	// Answering again is a conflict; an unknown id is not found.
	if status, body := e.do("POST", "/v1/approvals/"+id, `{"decision":"deny"}`); status != 409 || errorOf(t, body) != "approval "+id+" is already approved" {
		t.Errorf("second answer: %d %s", status, body)
	}
	if status, body := e.do("POST", "/v1/approvals/00000000", `{"decision":"deny"}`); status != 404 {
		t.Errorf("unknown id: %d %s", status, body)
	}

	done = e.waitingCheck(sudo)
	id2 := e.pendingID()
	if _, err := e.client().Resolve(context.Background(), id2, Answer{Decision: "deny", By: "bob"}); err != nil {
		t.Fatal(err)
	}
	r = receive(t, done)
	if r.Decision != "deny" || r.ApprovedBy != "bob" || !strings.Contains(r.Message, "denied by bob") {
		t.Errorf("denied check: %+v", r)
	}
	var apiErr *APIError
	if _, err := e.client().Resolve(context.Background(), id2, Answer{Decision: "allow"}); !errors.As(err, &apiErr) || apiErr.Status != 409 {
		t.Errorf("resolve twice: %v", err)
	}

	// The trail has each ask and each answer.
	var kinds []string
	for _, rec := range e.records() {
		kinds = append(kinds, rec.Event+":"+rec.Decision+":"+rec.ApprovedBy)
	}
	want := "decision:ask: decision:ask: approval:allow:alice decision:ask: approval:deny:bob"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("audit records:\n got %s\nwant %s", got, want)
	}
	if rep, err := audit.Verify(audit.DefaultDir(e.rhome)); err != nil || !rep.OK {
		t.Errorf("verify: %+v %v", rep, err)
	}
}

func TestApprovalTimeout(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.ApprovalTimeout = 200 * time.Millisecond })
	start := time.Now()
	r := receive(t, e.waitingCheck(&engine.ToolCall{Tool: "exec", Command: "sudo reboot"}))
	if r.Decision != "deny" || r.ApprovalID == "" || !strings.Contains(r.Message, "the approval timed out (nobody answered within 200ms)") {
		t.Errorf("timed out check: %+v", r)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("answered after %s, before the timeout", took)
	}
	a, ok := e.srv.approvals.get(r.ApprovalID)
	if !ok || a.Status != StatusExpired {
		t.Errorf("approval after timeout: %+v", a)
	}
	status, body := e.do("POST", "/v1/approvals/"+r.ApprovalID, `{"decision":"allow"}`)
	if status != 409 || !strings.Contains(body, "already expired") {
		t.Errorf("answering an expired approval: %d %s", status, body)
	}
	recs := e.records()
	last := recs[len(recs)-1]
	if last.Event != audit.EventApproval || last.Decision != "deny" || last.ApprovalID != r.ApprovalID {
		t.Errorf("last record: %+v", last)
	}
}

func TestShutdownDeniesWaitingApprovals(t *testing.T) {
	e := newTestEnv(t, nil)
	done := e.waitingCheck(&engine.ToolCall{Tool: "exec", Command: "sudo reboot"})
	e.pendingID()
	go e.srv.Shutdown(context.Background())
	r := receive(t, done)
	if r.Decision != "deny" || !strings.Contains(r.Message, "the server shut down") {
		t.Errorf("check during shutdown: %+v", r)
	}
}

func TestAlwaysAllow(t *testing.T) {
	e := newTestEnv(t, nil)
	// A call whose text holds glob metacharacters, run through sudo.
	call := &engine.ToolCall{Tool: "exec", Command: `sudo rm -rf ~/proj/*.o "[x]"`, Cwd: e.home}
	done := e.waitingCheck(call)
	id := e.pendingID()
	a, err := e.client().Resolve(context.Background(), id, Answer{Decision: "allow", Always: true, By: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Always || !strings.Contains(a.Reason, "added an exact allow rule to ask-privilege, block-destructive") {
		t.Errorf("always answer: %+v", a)
	}
	if r := receive(t, done); r.Decision != "allow" {
		t.Errorf("waiting check: %+v", r)
	}

	// The same call is now allowed by the new rule, without asking.
	data, _ := json.Marshal(call)
	r := e.check(string(data))
	if r.Decision != "allow" || r.Rule != "approved-"+id || !strings.Contains(r.Message, "Always allowed by alice") {
		t.Errorf("the same call after always: %+v", r)
	}
	// Similar calls still ask: the rule is exact.
	for _, other := range []string{`sudo rm -rf ~/proj/a.o "[x]"`, `sudo rm -rf ~/proj/*.o "[y]"`, `sudo apt update`} {
		data, _ := json.Marshal(engine.ToolCall{Tool: "exec", Command: other, Cwd: e.home})
		if r := e.check(string(data)); r.Decision != "ask" {
			t.Errorf("%s after always: %+v", other, r)
		}
	}
	// Destructive commands are still denied.
	if r := e.check(`{"tool":"exec","command":"sudo rm -rf /"}`); r.Decision != "deny" {
		t.Errorf("sudo rm -rf / after always: %+v", r)
	}
	// The file is a valid policy on its own, 0600.
	file := ApprovedPolicyPath(e.rhome)
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("approved policy: %v %v", fi, err)
	}
	if _, warnings, err := engine.LintFile(file, engine.OriginUser); err != nil || len(warnings) > 0 {
		t.Errorf("approved.yaml does not lint: %v %v", err, warnings)
	}

	// A second always for another call of the same policy adds to the
	// copy already in approved.yaml.
	done = e.waitingCheck(&engine.ToolCall{Tool: "exec", Command: "sudo apt update"})
	id2 := e.pendingID()
	if _, err := e.client().Resolve(context.Background(), id2, Answer{Decision: "allow", Always: true}); err != nil {
		t.Fatal(err)
	}
	receive(t, done)
	if r := e.check(`{"tool":"exec","command":"sudo apt update"}`); r.Decision != "allow" || r.Rule != "approved-"+id2 {
		t.Errorf("second always: %+v", r)
	}
	data, _ = json.Marshal(call)
	if r := e.check(string(data)); r.Decision != "allow" || r.Rule != "approved-"+id {
		t.Errorf("first always after the second: %+v", r)
	}
	content, _ := os.ReadFile(file)
	if n := strings.Count(string(content), "- name: ask-privilege"); n != 1 || os.Getenv("SHOW_APPROVED") != "" {
		t.Errorf("approved.yaml has %d copies of the sudo policy:\n%s", n, content)
	}
}

func TestAlwaysAllowPath(t *testing.T) {
	e := newTestEnv(t, nil)
	env := e.home + "/p/.env"
	done := e.waitingCheck(&engine.ToolCall{Tool: "read", Path: "~/p/.env"})
	id := e.pendingID()
	if _, err := e.client().Resolve(context.Background(), id, Answer{Decision: "allow", Always: true}); err != nil {
		t.Fatal(err)
	}
	receive(t, done)
	for _, c := range []struct {
		call, want string
	}{
		{`{"tool":"read","path":"` + env + `"}`, "allow"},
		{`{"tool":"read","path":"~/p/.env"}`, "allow"},
		{`{"tool":"edit","path":"` + env + `"}`, "allow"}, // the policy covers read and edit alike
		{`{"tool":"read","path":"` + e.home + `/q/.env"}`, "ask"},
	} {
		if r := e.check(c.call); r.Decision != c.want {
			t.Errorf("%s: %+v, want %s", c.call, r, c.want)
		}
	}
}

func TestEscapeGlobs(t *testing.T) {
	if got := escapeGlob(`a*b?c[d]e\f`); got != `a\*b\?c\[d\]e\\f` {
		t.Errorf("escapeGlob: %s", got)
	}
	if got := escapePathGlob(`/a*/b?/[c]`); got != `/a[*]/b[?]/[[]c]` {
		t.Errorf("escapePathGlob: %s", got)
	}
}
