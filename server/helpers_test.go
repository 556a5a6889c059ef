package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
)

const testToken = "test-token-0123456789"

// testEnv is a server on a throwaway Rampart home, behind httptest.
type testEnv struct {
	t     testing.TB
	home  string // the user's home
	rhome string // RAMPART_HOME
	srv   *Server
	ts    *httptest.Server
}

// newTestEnv starts a server with the standard profile plus the files in
// $RAMPART_HOME/policies, the fixed test token, and fast polling. It
// answers after the audit record is written (AuditWait), so tests can
// read the trail right after an answer.
func newTestEnv(t testing.TB, tweak func(*Config)) *testEnv {
	t.Helper()
	home := t.TempDir()
	rhome := filepath.Join(home, ".rampart")
	if err := os.MkdirAll(filepath.Join(rhome, "policies"), 0o700); err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, home: home, rhome: rhome}
	cfg := Config{
		Load: func() (*engine.Program, error) {
			return engine.Load(engine.LoadOptions{Profile: "standard", RampartHome: rhome, Home: home})
		},
		Watch: func() []string {
			files, _ := filepath.Glob(filepath.Join(rhome, "policies", "*.yaml"))
			return append([]string{filepath.Join(rhome, "policies")}, files...)
		},
		PollInterval:       20 * time.Millisecond,
		AuditDir:           audit.DefaultDir(rhome),
		Token:              testToken,
		ApprovedPolicyFile: ApprovedPolicyPath(rhome),
		Home:               home,
		Version:            "test",
		AuditWait:          true,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		e.ts.Close()
	})
	return e
}

// do sends a request with the test token and returns status and body.
func (e *testEnv) do(method, path, body string) (int, string) {
	e.t.Helper()
	return e.doToken(method, path, body, testToken)
}

func (e *testEnv) doToken(method, path, body, token string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// check posts a tool call to /v1/check and decodes the answer.
func (e *testEnv) check(call string) CheckResponse {
	e.t.Helper()
	status, body := e.do("POST", "/v1/check", call)
	if status != 200 {
		e.t.Fatalf("check %s: %d %s", call, status, body)
	}
	var resp CheckResponse
	mustJSON(e.t, body, &resp)
	return resp
}

func (e *testEnv) client() *Client {
	c, err := NewClient(e.ts.URL, testToken, 10*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// writePolicy replaces a user policy file at once (as editors do), so the
// watcher never sees half of it.
func (e *testEnv) writePolicy(name, content string) {
	e.t.Helper()
	if err := writeFileAtomic(filepath.Join(e.rhome, "policies", name), []byte(content), true); err != nil {
		e.t.Fatal(err)
	}
}

// waitFor polls cond every 10ms for up to 5s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustJSON(t testing.TB, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("not JSON (%v): %s", err, body)
	}
}

// errorOf checks that body is exactly {"error": "..."} and returns the
// message.
func errorOf(t testing.TB, body string) string {
	t.Helper()
	var m map[string]any
	mustJSON(t, body, &m)
	msg, ok := m["error"].(string)
	if !ok || len(m) != 1 || msg == "" {
		t.Fatalf(`want exactly {"error": "..."}, got %s`, body)
	}
	return msg
}

// sseReader reads server-sent events from GET /v1/events.
type sseReader struct {
	resp *http.Response
	r    *bufio.Reader
}

func (e *testEnv) events() *sseReader {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.ts.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return &sseReader{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next returns the next event's type and data, skipping comments.
func (s *sseReader) next(t *testing.T) (string, string) {
	t.Helper()
	type result struct{ kind, data string }
	ch := make(chan result, 1)
	go func() {
		var kind, data string
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				ch <- result{"<error>", err.Error()}
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "" && kind != "":
				ch <- result{kind, data}
				return
			case strings.HasPrefix(line, "event: "):
				kind = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				data = line[len("data: "):]
			}
		}
	}()
	select {
	case r := <-ch:
		return r.kind, r.data
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return "", ""
	}
}

// records reads the audit trail of e.
func (e *testEnv) records() []*audit.Record {
	e.t.Helper()
	var out []*audit.Record
	err := audit.Scan(audit.DefaultDir(e.rhome), func(en audit.Entry) error {
		if en.Record != nil {
			out = append(out, en.Record)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func compactJSON(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}
