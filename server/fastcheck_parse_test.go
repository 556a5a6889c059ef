package server

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// libraryRequest is a request as librampart.so writes it.
const libraryRequest = "POST /v1/check HTTP/1.1\r\nHost: localhost\r\nUser-Agent: librampart\r\nX-Rampart-Adapter: preload\r\n" +
	"Authorization: Bearer check-abc\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 28\r\n\r\n" +
	`{"tool":"exec","argv":["x"]}`

func TestParseCheckHead(t *testing.T) {
	head := func(lines ...string) string {
		return "POST /v1/check HTTP/1.1\r\n" + strings.Join(lines, "\r\n") + "\r\n\r\n"
	}
	taken := []struct {
		name, head string
		want       checkHead
	}{
		{"the library's", libraryRequest, checkHead{size: len(libraryRequest) - 28, contentLength: 28, token: "check-abc",
			hasToken: true, adapter: "preload", close: true}},
		{"keep-alive, any case", head("host: h", "CONTENT-LENGTH: 0", "authorization: bearer  t  ", "connection: Keep-Alive"),
			checkHead{contentLength: 0, token: "t", hasToken: true}},
		{"no token", head("Host: h", "Content-Length: 5"), checkHead{contentLength: 5}},
		{"another scheme", head("Host: h", "Content-Length: 5", "Authorization: Basic eDp5"), checkHead{contentLength: 5}},
		{"the largest body", head("Host: h", "Content-Length: "+strconv.Itoa(MaxBodyBytes)), checkHead{contentLength: MaxBodyBytes}},
		{"tabs around a value", head("Host:\th\t", "Content-Length:\t3", "X-Rampart-Adapter: \trampart-sh\t"), checkHead{contentLength: 3, adapter: "rampart-sh"}},
	}
	for _, tc := range taken {
		t.Run(tc.name, func(t *testing.T) {
			h, ok, more := parseCheckHead([]byte(tc.head))
			if tc.want.size == 0 {
				tc.want.size = len(tc.head)
			}
			if !ok || more || h != tc.want {
				t.Errorf("got %+v ok=%v more=%v, want %+v", h, ok, more, tc.want)
			}
		})
	}

	// Requests net/http answers: each is neither taken nor waited for.
	others := map[string]string{
		"GET":                   "GET /v1/check HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n",
		"a query":               "POST /v1/check?wait=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n",
		"another path":          "POST /v1/checks HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n",
		"HTTP/1.0":              "POST /v1/check HTTP/1.0\r\nHost: h\r\nContent-Length: 1\r\n\r\n",
		"bare LF":               "POST /v1/check HTTP/1.1\r\nHost: h\nContent-Length: 1\r\n\r\n",
		"bare LF at the end":    "POST /v1/check HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\n",
		"no Host":               head("Content-Length: 1"),
		"two Hosts":             head("Host: a", "Host: b", "Content-Length: 1"),
		"an odd Host":           head("Host: a/b", "Content-Length: 1"),
		"an empty Host":         head("Host:", "Content-Length: 1"),
		"no length":             head("Host: h"),
		"two lengths":           head("Host: h", "Content-Length: 1", "Content-Length: 1"),
		"a signed length":       head("Host: h", "Content-Length: +1"),
		"a length with a space": head("Host: h", "Content-Length: 1 2"),
		"too long a body":       head("Host: h", "Content-Length: "+strconv.Itoa(MaxBodyBytes+1)),
		"a huge length":         head("Host: h", "Content-Length: 99999999999999999999999"),
		"chunked":               head("Host: h", "Content-Length: 1", "Transfer-Encoding: chunked"),
		"Expect":                head("Host: h", "Content-Length: 1", "Expect: 100-continue"),
		"Upgrade":               head("Host: h", "Content-Length: 1", "Upgrade: h2c"),
		"Trailer":               head("Host: h", "Content-Length: 1", "Trailer: x"),
		"two tokens":            head("Host: h", "Content-Length: 1", "Authorization: Bearer a", "Authorization: Bearer b"),
		"two adapters":          head("Host: h", "Content-Length: 1", "X-Rampart-Adapter: a", "X-Rampart-Adapter: b"),
		"Connection: upgrade":   head("Host: h", "Content-Length: 1", "Connection: upgrade"),
		"Connection: a list":    head("Host: h", "Content-Length: 1", "Connection: close, te"),
		"two Connections":       head("Host: h", "Content-Length: 1", "Connection: close", "Connection: close"),
		"a folded line":         head("Host: h", "Content-Length: 1", "X-A: b", " c"),
		"a space in a name":     head("Host: h", "Content-Length: 1", "X A: b"),
		"an empty name":         head("Host: h", "Content-Length: 1", ": b"),
		"no colon":              head("Host: h", "Content-Length: 1", "X-A"),
		"a control byte":        head("Host: h", "Content-Length: 1", "X-A: b\x01"),
		"a byte over 0x7f":      head("Host: h", "Content-Length: 1", "X-A: caf\xc3\xa9"),
		"a long head":           head("Host: h", "Content-Length: 1", "X-A: "+strings.Repeat("a", fastCheckHeadMax)),
		"no head at all":        "\x16\x03\x01 TLS",
	}
	for name, text := range others {
		t.Run(name, func(t *testing.T) {
			if _, ok, more := parseCheckHead([]byte(text)); ok || more {
				t.Errorf("ok=%v more=%v for %q", ok, more, text)
			}
		})
	}

	// Every part of a head the fast path takes asks for more.
	for i := range len(libraryRequest) - 28 {
		if _, ok, more := parseCheckHead([]byte(libraryRequest[:i])); ok || !more {
			t.Fatalf("after %d bytes (%q): ok=%v more=%v", i, libraryRequest[:i], ok, more)
		}
	}
}

