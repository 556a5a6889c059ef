package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
)

// watchEnv runs "rampart watch" in the background against a throwaway
// Rampart home, with outputs the test can wait on.
type watchEnv struct {
	*auditEnv
	out, errOut *syncBuffer
	code        chan int
	stop        context.CancelFunc
}

// startWatch starts watch with args; it ends when the test does or stop
// is called.
func startWatch(t *testing.T, e *auditEnv, args ...string) *watchEnv {
	t.Helper()
	w := &watchEnv{auditEnv: e, out: newSyncBuffer(), errOut: newSyncBuffer(), code: make(chan int, 1)}
	e.proc.Out, e.proc.Err = w.out, w.errOut
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	t.Cleanup(cancel)
	root := NewCmdRoot(e.proc)
	for _, c := range root.Commands() {
		if c.Name() == "watch" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(NewCmdWatch(e.proc, func(o *WatchOptions) error {
		o.Now, o.Location, o.Poll, o.Backoff, o.Context = func() time.Time { return testNow }, testLoc, 5*time.Millisecond, time.Millisecond, ctx
		return watchRun(o)
	}))
	root.SetArgs(append([]string{"watch"}, args...))
	go func() {
		code := ExitOK
		if err := root.Execute(); err != nil {
			code = report(w.errOut, err)
		}
		w.code <- code
	}()
	return w
}

// waitTimeout bounds each wait of a watch test.
func waitTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// expect waits until buffer b contains want.
func expect(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	if got, ok := b.waitFor(waitTimeout(t), func(s string) bool { return strings.Contains(s, want) }); !ok {
		t.Fatalf("waited for %q, got:\n%s", want, got)
	}
}

// end stops watch and returns its exit code.
func (w *watchEnv) end(t *testing.T) int {
	t.Helper()
	w.stop()
	select {
	case c := <-w.code:
		return c
	case <-waitTimeout(t).Done():
		t.Fatal("watch did not end when its context was cancelled")
		return -1
	}
}

func TestWatchLinesFromFiles(t *testing.T) {
	e := newAuditEnv(t, nil)
	recs := sampleTrail()
	writeTrail(t, e.dir, audit.Options{}, recs[:3]...) // before watch: not shown
	w := startWatch(t, e, "--no-server", "--decision", "deny,ask")
	expect(t, w.errOut, "rampart: watching audit files in "+e.dir+" (decision=deny,ask)\n")
	// Appended after watch started (it reads the end of the trail first,
	// so wait until it polls once more by appending until lines appear).
	writeTrail(t, e.dir, audit.Options{}, recs[3:]...)
	want := lines(sampleLines[3], sampleLines[5], sampleLines[7])
	if got, ok := w.out.waitFor(waitTimeout(t), func(s string) bool { return len(s) >= len(want) }); !ok || got != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if c := w.end(t); c != ExitOK {
		t.Errorf("exit %d: %s", c, w.errOut)
	}
}

// sseStream writes a server-sent event stream until the request ends or
// msgs is closed.
func sseStream(w http.ResponseWriter, r *http.Request, msgs <-chan string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, ": rampart events: decision, approval, reload\n\n")
	w.(http.Flusher).Flush()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			io.WriteString(w, m)
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
			return
		}
	}
}

func sseEvent(kind string, data any) string {
	b, ok := data.([]byte)
	if !ok {
		b, _ = json.Marshal(data)
	}
	return "event: " + kind + "\ndata: " + string(b) + "\n\n"
}

// healthz answers like the server's GET /healthz.
func healthz(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, `{"status":"ok","version":"test"}`)
}

func pendingApproval() approval {
	return approval{
		ID: "ap7", Status: "pending",
		Call:     engine.ToolCall{Tool: "exec", Command: "sudo reboot", Agent: "codex"},
		Decision: engine.Decision{Decision: engine.ActionAsk, Policy: "standard", Rule: "ask-sudo"},
		Created:  at(11, 58), Expires: at(12, 0).Add(2 * time.Minute),
	}
}

