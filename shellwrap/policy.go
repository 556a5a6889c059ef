package shellwrap

import (
	"fmt"
	"path/filepath"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/config"
	"github.com/rampart-dev/rampart/policies"
)

// rampartHome is $RAMPART_HOME, else ~/.rampart; "" when neither is known.
func rampartHome(getenv func(string) string) string {
	if dir := getenv("RAMPART_HOME"); dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			return abs
		}
		return dir
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".rampart")
	}
	return ""
}

// loadProgram loads the policies the way "rampart check" does: the
// profile ($RAMPART_PROFILE, else config.yaml, else the default), the
// user's policy files, and the project policy searched from cwd.
func loadProgram(getenv func(string) string, cwd string) (*engine.Program, error) {
	home := rampartHome(getenv)
	profile := getenv("RAMPART_PROFILE")
	if profile == "" && home != "" {
		cfg, err := config.Load(config.Path(home))
		if err != nil {
			return nil, err
		}
		profile = cfg.Profile
	}
	if profile == "" {
		profile = policies.DefaultProfile
	}
	if !config.ValidProfile(profile) {
		return nil, fmt.Errorf("unknown profile %q", profile)
	}
	opts := engine.LoadOptions{Profile: profile, RampartHome: home, ProjectDir: cwd, Home: getenv("HOME")}
	if home == "" {
		opts.Files = []string{}
	}
	cacheDir := ""
	if home != "" {
		cacheDir = filepath.Join(home, "cache")
	}
	// A shell is a new process for every command: load through the
	// compiled-policy cache, as the hooks do.
	prog, _, err := engine.LoadCached(opts, cacheDir)
	return prog, err
}
