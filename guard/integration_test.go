package guard_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/guard"
	"github.com/rampart-dev/rampart/server"
)

// builds holds the binaries the tests run, built once.
var builds = sync.OnceValues(func() (map[string]string, error) {
	dir := guard.TestBuildDir // removed by TestMain
	out := map[string]string{}
	steps := []struct {
		name string
		cmd  []string
		env  []string
	}{
		{"rampart", []string{"go", "build", "-o", filepath.Join(dir, "rampart"), "../cmd/rampart"}, nil},
		{"staticexec-go", []string{"go", "build", "-o", filepath.Join(dir, "staticexec-go"), "./testdata/staticexec"}, []string{"CGO_ENABLED=0"}},
		{"staticexec-c", []string{"gcc", "-static", "-O2", "-o", filepath.Join(dir, "staticexec-c"), "testdata/staticexec.c"}, nil},
		{"threads", []string{"gcc", "-O2", "-pthread", "-o", filepath.Join(dir, "threads"), "testdata/threads.c"}, nil},
		{"stealfd", []string{"gcc", "-O2", "-o", filepath.Join(dir, "stealfd"), "testdata/stealfd.c"}, nil},
	}
	for _, s := range steps {
		cmd := exec.Command(s.cmd[0], s.cmd[1:]...)
		cmd.Env = append(os.Environ(), s.env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, errors.New(strings.Join(s.cmd, " ") + ": " + err.Error() + "\n" + string(b))
		}
		out[s.name] = filepath.Join(dir, s.name)
	}
	return out, nil
})

type sandbox struct {
	t       *testing.T
	bin     map[string]string
	home    string
	key     string // a fake SSH key: copying it is denied by the standard profile
	stolen  string // where a denied copy would put it
	env     []string
	rampart string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	if err := guard.Supported(); err != nil {
		t.Fatalf("this machine cannot run the guard: %v", err)
	}
	bin, err := builds()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	s := &sandbox{t: t, bin: bin, home: home, rampart: bin["rampart"],
		key: filepath.Join(home, ".ssh", "id_rsa"), stolen: filepath.Join(home, "stolen")}
	os.MkdirAll(filepath.Dir(s.key), 0o700)
	os.WriteFile(s.key, []byte("FAKE-KEY-FOR-GUARD-TESTS\n"), 0o600)
	// The paths reach the programs through $K and $S: a command line
	// that names the key is denied before it starts.
	s.env = []string{"HOME=" + home, "RAMPART_HOME=" + filepath.Join(home, ".rampart"), "PATH=" + os.Getenv("PATH"),
		"RAMPART_PROFILE=standard", "LANG=C", "K=" + s.key, "S=" + s.stolen}
	// Make sure the stand-in is denied before running anything.
	check := exec.Command(s.rampart, "check", "--argv", "--", "/usr/bin/cp", s.key, s.stolen)
	check.Env = s.env
	if out, err := check.CombinedOutput(); err == nil || !strings.HasPrefix(string(out), "deny") {
		t.Fatalf("the stand-in is not denied by the policy: %s", out)
	}
	return s
}

type result struct {
	stdout, stderr string
	code           int
}

