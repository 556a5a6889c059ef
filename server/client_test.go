package server

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/engine"
)

// serveUnix serves e's server on a Unix socket in its Rampart home.
func (e *testEnv) serveUnix() string {
	e.t.Helper()
	sock := SocketPath(e.rhome)
	ln, err := ListenUnix(sock)
	if err != nil {
		e.t.Fatal(err)
	}
	go e.srv.Serve(ln)
	return sock
}

func TestClientOverUnixSocket(t *testing.T) {
	e := newTestEnv(t, nil)
	sock := e.serveUnix()
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket %v %v", fi.Mode(), err)
	}
	if got := DefaultURL(e.rhome); got != "unix:"+sock {
		t.Errorf("DefaultURL %s", got)
	}
	env := map[string]string{"RAMPART_TOKEN": testToken}
	c, err := ClientFromEnv(func(k string) string { return env[k] }, e.rhome, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Adapter = "rampart-sh"
	ctx := context.Background()
	h, err := c.Health(ctx)
	if err != nil || h.Status != "ok" || !strings.Contains(strings.Join(h.Listen, " "), "unix:"+sock) {
		t.Fatalf("health %+v %v", h, err)
	}
	r, err := c.Check(ctx, &engine.ToolCall{Tool: "exec", Argv: []string{"rm", "-rf", "/"}}, false)
	if err != nil || r.Decision != "deny" || r.Rule != "block-destructive" {
		t.Fatalf("check %+v %v", r, err)
	}
	if recs := e.records(); recs[len(recs)-1].Adapter != "rampart-sh" {
		t.Errorf("adapter %q", recs[len(recs)-1].Adapter)
	}
	list, err := c.Approvals(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("approvals %v %v", list, err)
	}
	res, err := c.Reload(ctx)
	if err != nil || !res.OK {
		t.Errorf("reload %+v %v", res, err)
	}

	// Errors: a wrong token is an APIError, a dead socket is unreachable.
	c.Token = "wrong"
	var apiErr *APIError
	if _, err := c.Approvals(ctx); !errors.As(err, &apiErr) || apiErr.Status != 401 {
		t.Errorf("wrong token: %v", err)
	}
	dead, _ := NewClient("unix:"+filepath.Join(t.TempDir(), "none.sock"), testToken, time.Second)
	var unreachable *UnreachableError
	if _, err := dead.Health(ctx); !errors.As(err, &unreachable) {
		t.Errorf("dead socket: %v", err)
	}
}

func TestListenUnixStaleAndLive(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "rampart.sock")
	// A stale socket (its server died) is replaced.
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("the stale socket should still exist: %v", err)
	}
	live, err := ListenUnix(sock)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	defer live.Close()
	go func() {
		for {
			c, err := live.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// A live one is not taken over.
	if _, err := ListenUnix(sock); !errors.Is(err, ErrRunning) {
		t.Errorf("over a live socket: %v", err)
	}
	// Another kind of file is left alone.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := ListenUnix(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("over a file: %v", err)
	}
}

func TestCheckLoopback(t *testing.T) {
	for host, ok := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true,
		"0.0.0.0": false, "": false, "192.168.1.10": false, "::": false} {
		if err := CheckLoopback(host); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v", host, err)
		}
	}
}

func TestNewClientURLs(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:9090", "unix:/tmp/x.sock", "unix:///tmp/x.sock", "https://h:1"} {
		if _, err := NewClient(u, "", 0); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"127.0.0.1:9090", "ftp://x", "unix:", "http://"} {
		if _, err := NewClient(u, "", 0); err == nil {
			t.Errorf("%s: no error", u)
		}
	}
}
