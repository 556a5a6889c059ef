package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/server"
)

// parseServe runs "rampart serve ARGS" with a runF that captures the
// options.
func parseServe(t *testing.T, args ...string) (*ServeOptions, int, string) {
	t.Helper()
	proc, _, errOut := testProcess(t, nil)
	var got *ServeOptions
	root := NewCmdRoot(proc)
	for _, c := range root.Commands() {
		if c.Name() == "serve" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(NewCmdServe(proc, func(o *ServeOptions) error { got = o; return nil }))
	root.SetArgs(append([]string{"serve"}, args...))
	code := ExitOK
	if err := root.Execute(); err != nil {
		code = report(errOut, err)
	}
	return got, code, errOut.String()
}

func TestServeFlags(t *testing.T) {
	o, code, stderr := parseServe(t)
	if code != 0 || o.Port != 9090 || o.Addr != "127.0.0.1" || o.NoSocket || o.ApprovalTimeout != 2*time.Minute || o.LogFormat != "text" {
		t.Fatalf("defaults: exit %d %s %+v", code, stderr, o)
	}
	o, code, stderr = parseServe(t, "--addr", "127.0.0.1:9999", "--no-socket", "--policy", "/dev/null", "--policy", "/etc/hostname",
		"--log-format", "json", "--approval-timeout", "5s", "--background")
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	if host, port, _ := o.tcpAddr(); host != "127.0.0.1" || port != 9999 {
		t.Errorf("--addr with a port: %s %d", host, port)
	}
	// --background passes every other flag on to the detached server.
	want := []string{"--addr=127.0.0.1:9999", "--approval-timeout=5s", "--log-format=json", "--no-socket=true",
		"--policy=/dev/null", "--policy=/etc/hostname"}
	if !slices.Equal(o.childArgs, want) {
		t.Errorf("child args\n got %q\nwant %q", o.childArgs, want)
	}
	o, _, _ = parseServe(t, "--addr", "127.0.0.1:9999", "--port", "1234")
	if _, port, _ := o.tcpAddr(); port != 1234 {
		t.Errorf("--port beats the port in --addr: %d", port)
	}
	o, code, _ = parseServe(t, "--addr", "0.0.0.0", "--allow-remote")
	if code != 0 || !o.AllowRemote {
		t.Errorf("--allow-remote: exit %d", code)
	}
}

func TestServeUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", "0.0.0.0"}, "--addr 0.0.0.0: 0.0.0.0 is not a loopback address: refusing to listen where other machines can reach the server"},
		{[]string{"serve", "--addr", ":9090"}, "an empty host listens on every network interface"},
		{[]string{"serve", "stpo"}, `did you mean "rampart serve stop"?`},
		{[]string{"serve", "--log-format", "xml"}, `--log-format: want text or json, got "xml"`},
		{[]string{"serve", "--log-level", "loud"}, `--log-level: want one of debug, info, warn, error, got "loud"`},
		{[]string{"serve", "--port", "70000"}, "--port: 70000 is not a port number"},
		{[]string{"serve", "--profile", "paranoia"}, `unknown profile "paranoia" (did you mean "paranoid"?)`},
		{[]string{"serve", "--policy", "/nonexistent.yaml"}, "--policy /nonexistent.yaml: no such file"},
		{[]string{"serve", "--approval-timeout", "0s"}, "--approval-timeout must be positive"},
		{[]string{"serve", "stop", "now"}, "takes no arguments"},
		{[]string{"serve", "install", "--port", "1"}, "unknown flag: --port"},
		{[]string{"serve", "install", "--", "--bogus"}, "server flags: unknown flag: --bogus"},
		{[]string{"serve", "install", "--", "--background"}, "--background cannot be used in a systemd unit"},
		{[]string{"approve"}, "takes one approval ID, got 0 arguments"},
		{[]string{"deny", "a", "b"}, "takes one approval ID, got 2 arguments"},
		{[]string{"deny", "--always", "a"}, "unknown flag: --always"},
		{[]string{"token", "shwo"}, `did you mean "rampart token show"?`},
		{[]string{"token", "show", "x"}, "takes no arguments"},
		{[]string{"status", "x"}, "takes no arguments"},
		{[]string{"status", "--url", "ftp://x"}, `"ftp://x": want http://HOST:PORT or unix:/path/to/socket`},
	} {
		code, stderr := run(t, nil, c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "rampart: error: ") {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit 64 and %q", c.args, code, stderr, c.want)
		}
	}
}