func (s *sandbox) run(stdin string, argv ...string) result {
	s.t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = s.env, s.home
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

func (s *sandbox) guarded(argv ...string) result {
	return s.run("", append([]string{s.rampart, "guard", "--"}, argv...)...)
}

func (s *sandbox) notStolen(what string) {
	s.t.Helper()
	if _, err := os.Stat(s.stolen); err == nil {
		s.t.Fatalf("%s: the denied exec ran (%s exists)", what, s.stolen)
	}
}

// Statically linked programs call execve directly: the guard still sees
// and stops their execs, with or without an environment.
func TestGuardStopsStaticBinaries(t *testing.T) {
	s := newSandbox(t)
	for _, prog := range []string{"staticexec-go", "staticexec-c"} {
		s.env = append(s.env, "EXEC_ARGV=/usr/bin/cp\n"+s.key+"\n"+s.stolen)
		res := s.guarded(s.bin[prog])
		s.notStolen(prog)
		if res.code == 0 || !strings.Contains(res.stderr, "rampart: blocked: /usr/bin/cp "+s.key) || !strings.Contains(strings.ToLower(res.stderr), "operation not permitted") {
			t.Errorf("%s: %+v", prog, res)
		}
		// The same program with an allowed exec works.
		s.env = append(s.env, "EXEC_ARGV=/usr/bin/true")
		if res := s.guarded(s.bin[prog]); res.code != 0 {
			t.Errorf("%s /usr/bin/true: %+v", prog, res)
		}
	}
}

// The usual ways out of LD_PRELOAD are no way out of the guard.
func TestGuardEscapes(t *testing.T) {
	s := newSandbox(t)
	for name, script := range map[string]string{
		"env -i":           `env -i /usr/bin/cp "$K" "$S"`,
		"unset LD_PRELOAD": `unset LD_PRELOAD; /usr/bin/cp "$K" "$S"`,
		"dynamic name":     `c=$(echo cp); $c "$K" "$S"`,
		"exec -a":          `exec -a innocent /usr/bin/cp "$K" "$S"`,
		"python execv":     `python3 -c 'import os; os.execv("/usr/bin/cp", ["cp", os.environ["K"], os.environ["S"]])'`,
	} {
		res := s.run("", s.rampart, "guard", "--", "bash", "-c", script+"; echo \"exit $?\"")
		s.notStolen(name)
		if !strings.Contains(res.stderr, "rampart: blocked:") {
			t.Errorf("%s: %+v", name, res)
		}
	}
}

// The tree runs as the same user as the guard, but cannot reach into it:
// taking its listener (pidfd_getfd, which Yama's default scope does not
// stop from a descendant where Yama is off) would let the tree answer its
// own execs.
func TestGuardListenerOutOfReach(t *testing.T) {
	s := newSandbox(t)
	cmd := exec.Command(s.rampart, "guard", "--", s.bin["stealfd"])
	cmd.Env, cmd.Dir = s.env, s.home
	if os.Geteuid() == 0 {
		// root's tree has CAP_SYS_PTRACE and reaches everything: play
		// an ordinary user.
		s.asNobody(cmd)
	}
	out, err := cmd.CombinedOutput()
	s.notStolen("stealfd")
	if !strings.Contains(string(out), "listener: refused") {
		t.Errorf("the tree took the guard's listener (%v): %s", err, out)
	}
}

// asNobody makes cmd run as the user nobody, who owns the sandbox's home
// and can run the built binaries.
func (s *sandbox) asNobody(cmd *exec.Cmd) {
	s.t.Helper()
	const nobody = 65534
	for _, dir := range []string{filepath.Dir(s.home), filepath.Dir(s.rampart)} {
		if err := os.Chmod(dir, 0o755); err != nil {
			s.t.Fatal(err)
		}
	}
	err := filepath.Walk(s.home, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, nobody, nobody)
	})
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
}

