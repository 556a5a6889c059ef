package engine

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/policies"
)

func TestNeededLiterals(t *testing.T) {
	cases := []struct {
		re   string
		want []string // nil: no literal is needed
	}{
		{`rm -rf`, []string{"rm -rf"}},
		{`(?i)DROP\s+TABLE`, []string{"table"}},
		{`(system|popen)\s*\(\s*["']rm\s`, []string{"system", "popen"}},
		{`fork\s*\(|while\s*\(1\)`, []string{"fork", "while"}},
		{`a+b`, []string{"a"}},
		{`(ab){2,}`, []string{"ab"}},
		{`x(?:ab)?y`, []string{"x"}},
		{`(?:ab)*`, nil},
		{`ab?`, []string{"a"}},
		{`[rR]m`, []string{"r"}}, // parsed as a (?i) r, then m: either will do
		{`^\s*$`, nil},
		{`.*`, nil},
		{`a|.`, nil},
		{`\bkill\b`, []string{"kill"}},
		{`(?i)\x{212A}ill`, []string{"kill"}}, // parsed as (?i)kill: on ASCII text, k or K
		{`\x{212A}ill`, []string{"ill"}},      // the Kelvin sign itself: only "ill" is sure
		{`é`, nil},
		{`a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q`, nil}, // more than maxNeeded alternatives
	}
	for _, c := range cases {
		parsed, err := syntax.Parse(c.re, syntax.Perl)
		if err != nil {
			t.Fatalf("%s: %v", c.re, err)
		}
		got, ok := neededLiterals(parsed.Simplify())
		if !ok {
			got = nil
		}
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("neededLiterals(%q) = %q, want %q", c.re, got, want)
		}
	}
}

// profileRegexes returns every command_regex of the embedded profiles.
func profileRegexes(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, name := range policies.Names() {
		src, err := ProfileSource(name)
		if err != nil {
			tb.Fatal(err)
		}
		p, err := Compile(Options{Home: "/home/dev"}, src)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range p.rules {
			for _, c := range r.conds.conds {
				if c.key == "command_regex" {
					out = append(out, c.values...)
				}
			}
		}
	}
	if len(out) == 0 {
		tb.Fatal("the profiles have no command_regex")
	}
	return out
}

// regexTexts are commands that the profiles' expressions match or nearly
// match, in several cases, and text outside ASCII.
var regexTexts = []string{
	"",
	"python3 -c pass",
	"/root/.pyenv/versions/3.11.7/bin/python3 -c pass",
	`python3 -c 'import os; os.system("rm -rf /")'`,
	`python3 -c 'import shutil; shutil.rmtree("/")'`,
	`perl -e 'system(q{rm -rf ~})'`,
	"ruby -e '`rm -rf /`'",
	`python3 -c 'import os; os.fork() while True'`,
	`perl -e 'fork while fork'`,
	`PERL -E 'FORK WHILE FORK'`,
	`perl -e 'for\u212A while fork'`,
	`node -e 'require("fs").rmSync("/")'`,
	`psql -c 'DROP TABLE users'`,
	`psql -c 'drop table users'`,
	`psql -c 'dROp   TaBle users'`,
	`mysql -e 'TRUNCATE TABLE x'`,
	"cat ~/.rampart/token",
	`python3 -c 'open("/root/.rampart/policies/x.yaml","w")'`,
	"echo hi > /etc/ld.so.preload",
	"rm -rf /",
	"find / -exec rm {} +",
	"ssh-keygen -f ~/.ssh/id_rsa",
	"cat ~/.ssh/id_ed25519",
	"systemctl stop rampart",
	`python3 -c 'import socket,subprocess,os;s=socket.socket();os.dup2(s.fileno(),0);pty.spawn("/bin/bash")'`,
	"héllo wörld rm -rf /",
	"\u212Aill -9 1",
	"\u017Fystemctl stop rampart",
}

// TestTextRegexAgreesWithRegexp checks, for every expression of the
// embedded profiles, that the literal test never hides a match.
func TestTextRegexAgreesWithRegexp(t *testing.T) {
	filtered := 0
	for _, src := range profileRegexes(t) {
		r, err := compileTextRegex(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if r.need != nil {
			filtered++
		}
		re := regexp.MustCompile(src)
		for _, text := range regexTexts {
			for _, s := range []string{text, strings.ToUpper(text), "x; " + text + " ; y"} {
				if got, want := r.match(s), re.MatchString(s); got != want {
					t.Errorf("%q on %q: match %v, regexp %v (literals %q)", src, s, got, want, r.need)
				}
			}
		}
	}
	// Most of the profiles' expressions have literals: the test above
	// would pass trivially if none had.
	if filtered == 0 {
		t.Error("no expression of the profiles has needed literals")
	}
}

// TestTextRegexOutsideASCII: (?i) letters match runes outside ASCII that
// an ASCII search would miss; the literal test must not apply there.
func TestTextRegexOutsideASCII(t *testing.T) {
	for _, c := range []struct{ re, text string }{
		{`(?i)kill`, "\u212Aill"},
		{`(?i)systemctl`, "\u017Fystemctl"},
		{`(?i)\x{212A}ill`, "kill"},
	} {
		r, err := compileTextRegex(c.re)
		if err != nil {
			t.Fatal(err)
		}
		if !r.match(c.text) {
			t.Errorf("%q does not match %q (literals %q)", c.re, c.text, r.need)
		}
	}
}

func FuzzTextRegex(f *testing.F) {
	for _, src := range profileRegexes(f) {
		for _, text := range regexTexts[:8] {
			f.Add(src, text)
		}
	}
	f.Add(`(?i)kill|fork`, "\u212Aill")
	f.Add(`(a|b)+c{2,}`, "xxabcc")
	f.Fuzz(func(t *testing.T, src, text string) {
		re, err := regexp.Compile(src)
		if err != nil {
			return
		}
		r, err := compileTextRegex(src)
		if err != nil {
			t.Fatalf("regexp compiles %q, compileTextRegex: %v", src, err)
		}
		if got, want := r.match(text), re.MatchString(text); got != want {
			t.Fatalf("%q on %q: match %v, regexp %v (literals %q)", src, text, got, want, r.need)
		}
	})
}

func TestMinimalLiterals(t *testing.T) {
	got := minimalLiterals([]string{"popen", "system", "popen", "open", "sys"})
	if want := []string{"sys", "open"}; !slices.Equal(got, want) {
		t.Errorf("minimalLiterals = %q, want %q", got, want)
	}
}
