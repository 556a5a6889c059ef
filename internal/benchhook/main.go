// Command benchhook measures what an agent pays per tool call for
// "rampart hook claude-code": the whole process, from exec to exit, with a
// PreToolUse Bash sample on stdin and the standard profile, next to
// /bin/true measured in the same run (interleaved, so a busy machine slows
// both alike). The warm runs reuse the compiled-policy cache; the cold
// runs delete it before every call.
//
//	go run ./internal/benchhook -rampart bin/rampart -n 300
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

const sample = `{"session_id":"bench","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"git status","description":"Show status"},"tool_use_id":"toolu_bench"}`

func main() {
	rampart := flag.String("rampart", "bin/rampart", "the rampart `BINARY` to measure")
	n := flag.Int("n", 300, "runs of each kind")
	flag.Parse()
	bin, err := filepath.Abs(*rampart)
	if err != nil {
		fail(err)
	}
	home, err := os.MkdirTemp("", "rampart-benchhook-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(home)
	rampartHome := filepath.Join(home, ".rampart")
	env := append(os.Environ(), "HOME="+home, "RAMPART_HOME="+rampartHome, "RAMPART_PROFILE=standard")

	hook := func() *exec.Cmd {
		cmd := exec.Command(bin, "hook", "claude-code")
		cmd.Env, cmd.Stdin, cmd.Dir = env, bytes.NewReader([]byte(sample)), home
		return cmd
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
		{"hook (cold cache)", hook, func() { os.RemoveAll(filepath.Join(rampartHome, "cache")) }},
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
	fmt.Printf("rampart hook claude-code, PreToolUse Bash \"git status\", standard profile, %d runs each, interleaved\n", *n)
	fmt.Printf("%-20s %10s %10s %10s\n", "", "median", "p90", "min")
	medians := make([]time.Duration, len(kinds))
	for k, kind := range kinds {
		ts := times[k]
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		medians[k] = ts[len(ts)/2]
		fmt.Printf("%-20s %10s %10s %10s\n", kind.name, ms(medians[k]), ms(ts[len(ts)*9/10]), ms(ts[0]))
	}
	fmt.Printf("warm hook minus /bin/true: %s (median)\n", ms(medians[1]-medians[0]))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchhook:", err)
	os.Exit(1)
}
