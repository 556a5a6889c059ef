package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/server"
)

// preloadServer is the policy server the library of one rampart preload
// run asks: a running one, or one embedded in this process for the run.
type preloadServer struct {
	URL   string
	Token string
	// Embedded is set when this process serves the run itself.
	Embedded *server.Server
	dir      string // the embedded server's private folder
	stop     chan struct{}
	closed   sync.Once
}

// healthTimeout bounds the check that a server answers.
const healthTimeout = time.Second

// connectPreloadServer finds the server the command's library will ask:
// --url or --port (which must answer), else $RAMPART_URL or the Rampart
// home's socket or http://127.0.0.1:9090 when a server answers there, else
// a server started in this process on a private socket.
func connectPreloadServer(opts *PreloadOptions) (*preloadServer, error) {
	proc := opts.Proc
	home := proc.RampartHome()
	explicit := opts.URL != "" || opts.Port != 0
	url, source := opts.URL, "--url"
	switch {
	case opts.Port != 0:
		url, source = "http://127.0.0.1:"+strconv.Itoa(opts.Port), "--port"
	case url == "":
		url, source = proc.Getenv("RAMPART_URL"), "$RAMPART_URL"
	}
	if url == "" {
		url, source = server.DefaultURL(home), "the default server address"
	}
	url, err := libraryURL(url)
	if err != nil {
		return nil, usageErrorf("the library speaks plain HTTP to an IP address or localhost, or to a Unix socket, and looks up no names",
			"%s: %v", source, err)
	}
	token := opts.Token
	if token == "" {
		token = proc.Getenv("RAMPART_TOKEN")
	}
	if token == "" && home != "" {
		t, err := server.ReadToken(server.TokenPath(home))
		if err != nil && !errors.Is(err, server.ErrNoToken) {
			return nil, withCode(ExitConfig, err)
		}
		token = t
	}

	answers, err := serverAnswers(url, token)
	if answers {
		return &preloadServer{URL: url, Token: token}, err
	}
	if explicit {
		return nil, withCode(ExitUnavailable, fmt.Errorf("no Rampart server answers at %s", url),
			"start one with \"rampart serve\", or leave out --url and --port: rampart preload then runs its own")
	}
	return startEmbeddedServer(opts)
}

// libraryURL returns rawURL as librampart.so will read it, or an error
// when the library could not use it although a Go client could: the
// library resolves no names (the host must be an IP address or
// localhost), takes no user, path or query, and would open a relative
// socket path from whatever folder a program has changed to, so a
// relative one is made absolute.
func libraryURL(rawURL string) (string, error) {
	const want = "want http://IP:PORT, http://localhost:PORT or unix:/path/to/socket"
	if sock, ok := strings.CutPrefix(rawURL, "unix:"); ok {
		sock = strings.TrimPrefix(sock, "//") // unix:///path
		if sock == "" {
			return "", fmt.Errorf("%q: %s", rawURL, want)
		}
		abs, err := filepath.Abs(sock)
		if err != nil {
			return "", fmt.Errorf("%q: %w", rawURL, err)
		}
		return "unix:" + abs, nil
	}
	u, err := neturl.Parse(rawURL)
	if err != nil || !strings.HasPrefix(rawURL, "http://") || u.User != nil || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || (u.Path != "" && u.Path != "/") || u.Hostname() == "" {
		return "", fmt.Errorf("%q: %s", rawURL, want)
	}
	if host := u.Hostname(); host != "localhost" {
		if addr, err := netip.ParseAddr(host); err != nil || addr.Zone() != "" {
			return "", fmt.Errorf("%q: %q is not an IP address or localhost (the library looks up no names)", rawURL, host)
		}
	}
	if port := u.Port(); strings.HasSuffix(u.Host, ":") || port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q: the port must be 1 to 65535", rawURL)
		}
	}
	return rawURL, nil
}

// serverAnswers reports whether a server answers at url, and checks that
// it takes token: a server that refuses it is an error, since every check
// the library made would fail.
func serverAnswers(url, token string) (bool, error) {
	client, err := server.NewClient(url, token, healthTimeout)
	if err != nil {
		return false, usageErrorf("", "--url: %v", err)
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	if _, err := client.Health(ctx); err != nil {
		return false, nil
	}
	client.Adapter = "preload"
	_, err = client.Approvals(ctx)
	var apiErr *server.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		return true, withCode(ExitConfig, fmt.Errorf("the Rampart server at %s refused the token", url),
			"pass --token, set RAMPART_TOKEN, or check the token file (rampart token show)")
	}
	if err != nil {
		return true, withCode(ExitUnavailable, fmt.Errorf("the Rampart server at %s: %w", url, err))
	}
	return true, nil
}

