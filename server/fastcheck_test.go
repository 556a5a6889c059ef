package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawExchange writes request on a new connection to sock and reads every
// answer until the server closes the connection.
func rawExchange(t *testing.T, sock, request string) []*http.Response {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	var out []*http.Response
	r := bufio.NewReader(c)
	for {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			if err != io.EOF && len(out) == 0 {
				t.Fatalf("reading the answer: %v", err)
			}
			return out
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, resp)
	}
}

func bodyOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// checkRequest is a request as the library sends it, with token and body.
func checkRequest(token, body, connection string) string {
	return fmt.Sprintf("POST /v1/check HTTP/1.1\r\nHost: localhost\r\nUser-Agent: librampart\r\nX-Rampart-Adapter: preload\r\n"+
		"Authorization: Bearer %s\r\nContent-Type: application/json\r\nConnection: %s\r\nContent-Length: %d\r\n\r\n%s",
		token, connection, len(body), body)
}

// The library's request over the Unix socket is answered as net/http
// answers it (same status, headers and JSON), and audited before the
// answer (the test server waits for its records).
func TestFastCheckAnswersAsNetHTTP(t *testing.T) {
	e := newTestEnv(t, nil)
	sock := e.serveUnix()
	body := `{"tool":"exec","argv":["rm","-rf","/"],"cwd":"/tmp","agent":"a","session":"s"}`

	for _, token := range []string{testToken, CheckToken(testToken)} {
		answers := rawExchange(t, sock, checkRequest(token, body, "close"))
		if len(answers) != 1 {
			t.Fatalf("%d answers", len(answers))
		}
		fast := answers[0]
		recs := e.records()
		if len(recs) == 0 || recs[len(recs)-1].Adapter != "preload" || recs[len(recs)-1].Decision != "deny" {
			t.Fatalf("no audit record of the answered decision: %+v", recs)
		}

		req, _ := http.NewRequest("POST", e.ts.URL+"/v1/check", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(AdapterHeader, "preload")
		req.Close = true
		slow, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		fastBody, slowBody := bodyOf(t, fast), bodyOf(t, slow)
		slow.Body.Close()
		if fast.StatusCode != 200 || slow.StatusCode != 200 || fast.Proto != "HTTP/1.1" || !fast.Close {
			t.Errorf("fast %d %s close=%v, net/http %d", fast.StatusCode, fast.Proto, fast.Close, slow.StatusCode)
		}
		for _, h := range []string{"Content-Type", "Connection"} {
			if fast.Header.Get(h) != slow.Header.Get(h) {
				t.Errorf("%s: %q, net/http %q", h, fast.Header.Get(h), slow.Header.Get(h))
			}
		}
		if _, err := http.ParseTime(fast.Header.Get("Date")); err != nil {
			t.Errorf("Date %q: %v", fast.Header.Get("Date"), err)
		}
		if fast.ContentLength != int64(len(fastBody)) || !strings.HasSuffix(fastBody, "}\n") {
			t.Errorf("length %d for %q", fast.ContentLength, fastBody)
		}
		withoutTime := func(s string) string {
			var m map[string]any
			mustJSON(t, s, &m)
			delete(m, "eval_us")
			out, _ := json.Marshal(m)
			return string(out)
		}
		if withoutTime(fastBody) != withoutTime(slowBody) {
			t.Errorf("fast %s\nnet/http %s", fastBody, slowBody)
		}
	}
}

// What the fast path does not take, net/http answers, on the same
// connection and from the first byte it did not take: errors, other
// endpoints, ?wait=1, and a keep-alive connection that switches.
func TestFastCheckHandsOverTheRest(t *testing.T) {
	e := newTestEnv(t, nil)
	sock := e.serveUnix()
	good := `{"tool":"exec","argv":["ls"]}`
	before := len(e.records())

	cases := []struct {
		name, request string
		status        int
		want          string
	}{
		{"a wrong token", checkRequest("nope", good, "close"), 401, "missing or wrong token"},
		{"no token", "POST /v1/check HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 401, "missing or wrong token"},
		{"not a tool call", checkRequest(testToken, `{"tool":"exec","comand":"ls"}`, "close"), 400, `unknown field \"comand\"`},
		{"not JSON", checkRequest(testToken, `{"tool":`, "close"), 400, "invalid JSON"},
		{"another endpoint", "GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 200, `"status":"ok"`},
		{"a GET", "GET /v1/check HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + testToken + "\r\nConnection: close\r\n\r\n", 405, "not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			answers := rawExchange(t, sock, tc.request)
			if len(answers) != 1 || answers[0].StatusCode != tc.status {
				t.Fatalf("%d answers, first %+v", len(answers), answers)
			}
			if b := bodyOf(t, answers[0]); !strings.Contains(b, tc.want) {
				t.Errorf("body %s, want %q in it", b, tc.want)
			}
		})
	}
	if got := len(e.records()); got != before {
		t.Errorf("%d records for requests that were not decisions", got-before)
	}

	// One keep-alive connection: a check on the fast path, a check with
	// ?wait=1 and a health check through net/http, then two pipelined
	// checks, the second of which closes.
	waitCheck := strings.Replace(checkRequest(testToken, good, "keep-alive"), "/v1/check", "/v1/check?wait=1", 1)
	answers := rawExchange(t, sock, checkRequest(testToken, good, "keep-alive")+waitCheck+
		"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"+checkRequest(testToken, good, "keep-alive")+checkRequest(testToken, good, "close"))
	if len(answers) != 5 {
		t.Fatalf("%d answers to 5 requests", len(answers))
	}
	for i, a := range answers {
		b := bodyOf(t, a)
		if a.StatusCode != 200 || (i != 2) != strings.Contains(b, `"decision":"allow"`) {
			t.Errorf("answer %d: %d %s", i, a.StatusCode, b)
		}
	}
	if got := len(e.records()); got != before+4 {
		t.Errorf("%d records for 4 checks", got-before)
	}

	// The fast path's keep-alive connection, then net/http's: the Go
	// client reuses one connection for all of them.
	c, err := NewClient("unix:"+sock, testToken, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for range 3 {
		if _, err := c.Health(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Approvals(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// Shutdown closes the fast path's idle connections, and every decision
// it answered is in the trail afterwards, with or without AuditWait.
func TestFastCheckShutdown(t *testing.T) {
	for _, wait := range []bool{false, true} {
		t.Run(fmt.Sprintf("AuditWait=%v", wait), func(t *testing.T) {
			e := newTestEnv(t, func(c *Config) { c.AuditWait = wait })
			sock := e.serveUnix()
			conn, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			for i := range 3 {
				io.WriteString(conn, checkRequest(testToken, fmt.Sprintf(`{"tool":"exec","command":"echo %d"}`, i), "keep-alive"))
				resp, err := http.ReadResponse(r, nil)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("check %d: %v %v", i, resp, err)
				}
				io.Copy(io.Discard, resp.Body)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := e.srv.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := r.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("the idle connection is still open after shutdown: %d %v", n, err)
			}
			if got := len(e.records()); got != 3 {
				t.Errorf("%d records for 3 answered checks", got)
			}
		})
	}
}

// A client that sends its request slowly is served by a goroutine of its
// own: another client is answered in the meantime, and the slow request
// is answered once it is all there.
func TestFastCheckSlowClientHoldsUpNobody(t *testing.T) {
	e := newTestEnv(t, nil)
	sock := e.serveUnix()
	slow, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	request := checkRequest(testToken, `{"tool":"exec","command":"echo slow"}`, "close")
	half := len(request) / 2
	if _, err := io.WriteString(slow, request[:half]); err != nil {
		t.Fatal(err)
	}
	answers := rawExchange(t, sock, checkRequest(testToken, `{"tool":"exec","command":"echo quick"}`, "close"))
	if len(answers) != 1 || answers[0].StatusCode != 200 {
		t.Fatalf("the quick client: %+v", answers)
	}
	if _, err := io.WriteString(slow, request[half:]); err != nil {
		t.Fatal(err)
	}
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(bodyOf(t, resp), `"decision":"allow"`) {
		t.Fatalf("the slow client: %v %v", resp, err)
	}
	var cmds []string
	for _, r := range e.records() {
		cmds = append(cmds, r.Command)
	}
	if fmt.Sprint(cmds) != "[echo quick echo slow]" {
		t.Errorf("records %v", cmds)
	}
}

// Each connection is answered for its own request and audited once, with
// many clients at once, each a new connection (as the library connects):
// regression, a read buffer back from the pool once held the last
// request, which the next connection then answered instead of its own.
func TestFastCheckConcurrentConnections(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.AuditWait = false })
	sock := e.serveUnix()
	const clients, each = 8, 150
	var wg sync.WaitGroup
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				session := fmt.Sprintf("s-%d-%d", g, i)
				connection := "close"
				if i%5 == 0 {
					connection = "keep-alive" // served by a goroutine
				}
				c, err := net.Dial("unix", sock)
				if err != nil {
					t.Error(err)
					return
				}
				io.WriteString(c, checkRequest(testToken, `{"tool":"exec","argv":["ls"],"session":"`+session+`"}`, connection))
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				c.Close()
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("%s: %v %v", session, resp, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range e.records() {
		seen[r.Session]++
	}
	for g := range clients {
		for i := range each {
			if n := seen[fmt.Sprintf("s-%d-%d", g, i)]; n != 1 {
				t.Errorf("s-%d-%d: %d records", g, i, n)
			}
		}
	}
}

// A panic while answering on the fast path closes that connection and is
// logged; the server goes on serving, as net/http does for a handler.
func TestFastCheckSurvivesAPanic(t *testing.T) {
	e := newTestEnv(t, nil)
	sock := e.serveUnix()
	body := `{"tool":"exec","argv":["ls"],"cwd":"/tmp","agent":"a","session":"s"}`
	panicking := func() { panic("test panic") }
	fastCheckTestHook.Store(&panicking)
	for _, connection := range []string{"close", "keep-alive"} { // at once, and by a goroutine of its own
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, checkRequest(testToken, body, connection))
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || len(got) != 0 {
			t.Errorf("%s: a check that panicked was answered %q (%v); want the connection closed", connection, got, err)
		}
	}
	fastCheckTestHook.Store(nil)
	answers := rawExchange(t, sock, checkRequest(testToken, body, "close"))
	if len(answers) != 1 || answers[0].StatusCode != http.StatusOK {
		t.Fatalf("after the panics: %d answers", len(answers))
	}
}
