package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source for rotation tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openTest(t *testing.T, dir string, opts Options) *Writer {
	t.Helper()
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func appendN(t *testing.T, w *Writer, n int, label string) {
	t.Helper()
	for i := 0; i < n; i++ {
		r := &Record{Tool: "exec", Command: fmt.Sprintf("%s %d", label, i), Decision: "allow"}
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
}

func verifyOK(t *testing.T, dir string, records int) *Report {
	t.Helper()
	rep, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Records != records {
		t.Fatalf("verify: ok=%v records=%d (want %d), problems %v", rep.OK, rep.Records, records, rep.Problems)
	}
	return rep
}

func TestAppendChainsRecords(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	appendN(t, w, 5, "echo")
	rep := verifyOK(t, dir, 5)
	if rep.FirstSeq != 1 || rep.LastSeq != 5 || len(rep.Warnings) != 0 {
		t.Fatalf("report %+v", rep)
	}
	var seqs []uint64
	var prevHash string
	Scan(dir, func(e Entry) error {
		seqs = append(seqs, e.Record.Seq)
		if e.Record.PrevHash != prevHash {
			t.Errorf("record %d prev_hash %q, want %q", e.Record.Seq, e.Record.PrevHash, prevHash)
		}
		prevHash = e.Record.Hash
		return nil
	})
	if fmt.Sprint(seqs) != "[1 2 3 4 5]" {
		t.Fatalf("seqs %v", seqs)
	}
	if rep.HeadHash != prevHash {
		t.Fatalf("head hash %s, last record %s", rep.HeadHash, prevHash)
	}
	fi, err := os.Stat(filepath.Join(dir, mustFiles(t, dir)[0]))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("audit file mode %v, %v", fi.Mode(), err)
	}
}

func mustFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestRotationKeepsTheChain(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 24, 23, 59, 0, 0, time.UTC)}
	w := openTest(t, dir, Options{MaxFileBytes: 1500, Now: c.now})
	appendN(t, w, 10, "size")
	c.t = c.t.Add(2 * time.Minute) // next day
	appendN(t, w, 3, "day")
	// A second writer (another process) continues the same chain.
	w2 := openTest(t, dir, Options{MaxFileBytes: 1500, Now: c.now})
	appendN(t, w2, 2, "other")
	verifyOK(t, dir, 15)
	files := mustFiles(t, dir)
	if len(files) < 3 || files[0] != "2026-11-24.jsonl" || files[1] != "2026-11-24.1.jsonl" || files[len(files)-1] != "2026-11-25.jsonl" {
		t.Fatalf("files %v", files)
	}
}

func TestClockGoingBackStaysInOrder(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	w := openTest(t, dir, Options{Now: c.now})
	appendN(t, w, 2, "a")
	c.t = c.t.Add(-48 * time.Hour)
	appendN(t, w, 2, "b")
	verifyOK(t, dir, 4)
	if files := mustFiles(t, dir); len(files) != 1 {
		t.Fatalf("a clock going back must not start an older file: %v", files)
	}
}

func TestVerifyFindsEditedRecord(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	appendN(t, w, 4, "echo")
	path := filepath.Join(dir, mustFiles(t, dir)[0])
	data, _ := os.ReadFile(path)
	edited := bytes.Replace(data, []byte(`"command":"echo 2"`), []byte(`"command":"echo X"`), 1)
	if bytes.Equal(edited, data) {
		t.Fatal("test did not edit anything")
	}
	os.WriteFile(path, edited, 0o600)
	rep, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Problems) != 1 || rep.Problems[0].Line != 3 || rep.Problems[0].Kind != KindEdited || rep.Problems[0].Seq != 3 {
		t.Fatalf("problems %v", rep.Problems)
	}
}

func TestVerifyFindsRemovedRecord(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	appendN(t, w, 4, "echo")
	path := filepath.Join(dir, mustFiles(t, dir)[0])
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	os.WriteFile(path, []byte(lines[0]+lines[2]+lines[3]), 0o600)
	rep, _ := Verify(dir)
	if rep.OK || len(rep.Problems) != 1 || rep.Problems[0].Line != 2 || rep.Problems[0].Kind != KindBrokenLink {
		t.Fatalf("problems %v", rep.Problems)
	}
	// Removing the first record is caught too.
	os.WriteFile(path, []byte(lines[1]+lines[2]+lines[3]), 0o600)
	rep, _ = Verify(dir)
	if rep.OK || rep.Problems[0].Line != 1 || rep.Problems[0].Kind != KindBrokenLink {
		t.Fatalf("problems %v", rep.Problems)
	}
}

func TestVerifyFindsInsertedGarbage(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	appendN(t, w, 2, "echo")
	path := filepath.Join(dir, mustFiles(t, dir)[0])
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{\"not\":\"a record\"}\n")
	f.Close()
	rep, _ := Verify(dir)
	if rep.OK || len(rep.Problems) != 1 || rep.Problems[0].Kind != KindUnreadable || rep.Problems[0].Line != 3 {
		t.Fatalf("problems %v", rep.Problems)
	}
}

