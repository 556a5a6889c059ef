package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/engine"
)

// The server's side of watch (see docs/audit.md): GET /healthz without a
// token; GET /v1/events, a text/event-stream of "decision" (an audit
// record), "approval" and "reload" events with ": ping" comments every
// 15 s; GET /v1/approvals; POST /v1/approvals/{id}.

// defaultServerURL is where "rampart serve" listens unless told otherwise.
const defaultServerURL = "http://127.0.0.1:9090"

// approval is a held ask decision, as the server's approval events and
// GET /v1/approvals describe it.
type approval struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"` // pending, approved, denied, expired
	Call       engine.ToolCall `json:"call"`
	Decision   engine.Decision `json:"decision"`
	Created    time.Time       `json:"created"`
	Expires    time.Time       `json:"expires"`
	ResolvedBy string          `json:"resolved_by,omitempty"`
	Reason     string          `json:"reason,omitempty"` // why it expired, or what "always" did
}

// reloadEvent is the server's report of a policy reload.
type reloadEvent struct {
	OK      bool              `json:"ok"`
	Error   string            `json:"error,omitempty"`
	Sources []json.RawMessage `json:"sources,omitempty"`
}

// watchClient talks to a running "rampart serve", over TCP or its Unix
// socket.
type watchClient struct {
	Label  string // what to call the server in messages: its URL
	base   string // the URL requests are made to
	token  string
	short  *http.Client // requests with a time limit
	stream *http.Client // the event stream, without one
}

// errUnauthorized means the server refused the token.
var errUnauthorized = errors.New("the server refused the token (401)")

// newWatchClient finds the server: flagURL, else $RAMPART_URL, else the
// Unix socket under the Rampart home when it exists, else the default
// address. The token is $RAMPART_TOKEN, else the token file.
func newWatchClient(proc *Process, flagURL string) (*watchClient, error) {
	home := proc.RampartHome()
	raw := cmpOr(flagURL, proc.Getenv("RAMPART_URL"))
	if raw == "" && home != "" {
		if fi, err := os.Stat(filepath.Join(home, "rampart.sock")); err == nil && fi.Mode()&os.ModeSocket != 0 {
			raw = "unix:" + filepath.Join(home, "rampart.sock")
		}
	}
	raw = cmpOr(raw, defaultServerURL)

	token := strings.TrimSpace(proc.Getenv("RAMPART_TOKEN"))
	if token == "" && home != "" {
		if b, err := os.ReadFile(filepath.Join(home, "token")); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	c := &watchClient{Label: raw, token: token}
	transport := &http.Transport{Proxy: nil, MaxIdleConns: 2, IdleConnTimeout: time.Minute}
	if socket, ok := strings.CutPrefix(raw, "unix:"); ok {
		if strings.HasPrefix(socket, "//") {
			socket = socket[2:]
		}
		if socket == "" {
			return nil, usageErrorf("for example --url unix:/home/me/.rampart/rampart.sock", "server URL %q names no socket", raw)
		}
		var d net.Dialer
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", socket)
		}
		c.base = "http://rampart"
	} else {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usageErrorf("for example --url http://127.0.0.1:9090 or --url unix:/path/to/rampart.sock",
				"server URL %q is not an http(s) or unix: URL", raw)
		}
		c.base = strings.TrimRight(raw, "/")
	}
	c.short = &http.Client{Transport: transport, Timeout: 3 * time.Second}
	c.stream = &http.Client{Transport: transport}
	return c, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// request builds a request with the token.
func (c *watchClient) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// healthz reports whether a Rampart server answers.
func (c *watchClient) healthz(ctx context.Context) error {
	req, err := c.request(ctx, http.MethodGet, "/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := c.short.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var health struct {
		Status string `json:"status"`
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /healthz: %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&health); err != nil || health.Status != "ok" {
		return fmt.Errorf("GET /healthz: not a Rampart server's answer")
	}
	return nil
}

// sseIdle is how long the event stream may stay silent (the server pings
// every 15 s) before watch takes the connection for dead.
const sseIdle = 45 * time.Second

