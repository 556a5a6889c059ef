package cli

import (
	"errors"
	"os"
	"path/filepath"
	"sort"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/config"
	"github.com/rampart-dev/rampart/server"
)

// serveSources loads the server's policy the way check does (profile,
// then ~/.rampart/policies/*.yaml or the --policy files, then a project's
// policy when --project is given) and names the files to watch for hot
// reload. The profile is resolved again on every load, so a change of
// config.yaml takes effect too.
type serveSources struct {
	proc        *Process
	profile     string   // --profile; "" resolves $RAMPART_PROFILE, config.yaml, the default
	policies    []string // --policy; nil means ~/.rampart/policies
	project     string   // --project; "" means no project policy
	rampartHome string
	home        string
}

func (s *serveSources) approvedFile() string { return server.ApprovedPolicyPath(s.rampartHome) }

func (s *serveSources) load() (*engine.Program, error) {
	profile, _, err := resolveProfile(s.proc, s.profile, s.rampartHome)
	if err != nil {
		return nil, err
	}
	files := s.policies
	if files != nil {
		// "Always allow" answers must take effect with --policy too.
		files = append([]string(nil), files...)
		if _, err := os.Stat(s.approvedFile()); err == nil {
			files = append(files, s.approvedFile())
		}
	}
	return engine.Load(engine.LoadOptions{
		Profile:     profile,
		RampartHome: s.rampartHome,
		Files:       files,
		ProjectDir:  s.project,
		Home:        s.home,
	})
}

// watch lists every file whose creation, change or removal changes what
// load loads.
func (s *serveSources) watch() []string {
	out := []string{config.Path(s.rampartHome)}
	if s.policies == nil {
		dir := filepath.Join(s.rampartHome, "policies")
		yaml, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		yml, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
		files := append(yaml, yml...)
		sort.Strings(files)
		out = append(append(out, dir), files...)
	} else {
		out = append(append(out, s.policies...), s.approvedFile())
	}
	if s.project != "" {
		out = append(out, filepath.Join(s.project, ".rampart", "policy.yaml"))
		if f := engine.FindProjectPolicy(s.project, s.home); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// startupLoadError gives an error of the first load its exit code: 78 for
// a broken policy or config file.
func startupLoadError(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return policyLoadError(err)
}
