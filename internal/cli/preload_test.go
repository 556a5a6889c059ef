package cli

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// parsePreload runs "preload args..." with env and a runF that captures
// the options.
func parsePreload(t *testing.T, env map[string]string, args ...string) (*PreloadOptions, int, string) {
	t.Helper()
	proc, _, errOut := testProcess(t, env)
	var got *PreloadOptions
	cmd := NewCmdRoot(proc)
	for _, c := range cmd.Commands() {
		if c.Name() == "preload" {
			cmd.RemoveCommand(c)
		}
	}
	cmd.AddCommand(NewCmdPreload(proc, func(o *PreloadOptions) error { got = o; return nil }))
	cmd.SetArgs(append([]string{"preload"}, args...))
	code := ExitOK
	if err := cmd.Execute(); err != nil {
		code = report(errOut, err)
	}
	return got, code, errOut.String()
}

func TestPreloadFlags(t *testing.T) {
	o, code, stderr := parsePreload(t, nil, "--", "codex", "--model", "x")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !slices.Equal(o.Argv, []string{"codex", "--model", "x"}) || o.Mode != "enforce" || !o.FailOpen ||
		o.Agent != "preload" || !strings.HasPrefix(o.Session, "preload-") || o.Debug || o.URL != "" || o.Port != 0 {
		t.Errorf("defaults: %+v", o)
	}

	// Flags stop at the command: its own flags are its own.
	o, code, _ = parsePreload(t, nil, "--mode", "monitor", "--fail-open=false", "--agent", "codex", "--session", "s1",
		"--debug", "--port", "9191", "--token", "tok", "python3", "-c", "pass")
	if code != ExitOK || o.Mode != "monitor" || o.FailOpen || o.Agent != "codex" || o.Session != "s1" || !o.Debug ||
		o.Port != 9191 || o.Token != "tok" || !slices.Equal(o.Argv, []string{"python3", "-c", "pass"}) {
		t.Errorf("flags: %+v (exit %d)", o, code)
	}

	// Without flags, the library's own variables count.
	env := map[string]string{"RAMPART_MODE": "disabled", "RAMPART_FAIL_OPEN": "0", "RAMPART_AGENT": "a",
		"RAMPART_SESSION": "s", "RAMPART_DEBUG": "1"}
	o, code, _ = parsePreload(t, env, "true")
	if code != ExitOK || o.Mode != "disabled" || o.FailOpen || o.Agent != "a" || o.Session != "s" || !o.Debug {
		t.Errorf("from the environment: %+v", o)
	}
	// ... and flags beat them.
	o, _, _ = parsePreload(t, env, "--mode", "enforce", "--fail-open", "true")
	if o.Mode != "enforce" || !o.FailOpen {
		t.Errorf("flags over the environment: %+v", o)
	}
}

func TestPreloadUsageErrors(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, nil, "preload needs the COMMAND to run"},
		{nil, []string{"--mode", "audit", "true"}, "--mode: want enforce, monitor or disabled"},
		{nil, []string{"--port", "1", "--url", "unix:/x", "true"}, "give one of them"},
		{nil, []string{"--port", "70000", "true"}, "want 1 to 65535"},
		{map[string]string{"RAMPART_FAIL_OPEN": "maybe"}, []string{"true"}, "$RAMPART_FAIL_OPEN"},
	} {
		_, code, stderr := parsePreload(t, c.env, c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 64 and %q", c.args, code, stderr, c.want)
		}
	}
}

func TestPreloadChildEnv(t *testing.T) {
	environ := []string{"PATH=/bin", "LD_PRELOAD=/opt/other.so /home/u/.rampart/lib/librampart-0123456789ab.so",
		"RAMPART_URL=http://evil:1", "RAMPART_MODE=disabled", "RAMPART_HOME=/h", "RAMPART_TIMEOUT_MS=900", "X=1"}
	set := map[string]string{"RAMPART_URL": "unix:/tmp/s.sock", "RAMPART_TOKEN": "t", "RAMPART_MODE": "enforce",
		"RAMPART_FAIL_OPEN": "1", "RAMPART_AGENT": "preload", "RAMPART_SESSION": "s"}
	got := preloadChildEnv(environ, "/new/librampart-ffffffffffff.so", set)
	want := []string{"PATH=/bin", "RAMPART_HOME=/h", "RAMPART_TIMEOUT_MS=900", "X=1",
		"LD_PRELOAD=/new/librampart-ffffffffffff.so:/opt/other.so",
		"RAMPART_URL=unix:/tmp/s.sock", "RAMPART_TOKEN=t", "RAMPART_MODE=enforce", "RAMPART_FAIL_OPEN=1",
		"RAMPART_AGENT=preload", "RAMPART_SESSION=s"}
	if !slices.Equal(got, want) {
		t.Errorf("child environment:\n got %q\nwant %q", got, want)
	}
	if got := mergePreload("/l.so", ""); got != "/l.so" {
		t.Errorf("no LD_PRELOAD before: %q", got)
	}
	if got := mergePreload("/l.so", "/l.so:/a.so::/b.so"); got != "/l.so:/a.so:/b.so" {
		t.Errorf("merge: %q", got)
	}
}