// startServe runs "rampart serve" in-process on a throwaway Rampart home
// until the test ends, and returns the process its commands run in.
func startServe(t *testing.T, env map[string]string, args ...string) (*Process, *server.Server) {
	t.Helper()
	proc, _, errOut := testProcess(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *server.Server, 1)
	done := make(chan int, 1)
	go func() {
		root := NewCmdRoot(proc)
		for _, c := range root.Commands() {
			if c.Name() == "serve" {
				root.RemoveCommand(c)
			}
		}
		root.AddCommand(NewCmdServe(proc, func(o *ServeOptions) error {
			o.ctx, o.ready = ctx, func(s *server.Server) { ready <- s }
			return serveRun(o)
		}))
		root.SetArgs(append([]string{"serve", "--port", "0"}, args...))
		code := ExitOK
		if err := root.Execute(); err != nil {
			code = report(errOut, err)
		}
		done <- code
	}()
	var srv *server.Server
	select {
	case srv = <-ready:
	case code := <-done:
		t.Fatalf("serve exited with %d:\n%s", code, errOut)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited with %d:\n%s", code, errOut)
		}
	})
	return proc, srv
}

// mainIn runs a rampart command line in proc and returns exit code,
// stdout and stderr.
func mainIn(proc *Process, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	p := *proc
	p.Out, p.Err = &out, &errOut
	code := Main(args, &p)
	return code, out.String(), errOut.String()
}

