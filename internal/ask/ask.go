// Package ask turns an ask into a human's answer through the running
// Rampart server's approvals ("rampart approve ID", "rampart watch"), for
// the adapters that have no prompt of their own: rampart-sh and the guard.
//
// It speaks just enough HTTP/1.1 over one connection per request, with no
// net/http: rampart-sh starts once per command, and net/http (with
// crypto/tls and the rest it pulls in) made every start about 0.5 ms
// slower, for the rare command that needs a human.
package ask

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/endpoint"
)

// healthTimeout bounds finding out whether a server runs at all.
const healthTimeout = time.Second

// maxAnswer bounds what is read of an answer.
const maxAnswer = 1 << 20

// Human holds call as a pending approval in the running server and
// returns the final allow or deny. The server decides the call with its
// own policies and records the decision and the answer in the audit trail
// itself.
//
// ok is false when no server answers; the caller then decides alone (and
// records it). ctx bounds the wait. getenv is os.Getenv in a real process:
// the server is found as every client finds it ($RAMPART_URL,
// $RAMPART_TOKEN, the files of rampartHome).
func Human(ctx context.Context, getenv func(string) string, rampartHome, adapter string, call *engine.ToolCall) (d engine.Decision, ok bool, err error) {
	rawURL, token, err := endpoint.FromEnv(getenv, rampartHome)
	if err != nil {
		return engine.Decision{}, false, err
	}
	network, addr, err := dialTarget(rawURL)
	if err != nil {
		return engine.Decision{}, false, err
	}
	c := client{network: network, addr: addr, token: token, adapter: adapter}
	hctx, cancel := context.WithTimeout(ctx, healthTimeout)
	_, err = c.do(hctx, "GET", "/healthz", nil)
	cancel()
	if err != nil {
		return engine.Decision{}, false, nil
	}
	body, err := json.Marshal(call)
	if err != nil {
		return engine.Decision{}, false, err
	}
	data, err := c.do(ctx, "POST", "/v1/check?wait=1", body)
	if err != nil {
		return engine.Decision{}, false, err
	}
	var answer struct {
		Decision string `json:"decision"`
		Policy   string `json:"policy"`
		Rule     string `json:"rule"`
		Message  string `json:"message"`
		Matched  string `json:"matched"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return engine.Decision{}, false, fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	action, err := engine.ParseAction(answer.Decision)
	if err != nil {
		return engine.Decision{}, false, fmt.Errorf("the server's answer: %w", err)
	}
	d = engine.Decision{Decision: action, Policy: answer.Policy, Rule: answer.Rule, Message: answer.Message, Matched: answer.Matched}
	if d.Decision == engine.ActionAsk { // a server that did not wait
		d.Decision = engine.ActionDeny
	}
	return d, true, nil
}

// dialTarget returns what to dial for a server URL: "unix:/path" (also
// "unix:///path") or "http://host:port". https is refused: the server
// listens on loopback and its Unix socket only, and the preload library
// speaks plain HTTP too.
func dialTarget(rawURL string) (network, addr string, err error) {
	if sock, ok := strings.CutPrefix(rawURL, "unix:"); ok {
		sock = strings.TrimPrefix(sock, "//")
		if sock == "" {
			return "", "", fmt.Errorf("RAMPART_URL %q: want unix:/path/to/socket", rawURL)
		}
		return "unix", sock, nil
	}
	rest, ok := strings.CutPrefix(rawURL, "http://")
	if !ok {
		return "", "", fmt.Errorf("RAMPART_URL %q: want http://HOST:PORT or unix:/path/to/socket", rawURL)
	}
	host, _, _ := strings.Cut(rest, "/")
	if host == "" {
		return "", "", fmt.Errorf("RAMPART_URL %q: no host", rawURL)
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "80")
	}
	return "tcp", host, nil
}

type client struct {
	network, addr, token, adapter string
}

// do sends one request on a new connection and returns the body of a 2xx
// answer; any other status is an error with the server's message.
func (c *client) do(ctx context.Context, method, target string, body []byte) ([]byte, error) {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, c.network, c.addr)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the server at %s: %w", c.addr, err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	// Closing the connection ends a read or write that ctx cancels.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: rampart\r\nConnection: close\r\n", method, target)
	if c.token != "" {
		fmt.Fprintf(&req, "Authorization: Bearer %s\r\n", c.token)
	}
	if c.adapter != "" {
		fmt.Fprintf(&req, "%s: %s\r\n", endpoint.AdapterHeader, c.adapter)
	}
	if body != nil {
		fmt.Fprintf(&req, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	req.WriteString("\r\n")
	req.Write(body)
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return nil, c.failed(ctx, err)
	}
	status, data, err := readResponse(bufio.NewReaderSize(conn, 8<<10))
	if err != nil {
		return nil, c.failed(ctx, err)
	}
	if status/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return nil, fmt.Errorf("server answered %d: %s", status, e.Error)
	}
	return data, nil
}

func (c *client) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("the server at %s: %w", c.addr, err)
}

var errMalformed = errors.New("malformed HTTP answer")

// readResponse reads an HTTP/1.1 answer: its status and its body, framed
// by Content-Length, chunked, or by the end of the connection.
func readResponse(r *bufio.Reader) (status int, body []byte, err error) {
	line, err := readLine(r)
	if err != nil {
		return 0, nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(proto, "HTTP/1.") || len(code) != 3 {
		return 0, nil, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	if status, err = strconv.Atoi(code); err != nil {
		return 0, nil, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	length, chunked := -1, false
	for {
		line, err := readLine(r)
		if err != nil {
			return 0, nil, err
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return 0, nil, fmt.Errorf("%w: header %q", errMalformed, line)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			if length, err = strconv.Atoi(value); err != nil || length < 0 {
				return 0, nil, fmt.Errorf("%w: Content-Length %q", errMalformed, value)
			}
		case "transfer-encoding":
			chunked = strings.EqualFold(value, "chunked")
		}
	}
	switch {
	case chunked:
		body, err = readChunked(r)
	case length > maxAnswer:
		err = fmt.Errorf("the answer is larger than %d bytes", maxAnswer)
	case length >= 0:
		body = make([]byte, length)
		_, err = io.ReadFull(r, body)
	default:
		body, err = io.ReadAll(io.LimitReader(r, maxAnswer))
	}
	return status, body, err
}

func readChunked(r *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := readLine(r)
		if err != nil {
			return nil, err
		}
		sizeText, _, _ := strings.Cut(line, ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 32)
		if err != nil || size < 0 || len(body)+int(size) > maxAnswer {
			return nil, fmt.Errorf("%w: chunk size %q", errMalformed, line)
		}
		if size == 0 {
			return body, nil // trailers, if any, are not needed
		}
		start := len(body)
		body = append(body, make([]byte, size)...)
		if _, err := io.ReadFull(r, body[start:]); err != nil {
			return nil, err
		}
		if crlf, err := readLine(r); err != nil || crlf != "" {
			return nil, fmt.Errorf("%w: chunk not followed by CRLF", errMalformed)
		}
	}
}

// readLine reads one CRLF- (or LF-) terminated line of at most 8 KiB.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("%w: a line longer than %d bytes", errMalformed, r.Size())
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}
