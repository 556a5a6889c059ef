package shellwrap

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A program that keeps one shell running and writes it a command at a
// time, reading each one's output before it sends the next, never closes
// the shell's stdin: each command runs when it arrives, and a denied line
// does not run, not even its allowed parts.
func TestStreamOnAPipeThatStaysOpen(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	home, env := sandboxEnv(t)
	marker := filepath.Join(home, "marker")
	userEnv := filepath.Join(home, "bash_env")
	os.WriteFile(userEnv, []byte("FROM_BASH_ENV=yes\n"), 0o644)
	cmd := exec.Command(sh)
	cmd.Env, cmd.Dir = append(env, "BASH_ENV="+userEnv), home
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Whatever happens, the shell does not outlive the test.
	stop := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer stop.Stop()
	lines := bufio.NewReader(stdout)
	// ask sends one command line and returns what it printed, up to the
	// line that says it is done.
	ask := func(line string) string {
		t.Helper()
		if _, err := io.WriteString(stdin, line+"\necho __done__\n"); err != nil {
			t.Fatalf("write %q: %v", line, err)
		}
		var out strings.Builder
		for {
			l, err := lines.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v (the shell waited for its stdin to end?)\nstdout so far %q\nstderr:\n%s", line, err, out.String(), stderr.String())
			}
			if l == "__done__\n" {
				return out.String()
			}
			out.WriteString(l)
		}
	}
	if got := ask("echo hello"); got != "hello\n" {
		t.Errorf("echo hello: %q", got)
	}
	if got := ask("touch " + marker + " && cat ~/.ssh/id_rsa && echo leaked"); got != "" {
		t.Errorf("the denied line printed %q", got)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the allowed part of a denied line ran")
	}
	if got := ask("x=5; echo $((x*2)) $FROM_BASH_ENV $BASH_ENV"); got != "10 yes "+userEnv+"\n" {
		t.Errorf("state, the caller's BASH_ENV read and put back: %q", got)
	}
	if got := ask("for i in 1 2; do\n  echo n$i\ndone"); got != "n1\nn2\n" {
		t.Errorf("a command over several lines: %q", got)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "rampart: blocked: touch "+marker+" && cat ~/.ssh/id_rsa && echo leaked\n") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if m, _ := filepath.Glob(filepath.Join(home, ".rampart", "run", "*")); len(m) != 0 {
		t.Errorf("startup files left: %v", m)
	}
}

func TestStdinStays(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w.WriteString("echo hi\n")
	if !stdinStays(r, 50*time.Millisecond) {
		t.Error("a pipe whose writer is open: not a stream")
	}
	w.Close()
	if stdinStays(r, 5*time.Second) {
		t.Error("a closed pipe with a script in it: a stream")
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if stdinStays(f, 5*time.Second) {
		t.Error("a device: a stream")
	}
}

// runStream runs argv with input written to its stdin, which stays open
// until the output ends: rampart-sh takes it for a stream.
func runStream(t *testing.T, env []string, input, dir string, argv ...string) shellResult {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = env, dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer stop.Stop()
	time.Sleep(2 * stdinSettle) // open, and nothing written yet
	io.WriteString(stdin, input+"exit\n")
	err = cmd.Wait()
	stdin.Close()
	return shellResult{out.String(), errOut.String(), exitCode(t, err)}
}
