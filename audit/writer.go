package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultMaxFileBytes is the size at which a file is rotated when
// [Options.MaxFileBytes] is zero.
const DefaultMaxFileBytes = 64 << 20

// headFileName is the lock file of an audit folder. While a writer holds
// the lock it also reads and rewrites the chain head stored in it, so a
// writer does not have to scan the files for every record. The head is
// only a cache: when it does not match the files (a crash between the two
// writes, a deleted file), the writer scans the files instead.
const headFileName = ".head"

// headFileSize is the fixed size of the head file's one line.
const headFileSize = 256

// Options tune a [Writer].
type Options struct {
	// MaxFileBytes rotates a file once it holds this many bytes
	// (DefaultMaxFileBytes when zero).
	MaxFileBytes int64
	// Sync calls fsync after every append: survives power loss, costs
	// a disk flush per append. Records survive a crash of the process
	// without it.
	Sync bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Writer appends records to the audit files of one folder. It is safe for
// concurrent use, and any number of Writers in any number of processes may
// append to the same folder at once.
type Writer struct {
	dir  string
	opts Options

	mu      sync.Mutex
	lock    *os.File // dir/.head
	cur     *os.File // the file last appended to
	curName string
	curInfo os.FileInfo
	curSize int64 // cur's size after the last write, while the lock is held
}

// head is the end of the chain: the last whole record and where it ends.
type head struct {
	file string // base name; "" for an empty trail
	end  int64  // size of file after the last record (and any torn tail)
	seq  uint64
	id   string
	hash string
	torn *Torn // a fragment at the end of file that must be fenced off
}

// Open opens (creating it 0700 if needed) the audit folder dir.
func Open(dir string, opts Options) (*Writer, error) {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// The folder usually exists: try the lock file first, which saves a
	// system call in processes that append one record and exit.
	lock, err := os.OpenFile(filepath.Join(dir, headFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create audit folder: %w", err)
		}
		lock, err = os.OpenFile(filepath.Join(dir, headFileName), os.O_RDWR|os.O_CREATE, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("open audit lock: %w", err)
	}
	return &Writer{dir: dir, opts: opts, lock: lock}, nil
}

// Dir returns the folder the writer appends to.
func (w *Writer) Dir() string { return w.dir }

// Close releases the writer's files.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	if w.cur != nil {
		errs = append(errs, w.cur.Close())
		w.cur = nil
	}
	if w.lock != nil {
		errs = append(errs, w.lock.Close())
		w.lock = nil
	}
	return errors.Join(errs...)
}

// Append adds records to the end of the chain, in order, with one write.
// It fills in each record's Time (when zero), Seq, ID, PrevID, PrevHash and
// Hash, and redacts secrets. Either every record is written or Append
// returns an error.
func (w *Writer) Append(recs ...*Record) error {
	if len(recs) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lock == nil {
		return errors.New("audit writer is closed")
	}
	if err := flock(w.lock, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock audit trail: %w", err)
	}
	defer flock(w.lock, syscall.LOCK_UN) //nolint:errcheck // closing the fd would release it too

	h, headInfo, err := w.loadHead()
	if err != nil {
		return err
	}
	now := w.opts.Now()
	target := w.targetFile(h, now)
	// What loadHead found of the head's file, just now and under the lock,
	// is what openCurrent would stat again.
	var known os.FileInfo
	if target == h.file && h.torn == nil {
		known = headInfo
	}

	var buf bytes.Buffer
	if h.torn != nil && h.torn.File == target {
		// Terminate the fragment so the records start on a line of their
		// own, in the same write: the fragment is never fenced without
		// the record that declares it.
		buf.WriteByte('\n')
	}
	for i, r := range recs {
		if r.Time.IsZero() {
			r.Time = now
		}
		r.Time = r.Time.UTC()
		if r.Event == "" {
			r.Event = EventDecision
		}
		r.Seq, r.ID, r.PrevID, r.PrevHash = h.seq+1, newID(), h.id, h.hash
		if i == 0 {
			r.Torn = h.torn
		}
		redactRecord(r)
		line, err := seal(r)
		if err != nil {
			return err
		}
		buf.Write(line)
		h.seq, h.id, h.hash = r.Seq, r.ID, r.Hash
	}

	if err := w.appendBytes(target, buf.Bytes(), known); err != nil {
		return err
	}
	if err := w.storeHead(head{file: target, end: w.curSize, seq: h.seq, id: h.id, hash: h.hash}); err != nil {
		return err
	}
	if h.torn != nil && h.torn.File != target {
		// The fragment is in an older file: terminate it only now that
		// the records that declare it are written. The error is not
		// Append's: the records are in, and Verify matches a fragment
		// that was never terminated all the same.
		w.appendBytes(h.torn.File, []byte{'\n'}, nil) //nolint:errcheck // see above
	}
	return nil
}

