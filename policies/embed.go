// Package policies holds the embedded policy profiles and their test corpora.
package policies

import (
	"embed"
	"sort"
	"strings"
)

//go:embed *.yaml
var profiles embed.FS

// DefaultProfile is the profile used when none is chosen.
const DefaultProfile = "standard"

// Profile returns the YAML of the embedded profile name.
func Profile(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, false
	}
	data, err := profiles.ReadFile(name + ".yaml")
	return data, err == nil
}

// Names lists the embedded profiles, sorted.
func Names() []string {
	entries, _ := profiles.ReadDir(".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}
