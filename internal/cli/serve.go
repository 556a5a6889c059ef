package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/internal/config"
	"github.com/rampart-dev/rampart/internal/suggest"
	"github.com/rampart-dev/rampart/server"
)

// ServeOptions are the flags of "rampart serve".
type ServeOptions struct {
	Proc *Process

	Profile  string   // --profile
	Policies []string // --policy; nil means ~/.rampart/policies
	Project  string   // --project

	Addr        string // --addr HOST or HOST:PORT
	Port        int    // --port
	PortSet     bool
	Socket      string // --socket; "" means $RAMPART_HOME/rampart.sock
	NoSocket    bool
	AllowRemote bool

	ApprovalTimeout time.Duration
	AuditWait       bool
	LogFormat       string
	LogLevel        string
	Background      bool

	// childArgs are the flags to pass on to the detached server of
	// --background.
	childArgs []string
	// ctx, when set, stops the server when done (tests); otherwise
	// SIGINT and SIGTERM do.
	ctx context.Context
	// ready, when set, is called with the server once it listens.
	ready func(*server.Server)
}

// serveShutdownTimeout bounds how long a stopping server waits for
// requests in flight.
const serveShutdownTimeout = 10 * time.Second

// NewCmdServe builds "rampart serve" and its subcommands.
func NewCmdServe(proc *Process, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Run the policy server for the preload library, rampart-sh and approvals",
		Long: `Serve keeps the policy loaded and answers tool calls over HTTP: on
127.0.0.1:9090 and on the Unix socket ~/.rampart/rampart.sock (sandboxed
agents often reach a socket but not TCP). Adapters that cannot decide on
their own (the preload library, rampart-sh) ask it, and every decision goes
to the audit trail (~/.rampart/audit). Records are written in batches as
they come and all are written before the server exits on SIGTERM or
SIGINT; with --audit-wait a decision is answered only once its record is
written, so even kill -9 cannot lose an answered decision's record (unless
writing takes over 5 s: then it is answered anyway).

Requests need the bearer token in ~/.rampart/token (created on the first
start; "rampart token show" prints it, $RAMPART_TOKEN overrides it), except
GET /healthz. The server listens only on loopback unless --allow-remote.

Policies load as for "rampart check" (profile, ~/.rampart/policies/*.yaml,
and with --project DIR that project's .rampart/policy.yaml) and reload when
their files change; a broken edit keeps the last good policy in force and is
reported in the log, in GET /healthz and as an event. SIGHUP reloads too.

An "ask" sent with ?wait=1 waits for a human: "rampart approve ID" or
"rampart deny ID" answers it, else it is denied after --approval-timeout.

The API is described in docs/server.md. Exit codes: 64 usage, 69 the
address or socket is taken (or a server already runs), 78 a policy or
config.yaml is invalid.`,
		Example: `  # In the foreground, logging to the terminal
  rampart serve

  # Detached, logging to ~/.rampart/serve.log; then check on it and stop it
  rampart serve --background
  rampart status
  rampart serve stop

  # Start at login with systemd
  rampart serve install

  # Another port, the paranoid profile, a project's policy, JSON logs
  rampart serve --port 9191 --profile paranoid --project ~/src/app --log-format json

  # Ask it something (the token is in ~/.rampart/token)
  curl -s -H "Authorization: Bearer $(rampart token show)" \
    -d '{"tool":"exec","command":"rm -rf /"}' http://127.0.0.1:9090/v1/check`,
		Args: serveArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.PortSet = cmd.Flags().Changed("port")
			if err := opts.validate(); err != nil {
				return err
			}
			opts.childArgs = childFlags(cmd.Flags(), "background")
			if runF != nil {
				return runF(opts)
			}
			return serveRun(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Profile, "profile", "", "embedded profile `NAME` to start from, or \"none\" (default: $RAMPART_PROFILE, else config.yaml, else \"standard\")")
	f.StringArrayVar(&opts.Policies, "policy", nil, "policy `FILE` to load instead of ~/.rampart/policies/*.yaml (repeatable)")
	f.StringVar(&opts.Project, "project", "", "also load the project policy (.rampart/policy.yaml) found from `DIR`")
	f.StringVar(&opts.Addr, "addr", "127.0.0.1", "TCP `HOST` or HOST:PORT to listen on (loopback only, unless --allow-remote)")
	f.IntVar(&opts.Port, "port", 9090, "TCP `PORT` to listen on (0: any free port)")
	f.StringVar(&opts.Socket, "socket", "", "Unix socket `PATH` (default $RAMPART_HOME/rampart.sock)")
	f.BoolVar(&opts.NoSocket, "no-socket", false, "do not listen on a Unix socket")
	f.BoolVar(&opts.AllowRemote, "allow-remote", false, "allow --addr to be an address other machines can reach (every request still needs the token)")
	f.DurationVar(&opts.ApprovalTimeout, "approval-timeout", server.DefaultApprovalTimeout, "how long an ask with ?wait=1 waits for a human before it is denied")
	f.BoolVar(&opts.AuditWait, "audit-wait", false, "answer a decision only once its audit record is written, so even kill -9 loses none (slower)")
	f.StringVar(&opts.LogFormat, "log-format", "text", "log `FORMAT`: text or json")
	f.StringVar(&opts.LogLevel, "log-level", "info", "log `LEVEL`: debug (every decision), info, warn or error")
	f.BoolVar(&opts.Background, "background", false, "start detached, log to $RAMPART_HOME/serve.log, and return once it answers")
	cmd.AddCommand(NewCmdServeStop(proc, nil), NewCmdServeInstall(proc, nil))
	return cmd
}

