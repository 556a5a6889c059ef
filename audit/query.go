package audit

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// Query selects records. A zero Query selects every record. Each list is a
// set of alternatives (a record matches when its field equals any of them,
// ignoring case); a record must match every list that is not empty and
// every bound that is set.
type Query struct {
	Events    []string // decision, outcome, approval
	Decisions []string // allow, deny, ask, log
	Agents    []string
	Tools     []string
	Sessions  []string
	Policies  []string
	Rules     []string
	// Since selects records at or after it; Until, records before it.
	// Zero means no bound.
	Since, Until time.Time
	// Contains selects records whose command, argv, path, URL, tool name,
	// message, matched text or error contains it, ignoring case.
	Contains string
}

// Match reports whether q selects r.
func (q *Query) Match(r *Record) bool {
	if r == nil {
		return false
	}
	if !oneOf(q.Events, r.Event) || !oneOf(q.Decisions, r.Decision) || !oneOf(q.Agents, r.Agent) ||
		!oneOf(q.Tools, r.Tool) || !oneOf(q.Sessions, r.Session) || !oneOf(q.Policies, r.Policy) ||
		!oneOf(q.Rules, r.Rule) {
		return false
	}
	if !q.Since.IsZero() && r.Time.Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && !r.Time.Before(q.Until) {
		return false
	}
	return q.Contains == "" || recordContains(r, strings.ToLower(q.Contains))
}

// oneOf reports whether v is one of set, ignoring case; an empty set
// allows anything.
func oneOf(set []string, v string) bool {
	return len(set) == 0 || slices.ContainsFunc(set, func(s string) bool { return strings.EqualFold(s, v) })
}

// recordContains reports whether one of r's text fields contains the
// lower-cased needle.
func recordContains(r *Record, needle string) bool {
	for _, s := range [...]string{r.Command, r.Path, r.URL, r.Name, r.Message, r.Matched, r.Error} {
		if s != "" && strings.Contains(strings.ToLower(s), needle) {
			return true
		}
	}
	for _, a := range r.Argv {
		if strings.Contains(strings.ToLower(a), needle) {
			return true
		}
	}
	return false
}

// Stored is a record as the trail holds it: where it is, its exact line
// and its decoded form.
type Stored struct {
	File   string  // base name of the audit file
	Line   int     // 1-based line number
	Raw    []byte  // the line as written, without its newline (a copy)
	Record *Record // never nil
}

// Cursor is a position in the trail: the end of the whole lines read so
// far from File, which is the Line-th line. The zero Cursor is the start
// of the trail, before its first file exists.
type Cursor struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"`
	Line   int    `json:"line"`
}

// Last returns the last n records in dir that q selects, oldest first,
// and a Cursor at the end of the trail's last whole line for [Follow] to
// continue from. It reads files from the newest back, and no further than
// it has to. Lines that are not sealed records are skipped; hashes are not
// checked (that is [Verify]'s job).
func Last(dir string, n int, q Query) ([]Stored, Cursor, error) {
	files, err := Files(dir)
	if err != nil || len(files) == 0 {
		return nil, Cursor{}, err
	}
	var cur Cursor
	var found []Stored // newest files' matches, oldest first
	for i := len(files) - 1; i >= 0; i-- {
		ring := newStoredRing(n)
		off, line, err := ScanFrom(dir, files[i], 0, 0, func(e Entry) error {
			if e.Record != nil && q.Match(e.Record) {
				ring.push(e)
			}
			return nil
		})
		if err != nil {
			return nil, Cursor{}, err
		}
		if i == len(files)-1 {
			cur = Cursor{File: files[i], Offset: off, Line: line}
		}
		found = append(ring.slice(n-len(found)), found...)
		if len(found) >= n {
			break
		}
	}
	return found, cur, nil
}

// storedRing keeps the last entries pushed into it.
type storedRing struct {
	buf  []Stored
	next int
	full bool
}

func newStoredRing(n int) *storedRing { return &storedRing{buf: make([]Stored, max(n, 0))} }

func (r *storedRing) push(e Entry) {
	if len(r.buf) == 0 {
		return
	}
	r.buf[r.next] = Stored{File: e.File, Line: e.Line, Raw: slices.Clone(e.Raw), Record: e.Record}
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

// slice returns up to the last n entries pushed, oldest first.
func (r *storedRing) slice(n int) []Stored {
	var all []Stored
	if r.full {
		all = append(slices.Clone(r.buf[r.next:]), r.buf[:r.next]...)
	} else {
		all = slices.Clone(r.buf[:r.next])
	}
	if n < len(all) {
		all = all[len(all)-max(n, 0):]
	}
	return all
}

// Follow calls fn for every whole line appended to the trail after cur,
// in chain order, and goes on to the next file when the trail rotates. It
// looks for new lines every poll; a line still being written is read once
// it is whole. It returns the cursor after the last line it passed to fn
// when ctx is done (with a nil error) or fn returns an error ([ErrStop]
// ends it with a nil error). As with [Scan], Entry.Raw is only valid
// during the call.
func Follow(ctx context.Context, dir string, cur Cursor, poll time.Duration, fn func(Entry) error) (Cursor, error) {
	for {
		files, err := Files(dir)
		if err != nil {
			return cur, err
		}
		if cur.File == "" && len(files) > 0 {
			cur = Cursor{File: files[0]}
		}
		if cur.File != "" {
			// The files were listed before this read, so a file after
			// cur.File existed before it: the writers have left cur.File
			// for good and this read sees all of it.
			newer := filesAfter(files, cur.File)
			off, line, err := ScanFrom(dir, cur.File, cur.Offset, cur.Line, fn)
			cur.Offset, cur.Line = off, line
			switch {
			case errors.Is(err, ErrStop):
				return cur, nil
			case err != nil && !errors.Is(err, fs.ErrNotExist):
				return cur, err
			}
			if len(newer) > 0 {
				cur = Cursor{File: newer[0]}
				continue
			}
		}
		select {
		case <-ctx.Done():
			return cur, nil
		case <-time.After(poll):
		}
	}
}

// filesAfter returns the files (in chain order) that come after name.
func filesAfter(files []string, name string) []string {
	day, index, ok := parseFileName(name)
	if !ok {
		return nil
	}
	for i, f := range files {
		d, x, _ := parseFileName(f)
		if d > day || d == day && x > index {
			return files[i:]
		}
	}
	return nil
}

// daySlack is how far beyond a file's days Query.Files still reads it: a
// record's time can differ a little from its writer's clock (an adapter
// may give the time of the call), and files change day in UTC.
const daySlack = 24 * time.Hour

// Files returns the audit files of dir, in chain order, that can hold the
// records q selects by time: a file named for day D holds records written
// from D until the day of the file after it, so files that end well
// before q.Since or start well after q.Until are left out. Without time
// bounds it returns every file, as [Files] does.
func (q *Query) Files(dir string) ([]string, error) {
	files, err := Files(dir)
	if err != nil || q.Since.IsZero() && q.Until.IsZero() {
		return files, err
	}
	start := func(name string) time.Time {
		day, _, _ := parseFileName(name)
		t, _ := time.Parse(dayLayout, day)
		return t
	}
	var out []string
	for i, name := range files {
		if !q.Until.IsZero() && start(name).After(q.Until.Add(daySlack)) {
			break
		}
		if !q.Since.IsZero() && i+1 < len(files) && start(files[i+1]).Add(daySlack).Before(q.Since) {
			continue
		}
		out = append(out, name)
	}
	return out, nil
}
