package preload_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/server"
)

// The library when the server is not there, too slow, answers garbage or
// refuses the token: RAMPART_FAIL_OPEN=1 (the default) runs the command
// and warns once per process; RAMPART_FAIL_OPEN=0 blocks it. Never a hang
// or a crash: every case finishes within its timeouts.

// faultScript runs one checked exec (touch) and reports its exit code.
const faultScript = `touch checked-marker; echo "touch $?"`

// libraryEnv is the environment of a program run with the library itself
// (no rampart preload) asking url.
func (s *sandbox) libraryEnv(url string, failOpen bool, extra ...string) []string {
	fo := "0"
	if failOpen {
		fo = "1"
	}
	env := s.env("LD_PRELOAD="+build.lib, "RAMPART_URL="+url, "RAMPART_TOKEN=test-token", "RAMPART_FAIL_OPEN="+fo,
		"RAMPART_CONNECT_TIMEOUT_MS=300", "RAMPART_TIMEOUT_MS=600")
	return append(env, extra...)
}

// expectFailMode runs faultScript against url in both fail modes.
func expectFailMode(t *testing.T, s *sandbox, url, why string) {
	t.Helper()
	for _, failOpen := range []bool{true, false} {
		s.reset()
		r := s.exec(s.libraryEnv(url, failOpen), "bash", "-c", faultScript)
		if r.took > 5*time.Second {
			t.Errorf("%s: took %s; the timeouts are 0.3 s and 0.6 s", why, r.took)
		}
		if failOpen {
			s.present("checked-marker")
			if r.stdout != "touch 0\n" || !strings.Contains(r.stderr, "rampart: warning: the policy server did not answer") {
				t.Errorf("%s, fail-open: stdout %q, want touch 0 and a warning; stderr:\n%s", why, r.stdout, r.stderr)
			}
			continue
		}
		s.absent("checked-marker")
		if r.stdout != "touch 126\n" || !strings.Contains(r.stderr, "rampart: blocked: touch checked-marker (the policy server did not answer") {
			t.Errorf("%s, fail-closed: stdout %q, want touch 126 and a blocked line; stderr:\n%s", why, r.stdout, r.stderr)
		}
	}
}

func TestServerDown(t *testing.T) {
	s := newSandbox(t)
	expectFailMode(t, s, "unix:"+filepath.Join(s.dir, "no-server.sock"), "no socket")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	expectFailMode(t, s, closed, "closed TCP port")
	expectFailMode(t, s, "https://127.0.0.1:1", "an unusable URL")
}

