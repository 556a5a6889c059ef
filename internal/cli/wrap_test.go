package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// wrapAgent runs "/bin/sh -c script" under rampart wrap with the process
// environment env (PATH is the test's) and returns the exit code and
// stdout. The agent runs no shell, so any file stands in for rampart-sh.
func wrapAgent(t *testing.T, env map[string]string, script string) (int, string) {
	t.Helper()
	proc, out, errOut := testProcess(t, env)
	for k, v := range env {
		t.Setenv(k, v)
	}
	err := wrapRun(&WrapOptions{Proc: proc, RampartSh: "/bin/true", Argv: []string{"/bin/sh", "-c", script}})
	var ee *exitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("wrap: %v (stderr %s)", err, errOut)
	}
	if ee != nil {
		return ee.code, out.String()
	}
	return ExitOK, out.String()
}

// An empty PATH entry is the working directory: without a PATH the agent
// must not get "SHIMS:", which runs a "git" planted in the project.
func TestWrapWithoutPathAddsNoEmptyEntry(t *testing.T) {
	code, out := wrapAgent(t, nil, `echo "$PATH"`)
	path := strings.TrimSpace(out)
	if code != ExitOK || strings.HasSuffix(path, ":") || strings.Contains(path, "::") || !strings.HasSuffix(path, ":"+defaultPath) {
		t.Errorf("exit %d, PATH %q", code, path)
	}
}

// --mode defaults to enforce, whatever RAMPART_MODE the caller had.
func TestWrapModeDefaultsToEnforce(t *testing.T) {
	code, out := wrapAgent(t, map[string]string{"RAMPART_MODE": "disabled"}, `echo "$RAMPART_MODE"`)
	if code != ExitOK || strings.TrimSpace(out) != "enforce" {
		t.Errorf("exit %d, RAMPART_MODE %q", code, out)
	}
}

// Signals sent to wrap reach the agent: SIGINT too when it does not come
// from a terminal (here stdin is not one).
func TestWrapPassesOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGUSR1, syscall.SIGWINCH} {
		ready := filepath.Join(t.TempDir(), "ready")
		go func() {
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if _, err := os.Stat(ready); err == nil {
					syscall.Kill(os.Getpid(), sig)
					return
				}
			}
		}()
		name := strings.TrimPrefix(unix.SignalName(sig), "SIG")
		// The agent gives up after about 5 s with exit 9.
		code, _ := wrapAgent(t, map[string]string{"PATH": os.Getenv("PATH")}, `trap 'exit 5' `+name+`; touch `+ready+`; i=0; while [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; exit 9`)
		if code != 5 {
			t.Errorf("%v: exit %d, want 5 (the agent's trap)", sig, code)
		}
	}
}
