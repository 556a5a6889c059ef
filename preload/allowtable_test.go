package preload_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/server"
)

// serveProcess runs `rampart serve` on a Unix socket in the sandbox, as a
// process of its own (so that the test can kill it), and returns its URL,
// token and process.
func serveProcess(t *testing.T, s *sandbox) (string, string, *exec.Cmd) {
	t.Helper()
	sock := filepath.Join(s.dir, "srv.sock")
	cmd := exec.Command(build.rampart, "serve", "--socket", sock, "--port", "0", "--log-level", "warn")
	cmd.Env = s.env()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		token, err := server.ReadToken(server.TokenPath(s.home))
		if fi, serr := os.Stat(server.TablePath(sock)); err == nil && token != "" && serr == nil && fi.Size() > 0 {
			return "unix:" + sock, token, cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("rampart serve did not start:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sessionRecords returns the preload decisions of the session whose
// command line starts with prefix, once at least n are written.
func (s *sandbox) sessionRecords(prefix string, n int) []*audit.Record {
	s.t.Helper()
	var recs []*audit.Record
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs = recs[:0]
		dir := audit.DefaultDir(s.home)
		files, _ := audit.Files(dir)
		for _, f := range files {
			audit.ScanFrom(dir, f, 0, 0, func(e audit.Entry) error { //nolint:errcheck // a short read is retried
				if r := e.Record; r != nil && r.Session == s.session && r.Adapter == "preload" &&
					strings.HasPrefix(strings.Join(r.Argv, " "), prefix) {
					recs = append(recs, r)
				}
				return nil
			})
		}
		if len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cachedCount(recs []*audit.Record) int {
	n := 0
	for _, r := range recs {
		if r.Cached {
			n++
		}
	}
	return n
}

// A call the server allowed runs on the allow table the next times, and
// every run is still audited; a denied one is asked about every time; the
// table is not used once the server is gone, whatever it holds.
func TestAllowTable(t *testing.T) {
	need(t, "bash")
	s := newSandbox(t)
	url, token, srv := serveProcess(t, s)
	env := s.libraryEnv(url, false, "RAMPART_TOKEN="+token, "RAMPART_SESSION="+s.session)

	r := s.exec(env, "bash", "-c", `for i in 1 2 3 4 5 6 7 8; do touch allowed-marker; done; echo done`)
	if r.code != 0 || r.stdout != "done\n" || r.stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	recs := s.sessionRecords("/usr/bin/touch allowed-marker", 8)
	if len(recs) != 8 || cachedCount(recs) < 4 || recs[0].Cached {
		t.Errorf("%d records of the 8 runs, %d from the table (want all 8, the first asked, most from the table)", len(recs), cachedCount(recs))
	}
	for _, rec := range recs {
		if rec.Decision != "allow" || rec.Cwd != s.work {
			t.Errorf("record %+v", rec)
		}
	}

	// A process that forks maps the table once, before its first fork, so
	// that its children inherit it: bash has it mapped after running one
	// command, though bash itself never asked anything.
	r = s.exec(env, "bash", "-c", `/bin/true; grep -c 'srv.sock.allow$' /proc/$$/maps; true`)
	if r.stdout != "1\n" {
		t.Errorf("the table is not mapped in the shell that forked: %q %s", r.stdout, r.stderr)
	}

	// Denied: asked every time, blocked every time.
	r = s.exec(env, "bash", "-c", `for i in 1 2 3; do touch rampart-denied-x; done; true`)
	s.absent("rampart-denied-x")
	if n := strings.Count(r.stderr, "rampart: blocked: touch rampart-denied-x"); n != 3 {
		t.Errorf("%d blocked lines, want 3:\n%s", n, r.stderr)
	}
	denied := s.sessionRecords("/usr/bin/touch rampart-denied-x", 3)
	if len(denied) != 3 || cachedCount(denied) != 0 {
		t.Errorf("%d records of the denied runs, %d from the table", len(denied), cachedCount(denied))
	}

	// RAMPART_ALLOW_TABLE=0: every run asks.
	s.exec(append(env, "RAMPART_ALLOW_TABLE=0"), "bash", "-c", `for i in 1 2 3; do touch table-off; done`)
	if off := s.sessionRecords("/usr/bin/touch table-off", 3); len(off) != 3 || cachedCount(off) != 0 {
		t.Errorf("RAMPART_ALLOW_TABLE=0: %d records, %d from the table", len(off), cachedCount(off))
	}

	// The server is killed: its table still holds touch allowed-marker,
	// but with no heartbeat nobody uses it, and fail-closed blocks.
	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	time.Sleep(400 * time.Millisecond) // past the heartbeat's 250 ms
	s.reset()
	r = s.exec(env, "bash", "-c", `touch allowed-marker; echo "touch $?"`)
	s.absent("allowed-marker")
	if r.stdout != "touch 126\n" || !strings.Contains(r.stderr, "rampart: blocked: touch allowed-marker (the policy server did not answer") {
		t.Errorf("with the server killed: stdout %q, stderr:\n%s", r.stdout, r.stderr)
	}
}

// A table whose header is damaged (here: an offset that would wrap around
// the address space) is not used: the calls are asked about, and no
// process crashes.
func TestAllowTableDamaged(t *testing.T) {
	need(t, "bash")
	s := newSandbox(t)
	url, token, _ := serveProcess(t, s)
	env := s.libraryEnv(url, false, "RAMPART_TOKEN="+token, "RAMPART_SESSION="+s.session)
	script := `for i in 1 2 3; do touch allowed-marker; done; echo done`
	if r := s.exec(env, "bash", "-c", script); r.code != 0 || r.stdout != "done\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if recs := s.sessionRecords("/usr/bin/touch allowed-marker", 3); cachedCount(recs) == 0 {
		t.Fatal("the table was not used to begin with")
	}

	f, err := os.OpenFile(server.TablePath(strings.TrimPrefix(url, "unix:")), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The ring's offset: ring + its size wraps to a small number, so a
	// check of the sum alone passes, and notes would be written a page
	// below the mapping.
	var off [8]byte
	binary.NativeEndian.PutUint64(off[:], ^uint64(0)-4095)
	if _, err := f.WriteAt(off[:], 64); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if r := s.exec(env, "bash", "-c", script); r.code != 0 || r.stdout != "done\n" || r.stderr != "" {
		t.Fatalf("with a damaged table: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	recs := s.sessionRecords("/usr/bin/touch allowed-marker", 6)
	if len(recs) != 6 || cachedCount(recs[3:]) != 0 {
		t.Errorf("%d records, %d of the last 3 from the damaged table", len(recs), cachedCount(recs[3:]))
	}
}

// Many processes at once, all on the table: every run is recorded exactly
// once, and the chain verifies.
func TestAllowTableUnderContention(t *testing.T) {
	need(t, "bash", "xargs", "seq")
	s := newSandbox(t)
	url, token, _ := serveProcess(t, s)
	env := s.libraryEnv(url, false, "RAMPART_TOKEN="+token, "RAMPART_SESSION="+s.session)
	const runs = 600
	r := s.exec(env, "bash", "-c", fmt.Sprintf(`seq %d | xargs -P 8 -I{} /bin/true; echo "exit $?"`, runs))
	if r.stdout != "exit 0\n" || r.stderr != "" {
		t.Fatalf("stdout %q, stderr:\n%s", r.stdout, r.stderr)
	}
	s.sessionRecords("/bin/true", runs)
	time.Sleep(3 * server.NotesWithin) // a record too many would be in by now
	recs := s.sessionRecords("/bin/true", runs)
	if len(recs) != runs || cachedCount(recs) < runs/2 {
		t.Errorf("%d records of %d runs, %d from the table", len(recs), runs, cachedCount(recs))
	}
	for _, rec := range recs {
		if rec.Decision != "allow" {
			t.Errorf("record %+v", rec)
		}
	}
	if v := s.exec(s.env(), build.rampart, "audit", "verify"); v.code != 0 {
		t.Errorf("audit verify: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
}
