package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// tailWindow is how much of a file's end scanHead reads first when looking
// for its last record; it reads the whole file only when that is not enough.
const tailWindow = 1 << 20

// scanHead finds the chain head by reading the files: the last whole record
// of the newest file that has one, and a torn fragment at the very end.
func scanHead(dir string) (head, error) {
	files, err := Files(dir)
	if err != nil {
		return head{}, err
	}
	if len(files) == 0 {
		return head{}, nil
	}
	var h head
	for i := len(files) - 1; i >= 0; i-- {
		name := files[i]
		data, size, err := readTail(filepath.Join(dir, name), tailWindow)
		if err != nil {
			return head{}, err
		}
		if i == len(files)-1 {
			h.file, h.end = name, size
			if bytes.IndexByte(data, '\n') < 0 && int64(len(data)) < size {
				// The window holds no line end: the last line may be
				// longer than it, so read it all to measure a fragment.
				if data, _, err = readTail(filepath.Join(dir, name), size); err != nil {
					return head{}, err
				}
			}
			if frag := len(data) - (bytes.LastIndexByte(data, '\n') + 1); frag > 0 {
				line, err := countLines(filepath.Join(dir, name))
				if err != nil {
					return head{}, err
				}
				h.torn = &Torn{File: name, Line: line + 1, Bytes: frag}
				data = data[:len(data)-frag]
			}
		}
		rec := lastSealed(data)
		if rec == nil && int64(len(data)) < size && len(data) == tailWindow {
			// The window may have cut the last record: read it all.
			if data, _, err = readTail(filepath.Join(dir, name), size); err != nil {
				return head{}, err
			}
			if i == len(files)-1 && h.torn != nil {
				data = data[:len(data)-h.torn.Bytes]
			}
			rec = lastSealed(data)
		}
		if rec != nil {
			h.seq, h.id, h.hash = rec.Seq, rec.ID, rec.Hash
			return h, nil
		}
	}
	return h, nil
}

// lastSealed returns the last line of data (whole lines only) that is a
// sealed record, whether or not its hash verifies: the chain continues
// from what is there, and Verify reports what is wrong with it.
func lastSealed(data []byte) *Record {
	for len(data) > 0 {
		data = bytes.TrimSuffix(data, []byte{'\n'})
		start := bytes.LastIndexByte(data, '\n') + 1
		if rec, _, err := unseal(data[start:]); err == nil {
			return rec
		}
		data = data[:start]
	}
	return nil
}

// readTail returns up to the last n bytes of a file and its size.
func readTail(path string, n int64) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read audit file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("read audit file: %w", err)
	}
	size := fi.Size()
	off := max(size-n, 0)
	buf := make([]byte, size-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, fmt.Errorf("read audit file: %w", err)
	}
	return buf, size, nil
}

// countLines counts the newline-terminated lines of a file.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read audit file: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	lines := 0
	for {
		n, err := f.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return 0, fmt.Errorf("read audit file: %w", err)
		}
	}
}
