package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/audit"
)

func TestAuth(t *testing.T) {
	e := newTestEnv(t, nil)
	call := `{"tool":"exec","command":"git status"}`
	for _, c := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", 401},
		{"wrong token", "wrong", 401},
		{"right token with a different length", testToken + "x", 401},
		{"right token", testToken, 200},
	} {
		status, body := e.doToken("POST", "/v1/check", call, c.token)
		if status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.want)
		}
		if status == 401 && !strings.Contains(errorOf(t, body), "token") {
			t.Errorf("%s: %s", c.name, body)
		}
	}
	// Everything but /healthz needs the token, even unknown paths.
	for _, p := range []string{"/v1/approvals", "/metrics", "/v1/events", "/nope"} {
		if status, body := e.doToken("GET", p, "", ""); status != 401 {
			t.Errorf("GET %s without a token: %d %s", p, status, body)
		}
	}
	status, body := e.doToken("GET", "/healthz", "", "")
	if status != 200 {
		t.Fatalf("healthz without a token: %d %s", status, body)
	}
	var h Health
	mustJSON(t, body, &h)
	if h.Status != "ok" || h.Version != "test" || h.PID != os.Getpid() || h.Policy.Sources[0].Name != "standard" {
		t.Errorf("healthz: %s", body)
	}
}

func TestTokenFileAndRotation(t *testing.T) {
	home := t.TempDir()
	tokenFile := filepath.Join(home, "token")
	e2 := newTestEnv(t, func(c *Config) { c.Token, c.TokenFile = "", tokenFile })
	fi, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %04o, want 0600", fi.Mode().Perm())
	}
	old, err := ReadToken(tokenFile)
	if err != nil || len(old) != 64 {
		t.Fatalf("token %q, %v", old, err)
	}
	call := `{"tool":"exec","command":"ls"}`
	if status, body := e2.doToken("POST", "/v1/check", call, old); status != 200 {
		t.Fatalf("with the file's token: %d %s", status, body)
	}
	rotated, err := RotateToken(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	// The new token works at once, the old one no longer does.
	if status, body := e2.doToken("POST", "/v1/check", call, rotated); status != 200 {
		t.Errorf("with the rotated token: %d %s", status, body)
	}
	if status, _ := e2.doToken("POST", "/v1/check", call, old); status != 401 {
		t.Errorf("the old token still works after rotation: %d", status)
	}
	// A second server on the same file reads the same token.
	again, created, err := LoadOrCreateToken(tokenFile)
	if err != nil || created || again != rotated {
		t.Errorf("LoadOrCreateToken: %q %v %v", again, created, err)
	}
}

func TestBadRequests(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, c := range []struct {
		body, want string
	}{
		{``, `empty body: want a tool call such as {"tool":"exec","command":"git status"}`},
		{`[1]`, `want a JSON object (a tool call such as {"tool":"exec","command":"git status"}), got an array`},
		{`{"tool":"exec"}`, `exec call without "command" or "argv"`},
		{`{"command":"ls"}`, `missing "tool" (want exec, read, write, edit, fetch, mcp, agent)`},
		{`{"tool":"exce","command":"ls"}`, `unknown tool "exce" (did you mean "exec"?); want one of exec, read, write, edit, fetch, mcp, agent`},
		{`{"tool":"exec","cmd":"ls"}`, `unknown field "cmd" (did you mean "command"?)`},
		{`{"tool":"exec","command":1}`, `field "command": want a string, not a JSON number`},
		{`{"tool":"exec","argv":"ls -l"}`, `field "argv": want a list of strings, not a JSON string`},
		{`{"tool":"exec","command":"ls"} {}`, `unexpected text after the JSON object: "{}"`},
		{`{"tool":"exec","command":"ls"`, `invalid JSON: the object is not closed`},
		{`{"tool":"exec",,}`, `invalid JSON at byte 16: invalid character ',' looking for beginning of object key string`},
	} {
		status, body := e.do("POST", "/v1/check", c.body)
		if status != 400 {
			t.Errorf("%s: %d %s, want 400", c.body, status, body)
			continue
		}
		if got := errorOf(t, body); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.body, got, c.want)
		}
	}

	big := `{"tool":"write","path":"/tmp/x","content":"` + strings.Repeat("a", MaxBodyBytes) + `"}`
	status, body := e.do("POST", "/v1/check", big)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(errorOf(t, body), "1 MiB") {
		t.Errorf("oversized body: %d %s", status, body)
	}
	// Just under the limit is fine.
	fits := `{"tool":"write","path":"/tmp/x","content":"` + strings.Repeat("a", MaxBodyBytes-100) + `"}`
	if status, body := e.do("POST", "/v1/check", fits); status != 200 {
		t.Errorf("a body under the limit: %d %s", status, body)
	}

	status, body = e.do("GET", "/v1/check", "")
	if status != 405 || !strings.Contains(errorOf(t, body), "use POST") {
		t.Errorf("GET /v1/check: %d %s", status, body)
	}
	status, body = e.do("POST", "/v2/check", "{}")
	if status != 404 || !strings.Contains(errorOf(t, body), "no such endpoint: POST /v2/check") {
		t.Errorf("unknown path: %d %s", status, body)
	}
	status, body = e.do("POST", "/v1/approvals/abc", `{"decision":"maybe"}`)
	if status != 400 || errorOf(t, body) != `field "decision": want "allow" or "deny", got "maybe"` {
		t.Errorf("bad answer: %d %s", status, body)
	}
	status, body = e.do("POST", "/v1/approvals/abc", `{"decision":"deny","always":true}`)
	if status != 400 || errorOf(t, body) != `"always" is only for "allow" answers` {
		t.Errorf("always deny: %d %s", status, body)
	}
	// Bad requests are not decisions: nothing was audited but the one
	// body that fit.
	if n := len(e.records()); n != 1 {
		t.Errorf("%d audit records, want 1", n)
	}
}

