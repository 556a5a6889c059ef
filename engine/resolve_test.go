package engine

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolveSymlinks(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	mk("real/sub")
	if err := os.WriteFile(filepath.Join(dir, "real/sub/file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link("real", "rel")                            // relative link
	link(filepath.Join(dir, "real", "sub"), "abs") // absolute link
	link("rel/sub/file", "chain")                  // link through a link
	link("loop2", "loop1")
	link("loop1", "loop2")
	for _, tt := range []struct{ in, want string }{
		{"real/sub/file", "real/sub/file"},
		{"rel/sub/file", "real/sub/file"},
		{"abs/file", "real/sub/file"},
		{"chain", "real/sub/file"},
		{"rel/sub/new-file", "real/sub/new-file"}, // does not exist yet
		{"rel/missing/deeper", "real/missing/deeper"},
		{"rel/../real/sub", "real/sub"},
	} {
		got := resolveSymlinks(filepath.Join(dir, tt.in))
		if want := filepath.Join(dir, tt.want); got != want {
			t.Errorf("%s: got %s, want %s", tt.in, got, want)
		}
		if _, err := os.Stat(filepath.Join(dir, tt.in)); err == nil {
			if ev, _ := filepath.EvalSymlinks(filepath.Join(dir, tt.in)); ev != got {
				t.Errorf("%s: EvalSymlinks says %s, we say %s", tt.in, ev, got)
			}
		}
	}
	if got := resolveSymlinks(filepath.Join(dir, "loop1", "x")); got != "" {
		t.Errorf("a link loop should give \"\", got %q", got)
	}
	if got := resolveSymlinks("relative/path"); got != "" {
		t.Errorf("relative path: %q", got)
	}
}