func TestWatchLinesFromServer(t *testing.T) {
	e := newAuditEnv(t, nil)
	// The records the server sends are real trail lines.
	trailDir := t.TempDir()
	writeTrail(t, trailDir, audit.Options{}, sampleTrail()...)
	stored := trailLines(t, trailDir)

	home := e.proc.RampartHome()
	os.MkdirAll(home, 0o700)
	os.WriteFile(filepath.Join(home, "token"), []byte("s3cret\n"), 0o600)
	msgs := make(chan string, 32)
	var auth atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		sseStream(w, r, msgs)
	})
	mux.HandleFunc("GET /v1/approvals", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"approvals": []approval{pendingApproval()}})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	w := startWatch(t, e, "--url", srv.URL, "--decision", "deny,ask")
	expect(t, w.errOut, "rampart: watching server "+srv.URL+" and audit files in "+e.dir+" (decision=deny,ask)\n")
	expect(t, w.errOut, `rampart: approval ap7 waits: codex exec sudo reboot (standard/ask-sudo); answer with "rampart approve ap7" or "rampart deny ap7"`+"\n")
	if got := auth.Load(); got != "Bearer s3cret" {
		t.Errorf("Authorization: %q", got)
	}
	msgs <- ": ping\n\n"
	for _, line := range stored {
		msgs <- sseEvent("decision", []byte(line))
	}
	resolved := pendingApproval()
	resolved.Status, resolved.ResolvedBy, resolved.Reason = "approved", "alice", "added an allow rule"
	msgs <- sseEvent("approval", resolved)
	msgs <- sseEvent("reload", map[string]any{"ok": false, "error": "custom.yaml:3:5: unknown action \"nope\""})
	msgs <- sseEvent("reload", map[string]any{"ok": true, "sources": []any{map[string]any{"name": "standard"}}})
	msgs <- ": dropped 3 events\n\n"
	msgs <- "event: future\ndata: {}\n\n"
	msgs <- "event: decision\ndata: not json\n\n"
	expect(t, w.errOut, "rampart: policies reloaded (1 source)\n")

	want := lines(sampleLines[2], sampleLines[3], sampleLines[5], sampleLines[7])
	if got, ok := w.out.waitFor(waitTimeout(t), func(s string) bool { return len(s) >= len(want) }); !ok || got != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", got, want)
	}
	expect(t, w.errOut, `rampart: warning: cannot read a "decision" event from the server: invalid character`)
	if c := w.end(t); c != ExitOK {
		t.Errorf("exit %d", c)
	}
	wantErr := "rampart: watching server " + srv.URL + " and audit files in " + e.dir + " (decision=deny,ask)\n" +
		`rampart: approval ap7 waits: codex exec sudo reboot (standard/ask-sudo); answer with "rampart approve ap7" or "rampart deny ap7"` + "\n" +
		"rampart: approval ap7 approved by alice: codex exec sudo reboot (added an allow rule)\n" +
		`rampart: warning: a policy reload failed; the last good policies stay in force: custom.yaml:3:5: unknown action "nope"` + "\n" +
		"rampart: policies reloaded (1 source)\n" +
		"rampart: warning: the server skipped 3 events for this watch, which fell behind\n"
	if got := w.errOut.String(); !strings.HasPrefix(got, wantErr) {
		t.Errorf("stderr:\n%s\nwant it to start with:\n%s", got, wantErr)
	}
}