func TestCheckDecisionsAreAudited(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, c := range []struct {
		call, decision, rule string
	}{
		{`{"tool":"exec","command":"git status","agent":"claude-code","session":"s1"}`, "allow", ""},
		{`{"tool":"exec","command":"rm -rf /"}`, "deny", "block-destructive"},
		{`{"tool":"exec","argv":["sudo","apt","update"]}`, "ask", "sudo"},
		{`{"tool":"READ","path":"~/.ssh/id_rsa"}`, "deny", ""},
		{`{"tool":"fetch","url":"https://example.com/"}`, "allow", ""},
	} {
		resp := e.check(c.call)
		if resp.Decision != c.decision || (c.rule != "" && resp.Rule != c.rule) {
			t.Errorf("%s: %+v, want %s %s", c.call, resp, c.decision, c.rule)
		}
		if resp.Decision == "deny" && (resp.Message == "" || resp.Policy != "standard") {
			t.Errorf("%s: a deny without message or policy: %+v", c.call, resp)
		}
	}
	// Records are written before the answer: all five are there now.
	recs := e.records()
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	r := recs[0]
	if r.Adapter != "server" || r.Agent != "claude-code" || r.Session != "s1" || r.Command != "git status" || r.Decision != "allow" || r.Seq != 1 {
		t.Errorf("first record: %+v", r)
	}
	if recs[3].Tool != "read" || recs[3].Decision != "deny" {
		t.Errorf("fourth record: %+v", recs[3])
	}

	// The adapter header names the adapter.
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1/check", strings.NewReader(`{"tool":"exec","command":"ls"}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set(AdapterHeader, "preload")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	recs = e.records()
	if got := recs[len(recs)-1].Adapter; got != "preload" {
		t.Errorf("adapter %q, want preload", got)
	}

	rep, err := audit.Verify(audit.DefaultDir(e.rhome))
	if err != nil || !rep.OK || rep.Records != 6 {
		t.Errorf("verify: %+v %v", rep, err)
	}
}

// TestQueuedAuditIsWrittenAtShutdown: without AuditWait a decision is
// answered once its record is queued; shutting down writes the queue.
func TestQueuedAuditIsWrittenAtShutdown(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.AuditWait = false })
	for range 200 {
		e.check(`{"tool":"exec","command":"git status"}`)
	}
	if err := e.srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(audit.DefaultDir(e.rhome))
	if err != nil || !rep.OK || rep.Records != 200 {
		t.Errorf("verify: %+v %v", rep, err)
	}
	// After shutdown a decision is still answered, and counted as not
	// audited.
	if r := e.check(`{"tool":"exec","command":"rm -rf /"}`); r.Decision != "deny" {
		t.Errorf("after shutdown: %+v", r)
	}
	if n := e.srv.metrics.auditErrors.Load(); n != 1 {
		t.Errorf("%d audit errors, want 1", n)
	}
}

