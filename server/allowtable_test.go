//go:build linux

package server

import (
	"context"
	"encoding/binary"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
)

// tableReader reads an allow table file as the library does
// (preload/src/rp_cache.c), so the tests check the format, not the
// server's own bookkeeping.
type tableReader struct {
	t   *testing.T
	mem []byte
}

func readTable(t *testing.T, sock string) *tableReader {
	t.Helper()
	data, err := os.ReadFile(TablePath(sock))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < tableFileSize || string(data[:8]) != tableMagic {
		t.Fatalf("table of %d bytes, magic %q", len(data), data[:8])
	}
	return &tableReader{t: t, mem: data}
}

func (r *tableReader) u64(off int) uint64 { return binary.NativeEndian.Uint64(r.mem[off:]) }

// lookup returns the decision the table holds for key, or -1.
func (r *tableReader) lookup(key string) int {
	ne := binary.NativeEndian
	slots, size, probes := ne.Uint32(r.mem[12:]), ne.Uint32(r.mem[16:]), ne.Uint32(r.mem[20:])
	if r.u64(offSeq)&1 != 0 {
		return -1
	}
	h := tableHash([]byte(key))
	for i := range uint64(probes) {
		off := int(ne.Uint64(r.mem[56:])) + int((h+i)&uint64(slots-1))*int(size)
		s := r.mem[off : off+int(size)]
		if ne.Uint64(s) == h && int(ne.Uint32(s[8:])) == len(key) && string(s[slotHeader:slotHeader+len(key)]) == key {
			return int(ne.Uint32(s[12:]))
		}
	}
	return -1
}

// writeNote writes a note into the ring of the mapped table mem as the
// library does (preload/src/rp_cache.c write_note); filled false leaves it
// taken but not filled. It returns the note's number.
func writeNote(t *testing.T, mem []byte, key string, epoch uint64, filled bool) uint64 {
	t.Helper()
	tail := (*uint64)(unsafe.Pointer(&mem[offTail]))
	n := atomic.LoadUint64(tail)
	if n&ringClosed != 0 {
		t.Fatal("the ring is closed")
	}
	slot := ringOff + int(n&(ringSlots-1))*ringSlotSize
	if atomic.LoadUint64((*uint64)(unsafe.Pointer(&mem[slot]))) != n || !atomic.CompareAndSwapUint64(tail, n, n+1) {
		t.Fatalf("ring slot %d not free for note %d", slot, n)
	}
	if filled && !fillNote(mem, n, key, epoch) {
		t.Fatalf("note %d was given up", n)
	}
	return n
}

// fillNote fills note n as the library does; false when the server gave
// it up (the library then asks the server).
func fillNote(mem []byte, n uint64, key string, epoch uint64) bool {
	slot := ringOff + int(n&(ringSlots-1))*ringSlotSize
	ne := binary.NativeEndian
	ne.PutUint32(mem[slot+8:], uint32(len(key)))
	ne.PutUint64(mem[slot+16:], epoch)
	copy(mem[slot+ringHeader:], key)
	return atomic.CompareAndSwapUint64((*uint64)(unsafe.Pointer(&mem[slot])), n, n+1)
}

// waitRingOpen waits until the server collects notes (after a check).
func waitRingOpen(t *testing.T, mem []byte) {
	t.Helper()
	waitFor(t, "the ring to open", func() bool {
		return atomic.LoadUint64((*uint64)(unsafe.Pointer(&mem[offTail])))&ringClosed == 0
	})
}

// mapTable maps the table file of sock as a process does.
func mapTable(t *testing.T, sock string) []byte {
	t.Helper()
	f, err := os.OpenFile(TablePath(sock), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem, err := syscall.Mmap(int(f.Fd()), 0, tableFileSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) }) //nolint:errcheck // test cleanup
	return mem
}

// tableEnv is a test server that publishes a table (no --audit-wait) on
// its Unix socket.
func tableEnv(t *testing.T) (*testEnv, string) {
	e := newTestEnv(t, func(c *Config) { c.AuditWait = false })
	sock := e.serveUnix()
	waitFor(t, "the allow table", func() bool { return e.srv.table.Load() != nil })
	return e, sock
}

