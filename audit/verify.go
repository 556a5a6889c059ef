package audit

import (
	"fmt"
	"sort"
)

// Problem kinds that [Verify] reports.
const (
	// KindEdited: a record's bytes do not match its hash.
	KindEdited = "edited"
	// KindBrokenLink: a record does not follow the one before it (a
	// record was removed, inserted or reordered, or a file is missing).
	KindBrokenLink = "broken_link"
	// KindUnreadable: a line that is not a sealed record.
	KindUnreadable = "unreadable"
	// KindTornTail: a partial record at the end of the trail, left by a
	// crash; the records before it verify (a warning, not an error).
	KindTornTail = "torn_tail"
	// KindTornRecovered: a partial record that a crash left and the next
	// writer fenced off, as the record after it declares (a warning).
	KindTornRecovered = "torn_recovered"
)

// maxProblems bounds a report on a badly damaged trail.
const maxProblems = 100

// Problem is one finding of [Verify], located by file and line.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Seq    uint64 `json:"seq,omitempty"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`

	pos   int // position in the trail, to report problems in trail order
	bytes int // length of an unreadable line
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Kind, p.Detail)
}

// Report is the result of [Verify]. OK is true when the chain verifies
// from its first record to its last; Warnings (torn writes from crashes)
// do not make it false.
type Report struct {
	OK       bool      `json:"ok"`
	Files    int       `json:"files"`
	Records  int       `json:"records"`
	FirstSeq uint64    `json:"first_seq,omitempty"`
	LastSeq  uint64    `json:"last_seq,omitempty"`
	HeadID   string    `json:"head_id,omitempty"`
	HeadHash string    `json:"head_hash,omitempty"`
	Problems []Problem `json:"problems"`
	Warnings []Problem `json:"warnings"`
	// Truncated is true when there were more than 100 problems.
	Truncated bool `json:"truncated,omitempty"`
}

// Verify checks the whole chain in dir: every record's hash, every link to
// the record before it, and every line. The first entry of Problems is the
// first broken or edited record.
func Verify(dir string) (*Report, error) {
	rep := &Report{Problems: []Problem{}, Warnings: []Problem{}}
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	rep.Files = len(files)
	var prev *Record
	pos := 0
	// Unreadable lines wait here until a later record declares them torn.
	var pending []Problem
	problem := func(p Problem) {
		if len(rep.Problems) >= maxProblems {
			rep.Truncated = true
			return
		}
		rep.Problems = append(rep.Problems, p)
	}
	err = Scan(dir, func(e Entry) error {
		pos++
		// A line cut short is a torn tail only at the very end of the
		// trail: a writer fences a torn record before it writes another,
		// so one with lines after it was added later (or never fenced).
		if n := len(pending); n > 0 && pending[n-1].Kind == KindTornTail {
			pending[n-1].Kind = KindUnreadable
			pending[n-1].Detail = fmt.Sprintf("%d bytes that are not a sealed audit record, with no newline, in the middle of the trail", pending[n-1].bytes)
		}
		if e.Record == nil {
			p := Problem{pos: pos, bytes: len(e.Raw), File: e.File, Line: e.Line, Kind: KindUnreadable,
				Detail: fmt.Sprintf("%d bytes that are not a sealed audit record", len(e.Raw))}
			if e.Partial {
				p.Kind, p.Detail = KindTornTail, fmt.Sprintf("%d bytes of a record cut short (a crash while writing); the records before it verify", len(e.Raw))
			}
			pending = append(pending, p)
			return nil
		}
		r := e.Record
		rep.Records++
		if rep.FirstSeq == 0 {
			rep.FirstSeq = r.Seq
		}
		if r.Torn != nil {
			pending = fenceTorn(pending, r.Torn, rep)
		}
		if !e.HashOK {
			problem(Problem{pos: pos, File: e.File, Line: e.Line, Seq: r.Seq, Kind: KindEdited,
				Detail: fmt.Sprintf("record %d was changed after it was written (its hash does not match its content)", r.Seq)})
		}
		switch {
		case prev == nil && (r.Seq != 1 || r.PrevHash != "" || r.PrevID != ""):
			problem(Problem{pos: pos, File: e.File, Line: e.Line, Seq: r.Seq, Kind: KindBrokenLink,
				Detail: fmt.Sprintf("the trail starts at record %d, not 1: earlier records are missing", r.Seq)})
		case prev != nil && (r.PrevHash != prev.Hash || r.PrevID != prev.ID || r.Seq != prev.Seq+1):
			problem(Problem{pos: pos, File: e.File, Line: e.Line, Seq: r.Seq, Kind: KindBrokenLink,
				Detail: fmt.Sprintf("record %d does not follow record %d (a record was removed, inserted or reordered before it)", r.Seq, prev.Seq)})
		}
		prev = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range pending {
		if p.Kind == KindTornTail {
			rep.Warnings = append(rep.Warnings, p)
		} else {
			problem(p)
		}
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].pos < rep.Problems[j].pos })
	if prev != nil {
		rep.LastSeq, rep.HeadID, rep.HeadHash = prev.Seq, prev.ID, prev.Hash
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

// fenceTorn moves the pending unreadable line that t describes (same
// file, line and length) to the report's warnings.
func fenceTorn(pending []Problem, t *Torn, rep *Report) []Problem {
	for i, p := range pending {
		if p.File == t.File && p.Line == t.Line && p.bytes == t.Bytes && p.Kind == KindUnreadable {
			p.Kind = KindTornRecovered
			p.Detail = fmt.Sprintf("%d bytes of a record cut short by a crash, fenced off by the next writer", t.Bytes)
			rep.Warnings = append(rep.Warnings, p)
			return append(pending[:i], pending[i+1:]...)
		}
	}
	return pending
}