// FuzzParseCheckHead checks the fast path against net/http: a head it
// takes is one net/http reads as the same request (method, path, length,
// token, adapter, whether to close), and one it neither takes nor waits
// for is handed over whole.
func FuzzParseCheckHead(f *testing.F) {
	f.Add([]byte(libraryRequest))
	f.Add([]byte("POST /v1/check HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nAuthorization: bearer  t\r\n\r\n"))
	f.Add([]byte("POST /v1/check HTTP/1.1\r\nhost: [::1]:80\r\ncontent-length: 007\r\nConnection: keep-alive\r\nX-Rampart-Adapter: a b\r\n\r\n"))
	f.Add([]byte("POST /v1/check HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nTransfer-Encoding: identity\r\n\r\n{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, ok, more := parseCheckHead(data)
		if ok && more {
			t.Fatal("ok and more")
		}
		if !ok {
			return
		}
		if h.size > len(data) || !bytes.HasSuffix(data[:h.size], []byte("\r\n\r\n")) {
			t.Fatalf("size %d of %d", h.size, len(data))
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data[:h.size])))
		if err != nil {
			t.Fatalf("taken, but net/http says %v", err)
		}
		token, hasToken := bearerToken(req)
		switch {
		case req.Method != http.MethodPost || req.URL.Path != "/v1/check" || req.URL.RawQuery != "" || req.ProtoMinor != 1:
			t.Fatalf("a request net/http reads as %s %s", req.Method, req.URL)
		case req.ContentLength != int64(h.contentLength) || len(req.TransferEncoding) > 0:
			t.Fatalf("length %d, net/http %d %v", h.contentLength, req.ContentLength, req.TransferEncoding)
		case hasToken != h.hasToken || token != h.token:
			t.Fatalf("token %q %v, net/http %q %v", h.token, h.hasToken, token, hasToken)
		case adapterName(h.adapter) != adapterOf(req):
			t.Fatalf("adapter %q, net/http %q", adapterName(h.adapter), adapterOf(req))
		case h.close != req.Close:
			t.Fatalf("close %v, net/http %v", h.close, req.Close)
		case req.Header.Get("Expect") != "":
			t.Fatal("Expect")
		}
	})
}
