package preload

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestInstall(t *testing.T) {
	lib, err := Library()
	if errors.Is(err, ErrNotBuilt) {
		t.Skip("librampart.so is not built (make -C preload); the integration tests build it")
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "lib")
	path, err := Install(dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != InstalledName(lib) || filepath.Dir(path) != dir {
		t.Errorf("installed as %s", path)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, lib) {
		t.Fatalf("the installed file differs from the embedded library (%v)", err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", st.Mode().Perm())
	}
	// A second install leaves the file alone; a damaged one is replaced.
	before := st.ModTime()
	if p, err := Install(dir); err != nil || p != path {
		t.Fatalf("second install: %s, %v", p, err)
	}
	if st, _ := os.Stat(path); !st.ModTime().Equal(before) {
		t.Error("an identical library was rewritten")
	}
	os.WriteFile(path, []byte("damaged"), 0o755)
	if _, err := Install(dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, lib) {
		t.Error("a damaged library was not replaced")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".librampart-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestInstalledNameChangesWithContent(t *testing.T) {
	a, b := InstalledName([]byte("one")), InstalledName([]byte("two"))
	if a == b || len(a) != len("librampart-")+12+len(".so") {
		t.Errorf("names %q and %q", a, b)
	}
}

// tinyELF is a 64-bit ELF header and one program header of type prog.
func tinyELF(prog elf.ProgType) []byte {
	var b bytes.Buffer
	hdr := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: 1,
		Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	binary.Write(&b, binary.LittleEndian, hdr)
	binary.Write(&b, binary.LittleEndian, elf.Prog64{Type: uint32(prog)})
	return b.Bytes()
}

func TestExecutableLinkage(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dynamic := write("dynamic", tinyELF(elf.PT_INTERP))
	static := write("static", tinyELF(elf.PT_LOAD))
	for _, c := range []struct {
		path string
		want Linkage
	}{
		{dynamic, Dynamic},
		{static, Static},
		{write("script-dynamic", []byte("#!"+dynamic+" -x\necho\n")), Dynamic},
		{write("script-static", []byte("#! "+static+"\n")), Static},
	} {
		got, err := ExecutableLinkage(c.path)
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", filepath.Base(c.path), got, err, c.want)
		}
	}
	for _, bad := range []string{
		write("text", []byte("just text\n")),
		write("empty-shebang", []byte("#!\n")),
		filepath.Join(dir, "missing"),
	} {
		if got, err := ExecutableLinkage(bad); err == nil || got != Unknown {
			t.Errorf("%s: %v, %v; want an error", filepath.Base(bad), got, err)
		}
	}
	loop := filepath.Join(dir, "loop")
	write("loop", []byte("#!"+loop+"\n"))
	if _, err := ExecutableLinkage(loop); err == nil {
		t.Error("a #! loop: no error")
	}
}
