package integrations

import "path/filepath"

// Windsurf's agent, Cascade, reads user hooks from
// ~/.codeium/windsurf/hooks.json:
//
//	{"hooks": {"pre_run_command": [{"command": "..."}]}}
//
// Rampart adds one entry to each pre hook that acts on a tool. Cascade
// runs the command with bash -c and blocks the action when it exits 2.

// WindsurfEvents are the hooks Rampart installs.
var WindsurfEvents = []string{"pre_run_command", "pre_read_code", "pre_write_code", "pre_mcp_tool_use"}

// WindsurfHooksPath is the user's hooks file.
func WindsurfHooksPath(home string) string {
	return filepath.Join(home, ".codeium", "windsurf", "hooks.json")
}

func windsurfFile(env Env) hookFile {
	return hookFile{
		path:   WindsurfHooksPath(env.Home),
		agent:  "windsurf",
		events: WindsurfEvents,
		key:    "command",
		entry: func(command string) any {
			return struct {
				Command string `json:"command"`
			}{command}
		},
	}
}

// PlanWindsurf plans adding Rampart's hooks (running command) to
// Windsurf's hooks.json. force replaces a file that is not valid.
func PlanWindsurf(env Env, command string, force bool) (*Edit, error) {
	return windsurfFile(env).plan(command, force, false)
}

// PlanWindsurfRemove plans taking out exactly the entries setup added.
func PlanWindsurfRemove(env Env, force bool) (*Edit, error) {
	return windsurfFile(env).plan("", force, true)
}

func init() {
	register(Agent{
		Name:   "windsurf",
		Title:  "Windsurf",
		Events: WindsurfEvents,
		Detect: Detector{Binaries: []string{"windsurf"}, Dirs: []string{".codeium/windsurf", ".windsurf"}}.Detect,
		Plan: func(env Env, binary string, force bool) ([]*Edit, error) {
			e, err := PlanWindsurf(env, HookCommand(binary, "hook", "windsurf"), force)
			return []*Edit{e}, err
		},
		PlanRemove: func(env Env, force bool) ([]*Edit, error) {
			e, err := PlanWindsurfRemove(env, force)
			return []*Edit{e}, err
		},
		Installed: func(env Env) ([]Hook, error) { return windsurfFile(env).installed() },
		Probe: Probe{
			Input: `{"agent_action_name":"pre_read_code","trajectory_id":"rampart-setup-check","execution_id":"rampart-setup-check","tool_info":{"file_path":"~/.ssh/id_rsa"}}`,
			Blocked: func(_, _ []byte, code int) bool {
				return code == 2
			},
		},
		Next: "Cascade loads hooks.json when Windsurf starts: restart Windsurf.",
	})
}
