// Command bench measures what librampart.so adds to each program start:
// the same shell loops with and without the library, interleaved round by
// round in one run, against a real `rampart serve` on a Unix socket (a
// throwaway Rampart home, the standard profile). It prints the median time
// per exec of each, the time added (the median of the rounds' differences
// between checked and plain) and the ratio, the share of checks the allow
// table answered, the cost of one check without a new process (from the
// table and asking), and the server's CPU time per decision. The row
// "/bin/true NEW" gives every exec new arguments, so that each one asks
// the server: the cost of a call the table does not hold.
//
//	go run ./preload/bench -rampart bin/rampart   (make bench runs it)
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/server"
)

type workload struct {
	name  string
	body  string // the command run in the loop
	runs  int    // per configuration, in total
	batch int    // runs per round
}

func main() {
	rampart := flag.String("rampart", "bin/rampart", "the rampart binary (for rampart serve)")
	lib := flag.String("lib", "preload/lib/librampart.so", "the library")
	checkloop := flag.String("checkloop", "preload/build/checkloop", "the check-only helper (preload/Makefile builds it)")
	scale := flag.Float64("scale", 1, "multiply the number of runs")
	flag.Parse()
	if err := run(*rampart, *lib, *checkloop, *scale); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(rampart, lib, checkloop string, scale float64) error {
	for _, p := range []*string{&rampart, &lib, &checkloop} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("%w (run make first)", err)
		}
		*p = abs
	}
	tmp, err := os.MkdirTemp("", "rampart-preload-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	home := filepath.Join(tmp, "home")
	sock := filepath.Join(tmp, "s.sock")
	srv := exec.Command(rampart, "serve", "--socket", sock, "--port", "0", "--log-level", "warn", "--profile", "standard")
	srv.Env = append(cleanEnv(), "RAMPART_HOME="+home)
	var srvLog bytes.Buffer
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}()
	token, err := waitForServer(sock, home, srv)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, srvLog.String())
	}
	client, err := server.NewClient("unix:"+sock, token, 5*time.Second)
	if err != nil {
		return err
	}

	plain := append(cleanEnv(), "RAMPART_HOME="+home)
	preloaded := append(slices.Clone(plain), "LD_PRELOAD="+lib, "RAMPART_URL=unix:"+sock, "RAMPART_TOKEN="+token,
		"RAMPART_SESSION=bench", "RAMPART_AGENT=bench")

	n := func(v int) int { return max(1, int(float64(v)*scale)) }
	loads := []workload{
		// Small batches, many rounds: the median of 40 differences
		// resists the VM's bursts better than that of 10.
		{"/bin/true", "/bin/true", n(1000), n(25)},
		// A new argument vector every time: never in the allow table, so
		// every check is a round trip to the server.
		{"/bin/true NEW", "/bin/true $$-$i", n(1000), n(25)},
		{"git --version", "git --version >/dev/null", n(300), n(10)},
		{"python3 -c pass", "python3 -c pass", n(200), n(5)},
	}
	fmt.Printf("librampart.so: added time per exec, %s %s, %d CPUs, load average %s\n", runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), loadAverage())
	fmt.Printf("server: rampart serve on a Unix socket, standard profile, audit trail on; interleaved rounds, median of rounds\n")
	fmt.Printf("table: the share of checks the allow table answered (the rest asked the server)\n\n")
	fmt.Printf("%-16s %5s %11s %11s %11s %11s %6s %7s %6s %11s\n", "workload", "runs", "plain", "lib loaded", "checked",
		"added", "ratio", "checks", "table", "server CPU")
	fmt.Printf("%-16s %5s %11s %11s %11s %11s %6s %7s %6s %11s\n", "", "", "per run", "per run", "per run", "per run", "", "per run",
		"", "per check")
	for _, w := range loads {
		if _, err := exec.LookPath(strings.Fields(w.body)[0]); err != nil {
			fmt.Printf("%-16s (not installed)\n", w.name)
			continue
		}
		// plain: no library; loaded: the library with RAMPART_MODE=disabled
		// (its load cost alone); checked: every exec asks the server.
		envs := [][]string{plain, append(slices.Clone(preloaded), "RAMPART_MODE=disabled"), preloaded}
		times := make([][]float64, len(envs))
		rounds := w.runs / w.batch
		script := fmt.Sprintf("for i in $(seq %d); do %s; done", w.batch, w.body)
		var cpu time.Duration
		var decisions, cached uint64
		for r := range rounds {
			for k := range envs {
				c := (k + r) % len(envs) // rotate which goes first
				cpu0, recs0, cached0 := serverCPU(srv.Process.Pid), auditRecords(client), cachedRecords(home)
				took, err := timeRun(envs[c], tmp, "bash", "-c", script)
				if err != nil {
					return fmt.Errorf("%s: %w", w.name, err)
				}
				if c == 2 {
					// The notes of calls run on the allow table are
					// collected every 10 ms: let the last ones in.
					time.Sleep(30 * time.Millisecond)
					cpu += serverCPU(srv.Process.Pid) - cpu0
					decisions += auditRecords(client) - recs0
					cached += cachedRecords(home) - cached0
				}
				times[c] = append(times[c], float64(took.Nanoseconds())/float64(w.batch)/1e3)
			}
		}
		p, l, q := median(times[0]), median(times[1]), median(times[2])
		// Added: the median of each round's difference, so that the VM's
		// drift between rounds cancels out.
		added := make([]float64, rounds)
		for r := range added {
			added[r] = times[2][r] - times[0][r]
		}
		checks := float64(decisions) / float64(rounds*w.batch)
		perDecision, fromTable := "n/a", "n/a"
		if decisions > 0 {
			perDecision = fmt.Sprintf("%.0f µs", cpu.Seconds()*1e6/float64(decisions))
			fromTable = fmt.Sprintf("%.0f%%", 100*float64(cached)/float64(decisions))
		}
		fmt.Printf("%-16s %5d %8.0f µs %8.0f µs %8.0f µs %8.0f µs %5.2fx %7.1f %6s %11s\n", w.name, rounds*w.batch, p, l, q, median(added),
			q/p, checks, fromTable, perDecision)
	}

	// One check without starting a process: the same exec over and over,
	// answered by the allow table after the first, then asking every time.
	fmt.Println()
	for _, c := range []struct{ what, env string }{
		{"answered by the allow table", "RAMPART_ALLOW_TABLE=1"},
		{"asking the server (connect, HTTP round trip, decision, audit)", "RAMPART_ALLOW_TABLE=0"},
	} {
		var checks []float64
		for range 5 {
			cmd := exec.Command(checkloop, strconv.Itoa(n(1000)))
			cmd.Env = append(slices.Clone(preloaded), c.env)
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("checkloop: %w", err)
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
			if err != nil {
				return fmt.Errorf("checkloop: %q", out)
			}
			checks = append(checks, v)
		}
		fmt.Printf("one check alone, no new process, %s: median %.0f µs of 5 x %d\n", c.what, median(checks), n(1000))
	}
	fmt.Printf("load average after: %s\n", loadAverage())
	return nil
}

