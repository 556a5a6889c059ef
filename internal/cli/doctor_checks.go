package cli

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/guard"
	"github.com/rampart-dev/rampart/hooks"
	"github.com/rampart-dev/rampart/integrations"
	"github.com/rampart-dev/rampart/preload"
	"github.com/rampart-dev/rampart/server"
)

// doctorChecks runs every check, in the order of the report.
func doctorChecks(opts *DoctorOptions) [][]doctorCheck {
	proc := opts.Proc
	self, _ := os.Executable()
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	return [][]doctorCheck{
		{doctorRampart(proc, self), doctorRampartSh(proc, self)},
		{doctorPolicies(proc)},
		{doctorServer(proc)},
		doctorAgents(opts, self),
		{doctorPreload(proc)},
		{doctorAudit(proc)},
		{doctorGuard()},
	}
}

// binaryVersion is the version a rampart binary reports in "rampart
// version", read from the Go build information in the file, so that no
// program is run: the -X Version of its link flags, else its module
// version, else devel and its VCS revision.
func binaryVersion(path string) (string, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", err
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "-ldflags":
			const key = "internal/cli.Version="
			if i := strings.Index(s.Value, key); i >= 0 {
				v := s.Value[i+len(key):]
				if j := strings.IndexAny(v, " '\""); j >= 0 {
					v = v[:j]
				}
				if v != "" {
					return v, nil
				}
			}
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v, nil
	}
	if rev == "" {
		return "devel", nil
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev, nil
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

func doctorRampart(proc *Process, self string) doctorCheck {
	c := doctorCheck{Name: "rampart"}
	version, err := binaryVersion(self)
	if err != nil {
		version = buildVersion()
	}
	onPath := integrations.LookPath(integrations.Env{Getenv: proc.Getenv}, "rampart")
	switch {
	case onPath == "":
		c.Status, c.Summary = doctorWarn, fmt.Sprintf("%s (%s) is not on PATH", self, version)
		c.Fix = `run "make install" and put its folder (~/.local/bin) on PATH; hooks run rampart by its full path, so they work without`
	case sameFile(onPath, self):
		c.Status, c.Summary = doctorOK, fmt.Sprintf("%s, version %s", self, version)
	default:
		other, err := binaryVersion(onPath)
		switch {
		case err != nil:
			c.Status, c.Summary = doctorFail, fmt.Sprintf("the rampart on PATH, %s, is not a rampart this one can read: %v", onPath, err)
			c.Fix = `run "make install" to install rampart and rampart-sh together`
		case other != version:
			c.Status, c.Summary = doctorWarn, fmt.Sprintf("the rampart on PATH, %s, is version %s; this one, %s, is %s", onPath, other, self, version)
			c.Fix = `run "make install" so that every rampart is the same`
		default:
			c.Status, c.Summary = doctorOK, fmt.Sprintf("%s, version %s (this one: %s)", onPath, version, self)
		}
	}
	return c
}

func doctorRampartSh(proc *Process, self string) doctorCheck {
	c := doctorCheck{Name: "rampart-sh"}
	sh := filepath.Join(filepath.Dir(self), "rampart-sh")
	if !isExecutable(sh) {
		sh = integrations.LookPath(integrations.Env{Getenv: proc.Getenv}, "rampart-sh")
	}
	if sh == "" {
		c.Status, c.Summary = doctorWarn, "rampart-sh is not installed next to rampart or on PATH (needed by rampart wrap and setup claude-code --shell)"
		c.Fix = `run "make install", which installs both`
		return c
	}
	want, err1 := binaryVersion(self)
	have, err2 := binaryVersion(sh)
	switch {
	case err2 != nil:
		c.Status, c.Summary = doctorFail, fmt.Sprintf("%s is not a Go program this rampart can read: %v", sh, err2)
		c.Fix = `run "make install" to install rampart and rampart-sh together`
	case err1 == nil && have != want:
		c.Status, c.Summary = doctorFail, fmt.Sprintf("%s is version %s, rampart is %s: the two may judge commands differently", sh, have, want)
		c.Fix = `run "make install" to install rampart and rampart-sh together`
	default:
		c.Status, c.Summary = doctorOK, fmt.Sprintf("%s, version %s", sh, have)
	}
	return c
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

func doctorPolicies(proc *Process) doctorCheck {
	c := doctorCheck{Name: "policies"}
	l, err := loadPolicies(proc, SourceOptions{})
	if err != nil {
		c.Status = doctorFail
		msg := err.Error()
		lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
		c.Summary = "the policies do not load, so every hook fails closed: " + lines[0]
		if len(lines) > 1 {
			c.Details = lines[1:]
		}
		var ee *exitError
		if errors.As(err, &ee) && len(ee.hints) > 0 {
			c.Fix = ee.hints[0]
		}
		return c
	}
	var names []string
	policies, rules := 0, 0
	for _, s := range l.Program.Sources() {
		names = append(names, s.Name)
		policies += s.Policies
		rules += s.Rules
	}
	c.Status = doctorOK
	c.Summary = fmt.Sprintf("%s, %s from %s", plural(policies, "policy", "policies"), plural(rules, "rule", "rules"), strings.Join(names, ", "))
	// Warnings of every source loaded (*.yml files and the project policy
	// too): keys that are ignored, a project's attempts to loosen.
	c.Details = append(c.Details, l.Program.Warnings()...)
	if len(c.Details) > 0 {
		c.Status = doctorWarn
		c.Fix = `see "rampart policy lint FILE"`
	}
	return c
}

func doctorServer(proc *Process) doctorCheck {
	c := doctorCheck{Name: "server"}
	home := proc.RampartHome()
	configured := proc.Getenv("RAMPART_URL") != ""
	if home != "" {
		if _, err := os.Stat(server.SocketPath(home)); err == nil {
			configured = true
		}
		if runningServer(server.PIDPath(home)) != 0 {
			configured = true
		}
	}
	if !configured {
		c.Status, c.Summary = doctorSkip, "no server configured or running (hooks decide in their own process; rampart preload starts its own)"
		return c
	}
	client, err := server.ClientFromEnv(proc.Getenv, home, 3*time.Second)
	if err != nil {
		c.Status, c.Summary = doctorFail, fmt.Sprintf("cannot make a client: %v", err)
		c.Fix = "check $RAMPART_URL, and that the token file (~/.rampart/token) is readable by you"
		return c
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := client.Health(ctx)
	if err != nil {
		c.Status, c.Summary = doctorFail, fmt.Sprintf("configured at %s but it does not answer: %v", client.URL, err)
		c.Fix = `start it with "rampart serve --background", or unset RAMPART_URL`
		return c
	}
	c.Status, c.Summary = doctorOK, fmt.Sprintf("%s answers: version %s, status %s", client.URL, h.Version, h.Status)
	if h.Status != "ok" {
		c.Status = doctorWarn
		if h.Policy.LastError != "" {
			c.Details = append(c.Details, "the newest policy files do not load: "+firstLine(h.Policy.LastError))
		}
		if h.Audit.LastError != "" {
			c.Details = append(c.Details, "audit: "+h.Audit.LastError)
		}
		c.Fix = `see "rampart status"`
	}
	// The approvals list needs the token; /healthz does not.
	if _, err := client.Approvals(ctx); err != nil {
		var apiErr *server.APIError
		if errors.As(err, &apiErr) {
			c.Status = doctorFail
			c.Details = append(c.Details, "the token is not accepted: "+err.Error())
			c.Fix = "use the server's token: $RAMPART_TOKEN, else ~/.rampart/token (rampart token)"
		}
	}
	return c
}

// doctorAgents checks every agent that is installed here or set up.
func doctorAgents(opts *DoctorOptions, self string) []doctorCheck {
	proc := opts.Proc
	env, err := agentEnv(proc)
	if err != nil {
		return []doctorCheck{{Name: "agents", Status: doctorFail, Summary: err.Error(), Fix: "set HOME"}}
	}
	selfVersion, _ := binaryVersion(self)
	var checks []doctorCheck
	listed := map[string]bool{}
	for _, a := range integrations.Agents() {
		listed[a.Name] = true
		s := a.Check(env)
		c := doctorCheck{Name: a.Name}
		found := strings.Join(s.Detection.Evidence, ", ")
		switch {
		case s.Err != nil:
			c.Status, c.Summary = doctorFail, fmt.Sprintf("its configuration cannot be read: %v", s.Err)
			c.Fix = fmt.Sprintf(`fix the file, or run "rampart setup %s --force" to replace it (it is backed up)`, a.Name)
		case !s.SetUp() && !s.Detection.Found:
			c.Status, c.Summary = doctorSkip, "not installed"
		case !s.SetUp():
			c.Status, c.Summary = doctorWarn, fmt.Sprintf("installed (%s) but not protected", found)
			c.Fix = "rampart setup " + a.Name
		case len(s.Broken) > 0:
			c.Status = doctorFail
			c.Summary = fmt.Sprintf("its hooks run %s, which does not exist or is not executable: %s", s.Broken[0].Binary, brokenEffect(a.Name))
			c.Fix = "rampart setup " + a.Name + " (points the hooks at this rampart)"
		case len(s.Missing) > 0:
			c.Status = doctorFail
			c.Summary = fmt.Sprintf("set up, but no Rampart hook on %s", strings.Join(s.Missing, ", "))
			c.Fix = "rampart setup " + a.Name
		case len(s.Problems) > 0:
			c.Status = doctorFail
			c.Summary = "set up, but the hooks do not run: " + s.Problems[0]
			c.Details = append(c.Details, s.Problems[1:]...)
			c.Fix = fmt.Sprintf(`run "rampart setup %s --check" to see more`, a.Name)
		default:
			c.Status = doctorOK
			c.Summary = fmt.Sprintf("protected: %s %s", plural(len(s.Hooks), "hook runs", "hooks run"), s.Hooks[0].Binary)
			if opts.Probe {
				if ok, detail := runHookProbe(a, s.Hooks[0]); ok {
					c.Summary += "; a read of ~/.ssh/id_rsa is blocked"
				} else {
					c.Status, c.Summary = doctorFail, "set up, but "+detail
					c.Fix = fmt.Sprintf(`run "rampart setup %s --check" to see more`, a.Name)
				}
			}
			if v, err := binaryVersion(s.Hooks[0].Binary); c.Status == doctorOK && err == nil && selfVersion != "" && v != selfVersion {
				c.Status = doctorWarn
				c.Details = append(c.Details, fmt.Sprintf("the hooks run rampart %s; this one is %s", v, selfVersion))
				c.Fix = "rampart setup " + a.Name + " (points the hooks at this rampart)"
			}
		}
		if c.Status != doctorSkip && len(s.Hooks) > 0 {
			c.Details = append(c.Details, "in "+hookFiles(s.Hooks))
		}
		checks = append(checks, c)
	}
	for _, name := range hooks.Names() {
		if !listed[name] {
			checks = append(checks, doctorCheck{Name: name, Status: doctorSkip,
				Summary: fmt.Sprintf(`not checked here; run "rampart setup %s --check"`, name)})
		}
	}
	return checks
}

func hookFiles(list []integrations.Hook) string {
	var files []string
	seen := map[string]bool{}
	for _, h := range list {
		if !seen[h.File] {
			seen[h.File] = true
			files = append(files, h.File)
		}
	}
	return strings.Join(files, ", ")
}

func doctorPreload(proc *Process) doctorCheck {
	c := doctorCheck{Name: "preload"}
	lib, err := preload.Library()
	if errors.Is(err, preload.ErrNotBuilt) {
		c.Status, c.Summary = doctorWarn, "this rampart was built without librampart.so: rampart preload cannot run"
		c.Fix = `build with "make" (it builds the library first) and "make install"`
		return c
	}
	if err != nil {
		c.Status, c.Summary = doctorFail, err.Error()
		return c
	}
	if runtime.GOOS != "linux" {
		c.Status, c.Summary = doctorSkip, "LD_PRELOAD is checked on Linux only"
		return c
	}
	path := ""
	if home := proc.RampartHome(); home != "" {
		path = filepath.Join(home, "lib", preload.InstalledName(lib))
	}
	where := path
	if !isRegularFile(path) {
		// Not installed yet (preload installs it on first use): try the
		// built-in copy from a temporary folder.
		dir, err := os.MkdirTemp("", "rampart-doctor-")
		if err != nil {
			c.Status, c.Summary = doctorFail, err.Error()
			return c
		}
		defer os.RemoveAll(dir)
		if path, err = preload.Install(dir); err != nil {
			c.Status, c.Summary = doctorFail, err.Error()
			return c
		}
		where = "built in; installed into ~/.rampart/lib on first use"
	}
	if problem := preloadProblem(path); problem != "" {
		c.Status, c.Summary = doctorFail, "the dynamic loader does not load librampart.so: "+problem
		c.Fix = `rebuild for this system with "make" and "make install"`
		return c
	}
	c.Status, c.Summary = doctorOK, fmt.Sprintf("librampart.so loads (%s)", where)
	return c
}

func isRegularFile(path string) bool {
	st, err := os.Stat(path)
	return path != "" && err == nil && st.Mode().IsRegular()
}

// preloadProblem runs true with the library preloaded (and disabled, so
// it asks no server) and returns what the loader said, if anything.
func preloadProblem(lib string) string {
	truePath := "/bin/true"
	if p, err := exec.LookPath("true"); err == nil {
		truePath = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, truePath)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+lib, "RAMPART_MODE=disabled")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if msg := strings.TrimSpace(stderr.String()); strings.Contains(msg, "LD_PRELOAD") || strings.Contains(msg, "ld.so") {
		return msg
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func doctorAudit(proc *Process) doctorCheck {
	c := doctorCheck{Name: "audit"}
	home := proc.RampartHome()
	if home == "" {
		c.Status, c.Summary = doctorFail, "neither $RAMPART_HOME nor $HOME is set: decisions are not recorded"
		c.Fix = "set HOME"
		return c
	}
	dir := audit.DefaultDir(home)
	rep, err := audit.Verify(dir)
	switch {
	case err != nil:
		c.Status, c.Summary = doctorFail, fmt.Sprintf("%s cannot be read: %v", dir, err)
		return c
	case !rep.OK:
		c.Status = doctorFail
		c.Summary = fmt.Sprintf("the hash chain in %s does not verify: %s", dir, rep.Problems[0])
		for _, p := range rep.Problems[1:min(len(rep.Problems), 5)] {
			c.Details = append(c.Details, p.String())
		}
		c.Fix = `see "rampart audit verify"`
		return c
	case rep.Records == 0:
		c.Status, c.Summary = doctorOK, fmt.Sprintf("%s holds no records yet", dir)
	default:
		c.Status, c.Summary = doctorOK, fmt.Sprintf("%s: %s, the chain verifies", dir, plural(rep.Records, "record", "records"))
	}
	for _, w := range rep.Warnings {
		c.Status = doctorWarn
		c.Details = append(c.Details, w.String())
	}
	return c
}

func doctorGuard() doctorCheck {
	if err := guard.Supported(); err != nil {
		return doctorCheck{Name: "guard", Status: doctorWarn, Summary: "rampart guard cannot run here: " + err.Error(),
			Fix: "use rampart preload or the agents' hooks instead"}
	}
	return doctorCheck{Name: "guard", Status: doctorOK, Summary: "the kernel supports rampart guard (seccomp user notification)"}
}
