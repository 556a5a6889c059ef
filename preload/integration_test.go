package preload_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
)

// The integration tests run real programs under `rampart preload`, built
// from this checkout with the library built by preload/Makefile. Each test
// has a throwaway Rampart home with tests/policy.yaml, whose rules deny
// harmless stand-ins: `touch` of a file named rampart-denied*, and ask about
// rampart-ask*. A stand-in that ran leaves its marker file behind.

var build struct {
	once    sync.Once
	dir     string
	rampart string
	lib     string
	threads string
	static  string
	// nomalloc counts mallocs during a check (tests/nomalloc.c).
	nomalloc string
	err      error
}

// built builds the library, the test helpers and rampart (once).
func built(t testing.TB) {
	t.Helper()
	build.once.Do(func() {
		if _, err := exec.LookPath("cc"); err != nil {
			build.err = errors.New("no C compiler (cc) to build librampart.so: install gcc")
			return
		}
		mk := exec.Command("make", "--no-print-directory", "all", "helpers")
		if out, err := mk.CombinedOutput(); err != nil {
			build.err = errors.New("make -C preload: " + err.Error() + "\n" + string(out))
			return
		}
		abs, _ := filepath.Abs(".")
		build.lib = filepath.Join(abs, "lib", "librampart.so")
		build.threads = filepath.Join(abs, "build", "threads")
		build.static = filepath.Join(abs, "build", "static_hello")
		build.nomalloc = filepath.Join(abs, "build", "nomalloc")
		if build.dir, build.err = os.MkdirTemp("", "rampart-preload-bin-"); build.err != nil {
			return
		}
		build.rampart = filepath.Join(build.dir, "rampart")
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		gb := exec.Command(goTool, "build", "-o", build.rampart, "./cmd/rampart")
		gb.Dir = ".."
		if out, err := gb.CombinedOutput(); err != nil {
			build.err = errors.New("go build ./cmd/rampart: " + err.Error() + "\n" + string(out))
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// need skips the test when a program it drives is not installed.
func need(t *testing.T, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed", p)
		}
	}
}

// sandbox is a throwaway Rampart home, HOME and working directory.
type sandbox struct {
	t       *testing.T
	dir     string
	home    string // RAMPART_HOME
	user    string // HOME
	work    string // the working directory of every command
	session string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	built(t)
	dir := t.TempDir()
	s := &sandbox{t: t, dir: dir, home: filepath.Join(dir, "rampart"), user: filepath.Join(dir, "user"),
		work: filepath.Join(dir, "work"), session: "preload-test-" + strings.ReplaceAll(t.Name(), "/", "-")}
	for _, d := range []string{filepath.Join(s.home, "policies"), filepath.Join(s.user, ".ssh"), s.work} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	policy, err := os.ReadFile("tests/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.write(filepath.Join(s.home, "policies", "preload-test.yaml"), string(policy))
	// A fake private key: the standard profile denies reading it.
	s.write(filepath.Join(s.user, ".ssh", "id_rsa"), "FAKE-PRIVATE-KEY-CONTENT\n")
	return s
}

func (s *sandbox) write(path, content string) {
	s.t.Helper()
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.work, path)
	}
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// env is the environment of every command: nothing of the developer's
// Rampart settings, the sandbox's homes.
func (s *sandbox) env(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.user, "RAMPART_HOME=" + s.home, "LANG=C.UTF-8",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
	return append(env, extra...)
}

type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// exec runs argv in the sandbox's working directory (60 s at most).
func (s *sandbox) exec(env []string, argv ...string) result {
	s.t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.work
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("%v: %v", argv, err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		s.t.Fatalf("%v: %v", argv, err)
	}
	return r
}

// direct runs argv without Rampart.
func (s *sandbox) direct(argv ...string) result { return s.exec(s.env(), argv...) }

// preload runs argv under `rampart preload` (which starts its own server:
// none runs in the sandbox).
func (s *sandbox) preload(argv ...string) result {
	return s.exec(s.env(), append([]string{build.rampart, "preload", "--session", s.session, "--"}, argv...)...)
}

// same runs argv without and then with Rampart in an emptied working
// directory, and fails unless stdout, stderr and the exit code agree.
func (s *sandbox) same(argv ...string) {
	s.t.Helper()
	s.reset()
	want := s.direct(argv...)
	s.reset()
	got := s.preload(argv...)
	if got.stdout != want.stdout || got.code != want.code || got.stderr != want.stderr {
		s.t.Errorf("%q under rampart preload differs from a plain run:\nplain:   exit %d, stdout %q, stderr %q\npreload: exit %d, stdout %q, stderr %q",
			argv, want.code, want.stdout, want.stderr, got.code, got.stdout, got.stderr)
	}
}

// reset empties the working directory.
func (s *sandbox) reset() {
	s.t.Helper()
	if err := os.RemoveAll(s.work); err != nil {
		s.t.Fatal(err)
	}
	if err := os.MkdirAll(s.work, 0o700); err != nil {
		s.t.Fatal(err)
	}
}

// absent fails when a stand-in left its marker.
func (s *sandbox) absent(names ...string) {
	s.t.Helper()
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(s.work, n)); err == nil {
			s.t.Errorf("%s exists: the denied stand-in ran", n)
		}
	}
}