// cleanEnv is this process's environment without Rampart's settings.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RAMPART_") && !strings.HasPrefix(kv, "LD_PRELOAD=") {
			out = append(out, kv)
		}
	}
	return out
}

func waitForServer(sock, home string, srv *exec.Cmd) (string, error) {
	for range 200 {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if t, err := server.ReadToken(server.TokenPath(home)); err == nil && t != "" {
				return t, nil
			}
		}
		if srv.ProcessState != nil {
			return "", fmt.Errorf("rampart serve exited")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("rampart serve did not listen on %s", sock)
}

func timeRun(env []string, dir string, argv ...string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = env, dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%v\n%s", err, errb.String())
	}
	if errb.Len() > 0 {
		return 0, fmt.Errorf("unexpected stderr: %s", errb.String())
	}
	return took, nil
}

// serverCPU is the user+system CPU time of pid so far.
func serverCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // sysconf(_SC_CLK_TCK) on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

func auditRecords(c *server.Client) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := c.Health(ctx)
	if err != nil {
		return 0
	}
	return h.Audit.Records
}

// cachedRecords counts the audit records of calls run on the allow table.
func cachedRecords(home string) uint64 {
	var n uint64
	audit.Scan(audit.DefaultDir(home), func(e audit.Entry) error { //nolint:errcheck // a count, best effort
		if e.Record != nil && e.Record.Cached {
			n++
		}
		return nil
	})
	return n
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:3], " ")
}