// Real programs run under the guard as they do without it, and what they
// start that the policy denies does not run.
func TestGuardRealPrograms(t *testing.T) {
	s := newSandbox(t)
	steal := `cp "$K" "$S"`
	cases := []struct {
		name  string
		argv  []string
		stdin string
		want  string // in stdout
	}{
		{"bash pipeline and subshells", []string{"bash", "-c", `echo one | tr a-z A-Z; (echo $(echo two)); c=cp; $c "$K" "$S" 2>/dev/null || echo denied`}, "", "ONE\ntwo\ndenied\n"},
		{"python3", []string{"python3", "-c", `
import os, subprocess
K, S = os.environ["K"], os.environ["S"]
print(subprocess.run(["echo", "py"], capture_output=True, text=True).stdout.strip())
print(subprocess.run("echo shell=True", shell=True, capture_output=True, text=True).stdout.strip())
try:
    subprocess.run(["cp", K, S])
    print("ran")
except PermissionError:
    print("denied")
print("system", os.system("cp $K $S 2>/dev/null") != 0)
try:
    os.posix_spawn("/usr/bin/cp", ["cp", K, S], os.environ)
    print("ran")
except PermissionError:
    print("spawn denied")
`}, "", "py\nshell=True\ndenied\nsystem True\nspawn denied\n"},
		{"node child_process", []string{"node", "-e", `
const cp = require("child_process");
console.log(cp.execSync("echo node").toString().trim());
try { cp.execFileSync("cp", [process.env.K, process.env.S], {stdio: "ignore"}); console.log("ran"); } catch (e) { console.log("denied"); }
`}, "", "node\ndenied\n"},
		{"make -j", []string{"make", "-s", "-j4", "-f", "-"}, "all: a b c d\na b c d:\n\t@echo $@\nsteal:\n\t" + steal + "\n", ""},
		{"git alias", []string{"git", "-c", "alias.steal=!" + steal, "steal"}, "", ""},
		{"xargs", []string{"bash", "-c", `echo "$K $S" | xargs cp 2>/dev/null; echo "xargs $?"`}, "", "xargs 1"},
		{"find -exec", []string{"bash", "-c", `find "$K" -exec cp {} "$S" ";"`}, "", ""},
		{"multi-threaded", []string{s.bin["threads"], "/usr/bin/true"}, "", "threads: 80 execs done\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := s.run(c.stdin, append([]string{s.rampart, "guard", "--"}, c.argv...)...)
			s.notStolen(c.name)
			if c.want != "" && !strings.Contains(res.stdout, c.want) {
				t.Errorf("stdout %q, want %q (stderr %s)", res.stdout, c.want, res.stderr)
			}
		})
	}
	// make runs the steal target: denied, so make fails.
	res := s.run("all:\n\t"+steal+"\n", s.rampart, "guard", "--", "make", "-s", "-f", "-")
	s.notStolen("make steal")
	if res.code == 0 || !strings.Contains(res.stderr, "rampart: blocked:") {
		t.Errorf("make steal: %+v", res)
	}
}

// Exit codes and signals of the guarded command come back unchanged; an
// unsupported setup says what to use instead.
func TestGuardExitCodes(t *testing.T) {
	s := newSandbox(t)
	if res := s.guarded("bash", "-c", "exit 7"); res.code != 7 {
		t.Errorf("exit 7: %+v", res)
	}
	if res := s.guarded("bash", "-c", "kill -TERM $$"); res.code != 143 {
		t.Errorf("SIGTERM: %+v", res)
	}
	if res := s.guarded("no-such-program-rampart"); res.code != 126 || !strings.Contains(res.stderr, "no-such-program-rampart") {
		t.Errorf("missing program: %+v", res)
	}
	// Monitor mode records and runs.
	res := s.run("", s.rampart, "guard", "--mode", "monitor", "--", "bash", "-c", `cp "$K" "$S"`)
	if res.code != 0 {
		t.Errorf("monitor: %+v", res)
	}
	if _, err := os.Stat(s.stolen); err != nil {
		t.Error("monitor mode blocked the copy")
	}
}

