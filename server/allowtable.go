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
// The table's decision is the library's: 0 allow, 3 log (tableAllow,
// tableLog), not engine.Action's numbering.
//
// The ring is a bounded queue (Vyukov's): note number n goes in slot
// n & (ring slots-1), which is free for it when its sequence is n, and
// filled when it is n+1; the server frees it for note n+ringSlots. Both
// steps that end a note are compare-and-swaps, so that a note is either
// recorded or its process asks the server instead:
//   - the process marks its note filled by swapping n for n+1; when that
//     fails, the server has given up on the note, and the process asks;
//   - the server gives up on a note taken but not filled (its process was
//     stopped, or died, or is too slow at shutdown) by swapping n for
//     n+ringSlots; when that fails, the note was just filled, and is read.
//
// The top bit of the tail (ringClosed) is set while the server does not
// collect notes (idle, starting, stopping): no process can take a number
// then, so no note can wait unread. Numbers go on across restarts (the
// head and tail are in the file), so a process that took a number before
// a restart cannot fill a slot that now means something else.
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

	ringClosed = 1 << 63

	// The decisions in the table, as the library numbers them
	// (enum rp_decision in preload/src/rampart.h).
	tableAllow = 0
	tableLog   = 3
)

// The server's rhythm: it collects notes every notePoll while rampart
// preload is in use, and stops (heartbeat 0, ring closed) after idleAfter
// without a check or a note. The library trusts a heartbeat younger than
// beatStale (RP_BEAT_STALE in rp_cache.c). A note taken but not filled
// for stuckAfter (its process stopped or died while writing) is given up,
// so that the notes behind it are recorded.
const (
	notePoll   = NotesWithin / 2
	idleAfter  = 5 * time.Second
	beatStale  = 250 * time.Millisecond
	stuckAfter = time.Second
)

// allowTable is the server's side of the table: the mapped file and a copy
// of what the table holds (to audit a note with the decision published).
type allowTable struct {
	file *os.File // open for the server's lifetime, with an exclusive lock
	mem  []byte

	mu      sync.Mutex
	prog    *engine.Program // the decisions published are this program's
	epoch   uint64
	keys    [tableSlots]string // the key each slot holds, "" when empty
	entries map[string]engine.Decision
	victim  int // the probe replaced next when all are taken
	closed  bool

	head    uint64 // the next note to read (serveNotes only)
	damaged bool   // the ring found at start made no sense and was started afresh

	kick     chan struct{} // rampart preload asked: collect notes
	stop     chan struct{} // closed by stop
	stopOnce sync.Once
	done     chan struct{} // closed when serveNotes has audited the last note
}

// ringDamaged is logged when the ring's numbers made no sense (drain).
const ringDamaged = "the allow table's ring of notes was damaged; started afresh (notes in it, if any, are not recorded)"

// tableNote is one note read from the ring; abandoned when its process
// took it and did not fill it, and the server gave it up (the process did
// not run its call, and asks the server if it goes on).
type tableNote struct {
	epoch     uint64
	key       []byte
	abandoned bool
}

