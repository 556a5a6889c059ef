//go:build linux

package server

// The allow table: rampart preload's library asks the server before every
// exec, and on a small machine the round trip between two processes costs
// more than everything else the library does (docs/preload.md). So the
// server publishes the calls it allowed, in a file next to its socket that
// the library maps: when a process is about to make a call the table holds
// byte for byte, the library runs it at once and leaves a note of it in
// the same file, which the server collects within notePoll and writes to
// the audit trail like any decision.
//
// What makes this safe:
//   - Only allow and log decisions that rest on the call alone are
//     published (engine.Program.EvalStable): none that followed a symbolic
//     link or expanded a glob. The key is the whole request body (tool,
//     argv, executable, working directory, agent, session), compared byte
//     for byte, so a hash collision cannot match another call.
//   - The table holds decisions of the policy in force only: a reload (an
//     edit, "always allow") empties it as soon as the new policy is in
//     force, and nothing the old one decided is published after that.
//   - The table is used only while the server's heartbeat in it is fresh
//     (beatStale): a server that was killed or stopped, or that has seen
//     no rampart preload for idleAfter, is asked the usual way, so its
//     fail mode holds. A server that shuts down empties the table first.
//   - A note is written, whole, before the call runs; when the ring of
//     notes is full the library asks instead. The server collects notes a
//     crashed server left when it starts. No record is lost.
//   - The file is the user's own, 0600; the library checks that.
//
// It is off with --audit-wait, whose promise (a decision is answered only
// once its record is written) a note collected afterwards cannot keep.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
)

// The file's layout, in the machine's byte order (preload/src/rp_cache.c
// reads and writes the same). A header page:
//
//	0 magic "RPALLOW2"     8 version u32     12 table slots u32
//	16 table slot size u32 20 probes u32     24 table seq u64 (odd while
//	the table changes)     32 epoch u64 (new whenever the table is emptied)
//	40 heartbeat u64 (CLOCK_MONOTONIC ns; 0: do not use)
//	48 ring slots u32      52 ring slot size u32
//	56 table offset u64    64 ring offset u64
//	128 ring tail u64 (the next note's number, taken by the processes)
//	192 ring head u64 (the next note the server reads)
//
// then the table (slot: hash u64 (0: empty), key length u32, decision u32
// (0 allow, 3 log), key), then the ring of notes (slot: sequence u64, key
// length u32, 4 bytes, epoch u64 of the table the call was found in, key).
// A key goes in one of the probes table slots from hash & (slots-1) on.
// The ring is a bounded queue (Vyukov's): note number n goes in slot
// n & (ring slots-1), which is free for it when its sequence is n, and
// filled when it is n+1; the server frees it for note n+ringSlots.
const (
	tableMagic    = "RPALLOW2"
	tableVersion  = 1
	headerSize    = 4096
	tableSlots    = 2048
	tableSlotSize = 1024
	tableProbes   = 4
	slotHeader    = 16
	tableKeyMax   = tableSlotSize - slotHeader
	ringSlots     = 1024
	ringHeader    = 24
	ringSlotSize  = ringHeader + tableKeyMax
	tableOff      = headerSize
	ringOff       = tableOff + tableSlots*tableSlotSize
	tableFileSize = ringOff + ringSlots*ringSlotSize

	offSeq   = 24
	offEpoch = 32
	offBeat  = 40
	offTail  = 128
	offHead  = 192
)

// The server's rhythm: it collects notes every notePoll while rampart
// preload is in use, and stops (heartbeat 0) after idleAfter without a
// check or a note. The library trusts a heartbeat younger than beatStale
// (RP_BEAT_STALE in rp_cache.c). A note left half-written for stuckAfter
// (its process stopped or died while writing) is reported.
const (
	notePoll   = NotesWithin / 2
	idleAfter  = 5 * time.Second
	beatStale  = 250 * time.Millisecond
	stuckAfter = time.Second
)

// allowTable is the server's side of the table: the mapped file and a copy
// of what the table holds (to audit a note with the decision published).
type allowTable struct {
	path string
	mem  []byte

	mu      sync.Mutex
	prog    *engine.Program // the decisions published are this program's
	epoch   uint64
	keys    [tableSlots]string // the key each slot holds, "" when empty
	entries map[string]engine.Decision
	victim  int // the probe replaced next when all are taken
	closed  bool

	head uint64 // the next note to read (serveNotes only)

	kick     chan struct{} // rampart preload asked: collect notes
	stop     chan struct{} // closed by stop
	stopOnce sync.Once
	done     chan struct{} // closed when serveNotes has audited the last note
}

// tableNote is one note read from the ring; bad when it could not be read
// whole (a process stopped while writing it).
type tableNote struct {
	epoch uint64
	key   []byte
	bad   bool
}