// events reads the event stream until it ends, calling connected once the
// server has accepted it, then fn for each message.
func (c *watchClient) events(ctx context.Context, connected func(), fn func(sseMessage) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := c.request(ctx, http.MethodGet, "/v1/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.stream.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := statusError(resp, "GET /v1/events"); err != nil {
		return err
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return fmt.Errorf("GET /v1/events: content type %q, want text/event-stream", ct)
	}
	connected()
	idle := time.AfterFunc(sseIdle, cancel)
	defer idle.Stop()
	err = readSSE(resp.Body, func() { idle.Reset(sseIdle) }, fn)
	switch {
	case ctx.Err() != nil: // the idle timer, or the caller, ended it
		return fmt.Errorf("no event or ping from the server for %s", sseIdle)
	case err == nil:
		return errors.New("the server ended the event stream")
	}
	return err
}

// approvals lists the pending approvals.
func (c *watchClient) approvals(ctx context.Context) ([]approval, error) {
	req, err := c.request(ctx, http.MethodGet, "/v1/approvals", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.short.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := statusError(resp, "GET /v1/approvals"); err != nil {
		return nil, err
	}
	var list struct {
		Approvals []approval `json:"approvals"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&list); err != nil {
		return nil, fmt.Errorf("GET /v1/approvals: %w", err)
	}
	return list.Approvals, nil
}

// resolve answers a pending approval: decision is "allow" or "deny";
// always (with allow) asks the server to add a rule that allows the call
// from now on.
func (c *watchClient) resolve(ctx context.Context, id, decision string, always bool, by string) (*approval, error) {
	body, _ := json.Marshal(map[string]any{"decision": decision, "always": always, "by": by})
	req, err := c.request(ctx, http.MethodPost, "/v1/approvals/"+url.PathEscape(id), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := c.short.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		return nil, fmt.Errorf("approval %s: the server does not know it (expired and forgotten?)", id)
	case http.StatusConflict:
		return nil, fmt.Errorf("approval %s: already answered", id)
	}
	if err := statusError(resp, "POST /v1/approvals/"+id); err != nil {
		return nil, err
	}
	var a approval
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&a); err != nil {
		return nil, fmt.Errorf("POST /v1/approvals/%s: %w", id, err)
	}
	return &a, nil
}

// statusError turns a response that is not 200 into an error, with the
// server's {"error": "..."} when it sent one.
func statusError(resp *http.Response, what string) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return errUnauthorized
	}
	var body struct {
		Error string `json:"error"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	if body.Error != "" {
		return fmt.Errorf("%s: %s: %s", what, resp.Status, body.Error)
	}
	return fmt.Errorf("%s: %s", what, resp.Status)
}

// sseMessage is one server-sent event, or a comment line.
type sseMessage struct {
	Event   string // "message" when the server named none
	Data    string
	Comment string // a comment line (": ping") without its colon, when Event is ""
}

// maxSSELine bounds one line of the event stream.
const maxSSELine = 4 << 20

// readSSE reads a text/event-stream (the WHATWG format: "event:" and
// "data:" fields, ":" comments, a blank line ends a message; "id:" and
// "retry:" are ignored), calling alive for every line and fn for every
// message and every comment. It returns fn's error, the reader's, or nil
// at the end of the stream.
func readSSE(r io.Reader, alive func(), fn func(sseMessage) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxSSELine)
	sc.Split(scanSSELines)
	var event string
	var data []string
	for sc.Scan() {
		alive()
		line := sc.Text()
		if line == "" {
			if len(data) > 0 {
				if err := fn(sseMessage{Event: cmpOr(event, "message"), Data: strings.Join(data, "\n")}); err != nil {
					return err
				}
			}
			event, data = "", nil
			continue
		}
		if comment, ok := strings.CutPrefix(line, ":"); ok {
			if err := fn(sseMessage{Comment: strings.TrimPrefix(comment, " ")}); err != nil {
				return err
			}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			event = value
		case "data":
			data = append(data, value)
		}
	}
	return sc.Err()
}

// scanSSELines splits lines ended by "\r\n", "\n" or "\r".
func scanSSELines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\r' {
			if i+1 == len(data) && !atEOF {
				return 0, nil, nil // is it "\r\n"? wait for the next byte
			}
			if i+1 < len(data) && data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
		}
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