// openAllowTable creates or reuses the table of the socket sock for
// decisions of prog, and returns the notes a server that crashed left in
// it (the caller records them, then calls consume). The file is never
// shrunk or removed: processes may have it mapped. It is locked for as
// long as the server uses it, so that two servers never share one.
func openAllowTable(sock string, prog *engine.Program) (*allowTable, []tableNote, error) {
	path := TablePath(sock)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	t := &allowTable{file: f, entries: map[string]engine.Decision{}, kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	fail := func(err error) (*allowTable, []tableNote, error) {
		t.unmap()
		return nil, nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fail(fmt.Errorf("%s is in use by another server: %w", path, err))
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || !fi.Mode().IsRegular() || int(st.Uid) != os.Geteuid() {
		return fail(fmt.Errorf("%s is not a file of this user", path))
	}
	if fi.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			return fail(err)
		}
	}
	// Allocated, not sparse: a write to a page the file system then
	// cannot find room for would be SIGBUS, in the server or in any
	// process that writes a note.
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, tableFileSize); err != nil {
		return fail(fmt.Errorf("allocate %s: %w", path, err))
	}
	if t.mem, err = syscall.Mmap(int(f.Fd()), 0, tableFileSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED); err != nil {
		return fail(err)
	}

	atomic.StoreUint64(t.u64(offBeat), 0)
	var left []tableNote
	if t.sameLayout() {
		// No new notes from now on; a process that took a number just
		// before has notePoll to fill it, then it is given up.
		t.closeRing()
		time.Sleep(notePoll)
		t.head = atomic.LoadUint64(t.u64(offHead))
		left, t.damaged = t.drain()
	} else {
		for i := range uint64(ringSlots) {
			atomic.StoreUint64(t.ringSlot(i), i)
		}
		atomic.StoreUint64(t.u64(offTail), ringClosed)
		atomic.StoreUint64(t.u64(offHead), 0)
	}
	t.begin()
	copy(t.mem, tableMagic)
	ne := binary.NativeEndian
	ne.PutUint32(t.mem[8:], tableVersion)
	ne.PutUint32(t.mem[12:], tableSlots)
	ne.PutUint32(t.mem[16:], tableSlotSize)
	ne.PutUint32(t.mem[20:], tableProbes)
	ne.PutUint32(t.mem[48:], ringSlots)
	ne.PutUint32(t.mem[52:], ringSlotSize)
	ne.PutUint64(t.mem[56:], tableOff)
	ne.PutUint64(t.mem[64:], ringOff)
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
	if t.closed || t.prog == prog {
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
// caller passes prog only then), made by the program the table serves
// and a key that fits. It also wakes the collecting of notes: rampart
// preload is in use.
func (t *allowTable) publish(prog *engine.Program, key []byte, d engine.Decision) {
	select {
	case t.kick <- struct{}{}:
	default:
	}
	if prog == nil || !d.Allowed() || len(key) > tableKeyMax || len(key) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// t.prog is not prog when a reload came between the decision and now:
	// reset has emptied the table for the new program already, or will
	// (it runs once the new program is in force, and takes t.mu).
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
	decision := uint32(tableAllow)
	if d.Decision == engine.ActionLog {
		decision = tableLog
	}
	ne.PutUint32(b[12:], decision)
	copy(b[slotHeader:], key)
	t.keys[slot] = string(key)
	t.entries[t.keys[slot]] = d
}

// published returns the decision the table held for the call under
// epoch: the one it holds, or, for an entry replaced since, the same
// program's decision again (stable: the same). ok is false when the table
// was emptied since (a reload, a restart).
func (t *allowTable) published(call *engine.ToolCall, key []byte, epoch uint64) (engine.Decision, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if epoch != t.epoch || t.prog == nil {
		return engine.Decision{}, false
	}
	if d, ok := t.entries[string(key)]; ok {
		return d, true
	}
	d, _ := t.prog.EvalStable(call)
	return d, d.Allowed()
}

// tail returns the number the next note will take, without the closed
// bit.
func (t *allowTable) tail() uint64 { return atomic.LoadUint64(t.u64(offTail)) &^ ringClosed }

// closeRing and openRing stop and allow the taking of new numbers.
func (t *allowTable) closeRing() { atomic.OrUint64(t.u64(offTail), ringClosed) }
func (t *allowTable) openRing()  { atomic.AndUint64(t.u64(offTail), ^uint64(ringClosed)) }

// peek reads the notes filled from the head on, up to the first one that
// is not; they stay in the ring until consume. stuck says that one was
// taken and is still being filled (or never will be).
func (t *allowTable) peek() (notes []tableNote, stuck bool) {
	for n := t.head; ; n++ {
		if atomic.LoadUint64(t.ringSlot(n)) != n+1 {
			return notes, n < t.tail()
		}
		notes = append(notes, t.readNote(n))
	}
}

// giveUp gives up the note at the head, taken but not filled: true when
// it did (the process will ask the server instead), false when the note
// was filled meanwhile (read it).
func (t *allowTable) giveUp() bool {
	return atomic.CompareAndSwapUint64(t.ringSlot(t.head), t.head, t.head+ringSlots)
}

// consume frees the first n notes from the head on (recorded, or given
// up) for the numbers one round later.
func (t *allowTable) consume(n int) {
	for range n {
		slot := t.ringSlot(t.head)
		if atomic.LoadUint64(slot) == t.head+1 {
			atomic.StoreUint64(slot, t.head+ringSlots)
		}
		t.head++
	}
	atomic.StoreUint64(t.u64(offHead), t.head)
}

// drain returns every note taken, giving up those not filled, for a ring
// that is closed (at start, when idle, at shutdown); the caller records
// them and then consumes them all. A ring whose numbers make no sense
// (not written by this code) is started afresh: reset says so.
func (t *allowTable) drain() (notes []tableNote, reset bool) {
	tail := t.tail()
	if tail-t.head > ringSlots {
		for i := range uint64(ringSlots) {
			atomic.StoreUint64(t.ringSlot(tail+i), tail+i)
		}
		t.head = tail
		atomic.StoreUint64(t.u64(offHead), t.head)
		return nil, true
	}
	for n := t.head; n < tail; n++ {
		if atomic.LoadUint64(t.ringSlot(n)) != n+1 &&
			atomic.CompareAndSwapUint64(t.ringSlot(n), n, n+ringSlots) {
			notes = append(notes, tableNote{abandoned: true})
			continue
		}
		notes = append(notes, t.readNote(n))
	}
	return notes, false
}

func (t *allowTable) readNote(n uint64) tableNote {
	b := t.mem[ringOff+int(n&(ringSlots-1))*ringSlotSize:]
	ne := binary.NativeEndian
	size := ne.Uint32(b[8:])
	if size > tableKeyMax {
		size = 0 // not a call: DecodeCall says so
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
	for {
		select {
		case <-t.stop:
			t.quiesce(s)
			return
		case <-t.kick:
			lastUse = time.Now()
			if !active {
				active = true
				t.beat(true)
				t.openRing()
				tick.Reset(notePoll)
			}
			continue
		case <-tick.C:
		}
		if !active {
			continue
		}
		notes, stuck := t.peek()
		now := time.Now()
		if len(notes) > 0 {
			lastUse = now
			s.recordNotes(t, notes)
		}
		switch {
		case !stuck || len(notes) > 0:
			stuckSince = time.Time{}
		case stuckSince.IsZero():
			stuckSince = now
		case now.Sub(stuckSince) > stuckAfter && t.giveUp():
			stuckSince = time.Time{}
			s.log.Warn("gave up a note of the allow table that a process took and did not fill for a second " +
				"(stopped or killed while writing it); if it goes on, it asks the server")
			s.recordNotes(t, []tableNote{{abandoned: true}})
		}
		if now.Sub(lastUse) > idleAfter {
			active = false
			tick.Stop()
			t.quiesce(s)
			continue
		}
		t.beat(true)
	}
}

// quiesce stops the collecting: the heartbeat goes, no process may take a
// note any more, and after notePoll (for those filling one) every note
// taken is recorded or given up. The ring is then empty.
func (t *allowTable) quiesce(s *Server) {
	t.beat(false)
	t.closeRing()
	time.Sleep(notePoll)
	notes, reset := t.drain()
	if reset {
		s.log.Error(ringDamaged)
	}
	if len(notes) > 0 {
		s.recordNotes(t, notes)
	}
}

// recordNotes writes the records of the notes from the head on, waits
// until they are in the trail, and only then frees their slots, so that a
// server killed in between leaves them for the next one (which may then
// record some twice; none is lost).
func (s *Server) recordNotes(t *allowTable, notes []tableNote) {
	var err error
	for i, n := range notes {
		wait := time.Duration(0)
		if i == len(notes)-1 {
			wait = auditWaitLimit
		}
		err = s.audit.write(s.noteRecord(t, n), wait)
	}
	if errors.Is(err, errAuditClosed) {
		s.log.WithField("notes", len(notes)).Warn("the audit trail closed before the allow table's notes were recorded; " +
			"they stay in the table for the next server")
		return
	}
	t.consume(len(notes))
}

// noteRecord is the decision record of a note: the decision the table
// held for the call, or, when the table was emptied since the process
// read it, a record saying so with what the policy in force decides.
func (s *Server) noteRecord(t *allowTable, n tableNote) *audit.Record {
	s.metrics.cachedAllows.Add(1)
	unread := func(msg string) *audit.Record {
		s.log.Warn(msg)
		return &audit.Record{Event: audit.EventDecision, Adapter: "preload", Decision: "error", Cached: true, Error: msg}
	}
	if n.abandoned {
		return unread("a process took a note of the allow table and did not fill it (it was stopped or killed while writing); " +
			"it did not run its call, and asks the server if it goes on")
	}
	call, err := DecodeCall(n.key)
	if err != nil {
		return unread("a note of the allow table holds no call the server can read (" + err.Error() + ")")
	}
	d, ok := t.published(call, n.key, n.epoch)
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
	return rec
}

// startAllowTable opens the table of the Unix socket sock and collects its
// notes; without one (a file of another user in the way, another server
// using it) the library simply asks every time.
func (s *Server) startAllowTable(sock string) {
	if s.auditWait > 0 {
		return
	}
	s.tableMu.Lock()
	defer s.tableMu.Unlock()
	select {
	case <-s.closing:
		return
	default:
	}
	t, left, err := openAllowTable(sock, s.policies.program())
	if err != nil {
		s.log.WithError(err).Warn("no allow table: rampart preload asks the server before every exec")
		return
	}
	if !s.table.CompareAndSwap(nil, t) {
		t.unmap()
		return
	}
	if t.damaged {
		s.log.Error(ringDamaged)
	}
	if len(left) > 0 {
		s.log.WithField("notes", len(left)).Info("recording the notes of the allow table that the last server left")
		s.recordNotes(t, left)
	}
	// A reload that came before the table was in s.table did not reset it.
	t.reset(s.policies.program())
	go s.serveNotes(t)
}

// stopAllowTable empties the table, so that processes ask again, and
// records the notes written until then. It waits for a startAllowTable
// under way, which then finds the server closing.
func (s *Server) stopAllowTable() {
	s.tableMu.Lock()
	t := s.table.Load()
	s.tableMu.Unlock()
	if t == nil {
		return
	}
	t.stopOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		t.begin() // left odd: unused until a server opens it again
		t.clearLocked(nil)
		t.mu.Unlock()
		close(t.stop)
	})
	<-t.done
	t.unmap()
}

// unmap releases the mapping and the file (and with it the lock).
func (t *allowTable) unmap() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mem != nil {
		syscall.Munmap(t.mem) //nolint:errcheck // nothing to do about it
		t.mem = nil
	}
	t.file.Close()
}
