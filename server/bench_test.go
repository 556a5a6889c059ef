package server

import (
	"bytes"
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
