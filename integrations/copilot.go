package integrations

import (
	"path/filepath"
	"sort"
)

// The GitHub Copilot CLI loads every hooks/*.json of its config folder
// ($COPILOT_HOME, else ~/.copilot) as user hooks:
//
//	{"version": 1, "hooks": {"preToolUse": [{"type": "command", "bash": "...", "timeoutSec": 30}]}}
//
// Rampart keeps its hooks in a file of its own, hooks/rampart.json, and
// leaves the user's files alone.

// CopilotEvents are the events Rampart installs: preToolUse decides,
// postToolUse records outcomes. (postToolUseFailure is newer; Rampart
// does not install an event an older CLI might not accept.)
var CopilotEvents = []string{"preToolUse", "postToolUse"}

// CopilotHookTimeout is the timeout, in seconds, Rampart's entries ask
// for (the CLI's default). The hook answers by its fail mode after 10 s.
const CopilotHookTimeout = 30

// CopilotHome is the CLI's config folder: $COPILOT_HOME, else ~/.copilot.
func CopilotHome(env Env) string {
	if dir := env.getenv("COPILOT_HOME"); dir != "" {
		return dir
	}
	return filepath.Join(env.Home, ".copilot")
}

// CopilotHooksPath is the file Rampart writes.
func CopilotHooksPath(env Env) string {
	return filepath.Join(CopilotHome(env), "hooks", "rampart.json")
}

func copilotFile(path string) hookFile {
	return hookFile{
		path:    path,
		agent:   "copilot",
		events:  CopilotEvents,
		key:     "bash",
		version: 1,
		entry: func(command string) any {
			return struct {
				Type       string `json:"type"`
				Bash       string `json:"bash"`
				TimeoutSec int    `json:"timeoutSec"`
			}{"command", command, CopilotHookTimeout}
		},
	}
}

// PlanCopilot plans writing Rampart's hooks (running command) into
// hooks/rampart.json. force replaces a file that is not valid.
func PlanCopilot(env Env, command string, force bool) (*Edit, error) {
	return copilotFile(CopilotHooksPath(env)).plan(command, force, false)
}

// PlanCopilotRemove plans taking Rampart's hooks out of hooks/rampart.json
// (which goes when nothing else is left in it).
func PlanCopilotRemove(env Env, force bool) (*Edit, error) {
	return copilotFile(CopilotHooksPath(env)).plan("", force, true)
}

// copilotInstalled lists the Rampart hooks in every hooks/*.json.
func copilotInstalled(env Env) ([]Hook, error) {
	files, _ := filepath.Glob(filepath.Join(CopilotHome(env), "hooks", "*.json"))
	sort.Strings(files)
	var all []Hook
	for _, f := range files {
		list, err := copilotFile(f).installed()
		if err != nil {
			return all, err
		}
		all = append(all, list...)
	}
	return all, nil
}

func init() {
	register(Agent{
		Name:   "copilot",
		Title:  "GitHub Copilot CLI",
		Events: CopilotEvents,
		Detect: Detector{Binaries: []string{"copilot"}, Dirs: []string{".copilot"}, EnvDirs: []string{"COPILOT_HOME"}}.Detect,
		Plan: func(env Env, binary string, force bool) ([]*Edit, error) {
			e, err := PlanCopilot(env, HookCommand(binary, "hook", "copilot"), force)
			return []*Edit{e}, err
		},
		PlanRemove: func(env Env, force bool) ([]*Edit, error) {
			e, err := PlanCopilotRemove(env, force)
			return []*Edit{e}, err
		},
		Installed: copilotInstalled,
		Probe: Probe{
			Input:   `{"sessionId":"rampart-setup-check","timestamp":0,"cwd":"/","toolName":"view","toolArgs":"{\"path\":\"~/.ssh/id_rsa\"}"}`,
			Blocked: stdoutHas(`"permissionDecision":"deny"`),
		},
		Next: "Copilot CLI sessions started from now on are protected; restart running ones.",
	})
}
