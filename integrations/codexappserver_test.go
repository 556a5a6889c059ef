package integrations

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeCodex writes a "codex" that runs this test binary as a fake app
// server (TestFakeCodexAppServer) over the hooks file at hooksPath, with
// its trust records in a JSON file next to it.
func fakeCodex(t *testing.T, hooksPath string) (CodexAppServer, string) {
	t.Helper()
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	script := filepath.Join(dir, "codex")
	body := fmt.Sprintf("#!/bin/sh\nFAKE_CODEX_HOOKS=%s FAKE_CODEX_STATE=%s exec %s -test.run='^TestFakeCodexAppServer$' -- \"$@\"\n",
		strconv.Quote(hooksPath), strconv.Quote(state), strconv.Quote(os.Args[0]))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return CodexAppServer{Binary: script, Dir: dir}, state
}

// TestFakeCodexAppServer is not a test: run by fakeCodex's script, it
// answers initialize, hooks/list and config/batchWrite the way Codex's app
// server does (a hook's key is path:event:group:handler, its hash depends
// on its definition).
func TestFakeCodexAppServer(t *testing.T) {
	hooksPath, statePath := os.Getenv("FAKE_CODEX_HOOKS"), os.Getenv("FAKE_CODEX_STATE")
	if hooksPath == "" {
		t.Skip("run by fakeCodex only")
	}
	trusted := map[string]string{}
	if data, err := os.ReadFile(statePath); err == nil {
		json.Unmarshal(data, &trusted)
	}
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req struct {
			ID     *int            `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		json.Unmarshal(in.Bytes(), &req)
		if req.ID == nil {
			continue
		}
		out.Encode(map[string]any{"method": "configWarning", "params": map[string]any{}}) // noise to skip
		var result any
		switch req.Method {
		case "initialize":
			result = map[string]any{"userAgent": "fake"}
		case "hooks/list":
			var file struct {
				Hooks map[string][]struct {
					Matcher string `json:"matcher"`
					Hooks   []struct {
						Command string `json:"command"`
					} `json:"hooks"`
				} `json:"hooks"`
			}
			data, _ := os.ReadFile(hooksPath)
			json.Unmarshal(data, &file)
			var hooks []map[string]any
			for event, groups := range file.Hooks {
				for gi, g := range groups {
					for hi, h := range g.Hooks {
						key := fmt.Sprintf("%s:%s:%d:%d", hooksPath, strings.ToLower(event), gi, hi)
						sum := sha256.Sum256([]byte(event + g.Matcher + h.Command))
						hash := "sha256:" + hex.EncodeToString(sum[:])
						status := "untrusted"
						if th, ok := trusted[key]; ok {
							status = map[bool]string{true: "trusted", false: "modified"}[th == hash]
						}
						hooks = append(hooks, map[string]any{"key": key, "eventName": event, "command": h.Command,
							"matcher": g.Matcher, "sourcePath": hooksPath, "enabled": true, "currentHash": hash, "trustStatus": status})
					}
				}
			}
			result = map[string]any{"data": []any{map[string]any{"hooks": hooks, "errors": []any{}}}}
		case "config/batchWrite":
			var p struct {
				Edits []struct {
					KeyPath string `json:"keyPath"`
					Value   *struct {
						TrustedHash string `json:"trusted_hash"`
					} `json:"value"`
				} `json:"edits"`
			}
			json.Unmarshal(req.Params, &p)
			for _, e := range p.Edits {
				key, err := strconv.Unquote(strings.TrimPrefix(e.KeyPath, "hooks.state."))
				if err != nil {
					t.Fatalf("bad keyPath %s", e.KeyPath)
				}
				if e.Value == nil {
					delete(trusted, key)
				} else {
					trusted[key] = e.Value.TrustedHash
				}
			}
			data, _ := json.Marshal(trusted)
			os.WriteFile(statePath, data, 0o600)
			result = map[string]any{"status": "ok"}
		default:
			out.Encode(map[string]any{"id": *req.ID, "error": map[string]any{"message": "no such method"}})
			continue
		}
		out.Encode(map[string]any{"id": *req.ID, "result": result})
	}
	os.Exit(0) // keep the test binary's own output off the fake's stdout
}

func TestCodexAppServerTrustAndForget(t *testing.T) {
	path := writeCodexHooks(t, codexUserHooks)
	c, _ := PlanCodex(path, codexCommand, false)
	apply(t, c)
	server, state := fakeCodex(t, path)

	listed, err := server.ListHooks()
	if err != nil {
		t.Fatal(err)
	}
	ours := RampartCodexHooks(listed, path)
	if len(listed) != 4 || len(ours) != 2 || ours[0].Trusted() {
		t.Fatalf("listed %+v, ours %+v", listed, ours)
	}
	if err := server.Trust(ours); err != nil {
		t.Fatal(err)
	}
	listed, _ = server.ListHooks()
	for _, h := range listed {
		if want := IsRampartHook(h.Command, "codex"); h.Trusted() != want {
			t.Errorf("%s %s trusted=%v, want %v", h.EventName, h.Command, h.Trusted(), want)
		}
	}
	keys := []string{ours[0].Key, ours[1].Key}
	if err := server.Forget(keys); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(state); string(data) != "{}" {
		t.Errorf("trust records left: %s", data)
	}
	if err := (CodexAppServer{Binary: filepath.Join(t.TempDir(), "nope")}).Trust(ours); err == nil {
		t.Error("no error without a codex")
	}
}
