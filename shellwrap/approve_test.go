package shellwrap

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/server"
)

const askPolicy = `version: 1
policies:
  - name: test-ask
    match: {tool: exec}
    rules:
      - action: ask
        when:
          command_matches: ["*approved-marker*"]
        message: A test approval.
`

// An ask waits for a human through the running server: rampart approve
// lets the command run, rampart deny (or no server at all) stops it.
func TestAskWaitsForServerApproval(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	rampart := filepath.Join(filepath.Dir(sh), "rampart")
	if out, err := exec.Command("go", "build", "-o", rampart, "../cmd/rampart").CombinedOutput(); err != nil {
		t.Fatalf("build rampart: %v\n%s", err, out)
	}
	home, env := sandboxEnv(t)
	rampartHome := filepath.Join(home, ".rampart")
	os.MkdirAll(filepath.Join(rampartHome, "policies"), 0o700)
	os.WriteFile(filepath.Join(rampartHome, "policies", "ask.yaml"), []byte(askPolicy), 0o600)
	marker := filepath.Join(home, "approved-marker")

	// Without a server: denied, and the reason says why.
	res := runShell(t, env, "", home, sh, "-c", "touch "+marker)
	if res.code != ExitBlocked || !strings.Contains(res.stderr, "No Rampart server is running to ask a human") {
		t.Fatalf("no server: %+v", res)
	}

	serve := exec.Command(rampart, "serve", "--port", strconv.Itoa(freePort(t)))
	serve.Env = env
	var serveLog bytes.Buffer
	serve.Stdout, serve.Stderr = &serveLog, &serveLog
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { serve.Process.Signal(os.Interrupt); serve.Wait() }()
	getenv := func(k string) string {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	var client *server.Client
	for i := 0; i < 100; i++ {
		if c, err := server.ClientFromEnv(getenv, rampartHome, time.Second); err == nil {
			if _, err := c.Health(context.Background()); err == nil {
				client = c
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if client == nil {
		t.Fatalf("the server did not start:\n%s", serveLog.String())
	}

	for _, answer := range []string{"allow", "deny"} {
		os.Remove(marker)
		cmd := exec.Command(sh, "-c", "touch "+marker)
		cmd.Env, cmd.Dir = env, home
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var id string
		for i := 0; i < 100 && id == ""; i++ {
			pending, _ := client.Approvals(context.Background())
			if len(pending) > 0 {
				id = pending[0].ID
			}
			time.Sleep(50 * time.Millisecond)
		}
		if id == "" {
			cmd.Process.Kill()
			t.Fatalf("no pending approval appeared (stderr %s)", stderr.String())
		}
		if _, err := client.Resolve(context.Background(), id, server.Answer{Decision: answer, By: "tester"}); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		_, statErr := os.Stat(marker)
		switch answer {
		case "allow":
			if err != nil || statErr != nil {
				t.Errorf("approved: %v, marker %v, stderr %s", err, statErr, stderr.String())
			}
		case "deny":
			if err == nil || statErr == nil || !strings.Contains(stderr.String(), "rampart: blocked: touch "+marker) {
				t.Errorf("denied: %v, marker %v, stderr %s", err, statErr, stderr.String())
			}
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
