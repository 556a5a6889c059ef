package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/engine"
)

// run executes args against a root whose command named name is replaced by
// replacement (built with a capturing runF).
func run(t *testing.T, replacement func(*Process) *cobra.Command, args ...string) (int, string) {
	t.Helper()
	proc, _, errOut := testProcess(t, nil)
	root := NewCmdRoot(proc)
	if replacement != nil {
		repl := replacement(proc)
		parent := root
		if repl.Name() != "init" && repl.Name() != "version" {
			parent, _, _ = root.Find([]string{"policy"})
		}
		for _, c := range parent.Commands() {
			if c.Name() == repl.Name() {
				parent.RemoveCommand(c)
			}
		}
		parent.AddCommand(repl)
	}
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		return report(errOut, err), errOut.String()
	}
	return ExitOK, errOut.String()
}

func TestOtherCommandsFlagParsing(t *testing.T) {
	var lint *PolicyLintOptions
	code, stderr := run(t, func(p *Process) *cobra.Command {
		return NewCmdPolicyLint(p, func(o *PolicyLintOptions) error { lint = o; return nil })
	}, "policy", "lint", "a.yaml", "b.yaml")
	if code != 0 || lint == nil || !slices.Equal(lint.Files, []string{"a.yaml", "b.yaml"}) {
		t.Errorf("policy lint: exit %d %s %+v", code, stderr, lint)
	}

	var list *PolicyListOptions
	code, stderr = run(t, func(p *Process) *cobra.Command {
		return NewCmdPolicyList(p, func(o *PolicyListOptions) error { list = o; return nil })
	}, "policy", "list", "--json", "--profile", "yolo", "--cwd", "/tmp")
	if code != 0 || list == nil || !list.JSON || list.Sources.Profile != "yolo" || list.Sources.Cwd != "/tmp" {
		t.Errorf("policy list: exit %d %s %+v", code, stderr, list)
	}

	var show *PolicyShowOptions
	code, stderr = run(t, func(p *Process) *cobra.Command {
		return NewCmdPolicyShow(p, func(o *PolicyShowOptions) error { show = o; return nil })
	}, "policy", "show", "yolo")
	if code != 0 || show == nil || show.Name != "yolo" {
		t.Errorf("policy show: exit %d %s %+v", code, stderr, show)
	}

	var ini *InitOptions
	code, stderr = run(t, func(p *Process) *cobra.Command {
		return NewCmdInit(p, func(o *InitOptions) error { ini = o; return nil })
	}, "init", "--profile", "none", "--force")
	if code != 0 || ini == nil || ini.Profile != "none" || !ini.Force {
		t.Errorf("init: exit %d %s %+v", code, stderr, ini)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"chek", "rm", "-rf", "/"}, `did you mean "rampart check"?`},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"policy", "lsit"}, `did you mean "rampart policy list"?`},
		{[]string{"policy", "lint"}, "missing the policy FILE to lint"},
		{[]string{"policy", "show"}, "available profiles: "},
		{[]string{"policy", "show", "yolow"}, `unknown profile "yolow" (did you mean "yolo"?)`},
		{[]string{"policy", "list", "extra"}, "takes no arguments"},
		{[]string{"init", "--profile", "x"}, `--profile: unknown profile "x"`},
		{[]string{"version", "x"}, "takes no arguments"},
	} {
		code, stderr := run(t, nil, c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "rampart: hint: ") {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit 64, a hint and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestInitTemplateLints keeps the file "rampart init" writes valid, free of
// warnings, and without active rules as the engine evolves.
func TestInitTemplateLints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custom.yaml")
	if err := os.WriteFile(path, customTemplate, 0o600); err != nil {
		t.Fatal(err)
	}
	prog, warnings, err := engine.LintFile(path, engine.OriginUser)
	if err != nil {
		t.Fatalf("the init template does not load:\n%v", err)
	}
	if len(warnings) > 0 {
		t.Errorf("the init template has warnings: %q", warnings)
	}
	if n := len(prog.Policies()); n != 0 {
		t.Errorf("the init template has %d active policies, want 0", n)
	}
	// Every example must be valid when switched on.
	on := strings.ReplaceAll(string(customTemplate), "enabled: false", "enabled: true")
	if err := os.WriteFile(path, []byte(on), 0o600); err != nil {
		t.Fatal(err)
	}
	prog, _, err = engine.LintFile(path, engine.OriginUser)
	if err != nil {
		t.Fatalf("the init template's examples do not compile when enabled:\n%v", err)
	}
	if len(prog.Policies()) == 0 {
		t.Errorf("enabling the examples activated nothing")
	}
}

// TestNoHomeReadsNoUserPolicies: without HOME and RAMPART_HOME nothing is
// read from a guessed place such as ./.rampart (a project's, which must
// never count as the user's).
func TestNoHomeReadsNoUserPolicies(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".rampart", "policies"), 0o700); err != nil {
		t.Fatal(err)
	}
	notAConfig := "version: \"1\"\npolicies: []\n" // would fail to load if read
	if err := os.WriteFile(filepath.Join(dir, ".rampart", "policies", "x.yaml"), []byte("not: valid"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".rampart", "config.yaml"), []byte(notAConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	proc, out, errOut := testProcess(t, nil)
	proc.Getenv = func(string) string { return "" }
	proc.Getwd = func() (string, error) { return dir, nil }
	if code := Main([]string{"check", "--json", "--", "ls"}, proc); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), `"decision":"allow"`) {
		t.Errorf("unexpected output %s", out)
	}
	if code := Main([]string{"init"}, proc); code != ExitCantCreate {
		t.Errorf("init without a home: exit %d, want %d", code, ExitCantCreate)
	}
}
