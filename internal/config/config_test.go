package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, in, want, err string
	}{
		{name: "empty", in: ""},
		{name: "comments only", in: "# nothing here\n"},
		{name: "profile", in: "profile: yolo\n", want: "yolo"},
		{name: "none", in: "profile: none\n", want: "none"},
		{name: "unknown key", in: "profile: yolo\nprofle: x\n", err: `c.yaml:2:1: unknown key "profle" (did you mean "profile"?)`},
		{name: "unknown profile", in: "profile: yolow\n", err: `c.yaml:1:10: unknown profile "yolow" (did you mean "yolo"?)`},
		{name: "not a string", in: "profile: [a]\n", err: "c.yaml:1:10: profile: want a profile name"},
		{name: "duplicate", in: "profile: yolo\nprofile: none\n", err: `c.yaml:2:1: duplicate key "profile"`},
		{name: "not a mapping", in: "- a\n", err: "c.yaml:1:1: want a mapping"},
		{name: "bad yaml", in: "profile: [\n", err: "c.yaml:1:1: invalid YAML: did not find expected node content"},
		{name: "bad yaml without a line", in: "profile: \"\xff\"\n", err: "c.yaml: invalid YAML: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(c.in))
			if c.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.err) {
					t.Fatalf("err = %v, want prefix %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Profile != c.want {
				t.Errorf("profile = %q, want %q", cfg.Profile, c.want)
			}
		})
	}
}

func TestLoadMissingIsZero(t *testing.T) {
	cfg, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err != nil || cfg != (Config{}) {
		t.Fatalf("Load = %+v, %v", cfg, err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, Marshal(Config{Profile: "yolo"}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil || cfg.Profile != "yolo" {
		t.Fatalf("Load = %+v, %v", cfg, err)
	}
}
