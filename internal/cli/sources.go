package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/config"
	"github.com/rampart-dev/rampart/internal/policyload"
	"github.com/rampart-dev/rampart/internal/suggest"
)

// SourceOptions are the flags that choose which policy sources to load,
// shared by check and policy list.
type SourceOptions struct {
	Profile  string   // --profile; "" means not given
	Policies []string // --policy; nil means not given (load ~/.rampart/policies)
	Cwd      string   // --cwd; "" means the current directory
}

func (s *SourceOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&s.Profile, "profile", "", "embedded profile `NAME` to start from, or \"none\" (default: $RAMPART_PROFILE, else config.yaml, else \"standard\")")
	fs.StringArrayVar(&s.Policies, "policy", nil, "policy `FILE` to load instead of ~/.rampart/policies/*.yaml (repeatable)")
	fs.StringVar(&s.Cwd, "cwd", "", "working `DIR` of the call; the project policy is searched from here (default: the current directory)")
}

// validate checks what can be checked without loading anything.
func (s *SourceOptions) validate() error {
	if s.Profile != "" && !config.ValidProfile(s.Profile) {
		return usageErrorf(`run "rampart policy list" to see the profiles`, "--profile: unknown profile %q%s; available: %s",
			s.Profile, suggest.DidYouMean(s.Profile, config.ProfileNames()), strings.Join(config.ProfileNames(), ", "))
	}
	if s.Policies != nil && len(s.Policies) == 0 {
		return usageErrorf("", "--policy: no file given")
	}
	return nil
}

// loaded is a compiled policy set and where it came from.
type loaded struct {
	Program     *engine.Program
	Profile     string // the profile in force ("none" for none)
	ProfileFrom string // what chose it: --profile, $RAMPART_PROFILE, config.yaml's path, or "default"
	RampartHome string
	Home        string
	Cwd         string
}

// resolveProfile decides the profile: --profile, else $RAMPART_PROFILE, else
// config.yaml, else the default.
func resolveProfile(proc *Process, flag, rampartHome string) (name, from string, err error) {
	name, from, err = policyload.ResolveProfile(proc.Getenv, flag, rampartHome)
	var pe *policyload.ProfileError
	if errors.As(err, &pe) {
		if pe.Source == "$RAMPART_PROFILE" {
			return "", "", withCode(ExitConfig, err, "set RAMPART_PROFILE to one of the profiles, or unset it")
		}
		return "", "", withCode(ExitConfig, err, fmt.Sprintf("fix %s (it holds one setting, for example \"profile: standard\"), or remove it", pe.Source))
	}
	return name, from, err
}

// resolveCwd returns dir (or the current directory) as an absolute path.
func resolveCwd(proc *Process, dir string) (string, error) {
	if dir == "" {
		wd, err := proc.Getwd()
		if err != nil {
			return "", withCode(ExitIOErr, fmt.Errorf("cannot find the current directory: %w", err), "pass --cwd DIR")
		}
		return wd, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", usageErrorf("", "--cwd %s: %v", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil || !st.IsDir() {
		return "", usageErrorf("", "--cwd %s: not a directory", dir)
	}
	return abs, nil
}

// loadPolicies resolves the sources s names and compiles them. Errors carry
// their exit code: 64 for bad flags, 78 for a broken policy or config file.
func loadPolicies(proc *Process, s SourceOptions) (*loaded, error) {
	l, opts, err := resolveSources(proc, s)
	if err != nil {
		return nil, err
	}
	if l.Program, err = engine.Load(opts); err != nil {
		return nil, policyLoadError(err)
	}
	return l, nil
}

// resolveSources resolves the sources s names into what loadPolicies
// reports and the options to load them with; l.Program is left nil.
func resolveSources(proc *Process, s SourceOptions) (*loaded, engine.LoadOptions, error) {
	if err := s.validate(); err != nil {
		return nil, engine.LoadOptions{}, err
	}
	l := &loaded{RampartHome: proc.RampartHome(), Home: proc.Home()}
	var err error
	if l.Cwd, err = resolveCwd(proc, s.Cwd); err != nil {
		return nil, engine.LoadOptions{}, err
	}
	if l.Profile, l.ProfileFrom, err = resolveProfile(proc, s.Profile, l.RampartHome); err != nil {
		return nil, engine.LoadOptions{}, err
	}
	for _, f := range s.Policies {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			return nil, engine.LoadOptions{}, usageErrorf("", "--policy %s: no such file", f)
		}
	}
	return l, policyload.Options(proc.Getenv, l.Profile, l.Cwd, s.Policies), nil
}

// policyLoadError turns a load error into exit 78 with every problem on its
// own line and a hint naming the files to lint.
func policyLoadError(err error) error {
	var files []string
	seen := map[string]bool{}
	add := func(pe *engine.PolicyError) {
		if pe.File != "" && !strings.HasPrefix(pe.File, "profile:") && !seen[pe.File] {
			seen[pe.File] = true
			files = append(files, pe.File)
		}
	}
	var list engine.PolicyErrors
	var one *engine.PolicyError
	switch {
	case errors.As(err, &list):
		for _, pe := range list {
			add(pe)
		}
	case errors.As(err, &one):
		add(one)
	default:
		return withCode(ExitConfig, err)
	}
	hint := `run "rampart policy lint FILE" to check a policy file on its own`
	if len(files) > 0 {
		hint = fmt.Sprintf("run \"rampart policy lint %s\" to see every problem; nothing was decided", strings.Join(files, " "))
	}
	return withCode(ExitConfig, err, hint)
}
