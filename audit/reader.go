package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Entry is one line of an audit file as [Scan] reads it.
type Entry struct {
	File string // base name of the audit file
	Line int    // 1-based line number
	Raw  []byte // the line without its newline; only valid during the callback
	// Record is the decoded record; nil when the line is not a sealed
	// record (then Err says why).
	Record *Record
	// HashOK reports whether the record's hash matches its bytes.
	HashOK bool
	// Partial is true for a last line with no newline: a torn write.
	Partial bool
	Err     error
}

// ErrStop, returned by a [Scan] callback, ends the scan without an error.
var ErrStop = errors.New("stop scan")

// Scan calls fn for every line of every audit file in dir, in chain order.
func Scan(dir string, fn func(Entry) error) error {
	files, err := Files(dir)
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := scanFile(dir, name, fn); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// ScanFrom is [Scan] starting at byte offset off of file name, for
// following a trail as it grows; it returns the offset after the last
// whole line it read.
func ScanFrom(dir, name string, off int64, firstLine int, fn func(Entry) error) (int64, int, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return off, firstLine, fmt.Errorf("read audit file: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return off, firstLine, fmt.Errorf("read audit file: %w", err)
	}
	r := bufio.NewReaderSize(f, 64<<10)
	line := firstLine
	for {
		raw, err := r.ReadBytes('\n')
		if len(raw) == 0 || raw[len(raw)-1] != '\n' {
			// A line still being written (or torn): read it again later.
			if err != nil && err != io.EOF {
				return off, line, fmt.Errorf("read audit file: %w", err)
			}
			return off, line, nil
		}
		off += int64(len(raw))
		line++
		if ferr := fn(decodeEntry(name, line, raw[:len(raw)-1], false)); ferr != nil {
			return off, line, ferr
		}
	}
}

func scanFile(dir, name string, fn func(Entry) error) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("read audit file: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	line := 0
	for {
		raw, err := r.ReadBytes('\n')
		if len(raw) > 0 {
			line++
			partial := raw[len(raw)-1] != '\n'
			if ferr := fn(decodeEntry(name, line, bytes.TrimSuffix(raw, []byte{'\n'}), partial)); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read audit file %s: %w", name, err)
		}
	}
}

func decodeEntry(name string, line int, raw []byte, partial bool) Entry {
	e := Entry{File: name, Line: line, Raw: raw, Partial: partial}
	e.Record, e.HashOK, e.Err = unseal(raw)
	return e
}
