package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Audit files are named by the UTC day of their first record and a
// rotation index: 2026-11-24.jsonl, then 2026-11-24.1.jsonl, ... when a
// file reaches its size limit. Files sort by (day, index), which is the
// order of the chain.

const dayLayout = "2006-01-02"

// fileName returns the name of the index-th file of day.
func fileName(day string, index int) string {
	if index == 0 {
		return day + ".jsonl"
	}
	return day + "." + strconv.Itoa(index) + ".jsonl"
}

// parseFileName reports the day and index of an audit file name.
func parseFileName(name string) (day string, index int, ok bool) {
	rest, found := strings.CutSuffix(name, ".jsonl")
	if !found || len(rest) < len(dayLayout) {
		return "", 0, false
	}
	day, rest = rest[:len(dayLayout)], rest[len(dayLayout):]
	if _, err := time.Parse(dayLayout, day); err != nil {
		return "", 0, false
	}
	if rest == "" {
		return day, 0, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(rest, "."))
	if err != nil || n < 1 || !strings.HasPrefix(rest, ".") || strconv.Itoa(n) != rest[1:] {
		return "", 0, false
	}
	return day, n, true
}

// Files returns the audit files in dir in chain order, as base names. A
// missing dir has no files.
func Files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit folder: %w", err)
	}
	type named struct {
		name, day string
		index     int
	}
	var files []named
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if day, index, ok := parseFileName(e.Name()); ok {
			files = append(files, named{e.Name(), day, index})
		}
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].day != files[j].day {
			return files[i].day < files[j].day
		}
		return files[i].index < files[j].index
	})
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	return names, nil
}

// DefaultDir returns the audit folder under a Rampart home.
func DefaultDir(rampartHome string) string { return filepath.Join(rampartHome, "audit") }
