package engine

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/rampart-dev/rampart/internal/suggest"
)

type condKind int

const (
	condList condKind = iota // one string or a list
	condBool
	condMap
)

type patternKind int

const (
	patCommand patternKind = iota // glob over command text ("*" at either end spans everything)
	patGlob                       // plain glob
	patPath                       // path glob: "~/" is the call's home, "\" is "/"
	patDomain                     // glob, case-insensitive
	patLiteral                    // substring, no syntax
	patRegex                      // RE2 regular expression
	patFlag                       // option name
	patDetect                     // a shell-analysis detection name
)

type conditionSpec struct {
	kind    condKind
	pattern patternKind
	warning string // shown by lint when the condition is used
}

// conditionSpecs lists every condition a rule's when may use.
var conditionSpecs = map[string]conditionSpec{
	"default": {kind: condBool},

	"command_matches":     {pattern: patCommand},
	"command_not_matches": {pattern: patCommand},
	"command_contains":    {pattern: patLiteral},
	"command_regex":       {pattern: patRegex},

	"command_name":     {pattern: patGlob},
	"command_name_not": {pattern: patGlob},
	"has_flag":         {pattern: patFlag},
	"subcommand":       {pattern: patGlob},
	"arg_matches":      {pattern: patPath},
	"arg_not_matches":  {pattern: patPath},
	"redirects_to":     {pattern: patPath},
	"input_from":       {pattern: patGlob},
	"env_sets":         {pattern: patGlob},
	"detect":           {pattern: patDetect},

	"path_matches":     {pattern: patPath},
	"path_not_matches": {pattern: patPath},

	"url_matches":        {pattern: patGlob},
	"url_not_matches":    {pattern: patGlob},
	"domain_matches":     {pattern: patDomain},
	"domain_not_matches": {pattern: patDomain},

	"name_matches":       {pattern: patGlob},
	"tool_param_matches": {kind: condMap},

	"response_matches":     {pattern: patRegex, warning: "is accepted for compatibility but never matches: decisions are made before a tool runs"},
	"response_not_matches": {pattern: patRegex, warning: "is accepted for compatibility but never matches: decisions are made before a tool runs"},
}

var knownDetections = []string{detectForkBomb, detectParseError, detectTooComplex}

// compiled forms of the pattern kinds
type pathGlob struct {
	g        *glob
	homeRel  bool // pattern began with "~/" (or is "~"): g matches the part after the home
	cwdRel   bool // pattern began with "./": g matches the part after the working directory
	homeOnly bool // pattern is "~" or "~/"
	src      string
	// lazy is set on the globs of a Program's unanchored-args prefilter
	// read from the cache: src compiles on the first match (see
	// lazyPathGlob); the fields above are then unused.
	lazy *lazyPathGlob
}

// lazyPathGlob is a path glob compiled on first use. Only the prefilter of
// the unanchored rules (Program.unanchoredArgs) holds them: a Program read
// from the cache would otherwise compile every arg_matches pattern of
// those rules before its first decision, most of them for nothing.
type lazyPathGlob struct {
	once sync.Once
	pg   *pathGlob // nil when src did not compile
}

// compiled returns the glob of src, compiling it on first use.
func (l *lazyPathGlob) compiled(src string) *pathGlob {
	l.once.Do(func() {
		if cp, err := compilePattern(patPath, src); err == nil {
			l.pg = cp.(*pathGlob)
		}
	})
	return l.pg
}