// TestWatchReconnects: the stream drops, comes back, drops again and
// stays away; watch says so each time and goes on with the audit files. A
// record that arrives both ways is shown once.
func TestWatchReconnects(t *testing.T) {
	e := newAuditEnv(t, map[string]string{"RAMPART_TOKEN": "t"})
	recs := sampleTrail()
	writeTrail(t, e.dir, audit.Options{}, recs[:3]...) // before watch: not shown
	var streams atomic.Int32
	sent := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /v1/approvals", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"approvals":[]}`)
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		switch streams.Add(1) {
		case 1: // record 4 (which the server also writes to the files), then the stream drops
			writeTrail(t, e.dir, audit.Options{}, recs[3])
			lines := trailLines(t, e.dir)
			msgs := make(chan string, 1)
			msgs <- sseEvent("decision", []byte(lines[3]))
			close(msgs)
			sseStream(w, r, msgs)
			close(sent)
		case 2: // back for a moment
			msgs := make(chan string)
			close(msgs)
			sseStream(w, r, msgs)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	w := startWatch(t, e, "--url", srv.URL)
	expect(t, w.errOut, "rampart: warning: the server at "+srv.URL+" is still gone (GET /v1/events: 503 Service Unavailable); showing the audit files in "+e.dir+" only until it is back\n")
	<-sent
	writeTrail(t, e.dir, audit.Options{}, recs[4]) // written while the server is away
	want := lines(sampleLines[3], sampleLines[4])
	if got, ok := w.out.waitFor(waitTimeout(t), func(s string) bool { return len(s) >= len(want) }); !ok || got != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if c := w.end(t); c != ExitOK {
		t.Errorf("exit %d", c)
	}
	if got := w.out.String(); got != want {
		t.Errorf("stdout at the end:\n%s\nwant:\n%s", got, want)
	}
	wantErr := "rampart: watching server " + srv.URL + " and audit files in " + e.dir + "\n" +
		"rampart: warning: lost the server at " + srv.URL + " (the server ended the event stream); reconnecting\n" +
		"rampart: reconnected to " + srv.URL + "\n" +
		"rampart: warning: lost the server at " + srv.URL + " (the server ended the event stream); reconnecting\n" +
		"rampart: warning: the server at " + srv.URL + " is still gone (GET /v1/events: 503 Service Unavailable); showing the audit files in " + e.dir + " only until it is back\n"
	if got := w.errOut.String(); got != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, wantErr)
	}
}

func TestWatchUnauthorizedAndNoServer(t *testing.T) {
	e := newAuditEnv(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"missing or wrong token"}`)
	})
	srv := httptest.NewServer(mux)
	w := startWatch(t, e, "--url", srv.URL)
	expect(t, w.errOut, "rampart: warning: the server at "+srv.URL+" refused the token (check RAMPART_TOKEN or the token file); showing the audit files in "+e.dir+" only\n")
	w.end(t)
	srv.Close()

	// Nothing listens at the URL: watch follows the files and says why.
	e2 := newAuditEnv(t, map[string]string{"RAMPART_URL": srv.URL})
	w = startWatch(t, e2)
	expect(t, w.errOut, "rampart: watching audit files in "+e2.dir+"\n")
	if !strings.HasPrefix(w.errOut.String(), "rampart: no Rampart server answered at "+srv.URL+" (") {
		t.Errorf("stderr:\n%s", w.errOut)
	}
	writeTrail(t, e2.dir, audit.Options{}, sampleTrail()[0])
	expect(t, w.out, sampleLines[0]+"\n")
	w.end(t)
}

// TestWatchUnixSocket finds the server on the socket in the Rampart home.
func TestWatchUnixSocket(t *testing.T) {
	home, err := os.MkdirTemp("", "rw") // short: socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(home)
	e := newAuditEnv(t, map[string]string{"RAMPART_HOME": home})
	l, err := net.Listen("unix", filepath.Join(home, "rampart.sock"))
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	msgs := make(chan string, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /v1/approvals", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"approvals":[]}`) })
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) { sseStream(w, r, msgs) })
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: mux}}
	srv.Start()
	defer srv.Close()

	w := startWatch(t, e)
	expect(t, w.errOut, "rampart: watching server unix:"+filepath.Join(home, "rampart.sock")+" and audit files in "+e.dir+"\n")
	rec := sampleTrail()[0]
	rec.Seq, rec.Event = 1, audit.EventDecision
	msgs <- sseEvent("decision", rec)
	expect(t, w.out, sampleLines[0]+"\n")
	w.end(t)
}