// SIGINT sent to rampart alone, not from a terminal (a harness stopping
// it), reaches the guarded command, which decides how it ends.
func TestGuardPassesSignals(t *testing.T) {
	s := newSandbox(t)
	started := filepath.Join(s.home, "started")
	script := `trap "exit 3" INT; touch "$1"; while :; do sleep 0.05; done`
	cmd := exec.Command(s.rampart, "guard", "--", "bash", "-c", script, "x", started)
	cmd.Env, cmd.Dir = s.env, s.home
	// Without a controlling terminal, however the tests are run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	for i := 0; ; i++ {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if i == 200 {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // rampart and its tree
			t.Fatal("the guarded command did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-waitErr:
	case <-time.After(10 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waitErr
		t.Fatal("SIGINT to rampart did not reach the guarded command")
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("exit code %d, want 3 (the command's trap)", code)
	}
}

// When the supervisor dies, the tree is not left hanging and not left
// unguarded: its later execs fail (ENOSYS) at once.
func TestGuardSupervisorDeath(t *testing.T) {
	s := newSandbox(t)
	started := filepath.Join(s.home, "started")
	result := filepath.Join(s.home, "result")
	script := `touch "$1"; while [ ! -e "$1.go" ]; do sleep 0.05; done; /usr/bin/true; echo "true exit $?" > "$2"`
	cmd := exec.Command(s.rampart, "guard", "--", "bash", "-c", script, "x", started, result)
	cmd.Env, cmd.Dir = s.env, s.home
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor := func(path string) {
		for i := 0; i < 200; i++ {
			if _, err := os.Stat(path); err == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s did not appear", path)
	}
	waitFor(started)
	cmd.Process.Kill() // the supervisor, not the tree
	cmd.Wait()
	os.WriteFile(started+".go", nil, 0o644)
	waitFor(result)
	time.Sleep(100 * time.Millisecond) // let echo finish writing
	data, _ := os.ReadFile(result)
	if got := strings.TrimSpace(string(data)); got != "true exit 126" {
		t.Fatalf("after the supervisor died: %q, want the exec refused (126)", got)
	}
}

// An ask holds the exec until a human answers through the running server.
func TestGuardAskWaitsForApproval(t *testing.T) {
	s := newSandbox(t)
	rampartHome := filepath.Join(s.home, ".rampart")
	os.MkdirAll(filepath.Join(rampartHome, "policies"), 0o700)
	os.WriteFile(filepath.Join(rampartHome, "policies", "ask.yaml"), []byte(`version: 1
policies:
  - name: test-ask
    match: {tool: exec}
    rules:
      - action: ask
        when:
          command_matches: ["*approved-marker*"]
        message: A test approval.
`), 0o600)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	serve := exec.Command(s.rampart, "serve", "--port", strconv.Itoa(port))
	serve.Env = s.env
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { serve.Process.Signal(os.Interrupt); serve.Wait() }()
	getenv := func(k string) string {
		for _, kv := range s.env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	var client *server.Client
	for i := 0; i < 100 && client == nil; i++ {
		if c, err := server.ClientFromEnv(getenv, rampartHome, time.Second); err == nil {
			if _, err := c.Health(context.Background()); err == nil {
				client = c
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if client == nil {
		t.Fatal("the server did not start")
	}
	for _, answer := range []string{"allow", "deny"} {
		marker := filepath.Join(s.home, "approved-marker-"+answer)
		cmd := exec.Command(s.rampart, "guard", "--", "bash", "-c", `t=touch; $t "$1"`, "x", marker)
		cmd.Env, cmd.Dir = s.env, s.home
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Answer every approval the run asks for (the bash exec and the
		// touch exec both name the marker) until it ends.
		done := make(chan struct{})
		var answered atomic.Int32
		go func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
				}
				pending, _ := client.Approvals(context.Background())
				for _, a := range pending {
					if _, err := client.Resolve(context.Background(), a.ID, server.Answer{Decision: answer, By: "tester"}); err == nil {
						answered.Add(1)
					}
				}
			}
		}()
		waitErr := make(chan error, 1)
		go func() { waitErr <- cmd.Wait() }()
		select {
		case <-waitErr:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the guarded command did not finish")
		}
		close(done)
		if answered.Load() == 0 {
			t.Errorf("%s: no approval was asked for", answer)
		}
		_, statErr := os.Stat(marker)
		if (answer == "allow") != (statErr == nil) {
			t.Errorf("%s: marker exists = %v", answer, statErr == nil)
		}
	}
}

// The gap the guard closes: under rampart preload (LD_PRELOAD) the same
// static binaries run their exec unchecked, while a dynamically linked
// program's exec is caught.
func TestPreloadShowsTheGap(t *testing.T) {
	s := newSandbox(t)
	// Dynamically linked: preload sees the exec and stops it.
	res := s.run("", s.rampart, "preload", "--", "bash", "-c", `cp "$K" "$S"`)
	s.notStolen("bash under preload")
	if res.code == 0 || !strings.Contains(res.stderr, "rampart: blocked:") {
		t.Fatalf("preload did not stop a dynamic program's exec (is librampart.so built? run make): %+v", res)
	}
	for _, prog := range []string{"staticexec-go", "staticexec-c"} {
		os.Remove(s.stolen)
		s.env = append(s.env, "EXEC_ARGV=/usr/bin/cp\n"+s.key+"\n"+s.stolen)
		res := s.run("", s.rampart, "preload", "--", s.bin[prog])
		if _, err := os.Stat(s.stolen); err != nil {
			t.Errorf("%s under preload: the copy did not happen, so this test shows no gap: %+v", prog, res)
		}
		if !strings.Contains(res.stderr, "statically linked") {
			t.Errorf("%s: preload did not warn that it cannot see a static binary: %q", prog, res.stderr)
		}
	}
}
