package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rampart-dev/rampart/internal/endpoint"
)

// ErrNoToken is returned by [ReadToken] when the token file does not exist.
var ErrNoToken = endpoint.ErrNoToken

// GenerateToken returns a new token: 32 random bytes, hex-encoded.
func GenerateToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// ReadToken reads the token file at path. It returns an error wrapping
// [ErrNoToken] when the file does not exist.
func ReadToken(path string) (string, error) { return endpoint.ReadToken(path) }

// LoadOrCreateToken returns the token in the file at path, first creating
// the file (0600, in a folder created 0700) with a new token when it does
// not exist. created says whether it did. Two processes racing to create
// the file end up with the same token.
func LoadOrCreateToken(path string) (token string, created bool, err error) {
	token, err = ReadToken(path)
	if !errors.Is(err, ErrNoToken) {
		return token, false, err
	}
	if token, err = GenerateToken(); err != nil {
		return "", false, err
	}
	err = writeFileAtomic(path, []byte(token+"\n"), false)
	if errors.Is(err, fs.ErrExist) {
		token, err = ReadToken(path) // another process was first
		return token, false, err
	}
	if err != nil {
		return "", false, err
	}
	return token, true, nil
}

// RotateToken replaces the token in the file at path with a new one and
// returns it. A running server picks the new token up at once: it re-reads
// the file when a request's token does not match, and within a second
// otherwise.
func RotateToken(path string) (string, error) {
	token, err := GenerateToken()
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(path, []byte(token+"\n"), true); err != nil {
		return "", err
	}
	return token, nil
}

// writeFileAtomic writes data to path (0600) through a temporary file in
// the same folder, so readers see the old content or the new, never a part.
// Without replace it fails with fs.ErrExist when path exists.
func writeFileAtomic(path string, data []byte, replace bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path) // fails when path exists
	}
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("write %s: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CheckToken derives, from the server's token, the check-only token that
// adapters hand to the programs they watch (rampart preload puts it in
// RAMPART_TOKEN): it may ask for decisions (/v1/check, /v1/preflight,
// /v1/tool) but not answer approvals, read events or metrics, or reload,
// so a program cannot approve its own asks. It changes when the token is
// rotated.
func CheckToken(token string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("rampart check-only token v1"))
	return "check-" + hex.EncodeToString(mac.Sum(nil))
}

// Scope is what a request's token allows.
type Scope int

const (
	// ScopeNone: no valid token.
	ScopeNone Scope = iota
	// ScopeCheck: the check-only token (see [CheckToken]).
	ScopeCheck
	// ScopeAdmin: the server's own token: everything.
	ScopeAdmin
)

// tokenSums holds the hashes of the token and of its check-only token.
type tokenSums struct {
	admin, check [sha256.Size]byte
}

func sumsOf(token string) *tokenSums {
	return &tokenSums{admin: sha256.Sum256([]byte(token)), check: sha256.Sum256([]byte(CheckToken(token)))}
}

// tokenSource is the token the server accepts: a fixed one ($RAMPART_TOKEN)
// or the content of the token file, re-read when the file changes.
type tokenSource struct {
	path string // "" for a fixed token
	sum  atomic.Pointer[tokenSums]

	mu    sync.Mutex // serialises refresh
	stamp string     // the token file's identity when last read
}

func newFixedToken(token string) *tokenSource {
	t := &tokenSource{}
	t.sum.Store(sumsOf(token))
	return t
}

func newFileToken(path string) (*tokenSource, bool, error) {
	token, created, err := LoadOrCreateToken(path)
	if err != nil {
		return nil, false, err
	}
	t := &tokenSource{path: path, stamp: fileStamp(path)}
	t.sum.Store(sumsOf(token))
	return t, created, nil
}

// scope reports what given allows, comparing in constant time. Both sides
// are hashed first, so not even the length is compared in variable time.
func (t *tokenSource) scope(given string) Scope {
	sum := sha256.Sum256([]byte(given))
	match := func() Scope {
		sums := t.sum.Load()
		switch {
		case subtle.ConstantTimeCompare(sum[:], sums.admin[:]) == 1:
			return ScopeAdmin
		case subtle.ConstantTimeCompare(sum[:], sums.check[:]) == 1:
			return ScopeCheck
		}
		return ScopeNone
	}
	if sc := match(); sc != ScopeNone {
		return sc
	}
	// The token may have been rotated a moment ago.
	if t.refresh() {
		return match()
	}
	return ScopeNone
}

// check reports whether given is the server's own token.
func (t *tokenSource) check(given string) bool { return t.scope(given) == ScopeAdmin }

// refresh re-reads the token file when it changed and reports whether the
// token did. A missing or empty file keeps the token in force.
func (t *tokenSource) refresh() bool {
	if t.path == "" {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	stamp := fileStamp(t.path)
	if stamp == t.stamp {
		return false
	}
	token, err := ReadToken(t.path)
	if err != nil {
		return false
	}
	t.stamp = stamp
	sums := sumsOf(token)
	if *t.sum.Load() == *sums {
		return false
	}
	t.sum.Store(sums)
	return true
}

// bearerToken returns the token of an "Authorization: Bearer TOKEN" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(h[7:]), true
}
