package guard

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The supervisor tests run guard.Run in a process of their own (this
// test binary again): Run makes its process a subreaper and reaps every
// child, which must not meet the other tests' children.
const (
	envChild    = "RAMPART_GUARD_TEST_CHILD"    // be RunChild's child
	envScenario = "RAMPART_GUARD_TEST_SCENARIO" // run a scenario, print its events
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envChild) != "":
		err := RunChild(os.NewFile(ChildSocketFD, "guard-socket"), os.Args[1:], os.Environ())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(126)
	case os.Getenv(envScenario) != "":
		os.Exit(runScenario(os.Getenv(envScenario), os.Args[1:]))
	}
	root, err := os.MkdirTemp("", "rampart-guard-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	TestBuildDir = root
	code := m.Run()
	os.RemoveAll(root)
	os.Exit(code)
}

// TestBuildDir is a folder for the tests' builds (integration_test.go),
// removed when the tests end.
var TestBuildDir string

// runScenario guards argv and prints what the supervisor did: "decide
// PATH" for every exec, "idle" for every Idle call, "run returned" and
// the exit code.
func runScenario(name string, argv []string) int {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	self, _ := os.Executable()
	code, err := Run(Config{
		ChildArgv: append([]string{self}, argv...),
		Env:       append(os.Environ(), envChild+"=1", envScenario+"="),
		Decide: func(c *ExecCall) Verdict {
			fmt.Fprintln(out, "decide", c.Path)
			return Verdict{Allow: true}
		},
		Unreadable: func(pid int, err error) Verdict {
			fmt.Fprintln(out, "unreadable", err)
			return Verdict{}
		},
		Idle: func() { fmt.Fprintln(out, "idle") },
	})
	fmt.Fprintln(out, "run returned", code, err)
	return 0
}

// scenario runs one and returns its event lines.
func scenario(t *testing.T, argv ...string) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], argv...)
	cmd.Env = append(os.Environ(), envScenario+"="+t.Name())
	cmd.Dir = t.TempDir()
	cmd.Stderr = os.Stderr
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.Output(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second): // a hang, not a slow run
		cmd.Process.Kill()
		<-done
		t.Fatalf("the guarded scenario did not end: %s", out)
	}
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// Idle comes after the answers, before Run returns: the audit records of
// every decision are written by then.
func TestSupervisorIdleAfterAnswers(t *testing.T) {
	events := scenario(t, "/bin/sh", "-c", "/bin/true; /bin/true")
	decided, pending := 0, false
	for _, e := range events[:len(events)-1] {
		switch {
		case strings.HasPrefix(e, "decide "):
			decided++
			pending = true
		case e == "idle":
			pending = false
		default:
			t.Fatalf("unexpected event %q in %q", e, events)
		}
	}
	if decided != 3 || pending || events[len(events)-1] != "run returned 0 <nil>" {
		t.Errorf("%q: want 3 decisions, each followed by idle, then a clean return", events)
	}
}

// An exec of 100,000 short arguments, as "find -exec CMD {} +" makes in a
// large tree, is read and decided like any other: the kernel allows as
// many as fit, with their pointers, in a quarter of the stack limit.
func TestSupervisorReadsManyArguments(t *testing.T) {
	events := scenario(t, "/bin/sh", "-c", "/bin/true $(seq 100000)")
	decided := false
	for _, e := range events {
		if strings.HasPrefix(e, "unreadable ") {
			t.Fatalf("%q: an exec the kernel allows was refused", events)
		}
		decided = decided || e == "decide /bin/true"
	}
	if !decided || events[len(events)-1] != "run returned 0 <nil>" {
		t.Errorf("%q: want /bin/true decided and a clean return", events)
	}
}