func TestServeStatusApproveDeny(t *testing.T) {
	proc, srv := startServe(t, map[string]string{"USER": "alice"})
	rhome := proc.RampartHome()

	// The files the server keeps in its home.
	for path, mode := range map[string]os.FileMode{server.TokenPath(rhome): 0o600, server.SocketPath(rhome): 0o600, server.PIDPath(rhome): 0o600} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v", path, fi, err)
		}
	}
	code, out, stderr := mainIn(proc, "status")
	if code != 0 || !strings.Contains(out, "rampart serve is running: pid ") || !strings.Contains(out, "unix:"+server.SocketPath(rhome)) ||
		!strings.Contains(out, "standard (profile)") || !strings.Contains(out, "pending approvals: 0") {
		t.Errorf("status: exit %d\n%s%s", code, out, stderr)
	}

	// Two calls wait for a human.
	client, err := server.ClientFromEnv(proc.Getenv, rhome, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	answers := make(chan *server.CheckResponse, 2)
	for _, cmd := range []string{"sudo apt update", "sudo reboot"} {
		go func() {
			r, err := client.Check(context.Background(), &engine.ToolCall{Tool: "exec", Command: cmd}, true)
			if err != nil {
				t.Error(err)
			}
			answers <- r
		}()
		// In this order.
		for deadline := time.Now().Add(5 * time.Second); ; {
			list, _ := client.Approvals(context.Background())
			if len(list) > 0 && callText(list[len(list)-1]) == cmd {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is not pending", cmd)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	list, _ := client.Approvals(context.Background())
	code, out, _ = mainIn(proc, "status")
	if code != 0 || !strings.Contains(out, "pending approvals: 2") || !strings.Contains(out, list[0].ID+"  exec  sudo apt update") {
		t.Errorf("status with approvals:\n%s", out)
	}
	code, out, stderr = mainIn(proc, "status", "--json")
	var rep statusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.Running || rep.Health.PendingApprovals != 2 || len(rep.Approvals) != 2 {
		t.Errorf("status --json: exit %d %v\n%s%s", code, err, out, stderr)
	}

	code, out, stderr = mainIn(proc, "approve", list[0].ID)
	if code != 0 || out != "approved "+list[0].ID+": exec sudo apt update\n" {
		t.Errorf("approve: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = mainIn(proc, "deny", "--by", "bob", list[1].ID)
	if code != 0 || out != "denied "+list[1].ID+": exec sudo reboot\n" {
		t.Errorf("deny: exit %d\n%s%s", code, out, stderr)
	}
	got := map[string]string{}
	for range 2 {
		r := <-answers
		got[r.ApprovalID] = r.Decision + " by " + r.ApprovedBy
	}
	if got[list[0].ID] != "allow by alice" || got[list[1].ID] != "deny by bob" {
		t.Errorf("answers: %v", got)
	}
	code, _, stderr = mainIn(proc, "approve", list[0].ID)
	if code != ExitFailed || !strings.Contains(stderr, "rampart: error: approval "+list[0].ID+" is already approved") {
		t.Errorf("approve twice: exit %d %s", code, stderr)
	}
	code, _, stderr = mainIn(proc, "deny", "ffffffff")
	if code != ExitFailed || !strings.Contains(stderr, `no pending approval "ffffffff"`) || !strings.Contains(stderr, "rampart: hint: run \"rampart status\"") {
		t.Errorf("deny unknown: exit %d %s", code, stderr)
	}

	// A wrong token is refused with its own exit code.
	wrong := *proc
	wrong.Getenv = func(k string) string {
		if k == "RAMPART_TOKEN" {
			return "wrong"
		}
		return proc.Getenv(k)
	}
	if code, _, stderr := mainIn(&wrong, "deny", "ffffffff"); code != ExitNoPerm || !strings.Contains(stderr, "refused the token") {
		t.Errorf("wrong token: exit %d %s", code, stderr)
	}
	// The trail has both answers.
	srv.Shutdown(context.Background())
	rep2, err := audit.Verify(audit.DefaultDir(rhome))
	if err != nil || !rep2.OK || rep2.Records != 4 {
		t.Errorf("verify: %+v %v", rep2, err)
	}
}

func TestServeRefusesSecondServer(t *testing.T) {
	proc, _ := startServe(t, nil)
	// (In-process the pid file names this very process, so the socket is
	// what refuses; the binary test covers the pid file.)
	code, _, stderr := mainIn(proc, "serve", "--port", "0")
	if code != ExitUnavailable || !strings.Contains(stderr, "another server is listening on the socket") ||
		!strings.Contains(stderr, `rampart: hint: a server is already running: "rampart status" shows it`) {
		t.Errorf("second server: exit %d %s", code, stderr)
	}
}

func TestServeBrokenPolicyAtStart(t *testing.T) {
	proc, _, _ := testProcess(t, nil)
	dir := filepath.Join(proc.RampartHome(), "policies")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("version: \"1\"\npolicies:\n  - name: x\n    rules:\n      - action: nope\n"), 0o600)
	code, _, stderr := mainIn(proc, "serve", "--port", "0")
	if code != ExitConfig || !strings.Contains(stderr, `bad.yaml:5:17: unknown action "nope"`) || !strings.Contains(stderr, "rampart: hint: run \"rampart policy lint") {
		t.Errorf("broken policy: exit %d\n%s", code, stderr)
	}
}

func TestStatusNotRunning(t *testing.T) {
	proc, _, _ := testProcess(t, map[string]string{"RAMPART_URL": "unix:/nonexistent/rampart.sock"})
	code, _, stderr := mainIn(proc, "status")
	if code != ExitNotRunning || !strings.Contains(stderr, "rampart serve is not running: nothing answers at unix:/nonexistent/rampart.sock") {
		t.Errorf("status: exit %d %s", code, stderr)
	}
	code, out, _ := mainIn(proc, "status", "--json")
	if code != ExitNotRunning || !strings.HasPrefix(out, `{"running":false,"url":"unix:/nonexistent/rampart.sock","error":`) {
		t.Errorf("status --json: exit %d %s", code, out)
	}
	code, _, stderr = mainIn(proc, "approve", "abc")
	if code != ExitUnavailable || !strings.Contains(stderr, "no server answers at unix:/nonexistent/rampart.sock") {
		t.Errorf("approve: exit %d %s", code, stderr)
	}
	code, _, stderr = mainIn(proc, "serve", "stop")
	if code != ExitNotRunning || !strings.Contains(stderr, "no server is running") {
		t.Errorf("serve stop: exit %d %s", code, stderr)
	}
}

func TestTokenShowRotate(t *testing.T) {
	proc, _, _ := testProcess(t, nil)
	code, _, stderr := mainIn(proc, "token", "show")
	if code != ExitFailed || !strings.Contains(stderr, "there is no token yet") {
		t.Errorf("show before any: exit %d %s", code, stderr)
	}
	code, out, _ := mainIn(proc, "token", "rotate")
	if code != 0 || !strings.HasPrefix(out, "wrote a new token to ") || strings.Count(out, "\n") != 1 {
		t.Errorf("rotate: exit %d %s", code, out)
	}
	_, first, _ := mainIn(proc, "token", "show")
	mainIn(proc, "token", "rotate")
	_, second, _ := mainIn(proc, "token", "show")
	if len(first) != 65 || len(second) != 65 || first == second {
		t.Errorf("tokens %q %q", first, second)
	}
	if fi, _ := os.Stat(server.TokenPath(proc.RampartHome())); fi.Mode().Perm() != 0o600 {
		t.Errorf("token mode %v", fi.Mode())
	}
	env := *proc
	env.Getenv = func(k string) string {
		if k == "RAMPART_TOKEN" {
			return "from-env"
		}
		return proc.Getenv(k)
	}
	code, out, stderr = mainIn(&env, "token", "show")
	if code != 0 || out != "from-env\n" || !strings.Contains(stderr, "overrides") {
		t.Errorf("show with RAMPART_TOKEN: %d %q %q", code, out, stderr)
	}
}

func TestServeInstall(t *testing.T) {
	var ran [][]string
	install := func(available bool, args ...string) (int, string, string, *Process) {
		proc, out, errOut := testProcess(t, nil)
		root := NewCmdRoot(proc)
		serve, _, _ := root.Find([]string{"serve"})
		for _, c := range serve.Commands() {
			if c.Name() == "install" {
				serve.RemoveCommand(c)
			}
		}
		serve.AddCommand(NewCmdServeInstall(proc, func(o *ServeInstallOptions) error {
			o.Executable = func() (string, error) { return "/opt/my tools/rampart", nil }
			o.Systemctl = func(args ...string) ([]byte, error) { ran = append(ran, args); return nil, nil }
			o.SystemdUser = func() (bool, string) { return available, "systemd is not running this machine" }
			return serveInstallRun(o)
		}))
		root.SetArgs(append([]string{"serve", "install"}, args...))
		code := 0
		if err := root.Execute(); err != nil {
			code = report(errOut, err)
		}
		return code, out.String(), errOut.String(), proc
	}

	code, out, stderr, proc := install(true, "--", "--port", "9191", "--profile", "paranoid")
	unit := filepath.Join(proc.Home(), ".config", "systemd", "user", "rampart.service")
	data, err := os.ReadFile(unit)
	if code != 0 || err != nil {
		t.Fatalf("install: exit %d %v\n%s%s", code, err, out, stderr)
	}
	for _, want := range []string{
		`ExecStart="/opt/my tools/rampart" serve --port 9191 --profile paranoid` + "\n",
		"Environment=RAMPART_HOME=" + proc.RampartHome() + "\n",
		"Restart=on-failure\n", "WantedBy=default.target\n",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the unit lacks %q:\n%s", want, data)
		}
	}
	if want := [][]string{{"daemon-reload"}, {"enable", "--now", "rampart.service"}}; !slicesEqual(ran, want) {
		t.Errorf("systemctl calls %q", ran)
	}

	ran = nil
	code, _, stderr, proc = install(false)
	if code != ExitUnavailable || !strings.Contains(stderr, "systemd user services are not available here (systemd is not running this machine); nothing was installed") ||
		!strings.Contains(stderr, "rampart: hint: start the server yourself: rampart serve --background") || len(ran) > 0 {
		t.Errorf("without systemd: exit %d %s %q", code, stderr, ran)
	}
	if _, err := os.Stat(filepath.Join(proc.Home(), ".config")); err == nil {
		t.Errorf("wrote something without systemd")
	}

	code, out, _, proc = install(false, "--dry-run")
	if code != 0 || !strings.HasPrefix(out, "# "+filepath.Join(proc.Home(), ".config/systemd/user/rampart.service")+"\n") ||
		!strings.Contains(out, `ExecStart="/opt/my tools/rampart" serve`) || !strings.Contains(out, "#   systemctl --user enable --now rampart.service") {
		t.Errorf("--dry-run: exit %d\n%s", code, out)
	}
}

func slicesEqual(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

func TestSystemdQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/rampart": "/usr/bin/rampart",
		"/a b/rampart":     `"/a b/rampart"`,
		"50%":              "50%%",
		`a"b`:              `"a\"b"`,
		"$HOME":            "$$HOME",
	} {
		if got := systemdQuote(in, true); got != want {
			t.Errorf("systemdQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestServerDecodesLikeCheckStdin keeps the server's strict decoding of
// POST /v1/check bodies in step with "rampart check --stdin".
func TestServerDecodesLikeCheckStdin(t *testing.T) {
	for _, line := range []string{
		`{"tool":"exec","command":"git status"}`,
		`{"tool":"exec"}`,
		`{"command":"ls"}`,
		`{"tool":"exce","command":"ls"}`,
		`{"tool":"exec","cmd":"ls"}`,
		`{"tool":"exec","file_path":"x"}`,
		`{"tool":"exec","command":1}`,
		`{"tool":"exec","argv":"ls -l"}`,
		`{"tool":"exec","command":"ls"} {}`,
		`{"tool":"exec","command":"ls"`,
		`{"tool":"exec",,}`,
		`{"tool":"READ","path":"/x"}`,
		`{"tool":"mcp","name":"x","input":[1]}`,
	} {
		c1, err1 := decodeCall([]byte(line))
		c2, err2 := server.DecodeCall([]byte(line))
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
			t.Errorf("%s:\n  check --stdin: %v\n  server:        %v", line, err1, err2)
		}
		if err1 == nil && !equalJSON(c1, c2) {
			t.Errorf("%s: %+v vs %+v", line, c1, c2)
		}
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
