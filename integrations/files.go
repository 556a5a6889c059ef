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
// was no file). The file keeps its mode; a new file is 0600. When c.Path
// is a symbolic link (a settings file kept in a dotfiles repository), the
// file it links to is replaced and the link stays.
func Apply(c *Change, now time.Time) (backup string, err error) {
	return applyMode(c, now, 0)
}

// applyMode is [Apply], giving the file mode (when not 0) before it is
// renamed into place, so the file never exists with another mode.
func applyMode(c *Change, now time.Time, mode fs.FileMode) (backup string, err error) {
	if !c.Changed {
		return "", nil
	}
	target, err := linkTarget(c.Path)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	oldMode := fs.FileMode(0o600)
	if st, err := os.Stat(target); err == nil {
		oldMode = st.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if mode == 0 {
		mode = oldMode
	}
	if c.Before != nil {
		backup = backupName(c.Path, now)
		if err := writeFileSync(backup, c.Before, oldMode); err != nil {
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
	if err := os.Rename(tmp.Name(), target); err != nil {
		return backup, fmt.Errorf("write %s: %w", c.Path, err)
	}
	return backup, nil
}

// linkTarget is the file that path names once symbolic links are followed
// (path itself when it is not a link). The file it links to need not
// exist.
func linkTarget(path string) (string, error) {
	for range 40 {
		st, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || err == nil && st.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// writeFileSync writes a new file (never an existing one) and syncs it; a
// file it could not write whole is removed, so no half backup is left.
func writeFileSync(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// readConfig reads a config file; a missing file is nil content, no error.
func readConfig(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}