// serveArgs: serve takes no arguments, only its subcommands.
func serveArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := `"rampart serve" takes flags only; its subcommands are "stop" and "install"`
	if s := suggest.Closest(args[0], []string{"stop", "install"}); s != "" {
		hint = fmt.Sprintf("did you mean %q?", "rampart serve "+s)
	}
	return usageErrorf(hint, "unknown command %q for %q", args[0], cmd.CommandPath())
}

func (o *ServeOptions) validate() error {
	if o.Profile != "" && !config.ValidProfile(o.Profile) {
		return usageErrorf(`run "rampart policy list" to see the profiles`, "--profile: unknown profile %q%s; available: %s",
			o.Profile, suggest.DidYouMean(o.Profile, config.ProfileNames()), strings.Join(config.ProfileNames(), ", "))
	}
	if o.Policies != nil && len(o.Policies) == 0 {
		return usageErrorf("", "--policy: no file given")
	}
	for _, f := range o.Policies {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			return usageErrorf("", "--policy %s: no such file", f)
		}
	}
	if o.Project != "" {
		if st, err := os.Stat(o.Project); err != nil || !st.IsDir() {
			return usageErrorf("", "--project %s: not a directory", o.Project)
		}
	}
	if !slices.Contains(logFormats, o.LogFormat) {
		return usageErrorf("", "--log-format: want text or json, got %q", o.LogFormat)
	}
	if !slices.Contains(logLevels, o.LogLevel) {
		return usageErrorf("", "--log-level: want one of %s, got %q", strings.Join(logLevels, ", "), o.LogLevel)
	}
	if o.Port < 0 || o.Port > 65535 {
		return usageErrorf("", "--port: %d is not a port number", o.Port)
	}
	if o.ApprovalTimeout <= 0 {
		return usageErrorf("for example --approval-timeout 5m", "--approval-timeout must be positive")
	}
	host, _, err := o.tcpAddr()
	if err != nil {
		return err
	}
	if !o.AllowRemote {
		if err := server.CheckLoopback(host); err != nil {
			return usageErrorf("the server decides what agents may run; keep it on 127.0.0.1, or pass --allow-remote if you really mean it",
				"--addr %s: %v: refusing to listen where other machines can reach the server", o.Addr, err)
		}
	}
	if o.Background && o.NoSocket && o.Port == 0 {
		return usageErrorf("give a --port, or keep the socket", "--background cannot find a server with --no-socket and --port 0")
	}
	return nil
}

