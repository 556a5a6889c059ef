package integrations

import (
	"os"
	"path/filepath"
	"strings"
)

// Detection says whether an agent is installed, and what showed it.
type Detection struct {
	Found bool `json:"found"`
	// Evidence lists what was found: "cursor on PATH", "~/.cursor".
	Evidence []string `json:"evidence,omitempty"`
}

// Detector looks for an agent's programs on $PATH and its folders.
type Detector struct {
	// Binaries are program names looked for on $PATH.
	Binaries []string
	// Dirs are folders that only the agent creates, relative to the home
	// (or absolute). A name may end in "*" to match a prefix, for editor
	// extensions whose folder names carry a version.
	Dirs []string
	// EnvDirs are environment variables that name the agent's folder
	// ($CLAUDE_CONFIG_DIR); set to an existing folder, they count too.
	EnvDirs []string
}

// Detect looks for d's programs and folders in env.
func (d Detector) Detect(env Env) Detection {
	var det Detection
	for _, name := range d.Binaries {
		if LookPath(env, name) != "" {
			det.Evidence = append(det.Evidence, name+" on PATH")
		}
	}
	for _, v := range d.EnvDirs {
		if dir := env.getenv(v); dir != "" && isDir(dir) {
			det.Evidence = append(det.Evidence, "$"+v)
		}
	}
	for _, dir := range d.Dirs {
		path := dir
		if !filepath.IsAbs(path) {
			if env.Home == "" {
				continue
			}
			path = filepath.Join(env.Home, dir)
		}
		if strings.HasSuffix(path, "*") {
			matches, _ := filepath.Glob(path)
			for _, m := range matches {
				if isDir(m) {
					det.Evidence = append(det.Evidence, tildePath(env, m))
					break
				}
			}
			continue
		}
		if isDir(path) {
			det.Evidence = append(det.Evidence, tildePath(env, path))
		}
	}
	det.Found = len(det.Evidence) > 0
	return det
}

// LookPath finds an executable name in env's $PATH ("" when there is
// none). It reads env, not this process's environment, so tests and
// callers decide where to look; relative $PATH entries are skipped.
func LookPath(env Env, name string) string {
	for _, dir := range filepath.SplitList(env.getenv("PATH")) {
		if dir == "" {
			continue
		}
		path := filepath.Join(dir, name)
		if isExecutableFile(path) {
			return path
		}
	}
	return ""
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// tildePath writes a path inside the home as ~/...: shorter, and the same
// on every machine.
func tildePath(env Env, path string) string {
	if env.Home != "" {
		if rel, err := filepath.Rel(env.Home, path); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			return "~/" + rel
		}
	}
	return path
}
