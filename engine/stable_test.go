package engine

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEvalStable: a decision that looked at files (symbolic links of a
// path, a glob) is not stable; one that rests on the call alone is, and
// both give what Eval gives.
func TestEvalStable(t *testing.T) {
	p := loadStandard(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		call   ToolCall
		stable bool
	}{
		{"argv", ToolCall{Tool: ToolExec, Argv: []string{"/bin/true"}, Cwd: dir}, true},
		{"command", ToolCall{Tool: ToolExec, Command: "git status", Cwd: dir}, true},
		{"denied command", ToolCall{Tool: ToolExec, Command: "rm -rf /", Cwd: dir}, true},
		{"quoted glob", ToolCall{Tool: ToolExec, Command: "echo '*.txt'", Cwd: dir}, true},
		{"glob", ToolCall{Tool: ToolExec, Command: "cat *.txt", Cwd: dir}, false},
		{"glob in argv of bash -c", ToolCall{Tool: ToolExec, Argv: []string{"bash", "-c", "ls /tm?"}, Cwd: dir}, false},
		{"read", ToolCall{Tool: ToolRead, Path: "a.txt", Cwd: dir}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call := tc.call
			d, stable := p.EvalStable(&call)
			if stable != tc.stable {
				t.Errorf("stable = %v, want %v", stable, tc.stable)
			}
			if want := p.Eval(&call); d != want {
				t.Errorf("EvalStable = %+v, Eval = %+v", d, want)
			}
		})
	}
}