func preloadCheck(t *testing.T, sock, body string) {
	t.Helper()
	if answers := rawExchange(t, sock, checkRequest(testToken, body, "close")); len(answers) != 1 || answers[0].StatusCode != 200 {
		t.Fatalf("check %s: %d answers", body, len(answers))
	}
}

// waitRecord waits for an audit record that match accepts.
func (e *testEnv) waitRecord(what string, match func(*audit.Record) bool) *audit.Record {
	e.t.Helper()
	var found *audit.Record
	waitFor(e.t, what, func() bool {
		for _, r := range e.records() {
			if match(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

const (
	allowedCall = `{"tool":"exec","argv":["/usr/bin/git","status"],"cwd":"/tmp","agent":"a","session":"s"}`
	deniedCall  = `{"tool":"exec","argv":["/usr/bin/rm","-rf","/"],"cwd":"/tmp","agent":"a","session":"s"}`
)

// The table holds what the server allowed on rampart preload's checks
// when the decision rests on the call alone; nothing denied, nothing that
// read files, nothing another adapter asked.
func TestAllowTablePublishesStableAllows(t *testing.T) {
	e, sock := tableEnv(t)
	globbed := `{"tool":"exec","argv":["/usr/bin/bash","-c","ls /tm?"],"cwd":"/tmp"}`
	other := `{"tool":"exec","argv":["/usr/bin/git","log"],"cwd":"/tmp"}`
	for _, body := range []string{allowedCall, deniedCall, globbed} {
		preloadCheck(t, sock, body)
	}
	otherAdapter := strings.Replace(checkRequest(testToken, other, "close"), "X-Rampart-Adapter: preload", "X-Rampart-Adapter: hook", 1)
	rawExchange(t, sock, otherAdapter)
	if e.check(other).Decision != "allow" {
		t.Fatal("git log not allowed")
	}

	r := readTable(t, sock)
	if got := r.lookup(allowedCall); got != int(engine.ActionAllow) {
		t.Errorf("allowed call: %d", got)
	}
	for _, body := range []string{deniedCall, globbed, other} {
		if got := r.lookup(body); got != -1 {
			t.Errorf("%s is in the table (%d)", body, got)
		}
	}
	if beat := r.u64(offBeat); beat == 0 || time.Duration(monotonicNow()-beat) > beatStale {
		t.Errorf("heartbeat %d, now %d", beat, monotonicNow())
	}
}

// A note is audited as the decision that was published, marked cached;
// a note from an older table (a reload came between) says so and what the
// policy now decides. Every note becomes a record.
func TestAllowTableNotesAreAudited(t *testing.T) {
	e, sock := tableEnv(t)
	preloadCheck(t, sock, allowedCall)
	mem := mapTable(t, sock)
	epoch := binary.NativeEndian.Uint64(mem[offEpoch:])
	waitRingOpen(t, mem)

	writeNote(t, mem, allowedCall, epoch, true)
	rec := e.waitRecord("the note's record", func(r *audit.Record) bool { return r.Cached })
	if rec.Decision != "allow" || rec.Adapter != "preload" || strings.Join(rec.Argv, " ") != "/usr/bin/git status" ||
		rec.Cwd != "/tmp" || rec.Agent != "a" || rec.Session != "s" || rec.Message != "" {
		t.Errorf("record %+v", rec)
	}

	writeNote(t, mem, deniedCall, epoch-1, true)
	rec = e.waitRecord("the stale note's record", func(r *audit.Record) bool { return r.Cached && len(r.Argv) == 3 })
	if rec.Decision != "allow" || !strings.Contains(rec.Message, "no longer holds") ||
		!strings.Contains(rec.Message, "decides deny (standard/") {
		t.Errorf("record %+v", rec)
	}
}

// A reload empties the table: what the old policy allowed is asked again.
func TestAllowTableReloadEmptiesIt(t *testing.T) {
	e, sock := tableEnv(t)
	preloadCheck(t, sock, allowedCall)
	before := readTable(t, sock)
	if before.lookup(allowedCall) != int(engine.ActionAllow) {
		t.Fatal("not published")
	}
	e.writePolicy("deny-git.yaml", `version: "1"
policies:
  - name: no-git
    match:
      tool: exec
    rules:
      - action: deny
        when:
          command_name: [git]
        message: no git here
`)
	if res := e.srv.Reload(); !res.OK {
		t.Fatal(res.Error)
	}
	after := readTable(t, sock)
	if after.lookup(allowedCall) != -1 || after.u64(offEpoch) == before.u64(offEpoch) {
		t.Error("the table still holds the old policy's allow")
	}
	preloadCheck(t, sock, allowedCall) // now denied: not published
	if readTable(t, sock).lookup(allowedCall) != -1 {
		t.Error("a denied call was published")
	}
}

// Notes a crashed server left are audited by the next one on the socket,
// and one a process took but never finished is reported. A server that
// stops leaves the table unusable (odd sequence, no heartbeat).
func TestAllowTableNotesOutliveTheServer(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.AuditWait = false })
	sock := SocketPath(e.rhome)
	// The table a server left when it was killed, with notes in it: one
	// filled, one a process took and has not filled yet.
	crashed, left, err := openAllowTable(sock, nil)
	if err != nil || len(left) != 0 {
		t.Fatal(err, left)
	}
	crashed.openRing()
	mem := mapTable(t, sock)
	writeNote(t, mem, allowedCall, crashed.epoch, true)
	late := writeNote(t, mem, allowedCall, crashed.epoch, false)
	crashed.unmap()

	e.serveUnix()
	waitFor(t, "the allow table", func() bool { return e.srv.table.Load() != nil })
	// The table is in s.table before the notes it found are recorded.
	var cached, unfinished int
	count := func() bool {
		cached, unfinished = 0, 0
		for _, r := range e.records() {
			if r.Cached && r.Decision == "allow" && strings.Contains(r.Message, "restarted") && len(r.Argv) == 2 {
				cached++
			}
			if r.Cached && r.Decision == "error" && strings.Contains(r.Error, "did not fill it") {
				unfinished++
			}
		}
		return cached+unfinished >= 2
	}
	waitFor(t, "the records of the notes left", count)
	if cached != 1 || unfinished != 1 {
		t.Errorf("%d records of the note, %d of the unfinished one", cached, unfinished)
	}
	// The process that took the unfinished note goes on: its note was
	// given up, so it must ask the server, and the ring still works.
	if fillNote(mem, late, allowedCall, crashed.epoch) {
		t.Error("a note given up could still be filled")
	}
	preloadCheck(t, sock, allowedCall)
	waitRingOpen(t, mem)
	writeNote(t, mem, allowedCall, binary.NativeEndian.Uint64(mem[offEpoch:]), true)
	e.waitRecord("a note after the restart", func(r *audit.Record) bool { return r.Cached && r.Message == "" })

	preloadCheck(t, sock, allowedCall)
	if readTable(t, sock).lookup(allowedCall) != int(engine.ActionAllow) {
		t.Fatal("the next server publishes nothing")
	}
	if err := e.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := readTable(t, sock)
	if r.u64(offSeq)&1 != 1 || r.u64(offBeat) != 0 || r.lookup(allowedCall) != -1 {
		t.Errorf("after shutdown: seq %d, beat %d", r.u64(offSeq), r.u64(offBeat))
	}
}

// The table is not made with --audit-wait.
func TestAllowTableOffWithAuditWait(t *testing.T) {
	e := newTestEnv(t, nil)
	sock := e.serveUnix()
	preloadCheck(t, sock, allowedCall)
	if _, err := os.Stat(TablePath(sock)); !os.IsNotExist(err) || e.srv.table.Load() != nil {
		t.Errorf("a table with --audit-wait: %v", err)
	}
}

// Notes collected at shutdown are not collected again by the next server.
func TestAllowTableShutdownCollectsOnce(t *testing.T) {
	e, sock := tableEnv(t)
	preloadCheck(t, sock, allowedCall)
	mem := mapTable(t, sock)
	waitRingOpen(t, mem)
	writeNote(t, mem, allowedCall, binary.NativeEndian.Uint64(mem[offEpoch:]), true)
	if err := e.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var cached int
	for _, r := range e.records() {
		if r.Cached {
			cached++
		}
	}
	if cached != 1 {
		t.Fatalf("%d records of the note at shutdown", cached)
	}
	next, left, err := openAllowTable(sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	next.unmap()
	if len(left) != 0 {
		t.Errorf("the next server finds %d notes already recorded", len(left))
	}
}

// A note a process took and does not fill (stopped, killed) is given up
// after a second, and the notes behind it are recorded.
func TestAllowTableGivesUpAStuckNote(t *testing.T) {
	e, sock := tableEnv(t)
	preloadCheck(t, sock, allowedCall)
	mem := mapTable(t, sock)
	waitRingOpen(t, mem)
	epoch := binary.NativeEndian.Uint64(mem[offEpoch:])
	stuck := writeNote(t, mem, allowedCall, epoch, false)
	writeNote(t, mem, allowedCall, epoch, true)
	writeNote(t, mem, allowedCall, epoch, true)
	waitFor(t, "the records behind the stuck note", func() bool {
		var cached, given int
		for _, r := range e.records() {
			if r.Cached && r.Decision == "allow" {
				cached++
			}
			if r.Cached && r.Decision == "error" && strings.Contains(r.Error, "did not fill it") {
				given++
			}
		}
		return cached == 2 && given == 1
	})
	if fillNote(mem, stuck, allowedCall, epoch) {
		t.Error("the given-up note could still be filled")
	}
}

// The table holds a log decision as the library's RP_LOG (3), not
// engine.ActionLog (which the library would read as RP_DENY).
func TestAllowTableLogDecision(t *testing.T) {
	e, sock := tableEnv(t)
	e.writePolicy("log-git-log.yaml", `version: "1"
policies:
  - name: watch-git-log
    match:
      tool: exec
    rules:
      - action: log
        when:
          command_name: [git]
          subcommand: [log]
        message: logged
`)
	if res := e.srv.Reload(); !res.OK {
		t.Fatal(res.Error)
	}
	logged := `{"tool":"exec","argv":["/usr/bin/git","log"],"cwd":"/tmp","agent":"a","session":"s"}`
	preloadCheck(t, sock, logged)
	if got := readTable(t, sock).lookup(logged); got != tableLog || tableLog != 3 {
		t.Errorf("a log decision is %d in the table, want 3 (RP_LOG)", got)
	}
}

// Two servers never share a table file: the second runs without one.
func TestAllowTableOneServerPerFile(t *testing.T) {
	e, sock := tableEnv(t)
	_ = e
	if _, _, err := openAllowTable(sock, nil); err == nil || !strings.Contains(err.Error(), "in use by another server") {
		t.Errorf("a second server opened the table: %v", err)
	}
}

// A ring whose numbers make no sense (a damaged file) is started afresh,
// and works: notes written after it are recorded.
func TestAllowTableDamagedRingStartsAfresh(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.AuditWait = false })
	sock := SocketPath(e.rhome)
	old, _, err := openAllowTable(sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	atomic.StoreUint64(old.u64(offTail), 5000) // head 0: 5000 notes in a ring of 1024
	old.unmap()

	e.serveUnix()
	waitFor(t, "the allow table", func() bool { return e.srv.table.Load() != nil })
	preloadCheck(t, sock, allowedCall)
	mem := mapTable(t, sock)
	waitRingOpen(t, mem)
	for range 3 {
		writeNote(t, mem, allowedCall, binary.NativeEndian.Uint64(mem[offEpoch:]), true)
	}
	waitFor(t, "the notes' records", func() bool {
		n := 0
		for _, r := range e.records() {
			if r.Cached && r.Decision == "allow" {
				n++
			}
		}
		return n == 3
	})
}