func (s *sandbox) present(names ...string) {
	s.t.Helper()
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(s.work, n)); err != nil {
			s.t.Errorf("%s is missing: the allowed command did not run", n)
		}
	}
}

// blocked fails unless stderr has a "rampart: blocked:" line naming rule.
func blocked(t *testing.T, r result, rule string) {
	t.Helper()
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(line, "rampart: blocked: ") && strings.Contains(line, rule) {
			return
		}
	}
	t.Errorf("stderr has no \"rampart: blocked:\" line for %s:\n%s", rule, r.stderr)
}

// audited returns the deny decisions the session's audit records hold.
func (s *sandbox) audited() (denies []*audit.Record) {
	s.t.Helper()
	dir := audit.DefaultDir(s.home)
	files, err := audit.Files(dir)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, f := range files {
		audit.ScanFrom(dir, f, 0, 0, func(e audit.Entry) error {
			if r := e.Record; r != nil && r.Session == s.session && r.Decision == "deny" && r.Adapter == "preload" {
				denies = append(denies, r)
			}
			return nil
		})
	}
	return denies
}

func TestBash(t *testing.T) {
	need(t, "bash")
	s := newSandbox(t)
	s.same("bash", "-c", `echo start; ls / | grep -c '^usr$'; (cd / && pwd); x=$(echo sub | tr a-z A-Z); echo "$x"; touch allowed; ls; exit 3`)

	s.reset()
	r := s.preload("bash", "-c", `touch rampart-denied-pipe | cat; (touch rampart-denied-subshell); y=$(touch rampart-denied-subst; echo z); echo "after $y"; cat ~/.ssh/id_rsa; echo done`)
	s.absent("rampart-denied-pipe", "rampart-denied-subshell", "rampart-denied-subst")
	if r.stdout != "after z\ndone\n" || r.code != 0 {
		t.Errorf("stdout %q, exit %d; want the script to go on after each blocked command", r.stdout, r.code)
	}
	if strings.Contains(r.stdout, "FAKE-PRIVATE-KEY") {
		t.Error("cat ~/.ssh/id_rsa ran: the standard profile denies it")
	}
	blocked(t, r, "preload-test/denied-marker")
	blocked(t, r, "standard/")
	if n := len(s.audited()); n < 4 {
		t.Errorf("the audit trail has %d deny records of the session, want at least 4", n)
	}
}

func TestPython(t *testing.T) {
	need(t, "python3")
	s := newSandbox(t)
	allowed := `
import os, subprocess, sys
print(subprocess.run(["echo", "argv"], capture_output=True, text=True).stdout, end="")
print(subprocess.run("echo shell | tr a-z A-Z", shell=True, capture_output=True, text=True).stdout, end="")
sys.stdout.flush()
print("system", os.system("touch allowed-system"))
pid = os.posix_spawn("/usr/bin/touch", ["touch", "allowed-spawn"], os.environ)
print("spawn", os.waitpid(pid, 0)[1])
sys.stdout.flush()
if os.fork() == 0:
    os.execvp("touch", ["touch", "allowed-execvp"])
print("execvp", os.wait()[1])
`
	s.same("python3", "-c", allowed)

	s.reset()
	denied := `
import os, subprocess, sys
def attempt(name, f):
    try:
        print(name, f())
    except OSError as e:
        print(name, type(e).__name__, e.errno)
    sys.stdout.flush()
attempt("run", lambda: subprocess.run(["touch", "rampart-denied-run"]).returncode)
attempt("shell", lambda: subprocess.run("touch rampart-denied-shell", shell=True).returncode)
attempt("system", lambda: os.system("touch rampart-denied-system"))
attempt("spawn", lambda: os.posix_spawn("/usr/bin/touch", ["touch", "rampart-denied-spawn"], os.environ))
def execvp():
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp("touch", ["touch", "rampart-denied-execvp"])
        except OSError as e:
            os._exit(e.errno)
    return os.waitpid(pid, 0)[1] >> 8
attempt("execvp", execvp)
`
	r := s.preload("python3", "-c", denied)
	s.absent("rampart-denied-run", "rampart-denied-shell", "rampart-denied-system", "rampart-denied-spawn", "rampart-denied-execvp")
	want := "run PermissionError 13\nshell PermissionError 13\nsystem -1\nspawn PermissionError 13\nexecvp 13\n"
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", r.stdout, want, r.stderr)
	}
	blocked(t, r, "preload-test/denied-marker")
}

