package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func verifyFails(t *testing.T, dir, kind string) *Report {
	t.Helper()
	rep, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Problems) == 0 || rep.Problems[0].Kind != kind {
		t.Fatalf("verify: ok=%v, problems %v, warnings %v; want a %s problem", rep.OK, rep.Problems, rep.Warnings, kind)
	}
	return rep
}

// Text without a newline at the end of a file that is not the last one is
// not a torn tail: the next writer would have fenced a real one.
func TestVerifyFindsPartialLineInsideTheTrail(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	w := openTest(t, dir, Options{Now: c.now})
	appendN(t, w, 2, "a")
	c.t = c.t.Add(24 * time.Hour)
	appendN(t, w, 2, "b")
	appendTo(t, filepath.Join(dir, "2026-11-24.jsonl"), "inserted later")
	verifyFails(t, dir, KindUnreadable)
}

// A fenced fragment is declared with its length: a fragment of another
// length is not the one the crash left.
func TestVerifyFindsChangedFencedFragment(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	appendN(t, w, 2, "echo")
	path := filepath.Join(dir, mustFiles(t, dir)[0])
	appendTo(t, path, `{"time":"2026-11-24T00:00:00Z","seq":3,"id":"ab`)
	appendN(t, w, 1, "after")
	verifyOK(t, dir, 3)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(data, []byte(`"id":"ab`+"\n"), []byte(`"id":"ab", anything at all`+"\n"), 1)
	if bytes.Equal(edited, data) {
		t.Fatal("fragment not found")
	}
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	verifyFails(t, dir, KindUnreadable)
}

// A torn record longer than the window scanHead reads first is measured
// whole, so the record that fences it declares its real length.
func TestLongTornRecordIsRecovered(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	appendN(t, w, 1, "echo")
	path := filepath.Join(dir, mustFiles(t, dir)[0])
	appendTo(t, path, `{"time":"2026-11-24T00:00:00Z","seq":2,"command":"`+strings.Repeat("x", tailWindow+10))
	w2 := openTest(t, dir, Options{})
	appendN(t, w2, 1, "after")
	rep := verifyOK(t, dir, 2)
	if len(rep.Warnings) != 1 || rep.Warnings[0].Kind != KindTornRecovered {
		t.Fatalf("warnings %v", rep.Warnings)
	}
}

// A writer that crashed after starting a new day's file but before it
// updated the head leaves a stale head; the next append, days later, must
// continue from the crashed writer's record, not fork the chain.
func TestStaleHeadAfterDaysOff(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	w := openTest(t, dir, Options{Now: c.now})
	appendN(t, w, 2, "a")
	head, err := os.ReadFile(filepath.Join(dir, headFileName))
	if err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(24 * time.Hour)
	appendN(t, w, 1, "crashed")
	if err := os.WriteFile(filepath.Join(dir, headFileName), head, 0o600); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(72 * time.Hour)
	appendN(t, w, 1, "later")
	verifyOK(t, dir, 4)
}

// A torn record fenced in an older file: when writing the new day's file
// fails (here it cannot be created), the fragment must be left for the
// append that succeeds, which declares it.
func TestTornFragmentSurvivesAFailedAppend(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	w := openTest(t, dir, Options{Now: c.now})
	appendN(t, w, 2, "a")
	appendTo(t, filepath.Join(dir, "2026-11-24.jsonl"), `{"time":"2026-11-24T12:00:00Z","seq":3,"id":"ab`)
	c.t = c.t.Add(24 * time.Hour)
	blocker := filepath.Join(dir, "2026-11-25.jsonl")
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(&Record{Tool: "exec", Command: "fails"}); err == nil {
		t.Fatal("append into a folder succeeded")
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 1, "b")
	rep := verifyOK(t, dir, 3)
	if len(rep.Warnings) != 1 || rep.Warnings[0].Kind != KindTornRecovered {
		t.Fatalf("warnings %v", rep.Warnings)
	}
	// A fragment whose fence never got written is matched too.
	data, err := os.ReadFile(filepath.Join(dir, "2026-11-24.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2026-11-24.jsonl"), bytes.TrimSuffix(data, []byte("\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	verifyOK(t, dir, 3)
}
