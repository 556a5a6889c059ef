package integrations

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-shellwords"
)

// Env is what finding, checking and editing an agent's configuration
// reads from the user's environment. Tests give it a throwaway home.
type Env struct {
	Home string
	// Getenv reads the environment ($PATH, $CLAUDE_CONFIG_DIR,
	// $COPILOT_HOME, ...); nil means nothing is set.
	Getenv func(string) string
}

func (e Env) getenv(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// Agent is one agent that "rampart setup" can protect. Each agent's file
// registers its Agent in an init function; "rampart setup" (every
// detected agent), "rampart setup --list" and "rampart doctor" work from
// this registry alone.
type Agent struct {
	// Name is the agent's hook protocol ("rampart hook NAME") and its
	// setup command ("rampart setup NAME").
	Name string
	// Title is the agent's name for people: "Claude Code".
	Title string
	// Events are the hook events Plan installs; a setup missing one of
	// them is incomplete.
	Events []string
	// Detect tells whether the agent is installed here.
	Detect func(Env) Detection
	// Plan plans installing Rampart's hooks, which run the rampart
	// executable at binary (an absolute path). force replaces a config
	// file that is not valid, or a hook of the user's own where Rampart's
	// must go (the old one is backed up).
	Plan func(env Env, binary string, force bool) ([]*Edit, error)
	// PlanRemove plans taking out exactly what Plan adds.
	PlanRemove func(env Env, force bool) ([]*Edit, error)
	// Installed lists the Rampart hooks the configuration holds now.
	Installed func(Env) ([]Hook, error)
	// Probe is a tool call the standard policies deny, in the agent's
	// hook input, and how to tell from a hook's answer that it blocked.
	Probe Probe
	// Next says what must happen after setup for it to take effect.
	Next string

	// Problems, when not nil, finds what keeps installed hooks from
	// running beyond a missing binary: a setting that turns hooks off, a
	// hook the agent does not trust yet. Each problem is a sentence.
	Problems func(env Env, hooks []Hook) []string
	// Finish, when not nil, runs after Plan's edits are applied, for a
	// step that is not a file edit (Codex's trust of the new hooks). It
	// returns what it did, for people.
	Finish func(env Env) (note string, err error)
}

// Hook is one Rampart hook in an agent's configuration.
type Hook struct {
	Event string `json:"event"`
	// Command is what the agent runs: a command line, or for Cline the
	// hook script itself.
	Command string `json:"command"`
	// Binary is the rampart executable the hook runs.
	Binary string `json:"binary"`
	// File is the configuration file or hook script the hook is in.
	File string `json:"file"`
	// Matcher and AllTools, for agents whose hooks are in matcher groups:
	// the group's matcher, and whether it runs the hook for every tool.
	Matcher  string `json:"matcher,omitempty"`
	AllTools bool   `json:"-"`
}

// Probe is a hook input that the standard policies deny (a read of
// ~/.ssh/id_rsa) and the test of the answer that shows it was blocked.
type Probe struct {
	Input   string
	Blocked func(stdout, stderr []byte, exitCode int) bool
}

// stdoutHas is a Probe.Blocked that looks for a JSON member in stdout.
func stdoutHas(member string) func([]byte, []byte, int) bool {
	return func(stdout, _ []byte, code int) bool {
		return code == 0 && strings.Contains(string(stdout), member)
	}
}

var agents = map[string]Agent{}

// register adds a to the registry; a second agent of the same name is a
// bug.
func register(a Agent) {
	if _, dup := agents[a.Name]; dup {
		panic("integrations: agent " + a.Name + " registered twice")
	}
	agents[a.Name] = a
}

// Agents returns every registered agent, by name.
func Agents() []Agent {
	list := make([]Agent, 0, len(agents))
	for _, a := range agents {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}

// LookupAgent returns the registered agent called name.
func LookupAgent(name string) (Agent, bool) {
	a, ok := agents[name]
	return a, ok
}

// Status is what an agent's configuration says about Rampart now.
type Status struct {
	Detection Detection `json:"detection"`
	Hooks     []Hook    `json:"hooks"`
	// Err is set when the configuration could not be read.
	Err error `json:"-"`
	// Missing are the events that have no Rampart hook.
	Missing []string `json:"missing,omitempty"`
	// Broken are the hooks whose binary does not exist or is not
	// executable: most agents skip such a hook without a word, so the
	// agent runs unprotected.
	Broken []Hook `json:"broken,omitempty"`
	// Problems are what else keeps the hooks from running (see
	// [Agent.Problems]).
	Problems []string `json:"problems,omitempty"`
}

// Protected reports whether every event runs a Rampart hook that can
// start.
func (s Status) Protected() bool {
	return s.Err == nil && len(s.Hooks) > 0 && len(s.Missing) == 0 && len(s.Broken) == 0 && len(s.Problems) == 0
}

// SetUp reports whether any Rampart hook is installed, working or not.
func (s Status) SetUp() bool { return len(s.Hooks) > 0 }

// Check reads a's configuration and its hooks' binaries.
func (a Agent) Check(env Env) Status {
	s := Status{Detection: a.Detect(env)}
	s.Hooks, s.Err = a.Installed(env)
	if s.Err != nil {
		return s
	}
	have := map[string]bool{}
	for _, h := range s.Hooks {
		have[h.Event] = true
		if !isExecutableFile(h.Binary) {
			s.Broken = append(s.Broken, h)
		}
	}
	if len(s.Hooks) > 0 {
		for _, e := range a.Events {
			if !have[e] {
				s.Missing = append(s.Missing, e)
			}
		}
		if a.Problems != nil {
			s.Problems = a.Problems(env, s.Hooks)
		}
	}
	return s
}

// HookBinary is the program a hook command line runs: its first word.
func HookBinary(command string) string {
	words, err := shellwords.Parse(command)
	if err != nil || len(words) == 0 {
		return ""
	}
	return words[0]
}

func isExecutableFile(path string) bool {
	if path == "" || !filepath.IsAbs(path) {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// Edit is one file a setup writes, or removes.
type Edit struct {
	*Change
	// Remove deletes the file (After is ignored).
	Remove bool
	// Ours says the file holds nothing but Rampart's: removing it needs
	// no backup.
	Ours bool
	// Mode, when not 0, is the file's permissions once written (Cline's
	// hook scripts are executable).
	Mode fs.FileMode
}

// Apply makes the edit: [Apply] for a write, the file getting e.Mode
// before it is renamed into place; for a removal, a backup (unless the
// file is Rampart's own) and the removal.
// It returns the backup's path, "" when none was made.
func (e *Edit) Apply(now time.Time) (backup string, err error) {
	if !e.Changed {
		return "", nil
	}
	if !e.Remove {
		return applyMode(e.Change, now, e.Mode)
	}
	if e.Before != nil && !e.Ours {
		backup = backupName(e.Path, now)
		if err := writeFileSync(backup, e.Before, 0o600); err != nil {
			return "", fmt.Errorf("back up %s: %w", e.Path, err)
		}
	}
	if err := os.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return backup, err
	}
	return backup, nil
}

// backupName is the name [Apply] gives a backup of path.
func backupName(path string, now time.Time) string {
	return fmt.Sprintf("%s.rampart-backup-%s", path, now.UTC().Format("20060102T150405.000000000Z"))
}

// backups returns the backups of path, newest first.
func backups(path string) []string {
	found, _ := filepath.Glob(path + ".rampart-backup-*")
	sort.Sort(sort.Reverse(sort.StringSlice(found)))
	return found
}

// originalBytes returns the newest backup of path that holds the same
// JSON as after: removing Rampart's hooks then gives back the user's file
// byte for byte, formatting and all, instead of a re-indented copy.
func originalBytes(path string, after []byte) ([]byte, bool) {
	for _, b := range backups(path) {
		if data, err := os.ReadFile(b); err == nil && sameJSON(data, after) {
			return data, true
		}
	}
	return nil, false
}

// Claude Code, set up by [PlanClaudeCode] in the user's settings.json.
func init() {
	settings := func(env Env) string {
		return ClaudeSettingsPath(env.Home, env.getenv("CLAUDE_CONFIG_DIR"), "", false)
	}
	register(Agent{
		Name:   "claude-code",
		Title:  "Claude Code",
		Events: ClaudeCodeEvents,
		Detect: Detector{Binaries: []string{"claude"}, Dirs: []string{".claude"}, EnvDirs: []string{"CLAUDE_CONFIG_DIR"}}.Detect,
		Plan: func(env Env, binary string, force bool) ([]*Edit, error) {
			c, err := PlanClaudeCode(settings(env), HookCommand(binary, "hook", "claude-code"), "", force)
			if err != nil {
				return nil, err
			}
			return []*Edit{{Change: c}}, nil
		},
		PlanRemove: func(env Env, force bool) ([]*Edit, error) {
			c, err := PlanClaudeCodeRemove(settings(env), force)
			if err != nil {
				return nil, err
			}
			return []*Edit{{Change: c}}, nil
		},
		Installed: func(env Env) ([]Hook, error) {
			path := settings(env)
			data, err := readConfig(path)
			if err != nil || len(strings.TrimSpace(string(data))) == 0 {
				return nil, err
			}
			installed, err := InstalledClaudeCommands(data)
			if err != nil {
				return nil, &InvalidConfigError{Path: path, Err: err}
			}
			var list []Hook
			for _, event := range ClaudeCodeEvents {
				for _, h := range installed[event] {
					list = append(list, Hook{Event: event, Command: h.Command, Binary: HookBinary(h.Command), File: path, Matcher: h.Matcher, AllTools: h.MatchesEveryTool()})
				}
			}
			return list, nil
		},
		Problems: func(env Env, hooks []Hook) []string {
			var problems []string
			if data, err := readConfig(settings(env)); err == nil {
				if off := ClaudeHooksOff(data); off != "" {
					problems = append(problems, off)
				}
			}
			return append(problems, notEveryTool(hooks)...)
		},
		Probe: Probe{
			Input:   `{"hook_event_name":"PreToolUse","session_id":"rampart-setup-check","tool_name":"Read","tool_input":{"file_path":"~/.ssh/id_rsa"},"tool_use_id":"rampart-setup-check"}`,
			Blocked: stdoutHas(`"permissionDecision":"deny"`),
		},
		Next: "Claude Code sessions started from now on are protected; restart running ones.",
	})
}

// Gemini CLI, set up by [PlanGemini] in ~/.gemini/settings.json.
func init() {
	settings := func(env Env) string { return GeminiSettingsPath(env.Home, "", false) }
	register(Agent{
		Name:   "gemini",
		Title:  "Gemini CLI",
		Events: GeminiEvents,
		Detect: Detector{Binaries: []string{"gemini"}, Dirs: []string{".gemini"}}.Detect,
		Plan: func(env Env, binary string, force bool) ([]*Edit, error) {
			c, err := PlanGemini(settings(env), HookCommand(binary, "hook", "gemini"), force)
			if err != nil {
				return nil, err
			}
			return []*Edit{{Change: c}}, nil
		},
		PlanRemove: func(env Env, force bool) ([]*Edit, error) {
			c, err := PlanGeminiRemove(settings(env), force)
			if err != nil {
				return nil, err
			}
			return []*Edit{{Change: c}}, nil
		},
		Installed: func(env Env) ([]Hook, error) {
			return installedGroupHooks(settings(env), InstalledGeminiHooks)
		},
		Problems: func(env Env, hooks []Hook) []string {
			var problems []string
			if data, err := readConfig(settings(env)); err == nil {
				if off := GeminiHooksOff(data, hooks[0].Command); off != "" {
					problems = append(problems, off)
				}
			}
			return append(problems, notEveryTool(hooks)...)
		},
		Probe: Probe{
			Input:   `{"hook_event_name":"BeforeTool","session_id":"rampart-setup-check","cwd":"/","timestamp":"1970-01-01T00:00:00Z","tool_name":"read_file","tool_input":{"file_path":"~/.ssh/id_rsa"}}`,
			Blocked: stdoutHas(`"decision":"deny"`),
		},
		Next: "Gemini CLI sessions started from now on are protected; restart running ones.",
	})
}

// installedGroupHooks lists Rampart's hooks in a settings file laid out
// in Claude Code's matcher groups (Codex, Gemini CLI), read by installed.
func installedGroupHooks(path string, installed func([]byte) (map[string][]InstalledHook, error)) ([]Hook, error) {
	data, err := readConfig(path)
	if err != nil || len(strings.TrimSpace(string(data))) == 0 {
		return nil, err
	}
	byEvent, err := installed(data)
	if err != nil {
		return nil, &InvalidConfigError{Path: path, Err: err}
	}
	events := make([]string, 0, len(byEvent))
	for e := range byEvent {
		events = append(events, e)
	}
	sort.Strings(events)
	var list []Hook
	for _, e := range events {
		for _, h := range byEvent[e] {
			list = append(list, Hook{Event: e, Command: h.Command, Binary: HookBinary(h.Command), File: path, Matcher: h.Matcher, AllTools: h.MatchesEveryTool()})
		}
	}
	return list, nil
}

// notEveryTool names the hooks whose matcher leaves tools out.
func notEveryTool(hooks []Hook) []string {
	var problems []string
	for _, h := range hooks {
		if !h.AllTools {
			problems = append(problems, fmt.Sprintf("the %s hook's matcher %q does not match every tool", h.Event, h.Matcher))
		}
	}
	return problems
}
