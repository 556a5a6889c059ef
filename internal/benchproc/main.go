// Command benchproc measures what an agent pays per tool call for the
// adapters that are a new process each time, from exec to exit, on the
// standard profile, each next to its baseline measured in the same run
// (interleaved, so a busy machine slows both alike):
//
//   - "rampart hook claude-code" with a PreToolUse Bash sample on stdin,
//     next to /bin/true; warm runs reuse the compiled-policy cache, cold
//     runs delete it before every call; and the same hook as the small
//     rampart-hook program (next to the rampart binary), which setup
//     installs when it is there;
//
//   - "rampart-sh -c true" next to "bash -c true";
//
//   - a bash loop of 200 execs of /bin/true under "rampart guard" next to
//     the same loop unguarded, for the time added per exec;
//
//   - a Go program that does nothing, built static and stripped like
//     Rampart's: the floor under any per-call Go process on this machine;
//     one that only execs "bash -c true", next to "bash -c true": the
//     floor under any Go wrapper of the shell; and the same linking the
//     libraries rampart-sh cannot do without (./internal/benchproc/shfloor):
//     the floor under rampart-sh.
//
//     go run ./internal/benchproc -rampart bin/rampart -rampart-sh bin/rampart-sh -n 300
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// loopExecs is how many execs the loop workload makes (plus seq and bash).
const loopExecs = 200

const sample = `{"session_id":"bench","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"git status","description":"Show status"},"tool_use_id":"toolu_bench"}`

