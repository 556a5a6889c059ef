package engine

import (
	"testing"
)

// benchCalls are the decisions docs/benchmarks.md reports, on the standard
// profile.
var benchCalls = []struct {
	name string
	call ToolCall
}{
	{"git_status", ToolCall{Tool: ToolExec, Command: "git status"}},
	{"rm_rf_root", ToolCall{Tool: ToolExec, Command: "rm -rf /"}},
	{"compound_5", ToolCall{Tool: ToolExec, Command: "cd src && go vet ./... && go test ./... 2>&1 | tee test.log; echo done"}},
	{"bash_c_nested_3", ToolCall{Tool: ToolExec, Command: `bash -c "sh -c 'bash -c \"ls -la /tmp\"'"`}},
	{"read_ssh_key", ToolCall{Tool: ToolRead, Path: "~/.ssh/id_rsa"}},
	{"argv_git_status", ToolCall{Tool: ToolExec, Argv: []string{"/usr/bin/git", "status"}}},
	// An interpreter's inline code, which the profile's command_regex
	// rules read.
	{"python_c", ToolCall{Tool: ToolExec, Command: `python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])'`}},
}

// loadStandard compiles the embedded standard profile with home /home/dev.
func loadStandard(tb testing.TB) *Program {
	tb.Helper()
	src, err := ProfileSource("standard")
	if err != nil {
		tb.Skip(err)
	}
	p, err := Compile(Options{Home: "/home/dev"}, src)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkEval is the time of one decision.
func BenchmarkEval(b *testing.B) {
	p := loadStandard(b)
	for _, bc := range benchCalls {
		call := bc.call
		call.Cwd = "/home/dev/project"
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Eval(&call)
			}
		})
	}
}

// BenchmarkEvalParallel is BenchmarkEval from every core at once.
func BenchmarkEvalParallel(b *testing.B) {
	p := loadStandard(b)
	call := ToolCall{Tool: ToolExec, Command: "git status", Cwd: "/home/dev/project"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Eval(&call)
		}
	})
}

// BenchmarkLoadStandard is the cold start: parse, validate and compile the
// embedded standard profile.
func BenchmarkLoadStandard(b *testing.B) {
	src, err := ProfileSource("standard")
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(Options{Home: "/home/dev"}, src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadCachedStandard is a warm hit: the standard profile, read back
// from the cache.
func BenchmarkLoadCachedStandard(b *testing.B) {
	o := LoadOptions{Profile: "standard", Files: []string{}, Home: "/home/dev"}
	dir := b.TempDir()
	if _, _, err := LoadCached(o, dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, status, err := LoadCached(o, dir); err != nil || status != CacheHit {
			b.Fatal(status, err)
		}
	}
}

// BenchmarkLoadCachedStandardFirstEval is a warm hit and the first decision,
// which compiles the rules it reaches.
func BenchmarkLoadCachedStandardFirstEval(b *testing.B) {
	o := LoadOptions{Profile: "standard", Files: []string{}, Home: "/home/dev"}
	dir := b.TempDir()
	if _, _, err := LoadCached(o, dir); err != nil {
		b.Fatal(err)
	}
	call := ToolCall{Tool: ToolExec, Command: "git status", Cwd: "/tmp"}
	b.ReportAllocs()
	for b.Loop() {
		p, _, err := LoadCached(o, dir)
		if err != nil {
			b.Fatal(err)
		}
		p.Eval(&call)
	}
}
