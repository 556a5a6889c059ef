package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/audit"
)

func TestAuditVerifyGoodTrail(t *testing.T) {
	e := newAuditEnv(t, nil)
	writeTrail(t, e.dir, audit.Options{}, sampleTrail()...)
	rep, err := audit.Verify(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if code := e.run("audit", "verify"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, e.err)
	}
	want := `audit trail DIR: 1 file, 8 records (seq 1 to 8)
head: record 8, hash HASH
OK: every record matches its hash and follows the one before it
Keep the head hash somewhere the agents cannot write: if record 8 still has it later, nothing up to it was rewritten.
`
	if got := strings.NewReplacer(e.dir, "DIR", rep.HeadHash, "HASH").Replace(e.out.String()); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	if e.err.Len() != 0 {
		t.Errorf("stderr: %s", e.err)
	}

	// --json is the report, exactly.
	if code := e.run("audit", "verify", "--json"); code != ExitOK {
		t.Fatalf("--json: exit %d: %s", code, e.err)
	}
	wantJSON, _ := json.Marshal(rep)
	if got := strings.TrimSpace(e.out.String()); got != string(wantJSON) {
		t.Errorf("--json:\n%s\nwant:\n%s", got, wantJSON)
	}
}

func TestAuditVerifyEditedRecord(t *testing.T) {
	e := newAuditEnv(t, nil)
	writeTrail(t, e.dir, audit.Options{}, sampleTrail()...)
	files, _ := audit.Files(e.dir)
	path := filepath.Join(e.dir, files[0])
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Someone turns the deny of record 3 into an allow.
	edited := bytes.Replace(data, []byte(`"command":"rm -rf /","decision":"deny"`), []byte(`"command":"rm -rf /","decision":"allow"`), 1)
	if bytes.Equal(edited, data) {
		t.Fatal("the test did not edit anything")
	}
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}

	if code := e.run("audit", "verify"); code != ExitChainBroken {
		t.Fatalf("exit %d, want %d; stdout:\n%s", code, ExitChainBroken, e.out)
	}
	want := `audit trail DIR: 1 file, 8 records (seq 1 to 8)
head: record 8, hash HASH
DIR/FILE:3: edited: record 3 was changed after it was written (its hash does not match its content)
FAILED: the first broken record is at DIR/FILE:3 (record 3, edited); the records before it verify
`
	rep, _ := audit.Verify(e.dir)
	got := strings.NewReplacer(e.dir, "DIR", files[0], "FILE", rep.HeadHash, "HASH").Replace(e.out.String())
	if got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	wantErr := "rampart: error: the audit trail does not verify: the first problem is at " + path + ":3 (record 3, edited)\n" +
		"rampart: hint: the records before it verify; see docs/audit.md for what each kind of problem means\n"
	if e.err.String() != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", e.err, wantErr)
	}

	// --json: the report, exit 1, nothing on stderr.
	if code := e.run("audit", "verify", "--json"); code != ExitChainBroken || e.err.Len() != 0 {
		t.Fatalf("--json: exit %d, stderr %q", code, e.err)
	}
	var got2 audit.Report
	if err := json.Unmarshal(e.out.Bytes(), &got2); err != nil || got2.OK || len(got2.Problems) != 1 || got2.Problems[0].Line != 3 {
		t.Errorf("--json report %+v (%v)", got2, err)
	}
}

func TestAuditVerifyRemovedRecord(t *testing.T) {
	e := newAuditEnv(t, nil)
	writeTrail(t, e.dir, audit.Options{}, sampleTrail()...)
	files, _ := audit.Files(e.dir)
	lines := trailLines(t, e.dir)
	kept := append(append([]string{}, lines[:4]...), lines[5:]...)
	if err := os.WriteFile(filepath.Join(e.dir, files[0]), []byte(strings.Join(kept, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := e.run("audit", "verify"); code != ExitChainBroken {
		t.Fatalf("exit %d", code)
	}
	want := ":5: broken_link: record 6 does not follow record 4"
	if !strings.Contains(e.out.String(), want) || !strings.Contains(e.out.String(), ":5 (record 6, broken_link)") {
		t.Errorf("output does not pinpoint line 5:\n%s", e.out)
	}
}

func TestAuditVerifyTornTail(t *testing.T) {
	e := newAuditEnv(t, nil)
	writeTrail(t, e.dir, audit.Options{}, sampleTrail()...)
	files, _ := audit.Files(e.dir)
	path := filepath.Join(e.dir, files[0])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := `{"time":"2026-11-24T11:40:00Z","seq":9,"id":"ab` // a crash mid-write
	f.WriteString(torn)
	f.Close()

	if code := e.run("audit", "verify"); code != ExitOK {
		t.Fatalf("exit %d, want 0: %s%s", code, e.out, e.err)
	}
	out := e.out.String()
	want := "warning: " + path + ":9: torn_tail: " + strconv.Itoa(len(torn)) + " bytes of a record cut short (a crash while writing); the records before it verify\n"
	if !strings.Contains(out, want) || !strings.Contains(out, "\nOK: ") {
		t.Errorf("output:\n%s\nwant it to contain:\n%s", out, want)
	}
}

func TestAuditVerifyEmptyAndUnreadable(t *testing.T) {
	e := newAuditEnv(t, nil)
	if code := e.run("audit", "verify"); code != ExitOK || e.out.String() != "audit trail "+e.dir+": no records yet\n" {
		t.Errorf("missing folder: exit %d, %q", code, e.out)
	}
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if code := e.run("audit", "verify"); code != ExitOK || !strings.Contains(e.out.String(), "no records yet") {
		t.Errorf("empty folder: exit %d, %q", code, e.out)
	}

	notADir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notADir, []byte("x"), 0o600)
	if code := e.run("audit", "verify", "--dir", notADir); code != ExitIOErr {
		t.Errorf("a file as --dir: exit %d, want %d", code, ExitIOErr)
	}
	if !strings.HasPrefix(e.err.String(), "rampart: error: read audit folder: ") || !strings.Contains(e.err.String(), "rampart: hint: check that "+notADir) {
		t.Errorf("stderr:\n%s", e.err)
	}

	noHome := newAuditEnv(t, map[string]string{"HOME": "", "RAMPART_HOME": ""})
	if code := noHome.run("audit", "verify"); code != ExitUsage || !strings.Contains(noHome.err.String(), "neither RAMPART_HOME nor HOME is set") {
		t.Errorf("no home: exit %d, %s", code, noHome.err)
	}
}
