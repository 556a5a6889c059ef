package cli

import (
	"path/filepath"
	"slices"
	"strings"
)

// preloadSettings are the variables librampart.so reads (see
// docs/preload.md); rampart preload sets each one it has a value for and
// removes the others from the command's environment, so an outer setting
// cannot point the library somewhere else.
var preloadSettings = []string{
	"RAMPART_URL", "RAMPART_TOKEN", "RAMPART_MODE", "RAMPART_FAIL_OPEN",
	"RAMPART_DEBUG", "RAMPART_AGENT", "RAMPART_SESSION",
}

// preloadChildEnv returns environ with LD_PRELOAD starting with lib (any
// entries it had are kept after it, once) and the settings in set. Values
// that are "" are left out.
func preloadChildEnv(environ []string, lib string, set map[string]string) []string {
	out := make([]string, 0, len(environ)+len(set)+1)
	var preload string
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		switch {
		case name == "LD_PRELOAD":
			preload = value
		case slices.Contains(preloadSettings, name):
		default:
			out = append(out, kv)
		}
	}
	out = append(out, "LD_PRELOAD="+mergePreload(lib, preload))
	for _, name := range preloadSettings {
		if v := set[name]; v != "" {
			out = append(out, name+"="+v)
		}
	}
	return out
}

// mergePreload puts lib first in an LD_PRELOAD value (entries are separated
// by colons or spaces) and drops other copies of it and of older Rampart
// libraries, which a nested rampart preload would otherwise stack up.
func mergePreload(lib, existing string) string {
	entries := []string{lib}
	for _, e := range strings.FieldsFunc(existing, func(r rune) bool { return r == ':' || r == ' ' }) {
		base := filepath.Base(e)
		if e == lib || (strings.HasPrefix(base, "librampart") && strings.HasSuffix(base, ".so")) {
			continue
		}
		entries = append(entries, e)
	}
	return strings.Join(entries, ":")
}
