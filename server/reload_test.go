package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/engine"
)

const denyDeploy = `version: "1"
policies:
  - name: no-deploy
    match:
      tool: exec
    rules:
      - action: deny
        when:
          command_name: [make]
          subcommand: [deploy]
        message: deploys go through CI
`

func TestHotReloadKeepsLastGoodPolicy(t *testing.T) {
	e := newTestEnv(t, nil)
	events := e.events()
	deploy := `{"tool":"exec","command":"make deploy"}`
	if r := e.check(deploy); r.Decision != "allow" {
		t.Fatalf("before the policy: %+v", r)
	}
	if kind, data := events.next(t); kind != EventDecision || !strings.Contains(data, `"command":"make deploy"`) {
		t.Fatalf("event %s %s", kind, data)
	}

	e.writePolicy("team.yaml", denyDeploy)
	// (Writing the file may show as more than one change.)
	res := events.nextReload(t, func(r ReloadResult) bool { return len(r.Sources) == 2 })
	if !res.OK || res.Sources[1].Name != "team" {
		t.Fatalf("reload event %+v", res)
	}
	if r := e.check(deploy); r.Decision != "deny" || r.Policy != "team" || r.Message != "deploys go through CI" {
		t.Fatalf("after the policy: %+v", r)
	}
	events.next(t) // its decision

	// A broken edit: the deny stays in force and the error is reported.
	e.writePolicy("team.yaml", strings.Replace(denyDeploy, "command_name", "comand_name", 1))
	res = events.nextReload(t, func(r ReloadResult) bool { return !r.OK })
	if !strings.Contains(res.Error, `team.yaml:9:11: unknown condition "comand_name" (did you mean "command_name"?)`) || len(res.Sources) != 2 {
		t.Fatalf("broken reload event %+v", res)
	}
	if r := e.check(deploy); r.Decision != "deny" {
		t.Errorf("a broken edit must keep the last good policy: %+v", r)
	}
	_, body := e.do("GET", "/healthz", "")
	var h Health
	mustJSON(t, body, &h)
	if h.Status != "degraded" || !strings.Contains(h.Policy.LastError, "comand_name") || h.Policy.LastErrorAt == nil {
		t.Errorf("healthz after a broken edit: %s", body)
	}
	status, body := e.do("POST", "/v1/reload", "")
	mustJSON(t, body, &res)
	if status != 200 || res.OK || !strings.Contains(res.Error, "comand_name") {
		t.Errorf("POST /v1/reload with a broken file: %d %s", status, body)
	}
	_, metrics := e.do("GET", "/metrics", "")
	if !strings.Contains(metrics, "rampart_policy_ok 0\n") {
		t.Errorf("metrics do not show the broken policy")
	}

	// Fixing the file clears the error; removing it removes the rule.
	e.writePolicy("team.yaml", strings.Replace(denyDeploy, "deny", "ask", 1))
	waitFor(t, "the fixed policy", func() bool { return e.check(deploy).Decision == "ask" })
	if h := e.srv.Health(); h.Status != "ok" || h.Policy.LastError != "" {
		t.Errorf("healthz after the fix: %+v", h.Policy)
	}
	before := e.srv.Health().Policy.LoadedAt
	status, body = e.do("POST", "/v1/reload", "")
	if status != 200 || !strings.Contains(body, `"ok":true`) || !e.srv.Health().Policy.LoadedAt.After(before) {
		t.Errorf("POST /v1/reload: %d %s", status, body)
	}
}

// nextReload skips events until a reload event that match accepts.
func (s *sseReader) nextReload(t *testing.T, match func(ReloadResult) bool) ReloadResult {
	t.Helper()
	for {
		kind, data := s.next(t)
		if kind != EventReload {
			continue
		}
		var res ReloadResult
		mustJSON(t, data, &res)
		if match(res) {
			return res
		}
	}
}

func TestEventsStream(t *testing.T) {
	e := newTestEnv(t, nil)
	events := e.events()
	e.check(`{"tool":"exec","command":"rm -rf /","agent":"codex"}`)
	kind, data := events.next(t)
	if kind != EventDecision {
		t.Fatalf("event %s %s", kind, data)
	}
	// The data is the audit record as written: the same line as in the
	// trail.
	recs := e.records()
	written, _ := json.Marshal(recs[0])
	if data != string(written) {
		t.Errorf("event data is not the written record:\n event %s\nrecord %s", data, written)
	}
	if recs[0].Seq != 1 || recs[0].Hash == "" || recs[0].Agent != "codex" {
		t.Errorf("record %+v", recs[0])
	}

	// An approval: an event when it is created, one when it is answered.
	done := e.waitingCheck(&engine.ToolCall{Tool: "exec", Command: "sudo reboot"})
	var created Approval
	for kind != EventApproval {
		kind, data = events.next(t)
	}
	mustJSON(t, data, &created)
	if created.Status != StatusPending || created.Call.Command != "sudo reboot" {
		t.Fatalf("approval event %s", data)
	}
	e.client().Resolve(t.Context(), created.ID, Answer{Decision: "deny", By: "carol"})
	receive(t, done)
	for kind, data = events.next(t); kind != EventApproval; kind, data = events.next(t) {
	}
	var answered Approval
	mustJSON(t, data, &answered)
	if answered.ID != created.ID || answered.Status != StatusDenied || answered.ResolvedBy != "carol" {
		t.Errorf("answered approval event %s", data)
	}
}

func TestEventsPing(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.PingInterval = 20 * time.Millisecond })
	events := e.events()
	line, err := events.r.ReadString('\n')
	if err != nil || line != ": rampart events: decision, approval, reload\n" {
		t.Fatalf("first line %q %v", line, err)
	}
	events.r.ReadString('\n') // the blank line after it
	line, err = events.r.ReadString('\n')
	if err != nil || line != ": ping\n" {
		t.Errorf("ping %q %v", line, err)
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	e := newTestEnv(t, nil)
	sub := e.srv.events.subscribe() // never read
	defer e.srv.events.unsubscribe(sub)
	for i := 0; i < subscriberBuffer+10; i++ {
		e.srv.events.publish(EventReload, ReloadResult{OK: true})
	}
	if n := e.srv.metrics.eventsDropped.Load(); n != 10 {
		t.Errorf("dropped %d events, want 10", n)
	}
	if r := e.check(`{"tool":"exec","command":"ls"}`); r.Decision != "allow" {
		t.Errorf("check with a stuck subscriber: %+v", r)
	}
}
