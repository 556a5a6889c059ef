// Matching one rule's conditions against one command or one non-exec call.

package engine

import (
	"slices"
	"strings"

	"github.com/tidwall/gjson"
)

// matchCommand reports whether the rule's conditions hold for one command.
// allowMode judges only the command's own text (an allow rule must cover
// each command by itself); anyName treats a dynamic command name as any name.
func (w *when) matchCommand(st *evalState, u *shellCommand, allowMode, anyName bool) (bool, string) {
	if w.never {
		return false, ""
	}
	if w.always {
		return true, u.text
	}
	if len(w.paths) > 0 || len(w.pathsNot) > 0 || len(w.toolNames) > 0 || w.params != nil {
		return false, ""
	}
	if len(w.detects) > 0 && !st.hasDetect(w.detects) {
		return false, ""
	}
	if !w.hasCommandConds && len(w.urls) == 0 && len(w.urlsNot) == 0 && len(w.domains) == 0 && len(w.domsNot) == 0 {
		return len(w.detects) > 0, u.text
	}
	// Cheap structural checks first: most rules need a part most commands
	// lack (an output redirection, a piped input, an assignment).
	if len(w.redirects) > 0 && !hasOutputRedirect(u) || len(w.inputs) > 0 && len(u.inputs) == 0 ||
		len(w.envSets) > 0 && len(u.assigns) == 0 || len(w.flags) > 0 && len(u.args) == 0 {
		return false, ""
	}
	matched := u.text
	if !anyName { // a name known only at run time could be any name
		if w.nameIn != nil && !w.nameIn.match(u.name) {
			return false, ""
		}
		if w.nameOut.match(u.name) {
			return false, ""
		}
	}
	if w.hasPositiveText || len(w.cmdNot) > 0 {
		ok, t := w.matchText(u, allowMode, anyName)
		if !ok {
			return false, ""
		}
		if t != "" {
			matched = t
		}
	}
	if len(w.flags) > 0 && !cmdHasFlag(u.args, w.flags) {
		return false, ""
	}
	if len(w.subcommands) > 0 && !matchAnyGlob(w.subcommands, subcommandOf(u.name, u.args), false) {
		return false, ""
	}
	if len(w.args) > 0 || len(w.argsNot) > 0 {
		ok, arg := st.matchArgs(w, u)
		if !ok {
			return false, ""
		}
		if arg != "" && !w.hasPositiveText {
			matched = u.text
		}
	}
	if len(w.redirects) > 0 && !st.matchRedirects(w, u) {
		return false, ""
	}
	if len(w.inputs) > 0 {
		if u.pipeline != "" && !w.hasPositiveText {
			matched = u.pipeline // "curl x | sh" says more than "sh"
		}
		found := false
		for _, in := range u.inputs {
			if matchAnyGlob(w.inputs, commandBaseName(in), false) {
				found = true
				break
			}
		}
		if !found {
			return false, ""
		}
	}
	if len(w.envSets) > 0 {
		found := false
		for _, name := range u.assigns {
			if name == "*" || matchAnyGlob(w.envSets, name, false) {
				found = true
				break
			}
		}
		if !found {
			return false, ""
		}
	}
	if len(w.urls) > 0 || len(w.urlsNot) > 0 || len(w.domains) > 0 || len(w.domsNot) > 0 {
		found := false
		for _, a := range u.args {
			if !strings.Contains(a, "://") {
				continue
			}
			if w.urlOK(a) {
				found = true
				break
			}
		}
		if !found {
			return false, ""
		}
	}
	return true, matched
}

func hasOutputRedirect(u *shellCommand) bool {
	for _, r := range u.redirs {
		if r.output {
			return true
		}
	}
	return false
}

func (st *evalState) hasDetect(want []string) bool {
	for _, d := range st.detects {
		if slices.Contains(want, d) {
			return true
		}
	}
	return false
}

// matchText tries the command's texts against the text conditions.
func (w *when) matchText(u *shellCommand, allowMode, anyName bool) (bool, string) {
	if !w.hasPositiveText {
		return !anyGlob(w.cmdNot, u.text), ""
	}
	texts := [4]string{u.text}
	n := 1
	if !allowMode {
		for _, t := range [...]string{u.fullText, u.pipeline, u.raw} {
			if t != "" && t != u.text && (n < 2 || t != texts[n-1]) {
				texts[n] = t
				n++
			}
		}
	}
	for _, t := range texts[:n] {
		if w.textPositive(t) && !anyGlob(w.cmdNot, t) {
			return true, t
		}
	}
	if anyName {
		// Try the command as each name the rule is written for.
		rest := strings.Join(u.args, " ")
		for _, g := range w.cmdMatch {
			word, _, _ := strings.Cut(g.prefix, " ")
			if word == "" {
				continue
			}
			t := word
			if rest != "" {
				t += " " + rest
			}
			if g.match(t) && !anyGlob(w.cmdNot, t) {
				return true, u.text
			}
		}
	}
	return false, ""
}

func (w *when) textPositive(t string) bool {
	if anyGlob(w.cmdMatch, t) {
		return true
	}
	for _, sub := range w.cmdContains {
		if containsFold(t, sub) {
			return true
		}
	}
	for _, re := range w.cmdRegex {
		if re.match(t) {
			return true
		}
	}
	return false
}

func anyGlob(list []*glob, s string) bool {
	for _, g := range list {
		if g.match(s) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains sub (already lower case), ignoring
// ASCII case.
func containsFold(s, sub string) bool {
	n := len(sub)
	if n == 0 {
		return true
	}
	first := sub[0]
	for i := 0; i+n <= len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != first {
			continue
		}
		k := 1
		for ; k < n; k++ {
			d := s[i+k]
			if d >= 'A' && d <= 'Z' {
				d += 'a' - 'A'
			}
			if d != sub[k] {
				break
			}
		}
		if k == n {
			return true
		}
	}
	return false
}

// argForm is an argument (or input file) as path conditions see it: as
// written and, when it names a file, as a cleaned absolute path.
type argForm struct {
	raw, resolved string
}

func (u *shellCommand) argForms() []argForm {
	if u.forms != nil {
		return u.forms
	}
	forms := make([]argForm, 0, len(u.args)+len(u.redirs))
	add := func(a string) {
		if raw, resolved := resolveArg(a, u.cwd); raw != "" {
			forms = append(forms, argForm{raw, resolved})
		}
	}
	for i, a := range u.args {
		if u.scriptArg == -1 || u.scriptArg == i+1 {
			continue
		}
		add(a)
	}
	for _, r := range u.redirs {
		if !r.output {
			add(r.target)
		}
	}
	u.forms = forms
	return forms
}

// matchArgs: some argument (or input redirection source) matches
// arg_matches (when given) and does not match arg_not_matches.
func (st *evalState) matchArgs(w *when, u *shellCommand) (bool, string) {
	b := pathBase{home: st.home, cwd: u.cwd}
	for _, f := range u.argForms() {
		if w.argIn != nil && !w.argIn.match(f.raw, b) && (f.resolved == "" || !w.argIn.match(f.resolved, b)) {
			continue
		}
		if w.argOut.match(f.raw, b) || (f.resolved != "" && w.argOut.match(f.resolved, b)) {
			continue
		}
		return true, f.raw
	}
	return false, ""
}

func (st *evalState) matchRedirects(w *when, u *shellCommand) bool {
	b := pathBase{home: st.home, cwd: u.cwd}
	for _, r := range u.redirs {
		if !r.output {
			continue
		}
		if w.redirIn.match(r.target, b) {
			return true
		}
		if !strings.Contains(r.target, "$") && w.redirIn.match(cleanJoin(u.cwd, r.target), b) {
			return true
		}
	}
	return false
}

func (w *when) urlOK(raw string) bool {
	if len(w.urls) > 0 && !anyGlob(w.urls, raw) {
		return false
	}
	if anyGlob(w.urlsNot, raw) {
		return false
	}
	if len(w.domains) > 0 || len(w.domsNot) > 0 {
		host, ok := urlHost(raw)
		if !ok {
			return false
		}
		if len(w.domains) > 0 && !anyGlob(w.domains, host) {
			return false
		}
		if anyGlob(w.domsNot, host) {
			return false
		}
	}
	return true
}

// matchCall checks a rule against a read, write, edit, fetch, mcp or other
// call.
func (w *when) matchCall(st *evalState, allowMode bool) (bool, string) {
	if w.never {
		return false, ""
	}
	if w.always {
		return true, st.describeCall()
	}
	if w.hasCommandConds || len(w.detects) > 0 {
		return false, ""
	}
	c := st.call
	matched := ""
	if len(w.paths) > 0 || len(w.pathsNot) > 0 {
		if c.Path == "" {
			return false, ""
		}
		forms := st.pathForms()
		b := pathBase{home: st.home, cwd: st.cwd}
		qualifies := func(f string) bool {
			if w.pathIn != nil && !w.pathIn.match(f, b) {
				return false
			}
			return !w.pathOut.match(f, b)
		}
		if allowMode {
			for _, f := range forms {
				if !qualifies(f) {
					return false, ""
				}
			}
			matched = forms[0]
		} else {
			ok := false
			for _, f := range forms {
				if qualifies(f) {
					ok, matched = true, f
					break
				}
			}
			if !ok {
				return false, ""
			}
		}
	}
	if len(w.urls) > 0 || len(w.urlsNot) > 0 || len(w.domains) > 0 || len(w.domsNot) > 0 {
		if c.URL == "" || !w.urlOK(c.URL) {
			return false, ""
		}
		matched = c.URL
	}
	if len(w.toolNames) > 0 {
		name := c.Name
		if name == "" {
			name = c.Tool
		}
		if !anyGlob(w.toolNames, name) {
			return false, ""
		}
		if matched == "" {
			matched = name
		}
	}
	if w.params != nil {
		for key, g := range w.params {
			v := gjson.GetBytes(c.Input, key)
			if !v.Exists() || !g.match(strings.ToLower(v.String())) {
				return false, ""
			}
		}
	}
	if matched == "" {
		matched = st.describeCall()
	}
	return true, matched
}
