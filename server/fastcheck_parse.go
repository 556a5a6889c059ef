package server

import (
	"bytes"
	"strconv"
)

// fastCheckHeadMax is the longest request head the fast path reads; a
// longer one goes to net/http, which has its own, larger limit.
const fastCheckHeadMax = 8 << 10

// checkHead is what the fast path needs from the head of a request.
type checkHead struct {
	size          int    // bytes of the head, with the blank line
	contentLength int    // the body's length
	token         string // the bearer token ("" when there is none)
	hasToken      bool   // an "Authorization: Bearer" header was sent
	adapter       string // X-Rampart-Adapter, as sent
	close         bool   // Connection: close
}

// parseCheckHead reads the head of one request from buf. It returns
// more == true when buf holds only part of a head that may still be one
// the fast path takes, and ok == true for a complete head of exactly the
// requests it takes: "POST /v1/check HTTP/1.1" with CRLF line endings,
// one Host, one Content-Length of at most MaxBodyBytes, at most one
// Authorization and one X-Rampart-Adapter, Connection "close" or
// "keep-alive" or none, no Transfer-Encoding, no Expect, and header names
// and values net/http accepts as they are. Anything else (a query such as
// ?wait=1, another path, method or version, a header net/http would
// reject or treat specially) is neither: net/http answers it, so the fast
// path never has to word an error.
func parseCheckHead(buf []byte) (h checkHead, ok, more bool) {
	const requestLine = "POST /v1/check HTTP/1.1\r\n"
	if len(buf) < len(requestLine) {
		return h, false, bytes.HasPrefix([]byte(requestLine), buf)
	}
	if string(buf[:len(requestLine)]) != requestLine {
		return h, false, false
	}
	var seenHost, seenLength, seenAuth, seenAdapter, seenConnection bool
	rest := buf[len(requestLine):]
	for off := len(requestLine); ; {
		eol := bytes.IndexByte(rest, '\n')
		if eol < 0 {
			return h, false, off+len(rest) < fastCheckHeadMax
		}
		if off+eol+1 > fastCheckHeadMax {
			return h, false, false
		}
		if eol == 0 || rest[eol-1] != '\r' {
			return h, false, false // a bare LF
		}
		line := rest[:eol-1]
		off += eol + 1
		rest = rest[eol+1:]
		if len(line) == 0 { // the blank line: the end of the head
			h.size = off
			return h, seenHost && seenLength, false
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isTokenText(line[:colon]) {
			return h, false, false // also a folded line (leading space)
		}
		value := trimSpaceTab(line[colon+1:])
		if !isFieldValue(value) {
			return h, false, false
		}
		switch name := line[:colon]; {
		case asciiEqualFold(name, "host"):
			if seenHost || !isPlainHost(value) {
				return h, false, false
			}
			seenHost = true
		case asciiEqualFold(name, "content-length"):
			n, err := strconv.Atoi(string(value))
			if seenLength || err != nil || n < 0 || n > MaxBodyBytes || !isDigits(value) {
				return h, false, false
			}
			seenLength, h.contentLength = true, n
		case asciiEqualFold(name, "authorization"):
			if seenAuth {
				return h, false, false
			}
			seenAuth = true
			if len(value) >= 7 && asciiEqualFold(value[:7], "bearer ") {
				h.token, h.hasToken = string(trimSpaceTab(value[7:])), true
			}
		case asciiEqualFold(name, AdapterHeader):
			if seenAdapter {
				return h, false, false
			}
			seenAdapter, h.adapter = true, string(value)
		case asciiEqualFold(name, "connection"):
			switch {
			case seenConnection:
				return h, false, false
			case asciiEqualFold(value, "close"):
				h.close = true
			case !asciiEqualFold(value, "keep-alive"):
				return h, false, false
			}
			seenConnection = true
		case asciiEqualFold(name, "transfer-encoding"), asciiEqualFold(name, "expect"),
			asciiEqualFold(name, "trailer"), asciiEqualFold(name, "upgrade"):
			return h, false, false
		}
	}
}

// isTokenText reports whether b is a header name (an RFC 9110 token).
func isTokenText(b []byte) bool {
	for _, c := range b {
		if !isTokenByte(c) {
			return false
		}
	}
	return len(b) > 0
}

func isTokenByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}

// isFieldValue reports whether b is a header value without control bytes
// (tabs aside) and without bytes outside ASCII.
func isFieldValue(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}

// isPlainHost reports whether b is a non-empty host[:port] made only of
// letters, digits and ".-:[]_" (what net/http accepts, and more simply).
func isPlainHost(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' ||
			c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	return len(b) > 0
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

func trimSpaceTab(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// asciiEqualFold compares b with the lowercase ASCII text s, ignoring the
// case of b.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		t := s[i]
		if t >= 'A' && t <= 'Z' {
			t += 'a' - 'A'
		}
		if c != t {
			return false
		}
	}
	return true
}
