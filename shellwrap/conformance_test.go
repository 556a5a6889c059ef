package shellwrap

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// shBuildDir holds the rampart-sh the tests build; TestMain removes it.
var shBuildDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if shBuildDir != "" {
		os.RemoveAll(shBuildDir)
	}
	os.Exit(code)
}

// rampartSh builds cmd/rampart-sh once for the tests that run it for real.
var rampartSh = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "rampart-sh-test-")
	if err != nil {
		return "", err
	}
	shBuildDir = dir
	bin := filepath.Join(dir, "rampart-sh")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/rampart-sh").CombinedOutput()
	if err != nil {
		return "", errors.New("go build ../cmd/rampart-sh: " + err.Error() + "\n" + string(out))
	}
	return bin, nil
})

// sandboxEnv is a throwaway HOME and RAMPART_HOME with a fake SSH key.
func sandboxEnv(t *testing.T) (home string, env []string) {
	t.Helper()
	home = t.TempDir()
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "id_rsa"), []byte("FAKE-KEY-FOR-TESTS\n"), 0o600)
	env = []string{"HOME=" + home, "RAMPART_HOME=" + filepath.Join(home, ".rampart"), "PATH=" + os.Getenv("PATH"), "LANG=C", "RAMPART_PROFILE=standard"}
	return home, env
}

type shellResult struct {
	stdout, stderr string
	code           int
}

func runShell(t *testing.T, env []string, stdin string, dir string, argv ...string) shellResult {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	code := exitCode(t, cmd.Run())
	return shellResult{out.String(), errOut.String(), code}
}

// exitCode is the shell's exit code from cmd.Run's or cmd.Wait's error
// (128+N when signal N ended it).
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return 0
}

// Every allowed snippet behaves exactly as under bash: same stdout,
// stderr and exit code.
func TestConformanceWithBash(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	_, env := sandboxEnv(t)
	dir := t.TempDir()
	snippets := []struct {
		cmd   string
		args  []string
		stdin string
	}{
		{cmd: `echo "a  b" 'c  d' $'e\tf' "$((6*7))"`},
		{cmd: `printf '%s\n' "$0" "$1" "$#" "$@"`, args: []string{"zero", "one", "two words"}},
		{cmd: "cat <<EOF\nhere $((1+1))\nEOF\ncat <<'EOF'\nliteral $HOME\nEOF"},
		{cmd: `printf 'b\na\nc\n' | sort | tr a-z A-Z | head -2`},
		{cmd: `set -e; true; false; echo not reached`},
		{cmd: `set -o pipefail; false | true; echo "status $?"`},
		{cmd: `trap 'echo trapped $?' EXIT; exit 5`},
		{cmd: `f() { return 3; }; f; echo "f=$?"; (exit 4); echo "sub=$?"`},
		{cmd: `no-such-command-rampart-test`},
		{cmd: `echo to-stderr >&2; exit 2`},
		{cmd: `read a b; echo "[$a] [$b]"; cat`, stdin: "one two three\nrest of stdin\n"},
		{cmd: `while read -r l; do echo "<$l>"; done`, stdin: "x\ny\n"},
		{cmd: `kill -TERM $$; echo not reached`},
		{cmd: `x=1; { x=2; }; (x=3); echo $x; echo ${UNSET:-default} ${#HOME}`},
		{cmd: `for i in 1 2 3; do case $i in 2) continue;; esac; echo $i; done`},
		{cmd: `cd / && pwd; cd - >/dev/null; echo back`},
		{cmd: `echo 'rm -rf /' > notes.txt; cat notes.txt; rm notes.txt`},
		{cmd: `exit 300`},
	}
	for _, s := range snippets {
		argvBash := append([]string{"bash", "-c", s.cmd}, s.args...)
		argvSh := append([]string{sh, "-c", s.cmd}, s.args...)
		want := runShell(t, env, s.stdin, dir, argvBash...)
		got := runShell(t, env, s.stdin, dir, argvSh...)
		if got != want {
			t.Errorf("%q:\nrampart-sh: %+v\nbash:       %+v", s.cmd, got, want)
		}
	}
	// The other calling forms too.
	for _, argv := range [][]string{{"-lc", "echo login"}, {"-c", "-l", "echo $0", "name"}, {"-e", "-o", "pipefail", "-c", "false | true; echo no"}, {"--norc", "-c", "echo norc"}} {
		want := runShell(t, env, "", dir, append([]string{"bash"}, argv...)...)
		got := runShell(t, env, "", dir, append([]string{sh}, argv...)...)
		if got != want {
			t.Errorf("%q:\nrampart-sh: %+v\nbash:       %+v", argv, got, want)
		}
	}
}