// startEmbeddedServer serves the run from this process: the same policies
// rampart serve would load, the normal audit trail, a private socket in a
// new temporary folder and a token of its own.
func startEmbeddedServer(opts *PreloadOptions) (*preloadServer, error) {
	proc := opts.Proc
	home := proc.RampartHome()
	if home == "" {
		return nil, withCode(ExitConfig, errors.New("no Rampart home: set HOME or RAMPART_HOME"))
	}
	cwd, err := resolveCwd(proc, "")
	if err != nil {
		return nil, err
	}
	// The policies rampart serve loads, and the project policy of the
	// directory the command runs in (it can only tighten them).
	src := &serveSources{proc: proc, rampartHome: home, home: proc.Home(), project: cwd}
	token, err := server.GenerateToken()
	if err != nil {
		return nil, withCode(ExitSoftware, err)
	}
	dir, err := os.MkdirTemp("", "rampart-preload-")
	if err != nil {
		return nil, withCode(ExitCantCreate, fmt.Errorf("make the server's folder: %w", err))
	}
	ps := &preloadServer{Token: token, dir: dir, stop: make(chan struct{})}
	fail := func(err error) (*preloadServer, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	// The token file lets a human answer approvals from another terminal
	// without the token being printed.
	if err := os.WriteFile(filepath.Join(dir, server.TokenFileName), []byte(token+"\n"), 0o600); err != nil {
		return fail(withCode(ExitCantCreate, err))
	}
	log := logrus.New()
	log.SetOutput(proc.Err)
	log.SetLevel(logrus.WarnLevel)
	log.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
	srv, err := server.New(server.Config{
		Load:               src.load,
		Watch:              src.watch,
		AuditDir:           audit.DefaultDir(home),
		Token:              token,
		ApprovedPolicyFile: src.approvedFile(),
		Home:               proc.Home(),
		Version:            buildVersion(),
		Log:                log,
	})
	var loadErr *server.LoadError
	switch {
	case errors.As(err, &loadErr):
		return fail(startupLoadError(loadErr.Err))
	case err != nil:
		return fail(withCode(ExitCantCreate, err))
	}
	sock := filepath.Join(dir, server.SocketFileName)
	ln, err := server.ListenUnix(sock)
	if err != nil {
		srv.Shutdown(context.Background())
		return fail(withCode(ExitCantCreate, err))
	}
	go srv.Serve(ln)
	ps.Embedded = srv
	ps.URL = "unix:" + sock
	go ps.announceApprovals(proc.Err)
	return ps, nil
}

// announceApprovals tells the human, once per approval, how to answer the
// asks the embedded server holds: its socket is private, so rampart
// approve needs to be pointed at it.
func (ps *preloadServer) announceApprovals(w io.Writer) {
	client, err := server.NewClient(ps.URL, ps.Token, healthTimeout)
	if err != nil {
		return
	}
	defer client.CloseIdleConnections()
	seen := map[string]bool{}
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ps.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
		pending, err := client.Approvals(ctx)
		cancel()
		if err != nil {
			continue
		}
		for _, a := range pending {
			if seen[a.ID] || a.Status != server.StatusPending {
				continue
			}
			seen[a.ID] = true
			fmt.Fprintf(w, "rampart preload: approval %s is waiting; answer it from another terminal:\n"+
				"  RAMPART_URL=%s RAMPART_TOKEN=$(cat %s) rampart approve %s   (or: rampart deny %s)\n",
				a.ID, ps.URL, filepath.Join(ps.dir, server.TokenFileName), a.ID, a.ID)
		}
	}
}

// Close stops an embedded server (pending approvals are denied, the audit
// trail is flushed) and removes its folder. It may be called again.
func (ps *preloadServer) Close() error {
	if ps.Embedded == nil {
		return nil
	}
	var err error
	ps.closed.Do(func() {
		close(ps.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = ps.Embedded.Shutdown(ctx)
		os.RemoveAll(ps.dir)
	})
	return err
}