func TestNode(t *testing.T) {
	need(t, "node")
	s := newSandbox(t)
	allowed := `
const cp = require("child_process");
const p = cp.spawn("touch", ["allowed-spawn"]);
p.on("close", (code) => {
  console.log("spawn", code);
  cp.exec("echo exec | tr a-z A-Z", (err, out) => {
    console.log("exec", err, out.trim());
    console.log("execSync", cp.execSync("echo sync").toString().trim());
  });
});
`
	s.same("node", "-e", allowed)

	s.reset()
	denied := `
const cp = require("child_process");
const p = cp.spawn("touch", ["rampart-denied-spawn"], {stdio: "inherit"});
p.on("error", (e) => console.log("spawn error", e.code));
p.on("close", () => {
  cp.exec("touch rampart-denied-exec", (err) => {
    console.log("exec", err && err.code);
    try { cp.execSync("touch rampart-denied-sync", {stdio: "ignore"}); console.log("sync ran"); }
    catch (e) { console.log("execSync", e.code || e.status); }
  });
});
`
	r := s.preload("node", "-e", denied)
	s.absent("rampart-denied-spawn", "rampart-denied-exec", "rampart-denied-sync")
	// exec and execSync start /bin/sh -c COMMAND: the library sees the
	// command in it and refuses to start the shell at all.
	want := "spawn error EACCES\nexec EACCES\nexecSync EACCES\n"
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", r.stdout, want, r.stderr)
	}
	blocked(t, r, "preload-test/denied-marker")
}

func TestMakeGitPerlXargsFind(t *testing.T) {
	need(t, "make", "git", "perl", "xargs", "find")
	s := newSandbox(t)
	makefile := "all:\n\ttouch allowed-make\n\techo made\n\nbad:\n\ttouch rampart-denied-make\n\techo unreachable\n"
	s.reset()
	s.write("Makefile", makefile)
	want := s.direct("make", "--no-print-directory")
	s.reset()
	s.write("Makefile", makefile)
	got := s.preload("make", "--no-print-directory")
	if got.stdout != want.stdout || got.code != want.code {
		t.Errorf("make: plain %d %q, preload %d %q %s", want.code, want.stdout, got.code, got.stdout, got.stderr)
	}
	r := s.preload("make", "--no-print-directory", "bad")
	s.absent("rampart-denied-make")
	if r.code == 0 || strings.Contains(r.stdout, "unreachable") {
		t.Errorf("make bad: exit %d, stdout %q: the recipe went on", r.code, r.stdout)
	}
	blocked(t, r, "preload-test/denied-marker")

	// git runs an alias that starts with ! through the shell.
	s.same("git", "-c", "alias.x=!echo git-alias-ran", "x")
	s.reset()
	r = s.preload("git", "-c", "alias.x=!touch rampart-denied-git", "x")
	s.absent("rampart-denied-git")
	if r.code == 0 {
		t.Errorf("git alias: exit 0, want the alias to fail\n%s", r.stderr)
	}
	blocked(t, r, "preload-test/denied-marker")

	s.same("perl", "-e", `system("touch allowed-perl"); print "perl $?\n"; system("echo", "list"); print "done\n"`)
	s.reset()
	r = s.preload("perl", "-e", `system("touch rampart-denied-perl1"); print "1 $?\n"; system("touch", "rampart-denied-perl2"); print "2 $?\n"; print "3 ", (system("touch rampart-denied-perl3 && echo hi") >> 8), "\n"`)
	s.absent("rampart-denied-perl1", "rampart-denied-perl2", "rampart-denied-perl3")
	blocked(t, r, "preload-test/denied-marker")

	s.same("bash", "-c", "echo allowed-xargs | xargs touch; ls; find . -name allowed-xargs -exec echo found {} \\;")
	s.reset()
	r = s.preload("bash", "-c", "echo rampart-denied-xargs | xargs touch; echo xargs $?; touch seed; find . -name seed -exec touch rampart-denied-find \\;; echo find $?")
	s.absent("rampart-denied-xargs", "rampart-denied-find")
	if !strings.Contains(r.stdout, "xargs 126") || !strings.Contains(r.stdout, "find 1") {
		t.Errorf("stdout %q: want xargs to exit 126 and find 1", r.stdout)
	}
}