// What the policies deny does not run: exit 126, the reason on stderr, and
// a marker that the command would create is absent, in every calling form.
func TestDeniedCommandsDoNotRun(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	home, env := sandboxEnv(t)
	marker := filepath.Join(home, "marker")
	denied := "touch " + marker + " && cat ~/.ssh/id_rsa"
	script := filepath.Join(home, "script.sh")
	os.WriteFile(script, []byte("#!/bin/bash\n"+denied+"\n"), 0o755)
	forms := map[string][]string{
		"-c":     {sh, "-c", denied},
		"-lc":    {sh, "-lc", denied},
		"script": {sh, script},
		"prefix": {sh, "eval '" + denied + "' < /dev/null && pwd -P >| " + filepath.Join(home, "cwd")},
	}
	for name, argv := range forms {
		res := runShell(t, env, "", home, argv...)
		if res.code != ExitBlocked || !strings.HasPrefix(res.stderr, "rampart: blocked: ") || res.stdout != "" {
			t.Errorf("%s: %+v", name, res)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s: the denied command ran", name)
		}
	}
	res := runShell(t, env, denied+"\n", home, sh, "-s")
	if res.code != ExitBlocked {
		t.Errorf("stdin: %+v", res)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("stdin: the denied command ran")
	}
	// Monitor mode records but runs.
	res = runShell(t, append(env, "RAMPART_MODE=monitor"), "", home, sh, "-c", denied)
	if res.code != 0 || !strings.Contains(res.stdout, "FAKE-KEY") {
		t.Errorf("monitor: %+v", res)
	}
	data, _ := os.ReadFile(filepath.Join(home, ".rampart", "audit", mustOneFile(t, filepath.Join(home, ".rampart", "audit"))))
	if n := strings.Count(string(data), `"decision":"deny"`); n != 6 {
		t.Errorf("%d deny records in the audit trail, want 6:\n%s", n, data)
	}
}

func mustOneFile(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(m) != 1 {
		t.Fatalf("audit files %v", m)
	}
	return filepath.Base(m[0])
}

// A script file (as run through its #! line) with command names in
// variables runs, flagged as log; its literal denied commands still stop it.
func TestScriptWithDynamicNames(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	home, env := sandboxEnv(t)
	script := filepath.Join(home, "tool.sh")
	// $(type -P ...) is known only when it runs ($(echo readlink) the
	// engine reads without running it).
	os.WriteFile(script, []byte("#!/usr/bin/env bash\nREADLINK=$(type -P readlink)\nout=$($READLINK -f .)\necho \"ok $out\"\n"), 0o755)
	res := runShell(t, env, "", home, sh, script)
	if res.code != 0 || !strings.HasPrefix(res.stdout, "ok ") {
		t.Fatalf("%+v", res)
	}
	// The same as a -c command an agent typed is an ask (denied without a server).
	res = runShell(t, env, "", home, sh, "-c", "READLINK=$(type -P readlink); out=$($READLINK -f .); echo \"ok $out\"")
	if res.code != ExitBlocked {
		t.Fatalf("-c: %+v", res)
	}
}

// Every spelling bash reads as -c, and a script bash finds on PATH, is
// checked: a denied command does not run.
func TestDeniedInEveryOptionSpelling(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	home, env := sandboxEnv(t)
	marker := filepath.Join(home, "marker")
	denied := "touch " + marker + " && cat ~/.ssh/id_rsa"
	bin := filepath.Join(home, "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "tool.sh"), []byte(denied+"\n"), 0o644)
	forms := [][]string{
		{"+c", denied},
		{"+", "-c", denied},
		{"+eo", "pipefail", "-c", denied},
		{"-noprofile", "-c", denied, "x", "y"},
		{"-rcfile", "/dev/null", "-c", denied},
		{"tool.sh"},
	}
	for _, args := range forms {
		res := runShell(t, append(env, "PATH="+bin+":"+os.Getenv("PATH")), "", t.TempDir(), append([]string{sh}, args...)...)
		if res.code != ExitBlocked || !strings.HasPrefix(res.stderr, "rampart: blocked: ") {
			t.Errorf("%q: %+v", args, res)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%q: the denied command ran", args)
		}
	}
	// -o and +O without a value list the options, then bash reads stdin.
	for _, opt := range []string{"-o", "+O"} {
		res := runShell(t, env, denied+"\n", home, sh, opt)
		if res.code != ExitBlocked {
			t.Errorf("%s with a script on stdin: %+v", opt, res)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s: the denied command ran", opt)
		}
	}
	// --version prints without waiting for stdin to end.
	want := runShell(t, env, "", home, "bash", "--version")
	if got := runShell(t, env, denied+"\n", home, sh, "--version"); got != want {
		t.Errorf("--version: %+v, want %+v", got, want)
	}
}

// bash <(...) and bash /dev/stdin run the script rampart-sh read to check
// it; a script too large to check whole does not run.
func TestScriptFromAPipeAndTooLarge(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	home, env := sandboxEnv(t)
	res := runShell(t, env, "", home, "bash", "-c", `"$0" <(printf 'echo from-procsub "$@"\n') a b`, sh)
	if res.code != 0 || res.stdout != "from-procsub a b\n" {
		t.Errorf("<(...): %+v", res)
	}
	res = runShell(t, env, "echo from-stdin\nexit 3\n", home, sh, "/dev/stdin")
	if res.code != 3 || res.stdout != "from-stdin\n" {
		t.Errorf("/dev/stdin: %+v", res)
	}
	marker := filepath.Join(home, "marker")
	big := filepath.Join(home, "big.sh")
	script := strings.Repeat("# padding to make the script too large to check\n", maxScript/48+1) + "touch " + marker + "\n"
	os.WriteFile(big, []byte(script), 0o644)
	res = runShell(t, env, "", home, sh, big)
	if res.code != ExitBlocked || !strings.HasPrefix(res.stderr, "rampart: blocked: "+big+": a script larger than 16 MiB") {
		t.Errorf("too large: %+v", res)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the script too large to check ran")
	}
}
