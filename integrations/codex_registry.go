package integrations

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Codex CLI, set up by [PlanCodex] in $CODEX_HOME/hooks.json (else
// ~/.codex/hooks.json). Codex runs a hook only once its definition is
// trusted, so Finish trusts Rampart's new hooks through Codex's own app
// server, as its /hooks screen does.
func init() {
	hooksPath := func(env Env) string { return CodexHooksPath(env.Home, env.getenv("CODEX_HOME")) }
	register(Agent{
		Name:   "codex",
		Title:  "Codex CLI",
		Events: CodexEvents,
		Detect: Detector{Binaries: []string{"codex"}, Dirs: []string{".codex"}, EnvDirs: []string{"CODEX_HOME"}}.Detect,
		Plan: func(env Env, binary string, force bool) ([]*Edit, error) {
			c, err := PlanCodex(hooksPath(env), HookCommand(binary, "hook", "codex"), force)
			if err != nil {
				return nil, err
			}
			return []*Edit{{Change: c}}, nil
		},
		PlanRemove: func(env Env, force bool) ([]*Edit, error) {
			c, err := PlanCodexRemove(hooksPath(env), force)
			if err != nil {
				return nil, err
			}
			return []*Edit{{Change: c}}, nil
		},
		Installed: func(env Env) ([]Hook, error) {
			return installedGroupHooks(hooksPath(env), InstalledCodexHooks)
		},
		Problems: func(env Env, hooks []Hook) []string {
			problems := notEveryTool(hooks)
			server, ok := codexAppServer(env)
			if !ok {
				return append(problems, "codex is not on PATH, so whether Codex trusts Rampart's hooks cannot be checked (Codex skips hooks it does not trust: see /hooks in Codex)")
			}
			listed, err := server.ListHooks()
			if err != nil {
				return append(problems, fmt.Sprintf("asking Codex which hooks it trusts failed: %v", err))
			}
			for _, h := range RampartCodexHooks(listed, hooksPath(env)) {
				if !h.Trusted() {
					problems = append(problems, fmt.Sprintf("Codex does not run the %s hook: it is %s (run rampart setup codex, or trust it in Codex's /hooks)", h.EventName, h.TrustStatus))
				}
			}
			return problems
		},
		Finish: func(env Env) (string, error) {
			return trustCodexHooks(env, hooksPath(env))
		},
		Probe: Probe{
			Input:   `{"hook_event_name":"PreToolUse","session_id":"rampart-setup-check","cwd":"/","tool_name":"Bash","tool_input":{"command":"cat ~/.ssh/id_rsa"},"tool_use_id":"rampart-setup-check"}`,
			Blocked: stdoutHas(`"permissionDecision":"deny"`),
		},
		Next: "Codex sessions started from now on are protected; restart running ones.",
	})
}

// codexAppServer is the codex on env's PATH, run with env's HOME and
// CODEX_HOME; ok is false when there is no codex.
func codexAppServer(env Env) (CodexAppServer, bool) {
	bin := ""
	for _, dir := range filepath.SplitList(env.getenv("PATH")) {
		if candidate := filepath.Join(dir, "codex"); isExecutable(candidate) {
			bin = candidate
			break
		}
	}
	if bin == "" {
		found, err := exec.LookPath("codex")
		if err != nil || env.Getenv != nil {
			return CodexAppServer{}, false
		}
		bin = found
	}
	vars := []string{"HOME=" + env.Home}
	if ch := env.getenv("CODEX_HOME"); ch != "" {
		vars = append(vars, "CODEX_HOME="+ch)
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "CODEX_HOME=") {
			vars = append(vars, kv)
		}
	}
	return CodexAppServer{Binary: bin, Env: vars, Dir: env.Home}, true
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode().Perm()&0o111 != 0
}

// trustCodexHooks trusts Rampart's hooks in path through Codex's app
// server and confirms Codex lists them as trusted afterwards. Without a
// codex on PATH it says what the user must do instead.
func trustCodexHooks(env Env, path string) (string, error) {
	manual := fmt.Sprintf("Codex runs these hooks only once they are trusted: open Codex, type /hooks and trust the %d Rampart hooks", len(CodexEvents))
	server, ok := codexAppServer(env)
	if !ok {
		return "NOT TRUSTED YET: codex is not on PATH. " + manual, nil
	}
	listed, err := server.ListHooks()
	if err != nil {
		return "", fmt.Errorf("asking Codex about its hooks: %w (%s)", err, manual)
	}
	var untrusted []CodexHook
	ours := RampartCodexHooks(listed, path)
	for _, h := range ours {
		if !h.Trusted() {
			untrusted = append(untrusted, h)
		}
	}
	if len(ours) < len(CodexEvents) {
		return "", fmt.Errorf("%s lists %d of Rampart's %d hooks in %s (is this the codex you run?)", server.Binary, len(ours), len(CodexEvents), path)
	}
	if len(untrusted) == 0 {
		return "Codex already trusts Rampart's hooks", nil
	}
	config := filepath.Join(CodexHome(env.Home, env.getenv("CODEX_HOME")), "config.toml")
	backup, err := BackupFile(config, time.Now())
	if err != nil {
		return "", err
	}
	if err := server.Trust(untrusted); err != nil {
		return "", fmt.Errorf("trusting Rampart's hooks: %w (%s)", err, manual)
	}
	if listed, err = server.ListHooks(); err != nil {
		return "", fmt.Errorf("asking Codex about its hooks: %w", err)
	}
	for _, h := range RampartCodexHooks(listed, path) {
		if !h.Trusted() {
			return "", fmt.Errorf("Codex still lists the %s hook as %s after trusting it (%s)", h.EventName, h.TrustStatus, manual)
		}
	}
	note := fmt.Sprintf("trusted %d hook(s) in %s (through %s app-server)", len(untrusted), config, server.Binary)
	if backup != "" {
		note += "; backup of the previous config.toml: " + backup
	}
	return note, nil
}