// targetFile picks the file the next records go to: the head's file,
// unless the day has changed or the file is full.
func (w *Writer) targetFile(h head, now time.Time) string {
	today := now.UTC().Format(dayLayout)
	if h.file == "" {
		return fileName(today, 0)
	}
	day, index, _ := parseFileName(h.file)
	if day < today {
		return fileName(today, 0)
	}
	// day >= today: the same day, or a clock that went back. Keep the
	// chain's files in order either way.
	if h.end >= w.opts.MaxFileBytes {
		return fileName(day, index+1)
	}
	return h.file
}

// appendBytes writes b to the audit file name with one write call. known,
// when not nil, is a stat of name taken under the lock (see openCurrent).
func (w *Writer) appendBytes(name string, b []byte, known os.FileInfo) error {
	if err := w.openCurrent(name, known); err != nil {
		return err
	}
	n, err := w.cur.Write(b)
	w.curSize += int64(n)
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("append to audit file %s: %w", name, err)
	}
	if w.opts.Sync {
		if err := w.cur.Sync(); err != nil {
			return fmt.Errorf("sync audit file %s: %w", name, err)
		}
	}
	return nil
}

// openCurrent makes w.cur the open file name, reopening it when it was
// replaced on disk, and sets w.curSize to its size. The caller holds the
// lock, so no other writer changes the size until it is released. known,
// when not nil, is a stat of name taken under the lock, used instead of
// another.
func (w *Writer) openCurrent(name string, known os.FileInfo) error {
	path := filepath.Join(w.dir, name)
	if w.cur != nil && w.curName == name {
		fi, err := known, error(nil)
		if fi == nil {
			fi, err = os.Stat(path)
		}
		if err == nil && os.SameFile(fi, w.curInfo) {
			w.curSize = fi.Size()
			return nil
		}
	}
	if w.cur != nil {
		w.cur.Close()
		w.cur = nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open audit file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open audit file: %w", err)
	}
	w.cur, w.curName, w.curInfo, w.curSize = f, name, fi, fi.Size()
	return nil
}

// loadHead returns the chain head, from the head file when it matches the
// files, else by scanning them. info is the stat of the head's file that
// the match was checked with, nil after a scan.
func (w *Writer) loadHead() (h head, info os.FileInfo, err error) {
	if h, info, ok := w.readHeadFile(); ok {
		return h, info, nil
	}
	h, err = scanHead(w.dir)
	return h, nil, err
}

// readHeadFile reads the cached head and stats its file; ok is false when
// it is missing, malformed or stale.
func (w *Writer) readHeadFile() (head, os.FileInfo, bool) {
	var buf [headFileSize]byte
	n, err := w.lock.ReadAt(buf[:], 0)
	if err != nil && err != io.EOF {
		return head{}, nil, false
	}
	fields := strings.Fields(string(buf[:n]))
	if len(fields) != 6 || fields[0] != "v1" {
		return head{}, nil, false
	}
	end, err1 := strconv.ParseInt(fields[2], 10, 64)
	seq, err2 := strconv.ParseUint(fields[3], 10, 64)
	if err1 != nil || err2 != nil {
		return head{}, nil, false
	}
	h := head{file: fields[1], end: end, seq: seq, id: fields[4], hash: fields[5]}
	day, index, ok := parseFileName(h.file)
	if !ok {
		return head{}, nil, false
	}
	fi, err := os.Stat(filepath.Join(w.dir, h.file))
	if err != nil || fi.Size() != h.end {
		return head{}, nil, false
	}
	// A writer that crashed after starting a new file but before
	// updating the head left a newer file than the head's. On the head's
	// day that can only be the next index. On a later day it can be any
	// day's file since (the crash may be days old), so list the folder:
	// this append starts a new file anyway.
	today := w.opts.Now().UTC().Format(dayLayout)
	if today > day {
		files, err := Files(w.dir)
		if err != nil || len(files) == 0 || files[len(files)-1] != h.file {
			return head{}, nil, false
		}
	} else if _, err := os.Lstat(filepath.Join(w.dir, fileName(day, index+1))); err == nil {
		return head{}, nil, false
	}
	return h, fi, true
}

// storeHead rewrites the head file.
func (w *Writer) storeHead(h head) error {
	// Padded to a fixed size, so one write replaces the old head whole.
	line := fmt.Sprintf("v1 %s %d %d %s %s", h.file, h.end, h.seq, h.id, h.hash)
	buf := []byte(fmt.Sprintf("%-*s\n", headFileSize-1, line))
	if _, err := w.lock.WriteAt(buf, 0); err != nil {
		return fmt.Errorf("update audit head: %w", err)
	}
	return nil
}

func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on Linux; fall back to the clock.
		return strconv.FormatInt(time.Now().UnixNano(), 16)
	}
	return hex.EncodeToString(b[:])
}

// flock takes or releases an advisory lock, retrying on EINTR.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