func TestNewWatchClient(t *testing.T) {
	for _, c := range []struct {
		name    string
		flag    string
		env     map[string]string
		label   string
		base    string
		token   string
		wantErr string
	}{
		{name: "default", label: defaultServerURL, base: defaultServerURL},
		{name: "env", env: map[string]string{"RAMPART_URL": "http://127.0.0.1:7000/", "RAMPART_TOKEN": " tok "}, label: "http://127.0.0.1:7000/", base: "http://127.0.0.1:7000", token: "tok"},
		{name: "flag over env", flag: "https://h:1", env: map[string]string{"RAMPART_URL": "http://x:2"}, label: "https://h:1", base: "https://h:1"},
		{name: "unix", flag: "unix:/run/r.sock", label: "unix:/run/r.sock", base: "http://rampart"},
		{name: "unix URL", flag: "unix:///run/r.sock", label: "unix:///run/r.sock", base: "http://rampart"},
		{name: "bad scheme", flag: "ftp://x", wantErr: `server URL "ftp://x" is not an http(s) or unix: URL`},
		{name: "no host", flag: "localhost:9090", wantErr: "is not an http(s) or unix: URL"},
		{name: "empty socket", flag: "unix:", wantErr: "names no socket"},
	} {
		proc, _, _ := testProcess(t, c.env)
		client, err := newWatchClient(proc, c.flag)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || client.Label != c.label || client.base != c.base || client.token != c.token {
			t.Errorf("%s: %+v, %v", c.name, client, err)
		}
	}
	// The token file, when RAMPART_TOKEN is unset.
	proc, _, _ := testProcess(t, nil)
	os.MkdirAll(proc.RampartHome(), 0o700)
	os.WriteFile(filepath.Join(proc.RampartHome(), "token"), []byte("from-file\n"), 0o600)
	if client, _ := newWatchClient(proc, ""); client.token != "from-file" {
		t.Errorf("token %q, want the file's", client.token)
	}
	if code := newAuditEnv(t, nil).run("watch", "--no-server", "--url", "http://x:1"); code != ExitUsage {
		t.Errorf("--no-server with --url: exit %d", code)
	}
}

func TestReadSSE(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"one event", "event: decision\ndata: {\"a\":1}\n\n", []string{`decision {"a":1}`}},
		{"default type and CRLF", "data: x\r\n\r\n", []string{"message x"}},
		{"CR only", "event: e\rdata: y\r\r", []string{"e y"}},
		{"data lines join", "event: e\ndata: a\ndata:b\ndata\n\n", []string{"e a\nb\n"}},
		{"comments and ids", ": ping\nid: 7\nretry: 10\n\n:dropped 2 events\n\n", []string{"# ping", "# dropped 2 events"}},
		{"event without data is no message", "event: e\n\nevent: f\ndata: 1\n\n", []string{"f 1"}},
		{"unfinished message at the end", "event: e\ndata: 1\n\nevent: f\ndata: 2\n", []string{"e 1"}},
	} {
		var got []string
		alive := 0
		err := readSSE(strings.NewReader(c.in), func() { alive++ }, func(m sseMessage) error {
			if m.Event == "" {
				got = append(got, "# "+m.Comment)
			} else {
				got = append(got, m.Event+" "+m.Data)
			}
			return nil
		})
		if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) || alive == 0 {
			t.Errorf("%s: %q, %v (alive %d); want %q", c.name, got, err, alive, c.want)
		}
	}
	long := "data: " + strings.Repeat("x", maxSSELine) + "\n\n"
	if err := readSSE(strings.NewReader(long), func() {}, func(sseMessage) error { return nil }); err == nil {
		t.Errorf("a line over %d bytes was read", maxSSELine)
	}
}