// fakeServer answers every connection with answer (after delay), on
// loopback TCP, until the test ends.
func fakeServer(t *testing.T, delay time.Duration, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(conn)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				time.Sleep(delay)
				conn.Write([]byte(answer))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestServerSlow(t *testing.T) {
	s := newSandbox(t)
	url := fakeServer(t, time.Minute, "")
	expectFailMode(t, s, url, "a server that never answers")

	// A server that answers within the total timeout is waited for.
	url = fakeServer(t, 200*time.Millisecond, "HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\n{\"decision\":\"deny\"}")
	s.reset()
	r := s.exec(s.libraryEnv(url, true), "bash", "-c", faultScript)
	s.absent("checked-marker")
	if r.stdout != "touch 126\n" {
		t.Errorf("slow deny: stdout %q\n%s", r.stdout, r.stderr)
	}
}

func TestServerGarbage(t *testing.T) {
	s := newSandbox(t)
	for name, answer := range map[string]string{
		"not HTTP":                "hello\r\n\r\n",
		"binary":                  "\x00\x01\x02\xff\xfe HTTP/1.1 200",
		"not JSON":                httpOK("{garbage}"),
		"unknown decision":        httpOK(`{"decision":"maybe"}`),
		"a decision not a string": httpOK(`{"decision":1}`),
		"no decision":             httpOK("{}"),
		"cut off":                 "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"decision\":\"all",
		"trailing text":           httpOK(`{"decision":"allow"} junk`),
		"array":                   httpOK(`["allow"]`),
		"nested too deep":         httpOK(`{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"decision":"allow"}`),
		"server error":            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 20\r\n\r\n{\"decision\":\"allow\"}",
		"bad chunks":              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{\"decision\":\"allow\"}\r\n0\r\n\r\n",
		"huge":                    "HTTP/1.1 200 OK\r\n\r\n" + strings.Repeat("x", 1<<20),
		"header without its end":  "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n",
	} {
		expectFailMode(t, s, fakeServer(t, 0, answer), name)
	}

	// Well-formed answers in the forms Go's server may use are understood.
	for name, answer := range map[string]string{
		"chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"dec\r\nF\r\nision\":\"deny\",\r\n15\r\n\"message\":\"chunks\"}\n\r\n0\r\n\r\n",
		"escapes": httpOK(`{"decision":"deny","message":"\u0063hunks \"q\" \u00e9\ud83d\ude00 \n\t"}`),
		"long":    "HTTP/1.1 200 OK\r\n\r\n{\"decision\":\"deny\",\"message\":\"chunks\",\"matched\":\"" + strings.Repeat("m", 20000) + "\"}",
	} {
		s.reset()
		r := s.exec(s.libraryEnv(fakeServer(t, 0, answer), false), "bash", "-c", faultScript)
		s.absent("checked-marker")
		if r.stdout != "touch 126\n" || !strings.Contains(r.stderr, "rampart: blocked: touch checked-marker (") || !strings.Contains(r.stderr, "hunks") {
			t.Errorf("%s: stdout %q, want a deny; stderr:\n%s", name, r.stdout, r.stderr)
		}
	}
}

// httpOK is a 200 answer with body and its Content-Length.
func httpOK(body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// realServer runs the server package in this process on a Unix socket with
// token, deciding with the standard profile.
func realServer(t *testing.T, s *sandbox, token string) string {
	t.Helper()
	srv, err := server.New(server.Config{
		Load: func() (*engine.Program, error) {
			return engine.Load(engine.LoadOptions{Profile: "standard", RampartHome: s.home, Home: s.user})
		},
		AuditDir: filepath.Join(s.home, "audit"),
		Token:    token,
	})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(s.dir, "srv.sock")
	ln, err := server.ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "unix:" + sock
}

func TestWrongToken(t *testing.T) {
	s := newSandbox(t)
	url := realServer(t, s, "the-right-token")
	// libraryEnv sends test-token: the server answers 401.
	expectFailMode(t, s, url, "wrong token")
	s.reset()
	r := s.exec(s.libraryEnv(url, false, "RAMPART_TOKEN=the-right-token"), "bash", "-c", faultScript+"; touch rampart-denied-x")
	s.present("checked-marker")
	s.absent("rampart-denied-x")
	if !strings.Contains(r.stderr, "refused") && !strings.Contains(r.stderr, "rampart: blocked: touch rampart-denied-x") {
		t.Errorf("right token: stderr:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "the-right-token") || strings.Contains(r.stderr, "test-token") {
		t.Error("the token was printed")
	}

	// rampart preload checks the token before it runs anything.
	r = s.exec(s.env(), build.rampart, "preload", "--url", url, "--token", "wrong", "--", "touch", "checked-marker-2")
	s.absent("checked-marker-2")
	if r.code != 78 || !strings.Contains(r.stderr, "refused the token") {
		t.Errorf("rampart preload with a wrong token: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = s.exec(s.env(), build.rampart, "preload", "--url", "unix:"+filepath.Join(s.dir, "none.sock"), "--", "true")
	if r.code != 69 || !strings.Contains(r.stderr, "no Rampart server answers") {
		t.Errorf("rampart preload with --url of no server: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// A running server is used instead of an embedded one.
func TestUsesRunningServer(t *testing.T) {
	s := newSandbox(t)
	url := realServer(t, s, "shared-token")
	r := s.exec(s.env("RAMPART_URL="+url, "RAMPART_TOKEN=shared-token", "RAMPART_DEBUG=1"), build.rampart, "preload", "--",
		"bash", "-c", "echo $RAMPART_URL")
	if r.code != 0 || strings.TrimSpace(r.stdout) != url {
		t.Errorf("the command asked %q, want the running server %s\n%s", r.stdout, url, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(s.home, "lib")); err != nil {
		t.Errorf("the library was not installed into the Rampart home: %v", err)
	}
}

// A call whose JSON is past the server's 1 MiB limit is denied whatever the
// fail mode (padding must not get a command run); a long one under it is
// checked as usual. The library itself has no limit: it streams the JSON.
func TestTooLargeToCheck(t *testing.T) {
	s := newSandbox(t)
	url := realServer(t, s, "test-token")
	r := s.exec(s.libraryEnv(url, true), "bash", "-c", `/bin/true $(seq 40000); echo "true $?"; touch checked-marker $(seq -f 'x%059g' 20000); echo "touch $?"`)
	s.absent("checked-marker")
	if r.stdout != "true 0\ntouch 126\n" || !strings.Contains(r.stderr, "rampart: blocked: touch checked-marker x000") ||
		!strings.Contains(r.stderr, "cannot be checked") {
		t.Errorf("stdout %q, stderr:\n%.600s", r.stdout, r.stderr)
	}
}

// A program whose LD_PRELOAD was too long for the library to keep (over
// 4 KiB) has no trusted value to put back: a child's own LD_PRELOAD is
// then left alone, also when other settings in its environment are fixed.
func TestChildPreloadKeptWithoutATrustedOne(t *testing.T) {
	need(t, "python3")
	s := newSandbox(t)
	url := realServer(t, s, "test-token")
	env := s.libraryEnv(url, false, "LD_PRELOAD="+build.lib+strings.Repeat(" ", 5000))
	r := s.exec(env, "python3", "-c", `
import os
os.execve("/usr/bin/env", ["env"], {"LD_PRELOAD": "libm.so.6", "RAMPART_MODE": "disabled", "FOO": "1"})
`)
	lines := strings.Split(r.stdout, "\n")
	if !slices.Contains(lines, "LD_PRELOAD=libm.so.6") || !slices.Contains(lines, "FOO=1") ||
		slices.Contains(lines, "RAMPART_MODE=disabled") || !slices.Contains(lines, "RAMPART_URL="+url) {
		t.Errorf("the child's environment:\n%s\nwant its own LD_PRELOAD and FOO kept, RAMPART_MODE dropped, RAMPART_URL put back\n%s", r.stdout, r.stderr)
	}
}

// A check allocates nothing, also from a working directory deeper than
// PATH_MAX (where glibc's getcwd walks the tree with opendir, which
// mallocs): it runs in vfork children. The cwd is then left out.
func TestCheckAllocatesNothing(t *testing.T) {
	s := newSandbox(t)
	url := realServer(t, s, "test-token")
	marker := filepath.Join(s.work, "rampart-denied-deep")
	r := s.exec(s.libraryEnv(url, false), build.nomalloc, marker)
	if r.stdout != "rc -1 errno 13 mallocs 0\n" {
		t.Errorf("stdout %q, want the denied exec to fail with EACCES and no malloc\n%s", r.stdout, r.stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the denied stand-in ran")
	}
}
