package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/endpoint"
)

// Client talks to a running server, over TCP ("http://127.0.0.1:9090") or
// its Unix socket ("unix:/home/me/.rampart/rampart.sock"). It is safe for
// concurrent use and keeps connections alive between calls.
type Client struct {
	// URL is the server as given to [NewClient].
	URL string
	// Token is sent as the bearer token.
	Token string
	// Adapter is sent in the X-Rampart-Adapter header (the audit
	// records' adapter); empty sends none.
	Adapter string

	base string // scheme://host for requests
	http *http.Client
}

// NewClient returns a client for the server at rawURL: an http:// or
// https:// URL, or "unix:" followed by a socket path. timeout bounds each
// call except Check with wait (0 means 30s).
func NewClient(rawURL, token string, timeout time.Duration) (*Client, error) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	c := &Client{URL: rawURL, Token: token}
	tr := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second, DisableCompression: true}
	if sock, ok := strings.CutPrefix(rawURL, "unix:"); ok {
		sock = strings.TrimPrefix(sock, "//") // unix:///path
		if sock == "" {
			return nil, fmt.Errorf("%q: want unix:/path/to/socket", rawURL)
		}
		dialer := &net.Dialer{Timeout: 5 * time.Second}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", sock)
		}
		c.base = "http://rampart"
	} else {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%q: want http://HOST:PORT or unix:/path/to/socket", rawURL)
		}
		c.base = u.Scheme + "://" + u.Host
		tr.Proxy = nil // never send decisions through a proxy
	}
	c.http = &http.Client{Transport: tr, Timeout: timeout}
	return c, nil
}

// ClientFromEnv returns a client configured the way every Rampart client
// finds the server: $RAMPART_URL, else the Unix socket of the Rampart home
// when it exists, else http://127.0.0.1:9090; $RAMPART_TOKEN, else the
// token file of the Rampart home. getenv is os.Getenv in a real process.
func ClientFromEnv(getenv func(string) string, rampartHome string, timeout time.Duration) (*Client, error) {
	rawURL, token, err := endpoint.FromEnv(getenv, rampartHome)
	if err != nil {
		return nil, err
	}
	return NewClient(rawURL, token, timeout)
}

// DefaultURL returns the Unix socket of rampartHome when it exists, else
// [DefaultTCPURL].
func DefaultURL(rampartHome string) string { return endpoint.DefaultURL(rampartHome) }

// APIError is an error answer of the server (any status but 2xx).
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// UnreachableError is a server that could not be reached at all.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the server at %s: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Check asks for the decision on call. With wait, an ask is held for a
// human and the answer is the final allow or deny (the call may take as
// long as the server's approval timeout; ctx bounds it).
func (c *Client) Check(ctx context.Context, call *engine.ToolCall, wait bool) (*CheckResponse, error) {
	path := "/v1/check"
	hc := c.http
	if wait {
		path += "?wait=1"
		noTimeout := *c.http
		noTimeout.Timeout = 0
		hc = &noTimeout
	}
	var out CheckResponse
	if err := c.do(ctx, hc, http.MethodPost, path, call, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Approvals lists the pending approvals, oldest first.
func (c *Client) Approvals(ctx context.Context) ([]Approval, error) {
	var out struct {
		Approvals []Approval `json:"approvals"`
	}
	if err := c.do(ctx, c.http, http.MethodGet, "/v1/approvals", nil, &out); err != nil {
		return nil, err
	}
	return out.Approvals, nil
}

// Answer is a human's answer to an approval.
type Answer struct {
	Decision string `json:"decision"` // "allow" or "deny"
	Always   bool   `json:"always,omitempty"`
	By       string `json:"by,omitempty"`
}

// Resolve answers the approval id and returns it as resolved. An unknown
// id is an *APIError with Status 404, an answered one 409.
func (c *Client) Resolve(ctx context.Context, id string, answer Answer) (*Approval, error) {
	var out Approval
	if err := c.do(ctx, c.http, http.MethodPost, "/v1/approvals/"+url.PathEscape(id), answer, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Health returns the server's /healthz answer (no token needed).
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var out Health
	if err := c.do(ctx, c.http, http.MethodGet, "/healthz", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Reload asks the server to reload its policy files now.
func (c *Client) Reload(ctx context.Context) (*ReloadResult, error) {
	var out ReloadResult
	if err := c.do(ctx, c.http, http.MethodPost, "/v1/reload", struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) do(ctx context.Context, hc *http.Client, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Adapter != "" {
		req.Header.Set(AdapterHeader, c.Adapter)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &UnreachableError{URL: c.URL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return &UnreachableError{URL: c.URL, Err: err}
	}
	if resp.StatusCode/100 != 2 && !(resp.StatusCode == http.StatusForbidden && strings.HasPrefix(path, "/v1/tool/")) {
		var e errorBody
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &APIError{Status: resp.StatusCode, Message: e.Error}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the server's answer to %s %s is not JSON: %w", method, path, err)
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// CloseIdleConnections closes the client's idle keep-alive connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }
