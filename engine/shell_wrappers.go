package engine

import (
	"slices"
	"strings"
)

// wrapperSpec says how a command that runs another command reads its own
// options before that command starts.
type wrapperSpec struct {
	valueOpts   string   // short options that take a value ("-u root")
	longValue   []string // long options that take a value ("--user root")
	positional  int      // positional arguments before the command (timeout's duration)
	scriptOpt   byte     // short option whose value is a shell script (su -c, env -S, flock -c)
	stopOpts    string   // short options meaning "run nothing" (command -v)
	assignments bool     // NAME=VALUE words before the command set the environment (env)
	noArgv      bool     // only a script option runs anything (su)
	joinScript  bool     // the remaining words are joined into a script (watch)
}

var wrapperSpecs = map[string]wrapperSpec{
	"sudo":         {valueOpts: "ugpChDrtTUR", longValue: []string{"user", "group", "prompt", "close-from", "host", "chdir", "role", "type", "command-timeout", "other-user", "chroot"}},
	"doas":         {valueOpts: "uC"},
	"pkexec":       {longValue: []string{"user"}},
	"env":          {valueOpts: "uCS", longValue: []string{"unset", "chdir", "split-string", "block-signal", "default-signal", "ignore-signal"}, scriptOpt: 'S', assignments: true},
	"nohup":        {},
	"setsid":       {},
	"time":         {valueOpts: "fo", longValue: []string{"format", "output"}},
	"unbuffer":     {},
	"builtin":      {},
	"command":      {stopOpts: "vV"},
	"exec":         {valueOpts: "a"},
	"timeout":      {valueOpts: "sk", longValue: []string{"signal", "kill-after"}, positional: 1},
	"nice":         {valueOpts: "n", longValue: []string{"adjustment"}},
	"ionice":       {valueOpts: "cnpPuU", longValue: []string{"class", "classdata", "pid", "pgid", "uid"}},
	"stdbuf":       {valueOpts: "ioe", longValue: []string{"input", "output", "error"}},
	"chrt":         {positional: 1},
	"taskset":      {positional: 1},
	"flock":        {valueOpts: "wEc", longValue: []string{"timeout", "conflict-exit-code", "command"}, positional: 1, scriptOpt: 'c'},
	"chroot":       {longValue: []string{"userspec", "groups"}, positional: 1},
	"su":           {valueOpts: "cgGsw", longValue: []string{"command", "group", "supp-group", "shell", "whitelist-environment"}, scriptOpt: 'c', noArgv: true},
	"runuser":      {valueOpts: "ugGcsw", longValue: []string{"user", "group", "supp-group", "command", "shell"}, scriptOpt: 'c'},
	"xargs":        {valueOpts: "IEdLnPsae", longValue: []string{"replace", "eof", "delimiter", "max-lines", "max-args", "max-procs", "max-chars", "arg-file", "process-slot-var"}},
	"watch":        {valueOpts: "nqd", longValue: []string{"interval", "differences", "equexit"}, joinScript: true},
	"strace":       {valueOpts: "oepsuEIaXSbP"},
	"ltrace":       {valueOpts: "oepsuEnaA"},
	"firejail":     {},
	"proxychains":  {valueOpts: "f"},
	"proxychains4": {valueOpts: "f"},
	"torsocks":     {valueOpts: "uapP"},
	"systemd-run":  {valueOpts: "pEMuH", longValue: []string{"property", "setenv", "unit", "description", "slice", "uid", "gid", "working-directory", "machine", "host", "on-calendar"}},
	"busybox":      {},
	"caffeinate":   {valueOpts: "tw"},
	"unshare":      {valueOpts: "S", longValue: []string{"setuid", "setgid", "root", "wd"}},
	"nsenter":      {valueOpts: "tSGrw", longValue: []string{"target", "setuid", "setgid", "root", "wd"}},
	"sg":           {positional: 1, noArgv: true},
}

// shellNames are the shells whose -c script, here-doc or piped input is
// parsed and analysed as commands.
var shellNames = map[string]bool{
	"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "ash": true, "mksh": true,
	"yash": true, "posh": true, "rbash": true, "fish": true, "busybox-sh": true, "rampart-sh": true,
}

// runsInner records the command that argv (already recorded at idx) runs,
// if any, and reports whether argv is a wrapper.
func (a *analyzer) runsInner(idx int, argv []string, dyn []bool, c shellCtx) bool {
	name := a.out.commands[idx].name
	inner := shellCtx{depth: c.depth + 1, src: c.src, pipeIn: c.pipeIn, stdinText: c.stdinText}
	switch {
	case shellNames[name]:
		return a.shellInvocation(idx, argv, dyn, c)
	case name == "eval":
		a.out.commands[idx].scriptArg = -1
		a.scriptFromWords(argv[1:], dyn[1:], inner)
		return true
	case name == "find":
		return a.findExec(argv, dyn, inner)
	}
	spec, ok := wrapperSpecs[name]
	if !ok {
		return false
	}
	if c.depth+1 > maxShellDepth {
		a.detect(detectTooComplex)
		return true
	}
	i := 1
	var script *string
	scriptDyn := false
	replace := "" // xargs -I
	for i < len(argv) {
		w := argv[i]
		if w == "--" {
			i++
			break
		}
		if spec.assignments && isAssignment(w) {
			cmd := &a.out.commands[idx]
			cmd.assigns = append(cmd.assigns, w[:strings.IndexByte(w, '=')])
			i++
			continue
		}
		if name == "env" && (w == "-" || w == "-i" || w == "--ignore-environment") {
			cmd := &a.out.commands[idx]
			cmd.assigns = append(cmd.assigns, "*")
			i++
			continue
		}
		if len(w) < 2 || (w[0] != '-' && !(w[0] == '+' && name == "nice")) {
			break
		}
		if strings.HasPrefix(w, "--") {
			opt, val, hasVal := strings.Cut(w[2:], "=")
			takes := slices.Contains(spec.longValue, opt)
			if takes && !hasVal && i+1 < len(argv) {
				val, hasVal = argv[i+1], true
				i++
			}
			if hasVal && (opt == "command" || opt == "split-string") && spec.scriptOpt != 0 {
				v := val
				script, scriptDyn = &v, dyn[i]
			}
			if hasVal && name == "env" && opt == "unset" {
				cmd := &a.out.commands[idx]
				cmd.assigns = append(cmd.assigns, val)
			}
			i++
			continue
		}
		for j := 1; j < len(w); j++ { // a cluster such as -un5: the value ends it
			o := w[j]
			if strings.IndexByte(spec.stopOpts, o) >= 0 {
				return false
			}
			if strings.IndexByte(spec.valueOpts, o) < 0 {
				continue
			}
			val := w[j+1:]
			valDyn := dyn[i]
			if val == "" && i+1 < len(argv) {
				val, valDyn = argv[i+1], dyn[i+1]
				i++
			}
			if o == spec.scriptOpt {
				v := val
				script, scriptDyn = &v, valDyn
			}
			if name == "xargs" && o == 'I' {
				replace = val
			}
			if name == "env" && o == 'u' {
				cmd := &a.out.commands[idx]
				cmd.assigns = append(cmd.assigns, val)
			}
			break
		}
		i++
	}
	if script != nil {
		a.scriptFromWords([]string{*script}, []bool{scriptDyn}, inner)
		return true
	}
	if spec.noArgv {
		return false
	}
	i += spec.positional
	if i >= len(argv) {
		return false
	}
	if spec.joinScript {
		a.scriptFromWords(argv[i:], dyn[i:], inner)
		return true
	}
	innerArgv, innerDyn := argv[i:], dyn[i:]
	if name == "xargs" {
		innerArgv, innerDyn = xargsArgv(innerArgv, innerDyn, replace, c.stdinText)
	}
	a.exec(innerArgv, innerDyn, callExtras{inputs: a.out.commands[idx].inputs}, inner)
	return true
}

// xargsArgv adds the items xargs reads from stdin to the command it runs,
// when that input is known statically (echo / | xargs rm -rf).
func xargsArgv(argv []string, dyn []bool, replace string, stdin *string) ([]string, []bool) {
	if stdin == nil {
		return argv, dyn
	}
	items := strings.Fields(*stdin)
	if len(items) == 0 {
		return argv, dyn
	}
	out := append([]string(nil), argv...)
	outDyn := append([]bool(nil), dyn...)
	if replace != "" {
		for k := range out {
			out[k] = strings.ReplaceAll(out[k], replace, items[0])
		}
		return out, outDyn
	}
	for _, it := range items {
		out = append(out, it)
		outDyn = append(outDyn, false)
	}
	return out, outDyn
}

// scriptFromWords joins words into a script (as eval does) and analyses it.
// A script that is only known at run time is recorded as an unknown command.
func (a *analyzer) scriptFromWords(words []string, dyn []bool, c shellCtx) {
	for _, d := range dyn {
		if d {
			a.unknownCommand(strings.Join(words, " "), c)
			return
		}
	}
	if len(words) == 0 {
		return
	}
	a.script(strings.Join(words, " "), c)
}

// shellInvocation handles sh/bash/zsh...: "-c SCRIPT", a script on stdin
// (here-doc, here-string, echo ... |), or a script file.
func (a *analyzer) shellInvocation(idx int, argv []string, dyn []bool, c shellCtx) bool {
	inner := shellCtx{depth: c.depth + 1}
	hasC, readsStdin := false, false
	i := 1
	for ; i < len(argv); i++ {
		w := argv[i]
		if w == "--" || w == "-" {
			i++
			break
		}
		if len(w) < 2 || (w[0] != '-' && w[0] != '+') {
			break
		}
		if strings.HasPrefix(w, "--") {
			if w == "--rcfile" || w == "--init-file" {
				i++
			}
			continue
		}
		for j := 1; j < len(w); j++ {
			switch w[j] {
			case 'c':
				hasC = true
			case 's':
				readsStdin = true
			case 'o', 'O':
				i++ // -o option takes a name
			}
		}
	}
	if c.depth+1 > maxShellDepth {
		a.detect(detectTooComplex)
		return true
	}
	if hasC {
		if i < len(argv) {
			a.out.commands[idx].scriptArg = i
			a.scriptFromWords(argv[i:i+1], dyn[i:i+1], inner)
		}
		return true
	}
	if i < len(argv) && !readsStdin {
		return false // a script file: its contents are not known here
	}
	if c.stdinText != nil {
		a.script(*c.stdinText, inner)
		return true
	}
	return false
}

// findExec records the commands of find's -exec, -execdir, -ok and -okdir.
func (a *analyzer) findExec(argv []string, dyn []bool, c shellCtx) bool {
	found := false
	for i := 1; i < len(argv); i++ {
		switch argv[i] {
		case "-exec", "-execdir", "-ok", "-okdir":
		default:
			continue
		}
		j := i + 1
		for j < len(argv) && argv[j] != ";" && argv[j] != "+" {
			j++
		}
		if j > i+1 && c.depth <= maxShellDepth {
			a.exec(argv[i+1:j], dyn[i+1:j], callExtras{}, c)
			found = true
		}
		i = j
	}
	return found
}