// openAllowTable creates or reuses the table of the socket sock for
// decisions of prog, and returns the notes a server that crashed left in
// it. The file is never shrunk or removed: processes may have it mapped.
func openAllowTable(sock string, prog *engine.Program) (*allowTable, []tableNote, error) {
	path := TablePath(sock)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || !fi.Mode().IsRegular() || int(st.Uid) != os.Geteuid() {
		return nil, nil, fmt.Errorf("%s is not a file of this user", path)
	}
	if fi.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			return nil, nil, err
		}
	}
	if fi.Size() < tableFileSize {
		if err := f.Truncate(tableFileSize); err != nil {
			return nil, nil, err
		}
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, tableFileSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	t := &allowTable{path: path, mem: mem, entries: map[string]engine.Decision{}, kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}

	var left []tableNote
	if t.sameLayout() {
		// Processes may still write notes for a heartbeat a crashed
		// server left fresh: let it go stale first.
		if beat := atomic.LoadUint64(t.u64(offBeat)); beat != 0 {
			if age := time.Duration(monotonicNow() - beat); age >= 0 && age < beatStale {
				time.Sleep(beatStale - age + 50*time.Millisecond)
			}
		}
		t.head = atomic.LoadUint64(t.u64(offHead))
		left = t.collectAll()
	}
	atomic.StoreUint64(t.u64(offBeat), 0)
	t.begin()
	copy(mem, tableMagic)
	ne := binary.NativeEndian
	ne.PutUint32(mem[8:], tableVersion)
	ne.PutUint32(mem[12:], tableSlots)
	ne.PutUint32(mem[16:], tableSlotSize)
	ne.PutUint32(mem[20:], tableProbes)
	ne.PutUint32(mem[48:], ringSlots)
	ne.PutUint32(mem[52:], ringSlotSize)
	ne.PutUint64(mem[56:], tableOff)
	ne.PutUint64(mem[64:], ringOff)
	for i := range uint64(ringSlots) {
		atomic.StoreUint64(t.ringSlot(i), i)
	}
	t.head = 0
	atomic.StoreUint64(t.u64(offTail), 0)
	atomic.StoreUint64(t.u64(offHead), 0)
	t.clearLocked(prog)
	t.end()
	return t, left, nil
}

// sameLayout reports whether the file holds a table of this layout.
func (t *allowTable) sameLayout() bool {
	ne := binary.NativeEndian
	m := t.mem
	return string(m[:8]) == tableMagic && ne.Uint32(m[8:]) == tableVersion && ne.Uint32(m[12:]) == tableSlots &&
		ne.Uint32(m[16:]) == tableSlotSize && ne.Uint32(m[48:]) == ringSlots && ne.Uint32(m[52:]) == ringSlotSize &&
		ne.Uint64(m[56:]) == tableOff && ne.Uint64(m[64:]) == ringOff
}

func (t *allowTable) u64(off int) *uint64 { return (*uint64)(unsafe.Pointer(&t.mem[off])) }

// ringSlot returns the sequence word of the ring slot of note n.
func (t *allowTable) ringSlot(n uint64) *uint64 {
	return t.u64(ringOff + int(n&(ringSlots-1))*ringSlotSize)
}

// begin and end bracket a change of the table: readers that saw the
// sequence number odd, or changed, ignore what they read. Only the server
// that holds the socket writes the table, one change at a time (t.mu);
// one that stopped left the number odd.
func (t *allowTable) begin() {
	if atomic.LoadUint64(t.u64(offSeq))&1 == 0 {
		atomic.AddUint64(t.u64(offSeq), 1)
	}
}

func (t *allowTable) end() { atomic.AddUint64(t.u64(offSeq), 1) }

// clearLocked empties the table for decisions of prog, with a new epoch.
// The caller holds t.mu (or is the only user) and has called begin.
func (t *allowTable) clearLocked(prog *engine.Program) {
	for i := range tableSlots {
		binary.NativeEndian.PutUint64(t.mem[tableOff+i*tableSlotSize:], 0)
		t.keys[i] = ""
	}
	clear(t.entries)
	t.prog = prog
	old := binary.NativeEndian.Uint64(t.mem[offEpoch:])
	t.epoch = uint64(time.Now().UnixNano())
	if t.epoch == old {
		t.epoch++
	}
	binary.NativeEndian.PutUint64(t.mem[offEpoch:], t.epoch)
}

// reset empties the table for prog, the program now in force. It is
// called once a reload has put prog in force, so nothing decided by the
// old program stays, and nothing it decides later gets in (publish).
func (t *allowTable) reset(prog *engine.Program) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.begin()
	t.clearLocked(prog)
	t.end()
}

