package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Lint must refuse a project policy that loading refuses: one that reuses
// the name of a profile policy.
func TestLintFileProjectReusesProfilePolicyName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".rampart")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "policy.yaml")
	src := `version: "1"
policies:
  - name: block-destructive
    rules:
      - {action: deny, when: {command_name: [foo]}}
`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, loadErr := Load(LoadOptions{Profile: "standard", Files: []string{}, ProjectDir: filepath.Dir(dir), Home: "/nonexistent"})
	if loadErr == nil {
		t.Fatal("Load accepted a project policy that replaces a profile policy")
	}
	_, _, err := LintFile(file, OriginProject)
	if err == nil {
		t.Fatalf("LintFile accepted what Load refuses: %v", loadErr)
	}
	if want := file + `:3:5: policy "block-destructive" already exists in profile:`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\ndoes not contain %q", err, want)
	}
	// The same file is a valid user policy: users may replace profile policies.
	if _, _, err := LintFile(file, OriginUser); err != nil {
		t.Errorf("as a user policy: %v", err)
	}
}
