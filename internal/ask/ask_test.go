package ask_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/ask"
	"github.com/rampart-dev/rampart/internal/endpoint"
	"github.com/rampart-dev/rampart/server"
)

const askPolicy = `version: "1"
policies:
  - name: test-ask
    match: {tool: exec}
    rules:
      - action: ask
        when: {command_matches: ["deploy *"]}
        message: deploys need a human
`

const token = "ask-test-token-0123456789"

// startServer runs a real server on the Unix socket of a throwaway
// Rampart home, with its token in the home's token file: where Human
// finds them with an empty environment.
func startServer(t *testing.T) (rampartHome string, client *server.Client) {
	t.Helper()
	home := t.TempDir()
	rhome := filepath.Join(home, ".rampart")
	if err := os.MkdirAll(filepath.Join(rhome, "policies"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rhome, "policies", "ask.yaml"), []byte(askPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(endpoint.TokenPath(rhome), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Load: func() (*engine.Program, error) {
			return engine.Load(engine.LoadOptions{Profile: "standard", RampartHome: rhome, Home: home})
		},
		AuditDir:           audit.DefaultDir(rhome),
		Token:              token,
		ApprovedPolicyFile: server.ApprovedPolicyPath(rhome),
		Home:               home,
		Version:            "test",
		AuditWait:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", endpoint.SocketPath(rhome))
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	client, err = server.NewClient("unix:"+endpoint.SocketPath(rhome), token, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return rhome, client
}

func noEnv(string) string { return "" }

// answerFirstApproval waits for the first pending approval and answers it.
func answerFirstApproval(t *testing.T, client *server.Client, decision string) <-chan error {
	done := make(chan error, 1)
	go func() {
		for range 500 {
			list, err := client.Approvals(context.Background())
			if err != nil {
				done <- err
				return
			}
			if len(list) > 0 {
				_, err := client.Resolve(context.Background(), list[0].ID, server.Answer{Decision: decision, By: "test"})
				done <- err
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		done <- errors.New("no approval appeared")
	}()
	return done
}

func TestHumanAnswers(t *testing.T) {
	for _, answer := range []string{"allow", "deny"} {
		t.Run(answer, func(t *testing.T) {
			rhome, client := startServer(t)
			done := answerFirstApproval(t, client, answer)
			call := &engine.ToolCall{Tool: engine.ToolExec, Command: "deploy prod", Cwd: "/tmp", Agent: "test"}
			d, ok, err := ask.Human(context.Background(), noEnv, rhome, "shell", call)
			if err != nil || !ok {
				t.Fatalf("Human: %+v ok=%v err=%v", d, ok, err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			want, _ := engine.ParseAction(answer)
			if d.Decision != want || d.Policy != "ask" || d.Rule != "test-ask" {
				t.Errorf("got %+v, want %s by ask/test-ask", d, answer)
			}
			// The server recorded the call, with the adapter Human named.
			records, _, err := audit.Last(audit.DefaultDir(rhome), 100, audit.Query{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range records {
				if r := s.Record; r.Command == "deploy prod" && r.Adapter == "shell" && r.Decision == answer {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s record with adapter shell in %+v", answer, records)
			}
		})
	}
}

func TestHumanNoServer(t *testing.T) {
	rhome := filepath.Join(t.TempDir(), ".rampart")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	getenv := func(k string) string {
		if k == "RAMPART_URL" {
			return closed
		}
		return ""
	}
	d, ok, err := ask.Human(context.Background(), getenv, rhome, "shell", &engine.ToolCall{Tool: engine.ToolExec, Command: "deploy prod"})
	if ok || err != nil {
		t.Fatalf("no server: %+v ok=%v err=%v, want not ok and no error", d, ok, err)
	}
}

func TestHumanWrongToken(t *testing.T) {
	rhome, _ := startServer(t)
	getenv := func(k string) string {
		if k == "RAMPART_TOKEN" {
			return "wrong"
		}
		return ""
	}
	_, ok, err := ask.Human(context.Background(), getenv, rhome, "shell", &engine.ToolCall{Tool: engine.ToolExec, Command: "deploy prod"})
	if ok || err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: ok=%v err=%v, want a 401 error", ok, err)
	}
}

func TestHumanCancelled(t *testing.T) {
	rhome, _ := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := ask.Human(ctx, noEnv, rhome, "shell", &engine.ToolCall{Tool: engine.ToolExec, Command: "deploy prod"})
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond) // let it reach the wait; the test passes either way
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v, want context.Canceled", err)
	}
}

func TestHumanBadURL(t *testing.T) {
	for _, url := range []string{"https://127.0.0.1:9090", "unix:", "ftp://x", "http://"} {
		getenv := func(k string) string {
			if k == "RAMPART_URL" {
				return url
			}
			return ""
		}
		_, ok, err := ask.Human(context.Background(), getenv, "", "shell", &engine.ToolCall{Tool: engine.ToolExec, Command: "x"})
		if ok || err == nil || !strings.Contains(err.Error(), "RAMPART_URL") {
			t.Errorf("%q: ok=%v err=%v, want an error naming RAMPART_URL", url, ok, err)
		}
	}
}

// TestHumanAnswerFraming serves canned answers: Content-Length, chunked
// and connection-close bodies are read; malformed ones are errors.
func TestHumanAnswerFraming(t *testing.T) {
	const allow = `{"decision":"allow","policy":"p","rule":"r"}`
	cases := []struct {
		name, answer string
		wantErr      string
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 44\r\n\r\n" + allow, ""},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + allow[:16] + "\r\n1c\r\n" + allow[16:] + "\r\n0\r\n\r\n", ""},
		{"until close", "HTTP/1.0 200 OK\r\n\r\n" + allow, ""},
		{"error status", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 16\r\n\r\n{\"error\":\"boom\"}", "500: boom"},
		{"bad status line", "SMTP ready\r\n\r\n", "malformed"},
		{"bad header", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "malformed"},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed"},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n" + allow, "EOF"},
		{"not json", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", "not JSON"},
		{"ask is deny", "HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\n{\"decision\":\"ask\"}\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "s")
			ln, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					conn, err := ln.Accept()
					if err != nil {
						return
					}
					r := bufio.NewReader(conn)
					req, _ := r.ReadString('\n')
					for line, _ := r.ReadString('\n'); line != "\r\n" && line != ""; line, _ = r.ReadString('\n') {
					}
					if strings.HasPrefix(req, "GET /healthz ") {
						conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
					} else {
						conn.Write([]byte(c.answer))
					}
					conn.Close()
				}
			}()
			getenv := func(k string) string {
				if k == "RAMPART_URL" {
					return "unix:" + sock
				}
				return ""
			}
			d, ok, err := ask.Human(context.Background(), getenv, "", "shell", &engine.ToolCall{Tool: engine.ToolExec, Command: "x"})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %+v ok=%v err=%v, want an error with %q", d, ok, err, c.wantErr)
				}
				return
			}
			if err != nil || !ok {
				t.Fatalf("got %+v ok=%v err=%v", d, ok, err)
			}
			want := engine.ActionAllow
			if c.name == "ask is deny" {
				want = engine.ActionDeny
			}
			if d.Decision != want {
				t.Errorf("decision %v, want %v", d.Decision, want)
			}
		})
	}
}