// tableHash is FNV-1a of the key, never 0 (an empty slot).
func tableHash(key []byte) uint64 {
	h := fnv.New64a()
	h.Write(key)
	if v := h.Sum64(); v != 0 {
		return v
	}
	return 1
}

// publish puts the decision d that prog made on the call whose request
// body is key, when it may be used without asking: allowed, stable (the
// caller passes prog only then), made by the program in force (current)
// and a key that fits. It also wakes the collecting of notes: rampart
// preload is in use.
func (t *allowTable) publish(prog, current *engine.Program, key []byte, d engine.Decision) {
	select {
	case t.kick <- struct{}{}:
	default:
	}
	if prog == nil || !d.Allowed() || len(key) > tableKeyMax || len(key) == 0 || prog != current {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// t.prog is not prog when a reload came between the decision and now:
	// reset has emptied the table for the new program already.
	if t.closed || t.prog != prog {
		return
	}
	if _, ok := t.entries[string(key)]; ok {
		return
	}
	t.begin()
	defer t.end()
	h := tableHash(key)
	slot := -1
	for i := range tableProbes {
		if s := int((h + uint64(i)) & (tableSlots - 1)); t.keys[s] == "" {
			slot = s
			break
		}
	}
	if slot < 0 {
		slot = int((h + uint64(t.victim)) & (tableSlots - 1))
		t.victim = (t.victim + 1) % tableProbes
		delete(t.entries, t.keys[slot])
	}
	b := t.mem[tableOff+slot*tableSlotSize : tableOff+(slot+1)*tableSlotSize]
	ne := binary.NativeEndian
	ne.PutUint64(b, h)
	ne.PutUint32(b[8:], uint32(len(key)))
	ne.PutUint32(b[12:], uint32(d.Decision))
	copy(b[slotHeader:], key)
	t.keys[slot] = string(key)
	t.entries[t.keys[slot]] = d
}

// published returns the decision the table holds for key under epoch.
func (t *allowTable) published(key []byte, epoch uint64) (engine.Decision, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if epoch != t.epoch {
		return engine.Decision{}, false
	}
	d, ok := t.entries[string(key)]
	return d, ok
}

// collect reads the notes filled so far, in order, up to the first one
// not filled yet; stuck says that one was taken by a process and is
// still being written (or never will be).
func (t *allowTable) collect() (notes []tableNote, stuck bool) {
	for {
		seq := atomic.LoadUint64(t.ringSlot(t.head))
		if seq != t.head+1 {
			return notes, seq == t.head && atomic.LoadUint64(t.u64(offTail)) > t.head
		}
		notes = append(notes, t.readNote(t.head))
		atomic.StoreUint64(t.ringSlot(t.head), t.head+ringSlots)
		t.head++
		atomic.StoreUint64(t.u64(offHead), t.head)
	}
}

// collectAll reads every note taken, filled or not (when the table is
// out of use: at start and at shutdown).
func (t *allowTable) collectAll() []tableNote {
	tail := atomic.LoadUint64(t.u64(offTail))
	if tail-t.head > ringSlots {
		return []tableNote{{bad: true}}
	}
	var notes []tableNote
	for ; t.head < tail; t.head++ {
		if atomic.LoadUint64(t.ringSlot(t.head)) == t.head+1 {
			notes = append(notes, t.readNote(t.head))
		} else {
			notes = append(notes, tableNote{bad: true})
		}
	}
	// So that the next server does not record them again.
	atomic.StoreUint64(t.u64(offHead), t.head)
	return notes
}

func (t *allowTable) readNote(n uint64) tableNote {
	b := t.mem[ringOff+int(n&(ringSlots-1))*ringSlotSize:]
	ne := binary.NativeEndian
	size := ne.Uint32(b[8:])
	if size > tableKeyMax {
		return tableNote{bad: true}
	}
	return tableNote{epoch: ne.Uint64(b[16:]), key: append([]byte(nil), b[ringHeader:ringHeader+int(size)]...)}
}

// beat sets the heartbeat: now, or 0 (do not use the table).
func (t *allowTable) beat(on bool) {
	v := uint64(0)
	if on {
		v = monotonicNow()
	}
	atomic.StoreUint64(t.u64(offBeat), v)
}

func monotonicNow() uint64 {
	var ts syscall.Timespec
	const clockMonotonic = 1
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0) //nolint:errcheck // cannot fail
	return uint64(ts.Sec)*uint64(time.Second) + uint64(ts.Nsec)
}

