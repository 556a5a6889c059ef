package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// rampart wrap runs a real agent (here bash and python3 scripts) with
// rampart-sh as its shell: allowed commands run, denied ones do not, the
// agent's exit code comes back, and the summary counts the decisions.
func TestWrapRunsAgentWithRampartSh(t *testing.T) {
	dir := t.TempDir()
	sh := filepath.Join(dir, "rampart-sh")
	if out, err := exec.Command("go", "build", "-o", sh, "../../cmd/rampart-sh").CombinedOutput(); err != nil {
		t.Fatalf("build rampart-sh: %v\n%s", err, out)
	}
	proc, out, errOut := testProcess(t, nil)
	home := proc.Home()
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "id_rsa"), []byte("FAKE-KEY\n"), 0o600)
	env := map[string]string{"HOME": home, "RAMPART_HOME": filepath.Join(home, ".rampart"), "PATH": os.Getenv("PATH"), "RAMPART_PROFILE": "standard"}
	proc.Getenv = func(k string) string { return env[k] }
	for k, v := range env {
		t.Setenv(k, v) // the agent inherits the process environment
	}
	ok, bad := filepath.Join(home, "ok"), filepath.Join(home, "bad")
	agent := `"$SHELL" -c 'touch ` + ok + `'; bash -c 'touch ` + bad + ` && cat ~/.ssh/id_rsa'; echo "prefix=$CLAUDE_CODE_SHELL_PREFIX"; exit 3`
	err := wrapRun(&WrapOptions{Proc: proc, RampartSh: sh, Argv: []string{"/bin/bash", "-c", agent}})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 3 {
		t.Fatalf("exit: %v (stderr %s)", err, errOut)
	}
	if _, err := os.Stat(ok); err != nil {
		t.Error("the allowed command did not run")
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("the denied command ran")
	}
	if !strings.Contains(out.String(), "prefix="+sh) {
		t.Errorf("CLAUDE_CODE_SHELL_PREFIX not set: %s", out)
	}
	if !strings.Contains(errOut.String(), "rampart: blocked: touch "+bad) || !strings.Contains(errOut.String(), "rampart wrap: 2 commands checked, 1 blocked (session wrap-") {
		t.Errorf("stderr: %s", errOut)
	}
	// The shim folder is gone afterwards.
	if m, _ := filepath.Glob(filepath.Join(home, ".rampart", "run", "shims-*")); len(m) != 0 {
		t.Errorf("shims left behind: %v", m)
	}
}