func TestPreloadNeedsAServerThatTakesTheToken(t *testing.T) {
	proc, _, _ := testProcess(t, nil)
	_, err := connectPreloadServer(&PreloadOptions{Proc: proc, URL: "unix:" + t.TempDir() + "/none.sock"})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != ExitUnavailable || !strings.Contains(err.Error(), "no Rampart server answers") {
		t.Errorf("--url of no server: %v", err)
	}
	_, err = connectPreloadServer(&PreloadOptions{Proc: proc, URL: "https://127.0.0.1:1"})
	if !errors.As(err, &ee) || ee.code != ExitUsage {
		t.Errorf("https URL: %v", err)
	}
}

// Without a running server, rampart preload serves the run itself on a
// private socket with its own token, and stops when the run ends.
func TestPreloadEmbeddedServer(t *testing.T) {
	proc, _, _ := testProcess(t, map[string]string{"RAMPART_PROFILE": "standard"})
	ps, err := connectPreloadServer(&PreloadOptions{Proc: proc})
	if err != nil {
		t.Fatal(err)
	}
	if ps.Embedded == nil || !strings.HasPrefix(ps.URL, "unix:") || len(ps.Token) < 32 {
		t.Fatalf("server: %+v", ps)
	}
	if answers, err := serverAnswers(ps.URL, ps.Token); !answers || err != nil {
		t.Errorf("the embedded server does not answer: %v", err)
	}
	if answers, err := serverAnswers(ps.URL, "wrong"); !answers || err == nil {
		t.Errorf("the embedded server took a wrong token: %v", err)
	}
	if err := ps.Close(); err != nil {
		t.Error(err)
	}
	if answers, _ := serverAnswers(ps.URL, ps.Token); answers {
		t.Error("the embedded server still answers after Close")
	}
}

// The dynamic loader splits LD_PRELOAD at spaces and colons: a library
// whose path has one would not load, and COMMAND would run unchecked.
func TestPreloadRefusesALibraryPathLDPreloadCannotHold(t *testing.T) {
	proc, _, _ := testProcess(t, nil)
	for _, dir := range []string{"a b", "a:b"} {
		lib := filepath.Join(t.TempDir(), dir, "librampart.so")
		os.MkdirAll(filepath.Dir(lib), 0o700)
		os.WriteFile(lib, []byte("x"), 0o755)
		_, err := findLibrary(&PreloadOptions{Proc: proc, Library: lib})
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != ExitConfig || !strings.Contains(err.Error(), "LD_PRELOAD cannot hold") {
			t.Errorf("%s: %v", lib, err)
		}
	}
	lib := filepath.Join(t.TempDir(), "librampart.so")
	os.WriteFile(lib, []byte("x"), 0o755)
	if got, err := findLibrary(&PreloadOptions{Proc: proc, Library: lib}); err != nil || got != lib {
		t.Errorf("%s: %q, %v", lib, got, err)
	}
}

// A URL the Go client reaches but the library cannot (a host name, a
// path, a relative socket a child reaches only from the same folder)
// would leave every program unchecked.
func TestPreloadLibraryURL(t *testing.T) {
	wd, _ := os.Getwd()
	for _, c := range []struct{ in, want string }{
		{"http://127.0.0.1:9090", "http://127.0.0.1:9090"},
		{"http://localhost:9090/", "http://localhost:9090/"},
		{"http://[::1]:9090", "http://[::1]:9090"},
		{"http://127.0.0.1", "http://127.0.0.1"},
		{"unix:/run/r.sock", "unix:/run/r.sock"},
		{"unix:///run/r.sock", "unix:/run/r.sock"},
		{"unix:r.sock", "unix:" + filepath.Join(wd, "r.sock")},
		{"http://vm:9090", ""},
		{"http://example.com", ""},
		{"http://127.0.0.1:9090/v1", ""},
		{"http://u@127.0.0.1:9090", ""},
		{"http://127.0.0.1:9090?x=1", ""},
		{"http://127.0.0.1:", ""},
		{"http://127.0.0.1:0", ""},
		{"http://[fe80::1%25eth0]:9090", ""},
		{"https://127.0.0.1:9090", ""},
		{"unix:", ""},
		{"127.0.0.1:9090", ""},
	} {
		got, err := libraryURL(c.in)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("libraryURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}

	proc, _, _ := testProcess(t, map[string]string{"RAMPART_URL": "http://localhost.invalid:9"})
	_, err := connectPreloadServer(&PreloadOptions{Proc: proc})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != ExitUsage || !strings.Contains(err.Error(), "$RAMPART_URL") {
		t.Errorf("$RAMPART_URL with a host name: %v", err)
	}
}

// A relative socket path reaches the server from this folder only; the
// library gets it made absolute.
func TestPreloadMakesARelativeSocketAbsolute(t *testing.T) {
	proc, _, _ := testProcess(t, map[string]string{"RAMPART_PROFILE": "standard"})
	embedded, err := connectPreloadServer(&PreloadOptions{Proc: proc})
	if err != nil {
		t.Fatal(err)
	}
	defer embedded.Close()
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, strings.TrimPrefix(embedded.URL, "unix:"))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := connectPreloadServer(&PreloadOptions{Proc: proc, URL: "unix:" + rel, Token: embedded.Token})
	if err != nil {
		t.Fatal(err)
	}
	if ps.URL != embedded.URL {
		t.Errorf("the library gets %q, want %q", ps.URL, embedded.URL)
	}
}
