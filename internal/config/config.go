// Package config reads and writes the per-user settings file,
// $RAMPART_HOME/config.yaml (~/.rampart/config.yaml by default).
//
// The file is small and strict: an unknown key or a value of the wrong kind
// is an error that names the file, line and column, so a typo never silently
// falls back to a default.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rampart-dev/rampart/internal/suggest"
	"github.com/rampart-dev/rampart/policies"
)

// FileName is the settings file's name inside the Rampart home directory.
const FileName = "config.yaml"

// NoProfile is the profile name that loads no embedded profile at all.
const NoProfile = "none"

// Config is the content of config.yaml. The zero Config means "all defaults".
type Config struct {
	// Profile is the embedded policy profile to start from ("standard",
	// "paranoid", ...; "none" for no profile). Empty means the default.
	Profile string
}

var keys = []string{"profile"}

// Path returns the settings file's path inside rampartHome.
func Path(rampartHome string) string { return filepath.Join(rampartHome, FileName) }

// Error is a problem in the settings file, located by line and column when
// it has one.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads the settings file at path. A file that does not exist is not an
// error: it gives the zero Config.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, nil
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Config{}, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", err)}
	}
	return Parse(path, data)
}

// Parse decodes the settings in data; file names them in errors.
func Parse(file string, data []byte) (Config, error) {
	var cfg Config
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return cfg, syntaxError(file, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return cfg, nil // empty file
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return cfg, nil // only comments, or "~"
	}
	if root.Kind != yaml.MappingNode {
		return cfg, &Error{File: file, Line: root.Line, Col: root.Column, Msg: "want a mapping of settings such as \"profile: standard\""}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, value := root.Content[i], root.Content[i+1]
		at := func(n *yaml.Node, format string, args ...any) error {
			return &Error{File: file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}
		}
		if seen[key.Value] {
			return cfg, at(key, "duplicate key %q", key.Value)
		}
		seen[key.Value] = true
		switch key.Value {
		case "profile":
			if value.Kind != yaml.ScalarNode || value.Tag != "!!str" {
				return cfg, at(value, "profile: want a profile name (%s)", strings.Join(ProfileNames(), ", "))
			}
			if !ValidProfile(value.Value) {
				return cfg, at(value, "unknown profile %q%s; available: %s", value.Value,
					suggest.DidYouMean(value.Value, ProfileNames()), strings.Join(ProfileNames(), ", "))
			}
			cfg.Profile = value.Value
		default:
			return cfg, at(key, "unknown key %q%s; known keys: %s", key.Value,
				suggest.DidYouMean(key.Value, keys), strings.Join(keys, ", "))
		}
	}
	return cfg, nil
}

// syntaxError turns a yaml.v3 error ("yaml: line N: message") into an
// Error located at line N.
func syntaxError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, text, ok := strings.Cut(rest, ":"); ok {
			if line, err := strconv.Atoi(n); err == nil {
				return &Error{File: file, Line: line, Col: 1, Msg: "invalid YAML: " + strings.TrimSpace(text)}
			}
		}
	}
	return &Error{File: file, Msg: "invalid YAML: " + msg}
}

// ProfileNames lists the names a profile setting may take: the embedded
// profiles and "none".
func ProfileNames() []string { return append(policies.Names(), NoProfile) }

// ValidProfile reports whether name is an embedded profile or "none".
func ValidProfile(name string) bool { return slices.Contains(ProfileNames(), name) }

// Marshal encodes cfg as the settings file's text, with a comment that says
// what the file is.
func Marshal(cfg Config) []byte {
	var b bytes.Buffer
	b.WriteString("# Rampart settings (written by \"rampart init\").\n")
	b.WriteString("# profile: the embedded policy profile to start from: " + strings.Join(ProfileNames(), ", ") + ".\n")
	b.WriteString("# $RAMPART_PROFILE and \"rampart check --profile\" override it.\n")
	if cfg.Profile != "" {
		fmt.Fprintf(&b, "profile: %s\n", cfg.Profile)
	}
	return b.Bytes()
}