func TestPreflightCompatibility(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, c := range []struct {
		path, body string
		status     int
		allowed    bool
		decision   string
	}{
		{"/v1/preflight/exec", `{"agent":"a","session":"s","params":{"command":"rm -rf /"}}`, 200, false, "deny"},
		{"/v1/preflight/exec", `{"command":"git status"}`, 200, true, "allow"},
		{"/v1/preflight/read", `{"params":{"path":"/etc/shadow"}}`, 200, false, "deny"},
		{"/v1/preflight/fetch", `{"url":"https://example.com"}`, 200, true, "allow"},
		{"/v1/preflight/exec", `{"command":"sudo ls"}`, 200, false, "ask"},
		{"/v1/tool/exec", `{"params":{"command":"rm -rf /"}}`, 403, false, "deny"},
		{"/v1/tool/exec", `{"params":{"command":"ls"}}`, 200, true, "allow"},
		{"/v1/tool/Bash", `{"command":"ls","unknown_param":1}`, 200, true, "allow"},
	} {
		status, body := e.do("POST", c.path, c.body)
		if status != c.status {
			t.Errorf("%s %s: %d %s", c.path, c.body, status, body)
			continue
		}
		var raw map[string]any
		mustJSON(t, body, &raw)
		for _, key := range []string{"allowed", "decision", "message", "matched_policies", "eval_duration_us"} {
			if _, ok := raw[key]; !ok {
				t.Errorf("%s %s: no %q in %s", c.path, c.body, key, body)
			}
		}
		if raw["allowed"] != c.allowed || raw["decision"] != c.decision {
			t.Errorf("%s %s: %s", c.path, c.body, body)
		}
		if mp, _ := raw["matched_policies"].([]any); c.decision == "deny" && len(mp) == 0 {
			t.Errorf("%s %s: a deny with no matched policy: %s", c.path, c.body, body)
		}
	}
	status, body := e.do("POST", "/v1/preflight/exec", `{"params":{}}`)
	if status != 400 || errorOf(t, body) != `exec call without "command" or "argv"` {
		t.Errorf("empty params: %d %s", status, body)
	}
	status, body = e.do("POST", "/v1/preflight/exec", `{"command":["ls"]}`)
	if status != 400 || errorOf(t, body) != `field "command": want a string` {
		t.Errorf("wrong type: %d %s", status, body)
	}
	status, body = e.do("POST", "/v1/preflight/", `{}`)
	if status != 404 {
		t.Errorf("no tool: %d %s", status, body)
	}
}

func TestMetrics(t *testing.T) {
	e := newTestEnv(t, nil)
	e.check(`{"tool":"exec","command":"rm -rf /"}`)
	e.check(`{"tool":"exec","command":"ls"}`)
	e.check(`{"tool":"exec","command":"ls"}`)
	status, body := e.do("GET", "/metrics", "")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	for _, want := range []string{
		"# TYPE rampart_decisions_total counter\n",
		`rampart_decisions_total{decision="allow",policy=""} 2` + "\n",
		`rampart_decisions_total{decision="deny",policy="standard"} 1` + "\n",
		"# TYPE rampart_evaluation_seconds histogram\n",
		`rampart_evaluation_seconds_bucket{le="+Inf"} 3` + "\n",
		"rampart_evaluation_seconds_count 3\n",
		"rampart_pending_approvals 0\n",
		"rampart_audit_records_total 3\n",
		"rampart_audit_write_errors_total 0\n",
		"rampart_events_dropped_total 0\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestAuditFailureKeepsServing(t *testing.T) {
	e := newTestEnv(t, nil)
	e.check(`{"tool":"exec","command":"ls"}`)
	dir := audit.DefaultDir(e.rhome)
	// Make the trail unwritable: replace the current file by a folder.
	files, _ := audit.Files(dir)
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	cur := filepath.Join(dir, files[0])
	if err := os.Rename(cur, cur+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(cur, 0o700); err != nil {
		t.Fatal(err)
	}
	resp := e.check(`{"tool":"exec","command":"rm -rf /"}`)
	if resp.Decision != "deny" {
		t.Errorf("the decision must stand when the audit fails: %+v", resp)
	}
	h := e.srv.Health()
	if h.Status != "degraded" || h.Audit.WriteErrors != 1 || h.Audit.LastError == "" {
		t.Errorf("health after an audit failure: %+v", h.Audit)
	}
}

// The check-only token (what rampart preload gives the programs it runs)
// asks for decisions but cannot answer approvals, reload, or read events
// and metrics: a program cannot approve its own ask.
func TestCheckOnlyToken(t *testing.T) {
	e := newTestEnv(t, nil)
	check := CheckToken(testToken)
	if check == testToken || !strings.HasPrefix(check, "check-") {
		t.Fatalf("check token %q", check)
	}
	call := `{"tool":"exec","command":"git status"}`
	for _, p := range []string{"/v1/check", "/v1/preflight/exec", "/v1/tool/exec"} {
		if status, body := e.doToken("POST", p, call, check); status != 200 {
			t.Errorf("POST %s with the check token: %d %s", p, status, body)
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/approvals", ""},
		{"POST", "/v1/approvals/a1", `{"decision":"allow"}`},
		{"GET", "/v1/events", ""},
		{"GET", "/metrics", ""},
		{"POST", "/v1/reload", ""},
	} {
		status, body := e.doToken(c.method, c.path, c.body, check)
		if status != 403 || !strings.Contains(errorOf(t, body), "may only ask for decisions") {
			t.Errorf("%s %s with the check token: %d %s", c.method, c.path, status, body)
		}
	}
	// The main token still does everything; a token derived from another
	// one is nothing.
	if status, body := e.doToken("GET", "/v1/approvals", "", testToken); status != 200 {
		t.Errorf("approvals with the main token: %d %s", status, body)
	}
	if status, _ := e.doToken("POST", "/v1/check", call, CheckToken("other")); status != 401 {
		t.Errorf("a check token of another server: %d", status)
	}
}
