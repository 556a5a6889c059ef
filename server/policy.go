package server

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rampart-dev/rampart/engine"
)

// policyStore holds the compiled policy in force and reloads it. A reload
// that fails keeps the last good policy in force and records the error.
type policyStore struct {
	load  func() (*engine.Program, error)
	watch func() []string
	// swapped, when set, is called with the new program right after a
	// reload put it in force.
	swapped func(*engine.Program)

	prog atomic.Pointer[engine.Program]

	mu          sync.Mutex // serialises reloads; guards the fields below
	loadedAt    time.Time
	lastError   string
	lastErrorAt time.Time
	stamp       string // fingerprint of the watched files at the last attempt
}

// PolicyStatus describes the policy in force, for GET /healthz.
type PolicyStatus struct {
	LoadedAt time.Time           `json:"loaded_at"`
	Sources  []engine.SourceInfo `json:"sources"`
	// LastError is the error of the last reload when it failed (the
	// policy loaded at LoadedAt is still in force); "" when it worked.
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
}

// ReloadResult is the answer of POST /v1/reload and the data of a reload
// event.
type ReloadResult struct {
	OK      bool                `json:"ok"`
	Error   string              `json:"error,omitempty"`
	Sources []engine.SourceInfo `json:"sources"`
}

func newPolicyStore(load func() (*engine.Program, error), watch func() []string) (*policyStore, error) {
	p := &policyStore{load: load, watch: watch}
	p.stamp = p.fingerprint()
	prog, err := load()
	if err != nil {
		return nil, err
	}
	p.prog.Store(prog)
	p.loadedAt = time.Now()
	return p, nil
}

func (p *policyStore) program() *engine.Program { return p.prog.Load() }

// reload loads the policy again. On success it replaces the one in force;
// on failure the old one stays and the error is kept for status.
func (p *policyStore) reload() ReloadResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Fingerprint first: an edit made while loading is seen by the next
	// poll instead of being lost.
	p.stamp = p.fingerprint()
	prog, err := p.load()
	if err != nil {
		p.lastError, p.lastErrorAt = err.Error(), time.Now()
		return ReloadResult{OK: false, Error: p.lastError, Sources: nonNil(p.program().Sources())}
	}
	p.prog.Store(prog)
	if p.swapped != nil {
		p.swapped(prog)
	}
	p.loadedAt, p.lastError, p.lastErrorAt = time.Now(), "", time.Time{}
	return ReloadResult{OK: true, Sources: nonNil(prog.Sources())}
}

// changed reports whether a watched file changed since the last load
// attempt.
func (p *policyStore) changed() bool {
	stamp := p.fingerprint()
	p.mu.Lock()
	defer p.mu.Unlock()
	return stamp != p.stamp
}

func (p *policyStore) status() PolicyStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := PolicyStatus{LoadedAt: p.loadedAt, Sources: nonNil(p.program().Sources()), LastError: p.lastError}
	if !p.lastErrorAt.IsZero() {
		t := p.lastErrorAt
		st.LastErrorAt = &t
	}
	return st
}

// fingerprint identifies the current state of the watched files: a file
// that is created, removed, replaced or written changes it.
func (p *policyStore) fingerprint() string {
	if p.watch == nil {
		return ""
	}
	var b strings.Builder
	for _, path := range p.watch() {
		b.WriteString(path)
		b.WriteByte(' ')
		b.WriteString(fileStamp(path))
		b.WriteByte('\n')
	}
	return b.String()
}

// fileStamp identifies a file's version: inode, size and modification
// time, or "-" when it does not exist.
func fileStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "-"
	}
	ino := uint64(0)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return fmt.Sprintf("%d:%d:%d", ino, fi.Size(), fi.ModTime().UnixNano())
}

func nonNil(s []engine.SourceInfo) []engine.SourceInfo {
	if s == nil {
		return []engine.SourceInfo{}
	}
	return s
}
