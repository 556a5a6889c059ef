package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/rampart-dev/rampart/policies"
)

// LoadOptions say which policy sources [Load] reads.
type LoadOptions struct {
	// Profile is the embedded profile to start from ("" means
	// [policies.DefaultProfile]; "none" loads no profile).
	Profile string
	// RampartHome is the per-user directory ("" means $RAMPART_HOME, else
	// ~/.rampart). Its policies/*.yaml are loaded after the profile.
	RampartHome string
	// Files, when not nil, are loaded instead of RampartHome's policies.
	Files []string
	// ProjectDir is where the search for a project's .rampart/policy.yaml
	// starts ("" means no project policy).
	ProjectDir string
	// Home is the home directory for "~" in calls without their own.
	Home string
}

// DefaultRampartHome returns $RAMPART_HOME, else ~/.rampart, or "" when
// neither is known (never a relative path: inside a project that would be
// the project's own .rampart).
func DefaultRampartHome() string {
	if h := os.Getenv("RAMPART_HOME"); h != "" {
		if abs, err := filepath.Abs(h); err == nil {
			return abs
		}
		return h
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" || !filepath.IsAbs(home) {
		return ""
	}
	return filepath.Join(home, ".rampart")
}

// DefaultHome returns the user's home directory, or "" when unknown.
func DefaultHome() string {
	home, _ := os.UserHomeDir()
	return home
}

// ProfileSource returns the embedded profile name as a Source.
func ProfileSource(name string) (Source, error) {
	data, ok := policies.Profile(name)
	if !ok {
		return Source{}, fmt.Errorf("unknown profile %q (available: %s)", name, strings.Join(policies.Names(), ", "))
	}
	return Source{Name: name, Path: "profile:" + name, Data: data, Origin: OriginProfile}, nil
}

// Sources returns the sources Load would compile, in order.
func (o LoadOptions) Sources() ([]Source, error) {
	return o.sources(true)
}

// sources is Sources; without profileData the profile's Source has no
// Data (see withProfileData).
func (o LoadOptions) sources(profileData bool) ([]Source, error) {
	var out []Source
	profile := o.Profile
	if profile == "" {
		profile = policies.DefaultProfile
	}
	if profile != "none" {
		src := Source{Name: profile, Path: "profile:" + profile, Origin: OriginProfile}
		if profileData || !slices.Contains(policies.Names(), profile) {
			var err error
			if src, err = ProfileSource(profile); err != nil {
				return nil, err
			}
		}
		out = append(out, src)
	}
	files := o.Files
	if files == nil {
		home := o.RampartHome
		if home == "" {
			home = DefaultRampartHome()
		}
		if home != "" {
			matches, err := filepath.Glob(filepath.Join(home, "policies", "*.yaml"))
			if err != nil {
				return nil, err
			}
			more, _ := filepath.Glob(filepath.Join(home, "policies", "*.yml"))
			files = append(matches, more...)
			sort.Strings(files)
		}
	}
	for _, f := range files {
		src, err := fileSource(f, OriginUser)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	if o.ProjectDir != "" {
		if f := FindProjectPolicy(o.ProjectDir, o.Home); f != "" {
			src, err := fileSource(f, OriginProject)
			if err != nil {
				return nil, err
			}
			src.Name = "project" // decisions read project/<policy>, not policy/<policy>
			out = append(out, src)
		}
	}
	return out, nil
}

// withProfileData fills in the Data of a profile source that sources left
// empty: reading an embedded profile copies it, which a Program from the
// cache does not need.
func withProfileData(srcs []Source) ([]Source, error) {
	for i, src := range srcs {
		if src.Origin == OriginProfile && src.Data == nil {
			full, err := ProfileSource(src.Name)
			if err != nil {
				return nil, err
			}
			srcs[i] = full
		}
	}
	return srcs, nil
}

func fileSource(path string, origin Origin) (Source, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Source{}, &PolicyError{File: path, Msg: fmt.Sprintf("cannot read policy file: %v", errorsUnwrap(err))}
	}
	return Source{Name: sourceName(path), Path: path, Data: data, Origin: origin}, nil
}

func errorsUnwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// FindProjectPolicy looks for .rampart/policy.yaml in dir and its parents,
// stopping at the root of a git work tree and never reading the home
// directory itself (~/.rampart is the user's, not a project's).
func FindProjectPolicy(dir, home string) string {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		if home == "" || filepath.Clean(dir) != filepath.Clean(home) {
			f := filepath.Join(dir, ".rampart", "policy.yaml")
			if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
				return f
			}
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Load reads the sources o names and compiles them. See [Compile], and
// [LoadCached] for a process that loads the same sources again and again.
func Load(o LoadOptions) (*Program, error) {
	srcs, err := o.Sources()
	if err != nil {
		return nil, err
	}
	return Compile(Options{Home: o.home()}, srcs...)
}

// home is o.Home, else the user's home directory.
func (o LoadOptions) home() string {
	if o.Home == "" {
		return DefaultHome()
	}
	return o.Home
}

// LintFile validates one policy file on its own, read as coming from origin
// (a project file also reports what a project may not do), and returns the
// warnings loading it produces. The error, if any, lists every problem found.
// A project file is also compiled after each embedded profile, so lint
// refuses what loading it with any profile would refuse.
func LintFile(path string, origin Origin) (*Program, []string, error) {
	src, err := fileSource(path, origin)
	if err != nil {
		return nil, nil, err
	}
	opts := Options{Home: DefaultHome()}
	if origin == OriginProject {
		// A project policy loads after a profile and may not reuse the
		// name of one of its policies. The file is shared by people who
		// may use any profile, so it is checked against each of them.
		names := []string{policies.DefaultProfile} // first: most people use it
		for _, name := range policies.Names() {
			if name != policies.DefaultProfile {
				names = append(names, name)
			}
		}
		for _, name := range names {
			profile, err := ProfileSource(name)
			if err != nil {
				return nil, nil, err
			}
			if _, err := Compile(opts, profile, src); err != nil {
				return nil, nil, err
			}
		}
	}
	prog, err := Compile(opts, src)
	if err != nil {
		return nil, nil, err
	}
	return prog, prog.Warnings(), nil
}
