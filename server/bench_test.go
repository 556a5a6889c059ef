package server

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkCheckHandler is the server's own cost of one decision: decoding
// the body, evaluating, appending the audit record (group commit across
// the parallel goroutines) and encoding the answer; no network.
func BenchmarkCheckHandler(b *testing.B) {
	e := newTestEnv(b, func(c *Config) { c.AuditWait = false })
	h := e.srv.Handler()
	body := []byte(`{"tool":"exec","command":"git status","cwd":"/home/dev/project","agent":"bench","session":"s"}`)
	b.ReportAllocs()
	b.SetParallelism(4) // 8 concurrent requests on 2 CPUs, as the load test
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/v1/check", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkCheckUnixSocket is one check as the preload library makes it:
// a new connection to the Unix socket, one request, the answer, the server
// closing (the fast path of serveFastCheck), one check at a time; the
// audit record is written right after each answer.
func BenchmarkCheckUnixSocket(b *testing.B) {
	e := newTestEnv(b, func(c *Config) { c.AuditWait = false })
	sock := e.serveUnix()
	request := []byte(checkRequest(testToken, `{"tool":"exec","argv":["/usr/bin/git","status"],"cwd":"/home/dev/project","agent":"bench","session":"s"}`, "close"))
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		c, err := net.Dial("unix", sock)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(request); err != nil {
			b.Fatal(err)
		}
		n, err := io.ReadAtLeast(c, buf, 1)
		if err != nil || !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 200 ")) {
			b.Fatalf("%v %q", err, buf[:n])
		}
		c.Close()
	}
}
