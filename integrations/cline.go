package integrations

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Cline runs, before each tool, the executable file named PreToolUse in
// its global hooks folder, ~/Documents/Cline/Hooks (Cline releases before
// that folder used ~/Documents/Cline/Rules/Hooks). Rampart writes that
// file: a shell script that execs "rampart hook cline". Hooks also have to
// be enabled in Cline's settings.

// ClineEvent is the hook Rampart installs.
const ClineEvent = "PreToolUse"

// clineMarker is the line that makes a hook script Rampart's.
const clineMarker = "# Installed by \"rampart setup cline\""

// ClineHooksDirs are the global hooks folders, the current one first.
func ClineHooksDirs(home string) []string {
	return []string{
		filepath.Join(home, "Documents", "Cline", "Hooks"),
		filepath.Join(home, "Documents", "Cline", "Rules", "Hooks"),
	}
}

// ClineHookPath is where setup writes the PreToolUse script: in the
// current folder, unless only the older one exists.
func ClineHookPath(home string) string {
	dirs := ClineHooksDirs(home)
	if !isDir(dirs[0]) && isDir(dirs[1]) {
		return filepath.Join(dirs[1], ClineEvent)
	}
	return filepath.Join(dirs[0], ClineEvent)
}

// ClineScript is the hook script that runs command.
func ClineScript(command string) []byte {
	return []byte("#!/bin/sh\n" + clineMarker + ": Cline asks Rampart before every tool.\n" +
		"# Take it out with \"rampart setup cline --remove\".\n" +
		"exec " + command + "\n")
}

// clineScriptCommand is the command a Rampart hook script runs ("" when
// the script is not Rampart's).
func clineScriptCommand(script []byte) string {
	if !bytes.Contains(script, []byte(clineMarker)) {
		return ""
	}
	for _, line := range strings.Split(string(script), "\n") {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "exec "); ok && IsRampartHook(cmd, "cline") {
			return cmd
		}
	}
	return ""
}

// PlanCline plans writing the PreToolUse script that runs command. A
// PreToolUse of the user's own is left alone unless force, which replaces
// it (the old one is backed up, and --remove puts it back).
func PlanCline(env Env, command string, force bool) (*Edit, error) {
	path := ClineHookPath(env.Home)
	before, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	after := ClineScript(command)
	c := &Change{Path: path, Before: before, After: after, Changed: !bytes.Equal(before, after)}
	if before != nil && clineScriptCommand(before) == "" {
		if !force {
			return nil, &ConflictError{fmt.Sprintf("%s is a hook of your own; Rampart will not replace it (run again with --force to replace it, keeping a backup that --remove puts back, or chain rampart hook cline into it yourself)", path)}
		}
		c.Summary = append(c.Summary, "replaced your own PreToolUse hook (--force); the old one is in the backup")
	}
	if c.Changed {
		c.Summary = append(c.Summary, fmt.Sprintf("%s hook runs: %s", ClineEvent, command))
	}
	return &Edit{Change: c, Mode: 0o755}, nil
}

// PlanClineRemove plans removing Rampart's script: the user's own hook
// comes back from its backup when setup replaced one, else the file goes.
func PlanClineRemove(env Env, _ bool) ([]*Edit, error) {
	var edits []*Edit
	for _, dir := range ClineHooksDirs(env.Home) {
		path := filepath.Join(dir, ClineEvent)
		before, err := readConfig(path)
		if err != nil {
			return nil, err
		}
		if before == nil || clineScriptCommand(before) == "" {
			continue
		}
		c := &Change{Path: path, Before: before, Changed: true}
		e := &Edit{Change: c, Remove: true, Ours: true}
		for _, b := range backups(path) {
			if data, err := os.ReadFile(b); err == nil && clineScriptCommand(data) == "" {
				c.After, e.Remove, e.Mode = data, false, 0o755
				c.Summary = append(c.Summary, "put back your own PreToolUse hook from "+b)
				break
			}
		}
		if e.Remove {
			c.Summary = append(c.Summary, "removed Rampart's PreToolUse hook "+path)
		}
		edits = append(edits, e)
	}
	if len(edits) == 0 {
		edits = append(edits, &Edit{Change: &Change{Path: ClineHookPath(env.Home)}})
	}
	return edits, nil
}

// clineInstalled lists the Rampart hook scripts in the hooks folders.
func clineInstalled(env Env) ([]Hook, error) {
	var list []Hook
	for _, dir := range ClineHooksDirs(env.Home) {
		path := filepath.Join(dir, ClineEvent)
		data, err := readConfig(path)
		if err != nil {
			return list, err
		}
		if cmd := clineScriptCommand(data); cmd != "" {
			// The script is what Cline runs; it must be executable too.
			bin := HookBinary(cmd)
			if !isExecutableFile(path) {
				bin = path
			}
			list = append(list, Hook{Event: ClineEvent, Command: path, Binary: bin, File: path})
		}
	}
	return list, nil
}

func init() {
	register(Agent{
		Name:   "cline",
		Title:  "Cline",
		Events: []string{ClineEvent},
		Detect: Detector{
			Binaries: []string{"cline"},
			Dirs: []string{"Documents/Cline", ".cline",
				".vscode/extensions/saoudrizwan.claude-dev-*", ".vscode-server/extensions/saoudrizwan.claude-dev-*",
				".vscode-insiders/extensions/saoudrizwan.claude-dev-*", ".vscode-oss/extensions/saoudrizwan.claude-dev-*",
				".cursor/extensions/saoudrizwan.claude-dev-*", ".windsurf/extensions/saoudrizwan.claude-dev-*"},
		}.Detect,
		Plan: func(env Env, binary string, force bool) ([]*Edit, error) {
			e, err := PlanCline(env, HookCommand(binary, "hook", "cline"), force)
			return []*Edit{e}, err
		},
		PlanRemove: PlanClineRemove,
		Installed:  clineInstalled,
		Probe: Probe{
			Input:   `{"clineVersion":"","hookName":"PreToolUse","timestamp":"0","taskId":"rampart-setup-check","workspaceRoots":[],"userId":"","preToolUse":{"toolName":"read_file","parameters":{"path":"~/.ssh/id_rsa"}}}`,
			Blocked: stdoutHas(`"cancel":true`),
		},
		Next: "Turn hooks on in Cline: Settings > Features > Enable Hooks (the Cline CLI: cline config set hooks-enabled=true), and check that the PreToolUse hook is switched on in Cline's Hooks tab.",
	})
}
