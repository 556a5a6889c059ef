package engine

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Unquoted globs are judged as the files bash hands the command: a key
// spelled with wildcards is still the key; a glob that matches nothing, or
// only what bash would match (no dotfiles), changes nothing.
func TestGlobArgumentsAreTheFilesTheyMatch(t *testing.T) {
	home := t.TempDir()
	project := filepath.Join(home, "project")
	for _, f := range []string{".ssh/id_rsa", ".ssh/id_rsa.pub", ".aws/credentials", "project/main.go", "project/.env"} {
		os.MkdirAll(filepath.Dir(filepath.Join(home, f)), 0o700)
		os.WriteFile(filepath.Join(home, f), []byte("x"), 0o600)
	}
	src, err := ProfileSource("standard")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(Options{Home: home}, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		command string
		want    Action
	}{
		{"cat ~/.ss?/id_*", ActionDeny},
		{"cat ~/.[s]sh/id_rsa", ActionDeny},
		{"cat ~/.s*/id_rsa", ActionDeny},
		{"cat ~/.ssh/id_[!x]sa", ActionDeny},
		{"cat ~/.a?s/cred*", ActionDeny},
		{"cd ~; cat .ss?/id_rsa", ActionDeny},
		{"for f in ~/.ssh/id_*; do cat $f; done", ActionDeny},
		{"shopt -s dotglob; cat ~/*/id_rsa", ActionDeny},
		{"rm -rf /us?", ActionDeny},
		{"rm -rf /[u]sr", ActionDeny},
		// bash's * does not match a leading dot; no match keeps the word.
		{"cat ~/*/id_rsa", ActionAllow},
		{"cat *", ActionAllow},
		{"ls *.go", ActionAllow},
		{"cat *.txt", ActionAllow},
		// The pattern is judged as written too (rm -rf /var/log/* is
		// about /var/log): this one still names ~/.ssh/*.
		{"cat ~/.ssh/id_rsa.p*", ActionDeny},
		{"rm -rf /var/log/*", ActionDeny},
		{"cat '~/.ss?/id_rsa' ~/.ss\\?/id_rsa", ActionAllow},
	} {
		d := p.Eval(&ToolCall{Tool: ToolExec, Command: tt.command, Cwd: project, Home: home})
		if d.Decision != tt.want {
			t.Errorf("%s: %s (%s/%s), want %s", tt.command, d.Decision, d.Policy, d.Rule, tt.want)
		}
	}
}

func TestExpandGlob(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.go", "b.go", ".hidden.go", "sub/c.go", "sub2/d.txt"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	a := &analyzer{cwd: dir, out: &shellAnalysis{}}
	for _, tt := range []struct {
		pattern string
		want    []string
	}{
		{"*.go", []string{"a.go", "b.go", "*.go"}},
		{".*.go", []string{".hidden.go", ".*.go"}},
		{"*/c.go", []string{"sub/c.go", "*/c.go"}},
		{"s*/*", []string{"sub/c.go", "sub2/d.txt", "s*/*"}},
		{dir + "/[ab].go", []string{dir + "/a.go", dir + "/b.go", dir + "/[ab].go"}},
		{"[!a].go", []string{"b.go", "[!a].go"}},
		{"*.rs", []string{"*.rs"}},
		{"[.go", []string{"[.go"}},
		{"plain", []string{"plain"}},
	} {
		if got := a.expandGlob(tt.pattern); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.pattern, got, tt.want)
		}
	}
	// Unknown working directory: a relative glob stays as it is.
	if got := (&analyzer{out: &shellAnalysis{}}).expandGlob("*.go"); !slices.Equal(got, []string{"*.go"}) {
		t.Errorf("no cwd: %q", got)
	}
	// The walk is bounded: the names found so far, and the pattern.
	many := &analyzer{cwd: "/", out: &shellAnalysis{}}
	got := many.expandGlob("/*/*/*/*/*/*")
	if len(got) > globMaxNames+1 || got[len(got)-1] != "/*/*/*/*/*/*" {
		t.Errorf("bounded walk: %d names, last %q", len(got), got[len(got)-1])
	}
	for range 10 {
		many.expandGlob("/*/*/*")
	}
	if many.globDirs != 1 {
		t.Errorf("directory reads left to this call: %d, want none (1)", many.globDirs)
	}
}