// serveNotes collects and audits the notes while rampart preload is in
// use, keeping the heartbeat fresh; idle, it sleeps until a check comes.
func (s *Server) serveNotes(t *allowTable) {
	defer close(t.done)
	tick := time.NewTicker(notePoll)
	defer tick.Stop()
	active := false
	var lastUse, stuckSince time.Time
	warned := false
	for {
		select {
		case <-t.stop:
			t.beat(false)
			time.Sleep(notePoll) // a process that saw the heartbeat writes its note now
			s.auditNotes(t, t.collectAll())
			return
		case <-t.kick:
			lastUse = time.Now()
			if !active {
				active = true
				t.beat(true)
				tick.Reset(notePoll)
			}
			continue
		case <-tick.C:
		}
		if !active {
			continue
		}
		notes, stuck := t.collect()
		now := time.Now()
		if len(notes) > 0 {
			lastUse = now
			s.auditNotes(t, notes)
		}
		switch {
		case !stuck:
			stuckSince, warned = time.Time{}, false
		case stuckSince.IsZero():
			stuckSince = now
		case now.Sub(stuckSince) > stuckAfter && !warned:
			warned = true
			s.log.Warn("a process stopped while writing a note to the allow table; until it goes on, the notes behind it wait " +
				"and rampart preload asks the server once the table's ring is full")
		}
		if now.Sub(lastUse) > idleAfter {
			active = false
			t.beat(false)
			tick.Stop()
			time.Sleep(notePoll) // a process that saw the heartbeat writes its note now
			if notes, _ := t.collect(); len(notes) > 0 {
				s.auditNotes(t, notes)
			}
			continue
		}
		t.beat(true)
	}
}

// auditNotes writes a decision record for each note: the decision the
// table held for the call, or, when the table changed since the process
// read it, a record saying so with what the policy in force decides.
func (s *Server) auditNotes(t *allowTable, notes []tableNote) {
	for _, n := range notes {
		s.metrics.cachedAllows.Add(1)
		var call *engine.ToolCall
		err := errors.New("a process stopped while writing it")
		if !n.bad {
			call, err = DecodeCall(n.key)
		}
		if err != nil {
			rec := &audit.Record{Event: audit.EventDecision, Adapter: "preload", Decision: "error", Cached: true,
				Error: "a note of the allow table was never finished (" + err.Error() + "); its process had not run the call when the server read it"}
			if !n.bad {
				rec.Error = "a note of the allow table holds no call the server can read (" + err.Error() + ")"
			}
			s.log.Warn(rec.Error)
			s.audit.write(rec, 0) //nolint:errcheck // errors are logged by auditWritten
			continue
		}
		d, ok := t.published(n.key, n.epoch)
		if !ok {
			now, _ := s.policies.program().EvalStable(call)
			d = engine.Decision{Decision: engine.ActionAllow,
				Message: "ran on an allow of the table that it no longer holds (the policy was reloaded, or the server restarted); " +
					"the policy in force decides " + now.Decision.String()}
			if now.Rule != "" {
				d.Message += fmt.Sprintf(" (%s/%s)", now.Policy, now.Rule)
			}
			if !now.Allowed() {
				s.log.WithField("call", describeCall(call)).Warn(d.Message)
			}
		}
		s.metrics.countDecision(d)
		rec := audit.FromCall("preload", *call, d, 0)
		rec.Cached = true
		s.audit.write(rec, 0) //nolint:errcheck // errors are logged by auditWritten
	}
	s.audit.flush()
}

// startAllowTable opens the table of the Unix socket sock and collects its
// notes; without one (a file of another user in the way) the library
// simply asks every time.
func (s *Server) startAllowTable(sock string) {
	if s.auditWait > 0 {
		return
	}
	t, left, err := openAllowTable(sock, s.policies.program())
	if err != nil {
		s.log.WithError(err).Warn("no allow table: rampart preload asks the server before every exec")
		return
	}
	if !s.table.CompareAndSwap(nil, t) {
		syscall.Munmap(t.mem) //nolint:errcheck // nothing to do about it
		return
	}
	if len(left) > 0 {
		s.log.WithField("notes", len(left)).Info("recording the notes of the allow table that the last server left")
		s.auditNotes(t, left)
	}
	// A reload that came before the table was in s.table did not reset it.
	t.reset(s.policies.program())
	go s.serveNotes(t)
	select {
	case <-s.closing: // Shutdown came meanwhile, maybe before the table was there
		t.stopAndWait()
	default:
	}
}

// stopAllowTable empties the table, so that processes ask again, and
// audits the notes written until then.
func (s *Server) stopAllowTable() {
	if t := s.table.Load(); t != nil {
		t.stopAndWait()
	}
}

func (t *allowTable) stopAndWait() {
	t.stopOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		t.begin() // left odd: unused until a server opens it again
		t.clearLocked(nil)
		t.mu.Unlock()
		close(t.stop)
	})
	<-t.done
}
