// Package preload is the Go side of librampart.so, the LD_PRELOAD library
// that checks every program an agent starts: it carries the library inside
// the rampart binary, installs it where the dynamic loader can map it, and
// tells whether a program can be reached by LD_PRELOAD at all.
//
// The C sources, their Makefile and tests live beside this file; see
// docs/preload.md.
package preload

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// libFS holds lib/: its README always, and librampart.so when the library
// was built (make) before the Go binary.
//
//go:embed lib
var libFS embed.FS

// LibraryName is the library's file name in lib/.
const LibraryName = "librampart.so"

// ErrNotBuilt means this binary was built without the library.
var ErrNotBuilt = errors.New("this rampart was built without librampart.so (a plain \"go build\" does not build the C library)")

// Library returns the embedded librampart.so.
func Library() ([]byte, error) {
	data, err := libFS.ReadFile("lib/" + LibraryName)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(data) == 0) {
		return nil, ErrNotBuilt
	}
	return data, err
}

// InstalledName returns the file name Install gives the library: its
// content hash is part of the name, so a new rampart never overwrites a
// library that running programs have mapped.
func InstalledName(lib []byte) string {
	sum := sha256.Sum256(lib)
	return "librampart-" + hex.EncodeToString(sum[:6]) + ".so"
}

// Install writes the embedded library into dir (created 0700 when missing)
// unless an identical copy is there, and returns its absolute path. The
// file appears whole or not at all (a temporary file renamed into place),
// so concurrent installs are safe.
func Install(dir string) (string, error) {
	lib, err := Library()
	if err != nil {
		return "", err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, InstalledName(lib))
	if have, err := os.ReadFile(path); err == nil && string(have) == string(lib) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("install the preload library: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".librampart-*.tmp")
	if err != nil {
		return "", fmt.Errorf("install the preload library: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(lib); err != nil {
		tmp.Close()
		return "", fmt.Errorf("install the preload library: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", fmt.Errorf("install the preload library: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("install the preload library: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("install the preload library: %w", err)
	}
	return path, nil
}