// tcpAddr returns the host and port to listen on: --addr, with its port
// unless --port is given.
func (o *ServeOptions) tcpAddr() (string, int, error) {
	host, port := o.Addr, o.Port
	if h, p, err := net.SplitHostPort(o.Addr); err == nil {
		host = h
		if !o.PortSet {
			if port, err = strconv.Atoi(p); err != nil {
				return "", 0, usageErrorf("", "--addr %s: bad port", o.Addr)
			}
		}
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return host, port, nil
}

func (o *ServeOptions) socketPath(rampartHome string) string {
	if o.NoSocket {
		return ""
	}
	if o.Socket != "" {
		return o.Socket
	}
	return server.SocketPath(rampartHome)
}

func serveRun(o *ServeOptions) error {
	rhome := o.Proc.RampartHome()
	if rhome == "" {
		return withCode(ExitConfig, errors.New("no Rampart home: neither $RAMPART_HOME nor $HOME is set"), "set RAMPART_HOME to a private directory")
	}
	if err := os.MkdirAll(rhome, 0o700); err != nil {
		return withCode(ExitCantCreate, fmt.Errorf("create %s: %w", rhome, err))
	}
	pidPath := server.PIDPath(rhome)
	if o.Background {
		return serveBackground(o, rhome)
	}
	if pid := runningServer(pidPath); pid != 0 {
		return withCode(ExitUnavailable, fmt.Errorf("a server is already running for %s (pid %d)", rhome, pid),
			`stop it with "rampart serve stop", or give this one another RAMPART_HOME`)
	}
	log := newServeLogger(o.Proc.Err, o.LogFormat, o.LogLevel)
	server.TuneGC()

	src := &serveSources{proc: o.Proc, profile: o.Profile, policies: o.Policies, project: o.Project,
		rampartHome: rhome, home: o.Proc.Home()}
	cfg := server.Config{
		Load:               src.load,
		Watch:              src.watch,
		AuditDir:           audit.DefaultDir(rhome),
		Token:              o.Proc.Getenv("RAMPART_TOKEN"),
		TokenFile:          server.TokenPath(rhome),
		ApprovedPolicyFile: src.approvedFile(),
		ApprovalTimeout:    o.ApprovalTimeout,
		AuditWait:          o.AuditWait,
		Home:               o.Proc.Home(),
		Version:            buildVersion(),
		Log:                log,
	}
	if cfg.Token != "" {
		log.Info("using the token in $RAMPART_TOKEN; rampart token rotate does not change it")
	}
	srv, err := server.New(cfg)
	var loadErr *server.LoadError
	switch {
	case errors.As(err, &loadErr):
		return startupLoadError(loadErr.Err)
	case err != nil:
		return withCode(ExitCantCreate, err)
	}

	listeners, err := o.listen(rhome)
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	serveErr := make(chan error, len(listeners))
	for _, ln := range listeners {
		go func() { serveErr <- srv.Serve(ln) }()
	}
	if err := writePIDFile(pidPath); err != nil {
		log.WithError(err).Warn("cannot write the pid file; rampart serve stop will not find this server")
	}
	defer removePIDFile(pidPath)
	waitListening(srv, len(listeners))
	log.WithField("listen", srv.Listening()).WithField("pid", os.Getpid()).Info("rampart serve is ready")
	if o.ready != nil {
		o.ready(srv)
	}

	ctx := o.ctx
	if ctx == nil {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var failed error
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case <-hup:
			srv.Reload()
		case err := <-serveErr:
			if err != nil {
				failed = withCode(ExitUnavailable, fmt.Errorf("serving: %w", err))
				break wait
			}
		}
	}
	log.Info("shutting down: answering requests in flight and writing the audit trail")
	sctx, cancel := context.WithTimeout(context.Background(), serveShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.WithError(err).Error("shutdown")
		if failed == nil {
			failed = withCode(ExitSoftware, fmt.Errorf("shutdown: %w", err))
		}
	}
	log.Info("stopped")
	return failed
}

// listen opens the TCP listener and the Unix socket.
func (o *ServeOptions) listen(rhome string) ([]net.Listener, error) {
	host, port, _ := o.tcpAddr()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	tcp, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, withCode(ExitUnavailable, fmt.Errorf("listen on %s: %w", addr, unwrapOpError(err)),
			`is a server already running ("rampart status")? Otherwise choose another --port`)
	}
	out := []net.Listener{tcp}
	if sock := o.socketPath(rhome); sock != "" {
		ln, err := server.ListenUnix(sock)
		if err != nil {
			tcp.Close()
			hint := "choose another --socket, or --no-socket"
			if errors.Is(err, server.ErrRunning) {
				hint = `a server is already running: "rampart status" shows it, "rampart serve stop" stops it`
			}
			return nil, withCode(ExitUnavailable, err, hint)
		}
		out = append(out, ln)
	}
	return out, nil
}

// waitListening waits (briefly) until Serve registered every listener, so
// the ready line names them all.
func waitListening(srv *server.Server, n int) {
	for i := 0; i < 100 && len(srv.Listening()) < n; i++ {
		time.Sleep(time.Millisecond)
	}
}

func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// childFlags turns the flags given on the command line (but skip) back
// into arguments, for the detached server of --background.
func childFlags(fs *pflag.FlagSet, skip string) []string {
	var out []string
	fs.Visit(func(f *pflag.Flag) {
		if f.Name == skip {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				out = append(out, "--"+f.Name+"="+v)
			}
			return
		}
		out = append(out, "--"+f.Name+"="+f.Value.String())
	})
	return out
}
