package audit

import "testing"

// BenchmarkAppend is one record per Append, the hook's pattern.
func BenchmarkAppend(b *testing.B) {
	w, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := w.Append(&Record{Tool: "exec", Command: "git status", Decision: "allow", Agent: "claude-code"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendBatch64 is the server's group commit: 64 records a write.
func BenchmarkAppendBatch64(b *testing.B) {
	w, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ReportAllocs()
	recs := make([]*Record, 64)
	for i := 0; i < b.N; i += len(recs) {
		for j := range recs {
			recs[j] = &Record{Tool: "exec", Command: "git status", Decision: "allow", Agent: "claude-code"}
		}
		if err := w.Append(recs...); err != nil {
			b.Fatal(err)
		}
	}
}
