// Package policyload finds and loads the policies an adapter decides with,
// the same way everywhere: the profile (a flag, else $RAMPART_PROFILE,
// else config.yaml's "profile:", else the default), the user's policy
// files under the Rampart home, and the project policy searched from the
// call's working directory.
//
// It has no command-line machinery, so the small per-call programs (the
// hook, rampart-sh) can use it without linking the whole CLI.
package policyload

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/config"
	"github.com/rampart-dev/rampart/internal/suggest"
	"github.com/rampart-dev/rampart/policies"
)

// RampartHome is $RAMPART_HOME, else ~/.rampart, made absolute; "" when
// neither $RAMPART_HOME nor $HOME is set (never a guess relative to the
// working directory: that could be a project's .rampart).
func RampartHome(getenv func(string) string) string {
	dir := getenv("RAMPART_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".rampart")
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir
}

// ProfileError is a profile named by the environment or by config.yaml
// that cannot be used. Source says which: "$RAMPART_PROFILE" or the
// config file's path.
type ProfileError struct {
	Source string
	Err    error
}

func (e *ProfileError) Error() string {
	if e.Source == "$RAMPART_PROFILE" {
		return "$RAMPART_PROFILE: " + e.Err.Error()
	}
	return e.Err.Error() // config errors already name their file
}

func (e *ProfileError) Unwrap() error { return e.Err }

// ResolveProfile decides the profile: flag, else $RAMPART_PROFILE, else
// config.yaml under rampartHome, else the default. from says which
// ("--profile", "$RAMPART_PROFILE", the config file's path, "default").
// A flag is not validated here (callers check their own flags).
func ResolveProfile(getenv func(string) string, flag, rampartHome string) (name, from string, err error) {
	if flag != "" {
		return flag, "--profile", nil
	}
	if env := getenv("RAMPART_PROFILE"); env != "" {
		if !config.ValidProfile(env) {
			return "", "", &ProfileError{Source: "$RAMPART_PROFILE", Err: fmt.Errorf("unknown profile %q%s; available: %s", env,
				suggest.DidYouMean(env, config.ProfileNames()), strings.Join(config.ProfileNames(), ", "))}
		}
		return env, "$RAMPART_PROFILE", nil
	}
	if rampartHome == "" {
		return policies.DefaultProfile, "default", nil
	}
	path := config.Path(rampartHome)
	cfg, err := config.Load(path)
	if err != nil {
		return "", "", &ProfileError{Source: path, Err: err}
	}
	if cfg.Profile != "" {
		return cfg.Profile, path, nil
	}
	return policies.DefaultProfile, "default", nil
}

// Options returns the engine's load options for a call in cwd. files, when
// not nil, replaces the user's policy files.
func Options(getenv func(string) string, profile, cwd string, files []string) engine.LoadOptions {
	home := RampartHome(getenv)
	opts := engine.LoadOptions{Profile: profile, RampartHome: home, Files: files, ProjectDir: cwd, Home: getenv("HOME")}
	if opts.Files == nil && home == "" {
		// No $HOME and no $RAMPART_HOME: there are no user policies to
		// load (the engine would otherwise guess a path).
		opts.Files = []string{}
	}
	return opts
}

// LoadCached loads opts through the compiled-policy cache under the
// Rampart home (no cache without one). Adapters that are a new process
// for every call (the hook, rampart-sh) load this way.
func LoadCached(opts engine.LoadOptions) (*engine.Program, error) {
	cacheDir := ""
	if opts.RampartHome != "" {
		cacheDir = filepath.Join(opts.RampartHome, "cache")
	}
	p, _, err := engine.LoadCached(opts, cacheDir)
	return p, err
}

// ForCall resolves and loads the policies for one call in cwd, through
// the cache: what the hook and rampart-sh decide with.
func ForCall(getenv func(string) string, profileFlag, cwd string) (*engine.Program, error) {
	profile, _, err := ResolveProfile(getenv, profileFlag, RampartHome(getenv))
	if err != nil {
		return nil, err
	}
	if !config.ValidProfile(profile) {
		return nil, fmt.Errorf("unknown profile %q; available: %s", profile, strings.Join(config.ProfileNames(), ", "))
	}
	return LoadCached(Options(getenv, profile, cwd, nil))
}
