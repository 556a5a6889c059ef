package integrations

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Codex runs a user's hook only once the user has trusted its exact
// definition: config.toml records, per hook key
// ("<hooks.json path>:pre_tool_use:<group>:<handler>"), the hash of the
// definition the user approved, and Codex skips, without a word, a hook
// whose hash is missing or different. Codex's own /hooks screen trusts a
// hook through its app server; Rampart does the same, so it never
// computes Codex's hash itself.

// CodexHook is one hook as Codex's app server lists it (hooks/list).
type CodexHook struct {
	Key         string `json:"key"`
	EventName   string `json:"eventName"`
	Command     string `json:"command"`
	Matcher     string `json:"matcher"`
	SourcePath  string `json:"sourcePath"`
	Enabled     bool   `json:"enabled"`
	CurrentHash string `json:"currentHash"`
	// TrustStatus is "trusted", "untrusted", "modified" or "managed".
	TrustStatus string `json:"trustStatus"`
}

// Trusted reports whether Codex will run the hook.
func (h CodexHook) Trusted() bool {
	return h.Enabled && (h.TrustStatus == "trusted" || h.TrustStatus == "managed")
}

// CodexAppServer talks to `codex app-server` (JSON-RPC, one message per
// line on stdin and stdout), the interface Codex's own clients use.
type CodexAppServer struct {
	// Binary is the codex executable.
	Binary string
	// Env is its environment (CODEX_HOME and HOME decide which config it
	// reads and writes); nil means this process's.
	Env []string
	// Dir is its working directory: the project whose hooks it lists.
	Dir string
	// Timeout bounds one whole session (default 30 s).
	Timeout time.Duration
}

// ListHooks returns the hooks Codex would load in s.Dir.
func (s CodexAppServer) ListHooks() ([]CodexHook, error) {
	var res struct {
		Data []struct {
			Hooks  []CodexHook `json:"hooks"`
			Errors []any       `json:"errors"`
		} `json:"data"`
	}
	err := s.session(func(call rpcCall) error {
		return call("hooks/list", map[string]any{"cwds": []string{s.Dir}}, &res)
	})
	if err != nil {
		return nil, err
	}
	var hooks []CodexHook
	for _, d := range res.Data {
		hooks = append(hooks, d.Hooks...)
	}
	return hooks, nil
}

// Trust records each hook's current hash as trusted, and enables it, in
// the user's config.toml, exactly as Codex's /hooks screen does.
func (s CodexAppServer) Trust(hooks []CodexHook) error {
	edits := make([]map[string]any, 0, len(hooks))
	for _, h := range hooks {
		edits = append(edits, map[string]any{
			"keyPath":       "hooks.state." + strconv.Quote(h.Key),
			"mergeStrategy": "upsert",
			"value":         map[string]any{"trusted_hash": h.CurrentHash, "enabled": true},
		})
	}
	return s.batchWrite(edits)
}

// Forget removes the trust records of the hook keys from config.toml.
func (s CodexAppServer) Forget(keys []string) error {
	edits := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		edits = append(edits, map[string]any{
			"keyPath":       "hooks.state." + strconv.Quote(k),
			"mergeStrategy": "replace",
			"value":         nil,
		})
	}
	return s.batchWrite(edits)
}

func (s CodexAppServer) batchWrite(edits []map[string]any) error {
	if len(edits) == 0 {
		return nil
	}
	var res struct {
		Status string `json:"status"`
	}
	err := s.session(func(call rpcCall) error {
		return call("config/batchWrite", map[string]any{"edits": edits}, &res)
	})
	if err == nil && res.Status != "ok" {
		err = fmt.Errorf("codex app-server: config/batchWrite answered status %q", res.Status)
	}
	return err
}

// rpcCall sends one request and decodes its result into out.
type rpcCall func(method string, params any, out any) error

// session starts the app server, initializes it, runs fn and stops it.
func (s CodexAppServer) session(fn func(rpcCall) error) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Binary, "app-server")
	cmd.Env, cmd.Dir = s.Env, s.Dir
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s app-server: %w", s.Binary, err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 0, 64<<10), 16<<20)
	id := 0
	call := func(method string, params, out any) error {
		id++
		req, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
		if _, err := stdin.Write(append(req, '\n')); err != nil {
			return fmt.Errorf("codex app-server: %s: %w", method, err)
		}
		for lines.Scan() {
			var msg struct {
				ID     *int            `json:"id"`
				Method string          `json:"method"`
				Result json.RawMessage `json:"result"`
				Error  *struct {
					Message string `json:"message"`
				} `json:"error"`
			}
			if json.Unmarshal(lines.Bytes(), &msg) != nil || msg.ID == nil || *msg.ID != id || msg.Method != "" {
				continue // a notification, or a request of the server's own
			}
			if msg.Error != nil {
				return fmt.Errorf("codex app-server: %s: %s", method, msg.Error.Message)
			}
			if out != nil {
				if err := json.Unmarshal(msg.Result, out); err != nil {
					return fmt.Errorf("codex app-server: %s: unexpected answer: %w", method, err)
				}
			}
			return nil
		}
		err := lines.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		if ctx.Err() != nil {
			err = errors.New("no answer within " + timeout.String())
		}
		return fmt.Errorf("codex app-server: %s: %w", method, err)
	}
	if err := call("initialize", map[string]any{"clientInfo": map[string]string{"name": "rampart", "version": "1"}}, nil); err != nil {
		return err
	}
	note, _ := json.Marshal(map[string]string{"method": "initialized"})
	if _, err := stdin.Write(append(note, '\n')); err != nil {
		return fmt.Errorf("codex app-server: initialized: %w", err)
	}
	return fn(call)
}

// RampartCodexHooks picks Rampart's hooks from the hooks in the hooks file
// at path.
func RampartCodexHooks(hooks []CodexHook, path string) []CodexHook {
	var ours []CodexHook
	for _, h := range hooks {
		if samePath(h.SourcePath, path) && IsRampartHook(h.Command, "codex") {
			ours = append(ours, h)
		}
	}
	return ours
}

// samePath reports whether a and b name the same file, symlinks resolved.
func samePath(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}
