package integrations

import "path/filepath"

// Cursor reads hooks from ~/.cursor/hooks.json (the IDE's agent and
// cursor-agent alike):
//
//	{"version": 1, "hooks": {"preToolUse": [{"command": "...", "failClosed": true}]}}
//
// Rampart adds one entry per event that can block a tool. failClosed makes
// Cursor block the tool when the hook fails, times out or prints nothing,
// instead of running it unchecked: a moved rampart binary stops the agent
// rather than leaving it unprotected without a word.

// CursorEvents are the events Rampart installs: preToolUse sees every
// tool; the three older, narrower events cover Cursor versions before
// preToolUse, and the shell and MCP ones are where Cursor enforces an ask.
var CursorEvents = []string{"preToolUse", "beforeShellExecution", "beforeMCPExecution", "beforeReadFile"}

// CursorHooksPath is the user's hooks file.
func CursorHooksPath(home string) string {
	return filepath.Join(home, ".cursor", "hooks.json")
}

func cursorFile(env Env) hookFile {
	return hookFile{
		path:    CursorHooksPath(env.Home),
		agent:   "cursor",
		events:  CursorEvents,
		key:     "command",
		version: 1,
		entry: func(command string) any {
			return struct {
				Command    string `json:"command"`
				FailClosed bool   `json:"failClosed"`
			}{command, true}
		},
	}
}

// PlanCursor plans adding Rampart's hooks (running command) to Cursor's
// hooks.json. force replaces a file that is not valid.
func PlanCursor(env Env, command string, force bool) (*Edit, error) {
	return cursorFile(env).plan(command, force, false)
}

// PlanCursorRemove plans taking out exactly the entries setup added.
func PlanCursorRemove(env Env, force bool) (*Edit, error) {
	return cursorFile(env).plan("", force, true)
}

func init() {
	register(Agent{
		Name:   "cursor",
		Title:  "Cursor",
		Events: CursorEvents,
		Detect: Detector{Binaries: []string{"cursor", "cursor-agent"}, Dirs: []string{".cursor"}}.Detect,
		Plan: func(env Env, binary string, force bool) ([]*Edit, error) {
			e, err := PlanCursor(env, HookCommand(binary, "hook", "cursor"), force)
			return []*Edit{e}, err
		},
		PlanRemove: func(env Env, force bool) ([]*Edit, error) {
			e, err := PlanCursorRemove(env, force)
			return []*Edit{e}, err
		},
		Installed: func(env Env) ([]Hook, error) { return cursorFile(env).installed() },
		Probe: Probe{
			Input:   `{"hook_event_name":"beforeReadFile","conversation_id":"rampart-setup-check","file_path":"~/.ssh/id_rsa","content":"","attachments":[]}`,
			Blocked: stdoutHas(`"permission":"deny"`),
		},
		Next: "Cursor reads hooks.json when it starts: restart Cursor (and cursor-agent sessions).",
	})
}