func compilePattern(kind patternKind, v string) (any, error) {
	switch kind {
	case patCommand:
		g, err := compileGlob(v, globOptions{starEnds: true})
		if err != nil {
			return nil, fmt.Errorf("bad glob %q: %w", v, err)
		}
		return g, nil
	case patGlob, patDomain:
		g, err := compileGlob(v, globOptions{fold: kind == patDomain})
		if err != nil {
			return nil, fmt.Errorf("bad glob %q: %w", v, err)
		}
		return g, nil
	case patPath:
		pg := &pathGlob{src: v}
		src := strings.ReplaceAll(v, `\`, "/")
		for _, home := range [...]string{"~", "$HOME", "${HOME}"} {
			rest, ok := strings.CutPrefix(src, home)
			if !ok {
				continue
			}
			if rest == "" || rest == "/" {
				pg.homeOnly = true
				return pg, nil
			}
			if rest[0] == '/' {
				pg.homeRel = true
				src = rest
				break
			}
		}
		if !pg.homeRel && strings.HasPrefix(src, "./") {
			pg.cwdRel = true
			src = src[1:]
		}
		g, err := compileGlob(src, globOptions{})
		if err != nil {
			return nil, fmt.Errorf("bad glob %q: %w", v, err)
		}
		pg.g = g
		return pg, nil
	case patLiteral:
		if v == "" {
			return nil, fmt.Errorf("empty string")
		}
		return strings.ToLower(v), nil
	case patRegex:
		re, err := compileTextRegex(v)
		if err != nil {
			return nil, fmt.Errorf("bad regular expression %q: %w", v, err)
		}
		return re, nil
	case patFlag:
		f := strings.TrimLeft(v, "-")
		if f == "" || strings.ContainsAny(f, " =") {
			return nil, fmt.Errorf("bad flag %q (want a name such as r, f, recursive or --force)", v)
		}
		return f, nil
	case patDetect:
		if !slices.Contains(knownDetections, v) {
			return nil, fmt.Errorf("unknown detection %q%s", v, suggest.DidYouMean(v, knownDetections))
		}
		return v, nil
	}
	return nil, fmt.Errorf("internal: unknown pattern kind")
}

// pathBase is what "~/" and "./" in path globs stand for in one call.
type pathBase struct {
	home string // the call's home directory
	cwd  string // the working directory of the call or command
}

// match reports whether p (a raw argument or a cleaned absolute path)
// matches.
func (pg *pathGlob) match(p string, b pathBase) bool {
	if pg.lazy != nil {
		if pg = pg.lazy.compiled(pg.src); pg == nil {
			// The cache is checksummed and this binary wrote it, so this
			// cannot happen; if it did, "may match" is the safe answer
			// for a prefilter: the rules behind it still decide.
			return true
		}
	}
	if pg.homeOnly {
		return b.home != "" && p == b.home
	}
	if pg.homeRel || pg.cwdRel {
		dir := b.home
		if pg.cwdRel {
			dir = b.cwd
		}
		if dir == "" || !strings.HasPrefix(p, dir) || (len(p) > len(dir) && p[len(dir)] != '/') {
			return false
		}
		if dir == "/" {
			return pg.g.match(p)
		}
		return pg.g.match(p[len(dir):])
	}
	return pg.g.match(p)
}

// when is a rule's compiled condition set. Fields are ANDed; the patterns
// inside one field are ORed.
type when struct {
	always bool
	never  bool // response_* conditions: cannot match before a tool runs

	cmdMatch    []*glob
	cmdNot      []*glob
	cmdContains []string
	cmdRegex    []*textRegex

	names, namesNot []*glob
	flags           []string
	subcommands     []*glob
	args, argsNot   []*pathGlob
	redirects       []*pathGlob
	inputs          []*glob
	envSets         []*glob
	detects         []string

	paths, pathsNot  []*pathGlob
	urls, urlsNot    []*glob
	domains, domsNot []*glob
	toolNames        []*glob
	params           map[string]*glob
	// indexed forms of the lists above, used when matching
	nameIn, nameOut        *nameSet
	argIn, argOut, redirIn *pathSet
	pathIn, pathOut        *pathSet

	anchors          []string // literal command names this rule can only match (nil: any)
	hasCommandConds  bool
	hasPositiveText  bool
	hasPositiveNames bool
}

// compileWhen builds a rule's condition set from conditions that parsing
// has validated and compiled.
func compileWhen(conds []*condDef) *when {
	w := &when{}
	if len(conds) == 0 {
		w.always = true
		return w
	}
	for _, c := range conds {
		if c.key == "default" {
			if c.flag {
				w.always = true
			} else {
				w.never = true
			}
			continue
		}
		if c.key == "tool_param_matches" {
			w.params = c.params
			continue
		}
		for _, cp := range c.compiledPatterns() {
			switch c.key {
			case "command_matches":
				w.cmdMatch = append(w.cmdMatch, cp.(*glob))
			case "command_not_matches":
				w.cmdNot = append(w.cmdNot, cp.(*glob))
			case "command_contains":
				w.cmdContains = append(w.cmdContains, cp.(string))
			case "command_regex":
				w.cmdRegex = append(w.cmdRegex, cp.(*textRegex))
			case "command_name":
				w.names = append(w.names, cp.(*glob))
			case "command_name_not":
				w.namesNot = append(w.namesNot, cp.(*glob))
			case "has_flag":
				w.flags = append(w.flags, cp.(string))
			case "subcommand":
				w.subcommands = append(w.subcommands, cp.(*glob))
			case "arg_matches":
				w.args = append(w.args, cp.(*pathGlob))
			case "arg_not_matches":
				w.argsNot = append(w.argsNot, cp.(*pathGlob))
			case "redirects_to":
				w.redirects = append(w.redirects, cp.(*pathGlob))
			case "input_from":
				w.inputs = append(w.inputs, cp.(*glob))
			case "env_sets":
				w.envSets = append(w.envSets, cp.(*glob))
			case "detect":
				w.detects = append(w.detects, cp.(string))
			case "path_matches":
				w.paths = append(w.paths, cp.(*pathGlob))
			case "path_not_matches":
				w.pathsNot = append(w.pathsNot, cp.(*pathGlob))
			case "url_matches":
				w.urls = append(w.urls, cp.(*glob))
			case "url_not_matches":
				w.urlsNot = append(w.urlsNot, cp.(*glob))
			case "domain_matches":
				w.domains = append(w.domains, cp.(*glob))
			case "domain_not_matches":
				w.domsNot = append(w.domsNot, cp.(*glob))
			case "name_matches":
				w.toolNames = append(w.toolNames, cp.(*glob))
			case "response_matches", "response_not_matches":
				w.never = true
			}
		}
	}
	w.hasPositiveText = len(w.cmdMatch) > 0 || len(w.cmdContains) > 0 || len(w.cmdRegex) > 0
	w.hasPositiveNames = len(w.names) > 0
	w.hasCommandConds = w.hasPositiveText || len(w.cmdNot) > 0 || w.hasPositiveNames || len(w.namesNot) > 0 ||
		len(w.flags) > 0 || len(w.subcommands) > 0 || len(w.args) > 0 || len(w.argsNot) > 0 ||
		len(w.redirects) > 0 || len(w.inputs) > 0 || len(w.envSets) > 0
	w.anchors = w.computeAnchors()
	w.nameIn, w.nameOut = newNameSet(w.names), newNameSet(w.namesNot)
	w.argIn, w.argOut, w.redirIn = newPathSet(w.args), newPathSet(w.argsNot), newPathSet(w.redirects)
	w.pathIn, w.pathOut = newPathSet(w.paths), newPathSet(w.pathsNot)
	return w
}

// compiledPatterns returns the condition's patterns compiled: as parsing
// compiled them or, for a condition read from the cache (which stores only
// the values), compiled now. Cached values compiled when the cache was
// written by this same binary, and the cache is checksummed, so they
// cannot fail here; if one did, guessing would risk a wrong decision.
func (c *condDef) compiledPatterns() []any {
	if c.patterns != nil || len(c.values) == 0 {
		return c.patterns
	}
	kind := conditionSpecs[c.key].pattern
	out := make([]any, len(c.values))
	for i, v := range c.values {
		cp, err := compilePattern(kind, v)
		if err != nil {
			panic(fmt.Sprintf("engine: cached condition %s does not compile: %v", c.key, err))
		}
		out[i] = cp
	}
	return out
}

// Anchor keys index rules by what a command must look like for the rule to
// have any chance: its name ("git"), its name and first argument
// ("git" argKey "push", from text patterns such as "git push *"), or its
// name and subcommand ("git" subKey "push", from a subcommand condition).
const (
	argKey = "\x00"
	subKey = "\x01"
)

// computeAnchors returns the anchor keys of the rule (see argKey), or nil
// when it may match any command.
func (w *when) computeAnchors() []string {
	var names []string
	if w.hasPositiveNames {
		for _, g := range w.names {
			if !g.exact {
				names = nil
				break
			}
			names = append(names, g.src)
		}
	}
	if text := w.textAnchors(); text != nil {
		ok := true
		for _, key := range text {
			first, _, _ := strings.Cut(key, argKey)
			if names != nil && !slices.Contains(names, first) {
				ok = false
			}
		}
		if ok && (names != nil || !w.hasPositiveNames) {
			return text
		}
	}
	if names == nil {
		return nil
	}
	var subs []string
	for _, g := range w.subcommands {
		if !g.exact {
			return names
		}
		subs = append(subs, g.src)
	}
	if len(subs) == 0 {
		return names
	}
	var out []string
	for _, n := range names {
		for _, sub := range subs {
			out = append(out, n+subKey+sub)
		}
	}
	return out
}

// textAnchors derives anchor keys from command_matches when every pattern
// starts with a literal command name (and, where all of them have one, a
// literal first argument).
func (w *when) textAnchors() []string {
	if len(w.cmdMatch) == 0 || len(w.cmdContains) > 0 || len(w.cmdRegex) > 0 {
		return nil
	}
	var firsts, pairs []string
	allPairs := true
	for _, g := range w.cmdMatch {
		lit := g.prefix
		if g.exact {
			lit += " " // the whole pattern is literal: every word is complete
		}
		word, rest, found := strings.Cut(lit, " ")
		if !found || word == "" || strings.ContainsAny(word, "=/") {
			return nil
		}
		firsts = append(firsts, word)
		second, _, complete := strings.Cut(rest, " ")
		if !complete || second == "" || strings.HasPrefix(second, "-") {
			allPairs = false
			continue
		}
		pairs = append(pairs, word+argKey+second)
	}
	if allPairs {
		return pairs
	}
	return firsts
}

// cmdHasFlag reports whether args contain any of the wanted options: long
// options by name, short options also inside clusters such as -rf.
func cmdHasFlag(args []string, wanted []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		if strings.HasPrefix(a, "--") {
			name, _, _ := strings.Cut(a[2:], "=")
			for _, f := range wanted {
				if len(f) > 1 && f == name {
					return true
				}
			}
			continue
		}
		for _, f := range wanted {
			if len(f) == 1 && strings.IndexByte(a[1:], f[0]) >= 0 {
				return true
			}
			if len(f) > 1 && f == a[1:] { // -delete, -exec style
				return true
			}
		}
	}
	return false
}

// globalValueOptions are options that take a value before a tool's
// subcommand ("git -C dir push").
var globalValueOptions = map[string][]string{
	"git":       {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path"},
	"kubectl":   {"-n", "--namespace", "--context", "--cluster", "--kubeconfig", "-s", "--server", "--user", "--token"},
	"docker":    {"-H", "--host", "--context", "-c", "--config", "-l", "--log-level"},
	"helm":      {"-n", "--namespace", "--kube-context", "--kubeconfig"},
	"npm":       {"--prefix", "-C"},
	"cargo":     {"-C", "--config", "-Z"},
	"systemctl": {"-H", "--host", "-M", "--machine", "-p", "--property", "-t", "--type"},
}

// subcommandOf returns the first argument that is not an option (skipping
// the values of known global options).
func subcommandOf(name string, args []string) string {
	valueOpts := globalValueOptions[name]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		}
		if strings.HasPrefix(a, "-") {
			if !strings.Contains(a, "=") && slices.Contains(valueOpts, a) {
				i++
			}
			continue
		}
		return a
	}
	return ""
}

// urlHost returns the lower-case host of a URL.
func urlHost(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}
	return strings.ToLower(u.Hostname()), true
}

// resolveArg returns the forms an argument is matched in: as written and,
// when it names a file, the cleaned absolute path (a trailing "/*" is
// dropped: "rm -rf ~/*" touches everything in the home directory).
func resolveArg(arg, cwd string) (string, string) {
	v := arg
	if strings.HasPrefix(v, "-") {
		if i := strings.IndexByte(v, '='); i > 0 {
			v = v[i+1:]
		} else {
			return "", ""
		}
	}
	if v == "" {
		return "", ""
	}
	p := v
	for _, suffix := range []string{"/*", "/.*", "/**", "/*.*"} {
		if strings.HasSuffix(p, suffix) && len(p) > len(suffix)-1 {
			p = p[:len(p)-len(suffix)+1]
			break
		}
	}
	if p == "*" || p == ".*" {
		p = "."
	}
	if strings.Contains(p, "://") || strings.HasPrefix(p, "$") {
		return v, ""
	}
	resolved := cleanJoin(cwd, p)
	if !path.IsAbs(resolved) {
		return v, ""
	}
	return v, resolved
}