func main() {
	rampart := flag.String("rampart", "bin/rampart", "the rampart `BINARY` to measure")
	rampartSh := flag.String("rampart-sh", "bin/rampart-sh", "the rampart-sh `BINARY` to measure")
	n := flag.Int("n", 300, "runs of each kind")
	flag.Parse()
	bin, err := filepath.Abs(*rampart)
	if err != nil {
		fail(err)
	}
	shBin, err := filepath.Abs(*rampartSh)
	if err != nil {
		fail(err)
	}
	home, err := os.MkdirTemp("", "rampart-benchproc-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(home)
	hello, err := buildGo(home, "hello", "package main\n\nfunc main() {}\n")
	if err != nil {
		fail(err)
	}
	// What any Go wrapper of the shell pays: start, then exec.
	execer, err := buildGo(home, "execer", execerSource)
	if err != nil {
		fail(err)
	}
	// The same, with the libraries rampart-sh needs linked: built from
	// this module, so run benchproc from the repository's root.
	shfloor := filepath.Join(home, "shfloor")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", shfloor, "./internal/benchproc/shfloor")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		fail(fmt.Errorf("build ./internal/benchproc/shfloor (run benchproc from the repository's root): %v\n%s", err, msg))
	}
	rampartHome := filepath.Join(home, ".rampart")
	env := append(os.Environ(), "HOME="+home, "RAMPART_HOME="+rampartHome, "RAMPART_PROFILE=standard")

	hook := func() *exec.Cmd {
		cmd := exec.Command(bin, "hook", "claude-code")
		cmd.Env, cmd.Stdin, cmd.Dir = env, bytes.NewReader([]byte(sample)), home
		return cmd
	}
	slimHook := func() *exec.Cmd {
		cmd := exec.Command(filepath.Join(filepath.Dir(bin), "rampart-hook"), "claude-code")
		cmd.Env, cmd.Stdin, cmd.Dir = env, bytes.NewReader([]byte(sample)), home
		return cmd
	}
	shell := func(path string) func() *exec.Cmd {
		return func() *exec.Cmd {
			cmd := exec.Command(path, "-c", "true")
			cmd.Env, cmd.Dir = env, home
			return cmd
		}
	}
	loop := func(prefix ...string) func() *exec.Cmd {
		return func() *exec.Cmd {
			argv := append(prefix, "/bin/bash", "-c", "for i in $(seq "+fmt.Sprint(loopExecs)+"); do /bin/true; done")
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env, cmd.Dir = env, home
			return cmd
		}
	}
	// One run to check the hook works (and to fill the cache).
	if out, err := hook().CombinedOutput(); err != nil || len(out) != 0 {
		fail(fmt.Errorf("the hook did not allow git status silently: %v %q", err, out))
	}
	kinds := []struct {
		name string
		cmd  func() *exec.Cmd
		prep func()
	}{
		{"/bin/true", func() *exec.Cmd { return exec.Command("/bin/true") }, nil},
		{"hook (warm cache)", hook, nil},
		{"rampart-hook (warm)", slimHook, nil},
		{"hook (cold cache)", hook, func() {
			// Only rampart's own cache files: rampart-sh keeps its own.
			files, _ := filepath.Glob(filepath.Join(rampartHome, "cache", "*-"+filepath.Base(bin)+".cache"))
			for _, f := range files {
				os.Remove(f)
			}
		}},
		{"bash -c true", shell("/bin/bash"), nil},
		{"rampart-sh -c true", shell(shBin), nil},
		{"200 execs", loop(), nil},
		{"200 execs, guard", loop(bin, "guard", "--"), nil},
		{"Go, empty main", func() *exec.Cmd { return exec.Command(hello) }, nil},
		{"Go, exec bash -c true", func() *exec.Cmd {
			cmd := exec.Command(execer, "/bin/bash", "-c", "true")
			cmd.Env, cmd.Dir = env, home
			return cmd
		}, nil},
		{"Go + libraries, exec", func() *exec.Cmd {
			cmd := exec.Command(shfloor, "/bin/bash", "-c", "true")
			cmd.Env, cmd.Dir = env, home
			return cmd
		}, nil},
	}
	times := make([][]time.Duration, len(kinds))
	for i := 0; i < *n; i++ {
		for k, kind := range kinds {
			if kind.prep != nil {
				kind.prep()
			}
			cmd := kind.cmd()
			start := time.Now()
			if err := cmd.Run(); err != nil {
				fail(fmt.Errorf("%s: %v", kind.name, err))
			}
			times[k] = append(times[k], time.Since(start))
		}
	}
	fmt.Printf("whole processes, standard profile, %d runs each, interleaved; the hook reads a PreToolUse Bash \"git status\"\n", *n)
	fmt.Printf("%-22s %10s %10s %10s\n", "", "median", "p90", "min")
	medians := make([]time.Duration, len(kinds))
	for k, kind := range kinds {
		ts := times[k]
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		medians[k] = ts[len(ts)/2]
		fmt.Printf("%-22s %10s %10s %10s\n", kind.name, ms(medians[k]), ms(ts[len(ts)*9/10]), ms(ts[0]))
	}
	fmt.Printf("hook (warm) minus /bin/true: %s; rampart-hook minus /bin/true: %s; rampart-sh minus bash: %s (medians)\n",
		ms(medians[1]-medians[0]), ms(medians[2]-medians[0]), ms(medians[5]-medians[4]))
	fmt.Printf("guard adds %s per exec (median of the loops' difference / %d)\n", ms((medians[7]-medians[6])/loopExecs), loopExecs)
	fmt.Printf("a Go program that does nothing: %s over /bin/true (the floor under rampart-hook)\n", ms(medians[8]-medians[0]))
	fmt.Printf("a Go program that only execs bash -c true: %s over bash -c true (the floor under any Go wrapper of the shell)\n", ms(medians[9]-medians[4]))
	fmt.Printf("the same, linking the shell parser, regexp, SHA-256 and JSON: %s over bash -c true (the floor under rampart-sh)\n", ms(medians[10]-medians[4]))
}

// execerSource is a Go program that execs its arguments and does nothing
// else: its start and the exec from a Go process (which must stop the
// runtime's other threads and unmap its heap) are the part of
// rampart-sh's cost that does not depend on what rampart-sh does.
const execerSource = `package main

import (
	"os"
	"syscall"
)

func main() {
	err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	os.Stderr.WriteString("execer: " + err.Error() + "\n")
	os.Exit(127)
}
`

// buildGo builds the Go program whose main.go is source in dir, static and
// stripped as the Makefile builds Rampart, and returns its path.
func buildGo(dir, name, source string) (string, error) {
	src := filepath.Join(dir, name)
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module "+name+"\n\ngo 1.21\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(source), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(dir, name+"-bin")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
	cmd.Dir, cmd.Env = src, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the Go program %s: %v\n%s", name, err, msg)
	}
	return out, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchproc:", err)
	os.Exit(1)
}
