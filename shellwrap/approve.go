package shellwrap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/engine"
)

// approvalTimeout bounds the wait for a human; the server's own timeout
// (2 minutes by default) normally answers first.
const approvalTimeout = 5 * time.Minute

// approve turns an ask into a human's answer through the running
// server's approvals ("rampart approve ID" or "rampart watch"). Without a
// server there is no one to ask: the command is denied, and the reason
// says that an approval is needed.
func (e *Env) approve(call engine.ToolCall, ask engine.Decision) engine.Decision {
	denied := ask
	denied.Decision = engine.ActionDeny
	client, base, token := serverClient(e.Getenv)
	if client == nil {
		denied.Message = strings.TrimSpace(ask.Message + " This command needs a human's approval, and no Rampart server is running to ask for it (start one with \"rampart serve --background\", then approve with \"rampart approve ID\" or in \"rampart watch\").")
		return denied
	}
	fmt.Fprintf(e.Stderr, "rampart: waiting for approval: %s (rampart watch, or rampart approve)\n", oneLine(call.Command))
	body, _ := json.Marshal(call)
	ctx, cancel := context.WithTimeout(context.Background(), approvalTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/check?wait=1", bytes.NewReader(body))
	if err != nil {
		denied.Message = "approval request failed: " + err.Error()
		return denied
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Rampart-Adapter", "shell")
	resp, err := client.Do(req)
	if err != nil {
		denied.Message = strings.TrimSpace(ask.Message + " The approval could not be asked for: " + err.Error())
		return denied
	}
	defer resp.Body.Close()
	var d engine.Decision
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&d) != nil {
		denied.Message = strings.TrimSpace(ask.Message + fmt.Sprintf(" The server did not answer the approval (%s).", resp.Status))
		return denied
	}
	if d.Decision == engine.ActionAsk {
		d.Decision = engine.ActionDeny
	}
	return d
}

// serverClient finds a running server: $RAMPART_URL, else the Unix socket
// under RAMPART_HOME when it answers. The client is nil when none does.
func serverClient(getenv func(string) string) (*http.Client, string, string) {
	home := rampartHome(getenv)
	token := getenv("RAMPART_TOKEN")
	if token == "" && home != "" {
		if data, err := os.ReadFile(filepath.Join(home, "token")); err == nil {
			token = strings.TrimSpace(string(data))
		}
	}
	url := getenv("RAMPART_URL")
	transport := &http.Transport{Proxy: nil}
	base := url
	switch {
	case strings.HasPrefix(url, "unix:"):
		socket := strings.TrimPrefix(strings.TrimPrefix(url, "unix:"), "//")
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}
		base = "http://rampart"
	case url == "" && home != "":
		socket := filepath.Join(home, "rampart.sock")
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}
		base = "http://rampart"
	case url == "":
		return nil, "", ""
	}
	client := &http.Client{Transport: transport}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/healthz", nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", ""
	}
	resp.Body.Close()
	return client, strings.TrimRight(base, "/"), token
}