func TestThreads(t *testing.T) {
	s := newSandbox(t)
	r := s.preload(build.threads, s.work, "8", "6")
	if r.code != 0 || r.stdout != "allowed 48 denied 48 wrong 0\n" {
		t.Errorf("threads: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
}

// Children stay covered: a script run with an empty or changed environment
// is still checked, because the library puts LD_PRELOAD and RAMPART_* back.
func TestChildrenKeepTheLibrary(t *testing.T) {
	need(t, "python3", "bash")
	s := newSandbox(t)
	s.write("inner.sh", "touch rampart-denied-inner\necho inner-ran $?\n")
	s.write("outer.sh", "unset LD_PRELOAD RAMPART_URL\nexport RAMPART_MODE=disabled\nbash inner.sh\n")
	r := s.preload("python3", "-c", `
import subprocess
subprocess.run(["/bin/bash", "inner.sh"], env={})
subprocess.run(["/bin/bash", "outer.sh"], env={"PATH": "/usr/bin:/bin"})
`)
	s.absent("rampart-denied-inner")
	if r.stdout != "inner-ran 126\ninner-ran 126\n" {
		t.Errorf("stdout %q, want both inner scripts blocked\n%s", r.stdout, r.stderr)
	}
}

func TestExitCodesAndSignals(t *testing.T) {
	s := newSandbox(t)
	if r := s.preload("bash", "-c", "exit 7"); r.code != 7 {
		t.Errorf("exit 7: got %d", r.code)
	}
	if r := s.preload("bash", "-c", "kill -TERM $$"); r.code != 128+15 {
		t.Errorf("killed by SIGTERM: got %d, want 143", r.code)
	}
	if r := s.preload("rampart-test-no-such-program"); r.code != 127 {
		t.Errorf("missing program: got %d, want 127", r.code)
	}

	// A signal sent to rampart preload reaches the command.
	cmd := exec.Command(build.rampart, "preload", "--", "bash", "-c", "trap 'echo got-term; kill $!; exit 5' TERM; sleep 20 & wait")
	cmd.Dir, cmd.Env = s.work, s.env()
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("rampart preload did not pass SIGTERM on")
	}
	if cmd.ProcessState.ExitCode() != 5 || out.String() != "got-term\n" {
		t.Errorf("after SIGTERM: exit %d, stdout %q; want 5 and got-term", cmd.ProcessState.ExitCode(), out.String())
	}
}

func TestStaticWarning(t *testing.T) {
	s := newSandbox(t)
	r := s.preload(build.static)
	if r.code != 0 || r.stdout != "static hello\n" {
		t.Errorf("static program: exit %d, stdout %q", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, "statically linked") || !strings.Contains(r.stderr, "rampart guard") {
		t.Errorf("no warning about a static program naming rampart guard:\n%s", r.stderr)
	}
	if r := s.preload("/bin/true"); strings.Contains(r.stderr, "statically") {
		t.Errorf("a dynamic program got the static warning:\n%s", r.stderr)
	}
}

// The programs under rampart preload get the check-only token: it asks
// for decisions, but approving an ask with it is refused (403), so an
// agent cannot approve its own asks. (The script spells the variable and
// the endpoint in pieces: the standard profile denies commands that name
// them, which a determined program can evade, hence the token's scope.)
func TestProgramsGetTheCheckOnlyToken(t *testing.T) {
	need(t, "python3")
	s := newSandbox(t)
	r := s.preload("python3", "-c", `
import os, socket, urllib.parse
token = os.environ["RAMPART_" + "TOKEN"]
url = os.environ["RAMPART_URL"]
print("check-token" if token.startswith("check-") else "main-token")
body = b'{"decision":"allow"}'
req = ("POST /v1/" + "approvals/x HTTP/1.1\r\nHost: rampart\r\nAuthorization: Bearer %s\r\n"
       "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (token, len(body))).encode() + body
if url.startswith("unix:"):
    s = socket.socket(socket.AF_UNIX); s.connect(url[5:])
else:
    u = urllib.parse.urlparse(url); s = socket.create_connection((u.hostname, u.port))
s.sendall(req)
print(s.recv(100).decode().split("\r\n")[0])
`)
	if !strings.Contains(r.stdout, "check-token\nHTTP/1.1 403") {
		t.Errorf("stdout %q, want the check-only token refused with 403\n%s", r.stdout, r.stderr)
	}
}
