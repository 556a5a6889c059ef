package engine

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func executableHead(t testing.TB) []byte {
	t.Helper()
	f, err := openExecutable()
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	head := make([]byte, 32<<10)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return head[:n]
}

// TestReadBuildID reads the build ID of the test binary itself, as the Go
// toolchain reports it.
func TestReadBuildID(t *testing.T) {
	id := readBuildID(executableHead(t))
	if id == "" {
		t.Fatal("no build ID in the test binary")
	}
	if !strings.HasPrefix(executableID(), id+" ") {
		t.Errorf("executableID() = %q, want it to start with the build ID %q", executableID(), id)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	out, err := exec.Command("go", "tool", "buildid", exe).Output()
	if err != nil {
		t.Skipf("go tool buildid: %v", err)
	}
	if want := strings.TrimSpace(string(out)); id != want {
		t.Errorf("build ID %q, go tool buildid says %q", id, want)
	}
}

func TestReadBuildIDMarker(t *testing.T) {
	for in, want := range map[string]string{
		"\xcf\xfa\xed\xfe....\xff Go build ID: \"abc/def\"\n \xff...": "abc/def",
		"MZ\xff Go build ID: \"abc/def\"":                             "",
		"no marker at all":                                            "",
		"\x7fELF":                                                     "",
	} {
		if got := readBuildID([]byte(in)); got != want {
			t.Errorf("readBuildID(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzReadBuildID: whatever the executable's first bytes, no panic.
func FuzzReadBuildID(f *testing.F) {
	head := executableHead(f)
	f.Add(head[:min(len(head), 4<<10)])
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, head []byte) {
		readBuildID(head)
	})
}