// A crash mid-write leaves a fragment: verify passes with a warning, and
// the next writer fences the fragment off and continues the chain from the
// last whole record.
func TestTornTailIsReportedAndRecovered(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	appendN(t, w, 3, "echo")
	w.Close()
	path := filepath.Join(dir, mustFiles(t, dir)[0])
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026-11-24T00:00:00Z","seq":4,"id":"ab`)
	f.Close()

	rep := verifyOK(t, dir, 3)
	if len(rep.Warnings) != 1 || rep.Warnings[0].Kind != KindTornTail || rep.Warnings[0].Line != 4 {
		t.Fatalf("warnings %v", rep.Warnings)
	}

	w2 := openTest(t, dir, Options{})
	appendN(t, w2, 2, "after")
	rep = verifyOK(t, dir, 5)
	if len(rep.Warnings) != 1 || rep.Warnings[0].Kind != KindTornRecovered || rep.Warnings[0].Line != 4 {
		t.Fatalf("warnings %v", rep.Warnings)
	}
	if rep.LastSeq != 5 {
		t.Fatalf("last seq %d", rep.LastSeq)
	}
}

// A head file that does not match the files (a crash between writing a
// record and the head) is not trusted.
func TestStaleHeadIsRescanned(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	appendN(t, w, 2, "echo")
	os.WriteFile(filepath.Join(dir, headFileName), []byte("v1 2026-01-01.jsonl 10 1 x y\n"), 0o600)
	appendN(t, w, 1, "after")
	head, _ := os.ReadFile(filepath.Join(dir, headFileName))
	os.WriteFile(filepath.Join(dir, headFileName), []byte("garbage"), 0o600)
	appendN(t, w, 1, "garbage")
	os.WriteFile(filepath.Join(dir, headFileName), head, 0o600) // stale: size differs now
	appendN(t, w, 1, "stale")
	verifyOK(t, dir, 5)
}

func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Each goroutine has its own Writer, as separate processes do.
			w, err := Open(dir, Options{MaxFileBytes: 8 << 10})
			if err != nil {
				t.Error(err)
				return
			}
			defer w.Close()
			for j := 0; j < each; j++ {
				if err := w.Append(&Record{Tool: "exec", Command: fmt.Sprintf("w%d %d", i, j)}); err != nil {
					t.Error(err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	verifyOK(t, dir, writers*each)
	seen := map[string]bool{}
	Scan(dir, func(e Entry) error {
		if seen[e.Record.Command] {
			t.Errorf("duplicate %q", e.Record.Command)
		}
		seen[e.Record.Command] = true
		return nil
	})
	if len(seen) != writers*each {
		t.Fatalf("%d distinct records, want %d", len(seen), writers*each)
	}
}

func TestAppendRedactsSecrets(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	r := &Record{Tool: "exec", Command: "curl -H 'Authorization: Bearer abc123secret' https://x", Argv: []string{"gh", "--token", "tok123"}}
	if err := w.Append(r); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, mustFiles(t, dir)[0]))
	for _, secret := range []string{"abc123secret", "tok123"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("secret %q written to the audit trail: %s", secret, data)
		}
	}
}

func TestBatchAppendIsOneChain(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	recs := []*Record{{Tool: "exec"}, {Tool: "read"}, {Tool: "write"}}
	if err := w.Append(recs...); err != nil {
		t.Fatal(err)
	}
	if recs[1].PrevHash != recs[0].Hash || recs[2].Seq != 3 {
		t.Fatalf("batch not chained: %+v", recs)
	}
	verifyOK(t, dir, 3)
}

// headMatches checks that the head file names the last file and its exact
// size, so the next append trusts it instead of scanning the files.
func headMatches(t *testing.T, w *Writer, step string) {
	t.Helper()
	h, info, ok := w.readHeadFile()
	if !ok {
		t.Fatalf("%s: the head file does not match the files", step)
	}
	fi, err := os.Stat(filepath.Join(w.dir, h.file))
	if err != nil || fi.Size() != h.end || !os.SameFile(fi, info) {
		t.Fatalf("%s: head says %s ends at %d; the file: %v %v", step, h.file, h.end, fi, err)
	}
}

// TestHeadStaysExact appends through two writers in turn (as two
// processes do), across a rotation and a torn tail: after every append the
// head file holds the real end of the file, which the writer computes
// without asking the file.
func TestHeadStaysExact(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	a := openTest(t, dir, Options{Now: c.now, MaxFileBytes: 4 << 10})
	b := openTest(t, dir, Options{Now: c.now, MaxFileBytes: 4 << 10})
	for i := range 40 { // several rotations by size
		w := a
		if i%3 == 0 {
			w = b
		}
		appendN(t, w, 1, fmt.Sprintf("step %d", i))
		headMatches(t, w, fmt.Sprintf("append %d", i))
	}
	c.t = c.t.Add(24 * time.Hour) // a new day's file
	appendN(t, a, 1, "tomorrow")
	headMatches(t, a, "new day")
	appendN(t, b, 2, "tomorrow b")
	headMatches(t, b, "new day, other writer")

	// A torn tail left by a crashed writer: the next append terminates it
	// and the head covers both.
	h, _, _ := a.readHeadFile()
	f, err := os.OpenFile(filepath.Join(dir, h.file), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":99,"id":"torn`)
	f.Close()
	appendN(t, a, 1, "after torn")
	headMatches(t, a, "after a torn tail")
	appendN(t, b, 1, "after torn b")
	headMatches(t, b, "after a torn tail, other writer")
	verifyOK(t, dir, 45)
}

func TestOpenCreatesTheFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "audit")
	w := openTest(t, dir, Options{})
	appendN(t, w, 1, "first")
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("audit folder: %v %v, want 0700", fi, err)
	}
	verifyOK(t, dir, 1)
}
