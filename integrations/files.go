// Package integrations installs Rampart into each agent's own
// configuration ("rampart setup AGENT"): it finds the agent's config file,
// adds (or with --remove takes out exactly) Rampart's hook entries, and
// writes the file atomically with a backup of the previous version.
package integrations

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Change is the result of planning an edit of one config file.
type Change struct {
	Path string
	// Before is the file's content (nil when it does not exist); After
	// what it will be. Changed is false when they are the same setup.
	Before, After []byte
	Changed       bool
	// Summary lines say what changed, for people.
	Summary []string
}

// Apply writes c.After to c.Path atomically (a temporary file in the same
// folder, synced, then renamed over the old one), after copying the old
// file to a backup next to it. It returns the backup's path ("" when there
// was no file). The file keeps its mode; a new file is 0600.
func Apply(c *Change, now time.Time) (backup string, err error) {
	if !c.Changed {
		return "", nil
	}
	dir := filepath.Dir(c.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	mode := fs.FileMode(0o600)
	if st, err := os.Stat(c.Path); err == nil {
		mode = st.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if c.Before != nil {
		backup = fmt.Sprintf("%s.rampart-backup-%s", c.Path, now.UTC().Format("20060102T150405.000000000Z"))
		if err := writeFileSync(backup, c.Before, mode); err != nil {
			return "", fmt.Errorf("back up %s: %w", c.Path, err)
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(c.Path)+".rampart-*")
	if err != nil {
		return backup, fmt.Errorf("write %s: %w", c.Path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(c.After); err != nil {
		tmp.Close()
		return backup, fmt.Errorf("write %s: %w", c.Path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return backup, fmt.Errorf("write %s: %w", c.Path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return backup, fmt.Errorf("write %s: %w", c.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return backup, fmt.Errorf("write %s: %w", c.Path, err)
	}
	if err := os.Rename(tmp.Name(), c.Path); err != nil {
		return backup, fmt.Errorf("write %s: %w", c.Path, err)
	}
	return backup, nil
}

func writeFileSync(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readConfig reads a config file; a missing file is nil content, no error.
func readConfig(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}
