package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/server"
)

// backgroundStartTimeout bounds how long --background waits for the
// detached server to answer.
const backgroundStartTimeout = 15 * time.Second

// serveBackground starts the server detached (a new session, its output in
// serve.log) and returns once it answers on /healthz.
func serveBackground(o *ServeOptions, rhome string) error {
	pidPath := server.PIDPath(rhome)
	if pid := runningServer(pidPath); pid != 0 {
		fmt.Fprintf(o.Proc.Out, "rampart serve is already running (pid %d); \"rampart status\" shows it\n", pid)
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return withCode(ExitSoftware, fmt.Errorf("find the rampart binary: %w", err))
	}
	logPath := server.LogPath(rhome)
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return withCode(ExitCantCreate, fmt.Errorf("open the log: %w", err))
	}
	defer logFile.Close()
	offset, _ := logFile.Seek(0, 2)

	cmd := exec.Command(exe, append([]string{"serve"}, o.childArgs...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "RAMPART_HOME="+rhome)
	if home := o.Proc.Home(); home != "" {
		cmd.Env = append(cmd.Env, "HOME="+home)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // survives the terminal
	if err := cmd.Start(); err != nil {
		return withCode(ExitSoftware, fmt.Errorf("start the server: %w", err))
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	url := "unix:" + o.socketPath(rhome)
	if o.NoSocket {
		host, port, _ := o.tcpAddr()
		url = fmt.Sprintf("http://%s", hostPort(host, port))
	}
	client, err := server.NewClient(url, "", time.Second)
	if err != nil {
		return withCode(ExitSoftware, err)
	}
	deadline := time.Now().Add(backgroundStartTimeout)
	for {
		select {
		case err := <-exited:
			return withCode(ExitUnavailable, fmt.Errorf("the server exited at once (%v):\n%s", err, logTail(logPath, offset)),
				"the lines above are from "+logPath)
		case <-time.After(50 * time.Millisecond):
		}
		h, err := client.Health(context.Background())
		if err == nil && h.PID == cmd.Process.Pid {
			fmt.Fprintf(o.Proc.Out, "rampart serve is running in the background (pid %d)\n  listening on %s\n  log: %s\n  stop it with: rampart serve stop\n",
				h.PID, strings.Join(h.Listen, " and "), logPath)
			return nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Signal(syscall.SIGTERM)
			return withCode(ExitUnavailable, fmt.Errorf("the server did not answer at %s within %s", url, backgroundStartTimeout),
				"see "+logPath)
		}
	}
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}

// logTail returns what was written to the log at path after offset (at
// most its last 2 KiB).
func logTail(path string, offset int64) string {
	data, err := os.ReadFile(path)
	if err != nil || int64(len(data)) < offset {
		return ""
	}
	data = data[offset:]
	if len(data) > 2048 {
		data = data[len(data)-2048:]
	}
	return strings.TrimRight(string(bytes.TrimSpace(data)), "\n")
}

// ServeStopOptions are the flags of "rampart serve stop".
type ServeStopOptions struct {
	Proc    *Process
	Timeout time.Duration
}

// NewCmdServeStop builds "rampart serve stop".
func NewCmdServeStop(proc *Process, runF func(*ServeStopOptions) error) *cobra.Command {
	opts := &ServeStopOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop the server started with rampart serve",
		Long: `Stop sends SIGTERM to the server named in $RAMPART_HOME/serve.pid and waits
until it has exited: requests in flight are answered, waiting approvals are
denied, and every audit record is written first.

A server run by systemd ("rampart serve install") is stopped with
"systemctl --user stop rampart" instead, or systemd would not know.

Exit codes: 0 stopped, 3 no server was running, 69 it did not stop in time.`,
		Example: `  rampart serve stop
  rampart serve stop --timeout 30s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return serveStopRun(opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 15*time.Second, "how long to wait for the server to exit")
	return cmd
}

func serveStopRun(o *ServeStopOptions) error {
	rhome := o.Proc.RampartHome()
	pidPath := server.PIDPath(rhome)
	pid, err := readPIDFile(pidPath)
	if err != nil {
		return withCode(ExitSoftware, err, "remove the file if no server runs")
	}
	if pid == 0 {
		return withCode(ExitNotRunning, fmt.Errorf("no server is running for %s (no %s)", rhome, pidPath))
	}
	if !processAlive(pid) || !isRampartServer(pid) {
		os.Remove(pidPath)
		return withCode(ExitNotRunning, fmt.Errorf("no server is running for %s (removed the stale pid file of pid %d)", rhome, pid))
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return withCode(ExitSoftware, fmt.Errorf("signal pid %d: %w", pid, err))
	}
	deadline := time.Now().Add(o.Timeout)
	for processAlive(pid) && isRampartServer(pid) {
		if time.Now().After(deadline) {
			return withCode(ExitUnavailable, fmt.Errorf("the server (pid %d) did not exit within %s", pid, o.Timeout),
				fmt.Sprintf("see %s; kill -9 %d stops it at once (the audit trail stays verifiable)", server.LogPath(rhome), pid))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A server that could not clean up after itself leaves these behind.
	if p, _ := readPIDFile(pidPath); p == pid {
		os.Remove(pidPath)
	}
	fmt.Fprintf(o.Proc.Out, "stopped the server (pid %d)\n", pid)
	return nil
}
