package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
)

// These tests run the real rampart binary, built once.

var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func rampartBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the rampart binary")
	}
	buildOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "rampart-bin-"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "rampart"), "github.com/rampart-dev/rampart/cmd/rampart").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "rampart")
}

// binEnv is a throwaway HOME and RAMPART_HOME for the binary.
type binEnv struct {
	t          *testing.T
	bin        string
	home, rhom string
}

func newBinEnv(t *testing.T) *binEnv {
	home := t.TempDir()
	return &binEnv{t: t, bin: rampartBinary(t), home: home, rhom: filepath.Join(home, ".rampart")}
}

func (b *binEnv) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "RAMPART_") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+b.home, "RAMPART_HOME="+b.rhom)
}

// run runs the binary to completion.
func (b *binEnv) run(args ...string) (int, string, string) {
	b.t.Helper()
	cmd := exec.Command(b.bin, args...)
	cmd.Env = b.env()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		b.t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// serve starts "rampart serve" in the foreground and waits until it
// answers on its socket.
func (b *binEnv) serve(args ...string) (*exec.Cmd, *bytes.Buffer) {
	b.t.Helper()
	cmd := exec.Command(b.bin, append([]string{"serve", "--port", "0", "--log-level", "warn"}, args...)...)
	cmd.Env = b.env()
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c, _ := NewClient("unix:"+SocketPath(b.rhom), "", time.Second)
	waitFor(b.t, "the server to answer", func() bool {
		h, err := c.Health(context.Background())
		return err == nil && h.PID == cmd.Process.Pid
	})
	return cmd, &logs
}

func (b *binEnv) client() *Client {
	b.t.Helper()
	c, err := ClientFromEnv(func(k string) string { return "" }, b.rhom, 5*time.Second)
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// load sends checks from 8 goroutines until stop is closed and counts the
// decisions that were answered.
func (b *binEnv) load(stop <-chan struct{}) (answered *atomic.Int64, wait func()) {
	answered = new(atomic.Int64)
	c := b.client()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				call := &engine.ToolCall{Tool: "exec", Command: fmt.Sprintf("echo %d-%d && rm -rf /tmp/x%d", i, n, n)}
				if _, err := c.Check(context.Background(), call, false); err == nil {
					answered.Add(1)
				}
			}
		}()
	}
	return answered, wg.Wait
}

// TestCrashKill9: a server killed under load leaves a trail that
// verifies, and a restarted server continues its chain. With --audit-wait
// the trail also holds every decision that was answered.
func TestCrashKill9(t *testing.T) {
	for _, mode := range []string{"queued", "--audit-wait"} {
		t.Run(mode, func(t *testing.T) {
			var args []string
			if mode != "queued" {
				args = append(args, mode)
			}
			b := newBinEnv(t)
			srv, _ := b.serve(args...)
			stop := make(chan struct{})
			answered, wait := b.load(stop)
			waitFor(t, "some load", func() bool { return answered.Load() > 300 })
			if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			srv.Wait()
			close(stop)
			wait()

			dir := audit.DefaultDir(b.rhom)
			rep, err := audit.Verify(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK || rep.Records == 0 {
				t.Fatalf("the trail does not verify after kill -9: %+v", rep)
			}
			if mode == "--audit-wait" && int64(rep.Records) < answered.Load() {
				t.Errorf("%d records for %d answered decisions: records were lost", rep.Records, answered.Load())
			}
			t.Logf("killed after %d answered decisions; %d records; warnings %v", answered.Load(), rep.Records, rep.Warnings)

			// A restarted server removes the stale socket and pid file
			// and continues the chain.
			srv2, logs2 := b.serve(args...)
			c := b.client()
			for i := range 20 {
				if _, err := c.Check(context.Background(), &engine.ToolCall{Tool: "exec", Command: fmt.Sprintf("echo after %d", i)}, false); err != nil {
					t.Fatal(err)
				}
			}
			srv2.Process.Signal(syscall.SIGTERM)
			if err := srv2.Wait(); err != nil {
				t.Errorf("the restarted server exited with %v:\n%s", err, logs2)
			}
			rep2, err := audit.Verify(dir)
			if err != nil || !rep2.OK || rep2.Records != rep.Records+20 || rep2.LastSeq != rep.LastSeq+20 || rep2.FirstSeq != 1 {
				t.Errorf("after the restart: %+v %v (before: %d records, last seq %d)", rep2, err, rep.Records, rep.LastSeq)
			}
		})
	}
}

func TestGracefulStopWritesEveryRecord(t *testing.T) {
	b := newBinEnv(t)
	srv, logs := b.serve()
	stop := make(chan struct{})
	answered, wait := b.load(stop)
	waitFor(t, "some load", func() bool { return answered.Load() > 300 })
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, logs)
	}
	close(stop)
	wait()
	rep, err := audit.Verify(audit.DefaultDir(b.rhom))
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if int64(rep.Records) != answered.Load() {
		t.Errorf("%d records for %d answered decisions", rep.Records, answered.Load())
	}
	for _, f := range []string{SocketPath(b.rhom), PIDPath(b.rhom)} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s is left behind", f)
		}
	}
}

func TestBackgroundStatusStop(t *testing.T) {
	b := newBinEnv(t)
	code, out, stderr := b.run("serve", "--background", "--port", "0")
	if code != 0 || !strings.HasPrefix(out, "rampart serve is running in the background (pid ") || !strings.Contains(out, "unix:"+SocketPath(b.rhom)) {
		t.Fatalf("serve --background: exit %d\n%s%s", code, out, stderr)
	}
	t.Cleanup(func() { b.run("serve", "stop") })
	pidData, _ := os.ReadFile(PIDPath(b.rhom))
	pid := strings.TrimSpace(string(pidData))
	if !strings.Contains(out, "(pid "+pid+")") {
		t.Errorf("pid file %s, output %s", pid, out)
	}
	if code, out, _ := b.run("status"); code != 0 || !strings.Contains(out, "rampart serve is running: pid "+pid) {
		t.Errorf("status: exit %d %s", code, out)
	}
	if code, out, _ := b.run("serve", "--background"); code != 0 || !strings.Contains(out, "already running (pid "+pid+")") {
		t.Errorf("second --background: exit %d %s", code, out)
	}
	if code, _, stderr := b.run("serve", "--port", "0"); code != 69 || !strings.Contains(stderr, "a server is already running for "+b.rhom+" (pid "+pid+")") {
		t.Errorf("second foreground server: exit %d %s", code, stderr)
	}
	if code, out, stderr := b.run("serve", "stop"); code != 0 || out != "stopped the server (pid "+pid+")\n" {
		t.Errorf("serve stop: exit %d %s %s", code, out, stderr)
	}
	if code, _, stderr := b.run("status"); code != 3 || !strings.Contains(stderr, "not running") {
		t.Errorf("status after stop: exit %d %s", code, stderr)
	}
	logData, _ := os.ReadFile(LogPath(b.rhom))
	if !strings.Contains(string(logData), "rampart serve is ready") || !strings.Contains(string(logData), "msg=stopped") {
		t.Errorf("serve.log:\n%s", logData)
	}
}
