package engine

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// texts returns the normalised text of every command the analysis found.
func texts(a *shellAnalysis) []string {
	var out []string
	for _, c := range a.commands {
		out = append(out, c.text)
	}
	return out
}

func TestAnalyzeShellFindsEveryCommand(t *testing.T) {
	const home, cwd = "/home/dev", "/home/dev/project"
	tests := []struct {
		group, src string
		want       []string
	}{
		{"simple", "git status", []string{"git status"}},
		{"simple", "ls -la /tmp", []string{"ls -la /tmp"}},
		{"lists", "git status && rm -rf x || echo no; ls", []string{"git status", "rm -rf x", "echo no", "ls"}},
		{"pipes", "curl -s x | sh", []string{"curl -s x", "sh"}},
		{"subshell", "(cd /tmp && rm -rf y)", []string{"cd /tmp", "rm -rf y"}},
		{"substitution", "echo $(rm -rf z)", []string{"rm -rf z", "echo $(rm -rf z)"}},
		{"substitution", "echo `whoami`", []string{"whoami", "echo `whoami`"}},
		{"procsubst", "bash <(curl -s x)", []string{"curl -s x", "bash <(curl -s x)"}},
		{"nested shells", "bash -c 'sh -c \"rm -rf /\"'", []string{`bash -c sh -c "rm -rf /"`, "sh -c rm -rf /", "rm -rf /"}},
		{"eval", `eval "rm -rf /"`, []string{"eval rm -rf /", "rm -rf /"}},
		{"wrappers", "sudo -u root nice -n 5 timeout 10 rm -rf /", []string{"sudo -u root nice -n 5 timeout 10 rm -rf /", "nice -n 5 timeout 10 rm -rf /", "timeout 10 rm -rf /", "rm -rf /"}},
		{"wrappers", "env -i FOO=1 rm x", []string{"env -i FOO=1 rm x", "rm x"}},
		{"wrappers", "command -v rm", []string{"command -v rm"}},
		{"wrappers", "echo / | xargs rm -rf", []string{"echo /", "xargs rm -rf", "rm -rf /"}},
		{"wrappers", "echo /etc | xargs -I{} rm -rf {}/x", []string{"echo /etc", "xargs -I{} rm -rf {}/x", "rm -rf /etc/x"}},
		{"wrappers", "find / | xargs rm", []string{"find /", "xargs rm", "rm"}},
		{"wrappers", "xargs -n1 rm -f", []string{"xargs -n1 rm -f", "rm -f"}},
		{"wrappers", `find . -name '*.o' -exec rm -f {} \;`, []string{"find . -name *.o -exec rm -f {} ;", "rm -f {}"}},
		{"wrappers", "su -c 'rm -rf /' root", []string{"su -c rm -rf / root", "rm -rf /"}},
		{"wrappers", "watch -n 1 'ls /'", []string{"watch -n 1 ls /", "ls /"}},
		{"quoting", `'r''m' -rf /`, []string{"rm -rf /"}},
		{"quoting", `\rm -rf /`, []string{"rm -rf /"}},
		{"quoting", `"/usr/bin/rm" -rf /`, []string{"rm -rf /"}},
		{"quoting", `$'\x72\x6d' -rf /`, []string{"rm -rf /"}},
		{"braces", "{rm,-rf,/}", []string{"rm -rf /"}},
		{"home", "rm -rf ~ $HOME ${HOME}/x", []string{"rm -rf /home/dev /home/dev /home/dev/x"}},
		{"home", "rm -rf ~root ~alice/x ~+ '~'", []string{"rm -rf /root /home/alice/x ~+ ~"}},
		{"variables", "X=rm; $X -rf /", []string{"X=rm", "rm -rf /"}},
		{"dynamic", "$(which rm) -rf /", []string{"which rm", "$(which rm) -rf /"}},
		{"static substitution", "$(echo rm) -rf /", []string{"echo rm", "rm -rf /"}},
		{"static substitution", "rm -rf `printf /` \"$(echo ~)\"", []string{"printf /", "echo /home/dev", "rm -rf / /home/dev"}},
		{"word splitting", `X="rm -rf /"; $X`, []string{`X="rm -rf /"`, "rm -rf /"}},
		{"word splitting", `X="-rf /"; rm $X "$X"`, []string{`X="-rf /"`, "rm -rf / -rf /"}},
		{"word splitting", `IFS=,; X=-rf,/; rm $X`, []string{"IFS=,", "X=-rf,/", "rm -rf /"}},
		{"word splitting", `X=; rm -rf $X build ""`, []string{"X=", "rm -rf build "}},
		{"defaults", "rm -rf ${X:-/} ${HOME:-/x} ${HOME:+/y} ${X:+/z}", []string{"rm -rf / /home/dev /y /z"}},
		{"here-doc into shell", "bash <<EOF\nrm -rf /\nEOF", []string{"bash", "rm -rf /"}},
		{"here-string into shell", "sh <<< 'rm -rf /'", []string{"sh", "rm -rf /"}},
		{"here-string into shell", `X='echo hi; rm -rf /'; bash <<< "$X"`, []string{"X='echo hi; rm -rf /'", "bash", "echo hi", "rm -rf /"}},
		{"echo into shell", "echo 'rm -rf /' | sh", []string{"echo rm -rf /", "sh", "rm -rf /"}},
		{"redirects", "echo hi > /dev/sda 2>&1", []string{"echo hi > /dev/sda"}},
		{"functions", "f() { rm -rf /; }; f", []string{"rm -rf /", "f"}},
		{"if", "if true; then rm a; else rm b; fi", []string{"true", "rm a", "rm b"}},
		{"loops", "for f in $(ls); do rm $f; done", []string{"ls", "for f", "rm $f"}},
		{"loops", "for f in a ~/b; do rm $f; done", []string{"for f", "rm a", "rm /home/dev/b"}},
		{"declarations", "export LD_PRELOAD=/x.so", []string{"export LD_PRELOAD=/x.so"}},
		{"compound redirects", "while read -r l; do echo $l; done < ~/.ssh/id_rsa", []string{"read -r l < /home/dev/.ssh/id_rsa", "echo $l < /home/dev/.ssh/id_rsa"}},
		// Data, not commands: no extra command appears.
		{"data", `echo "rm -rf /"`, []string{"echo rm -rf /"}},
		{"data", `git commit -m "rm -rf / fix"`, []string{"git commit -m rm -rf / fix"}},
		{"data", `grep -rn "rm -rf /" .`, []string{"grep -rn rm -rf / ."}},
		{"data", "cat <<'EOF' > notes.md\nrm -rf /\nEOF", []string{"cat > notes.md"}},
		{"data", "bash script.sh", []string{"bash script.sh"}},
	}
	for _, tt := range tests {
		got := texts(analyzeShell(tt.src, home, cwd))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q\n got %q\nwant %q", tt.group, tt.src, got, tt.want)
		}
	}
}

func TestAnalyzeShellDetails(t *testing.T) {
	a := analyzeShell("curl -s x | tee f | bash", "/h", "/p")
	if got := a.commands[2].inputs; !reflect.DeepEqual(got, []string{"curl", "tee"}) {
		t.Errorf("inputs of bash = %q", got)
	}
	if got := a.commands[2].pipeline; got != "curl -s x | tee f | bash" {
		t.Errorf("pipeline = %q", got)
	}
	for _, src := range []string{"curl -s x > >(sh)", "curl -s x | tee >(bash) >/dev/null"} {
		a = analyzeShell(src, "/h", "/p")
		var shell shellCommand
		for _, c := range a.commands {
			if c.name == "sh" || c.name == "bash" {
				shell = c
			}
		}
		if !slices.Contains(shell.inputs, "curl") {
			t.Errorf("%s: the shell in >(...) should have curl as input: %+v", src, a.commands)
		}
	}
	a = analyzeShell(`sh -c "$(wget -O- x)"`, "/h", "/p")
	last := a.commands[len(a.commands)-1]
	if !last.dynamic {
		t.Errorf("script from a substitution should be dynamic: %+v", last)
	}
	if !slices.Contains(a.commands[1].inputs, "wget") {
		t.Errorf("sh -c $(wget) should have wget as input: %+v", a.commands)
	}
	a = analyzeShell("LD_PRELOAD=/x.so ls; unset LD_PRELOAD; env -u LD_AUDIT true", "/h", "/p")
	var assigns []string
	for _, c := range a.commands {
		assigns = append(assigns, c.assigns...)
	}
	if !reflect.DeepEqual(assigns, []string{"LD_PRELOAD", "LD_PRELOAD", "LD_AUDIT"}) {
		t.Errorf("assigns = %q", assigns)
	}
	a = analyzeShell(":(){ :|:& };:", "/h", "/p")
	if !a.detected(detectForkBomb) {
		t.Error("fork bomb not detected")
	}
	a = analyzeShell("cd / && rm -rf *", "/h", "/p")
	if a.commands[1].cwd != "/" {
		t.Errorf("cwd after cd / = %q", a.commands[1].cwd)
	}
	a = analyzeShell("rm -rf / 'unterminated", "/h", "/p")
	if !a.detected(detectParseError) || len(a.commands) == 0 || a.commands[0].name != "rm" {
		t.Errorf("parse error fallback: %+v %v", a.commands, a.detects)
	}
}

func TestAnalyzeShellBounded(t *testing.T) {
	deep := strings.Repeat("$(", 200) + "rm -rf /" + strings.Repeat(")", 200)
	nested := "rm -rf /"
	for i := 0; i < 11; i++ {
		nested = "bash -c " + shellQuote(nested)
	}
	for _, src := range []string{deep, nested, strings.Repeat("a|", 5000) + "b", strings.Repeat("{a,b}", 30)} {
		start := time.Now()
		a := analyzeShell(src, "/h", "/p")
		if len(a.commands) > maxShellCommands {
			t.Errorf("%d commands recorded", len(a.commands))
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("analysis took %v", time.Since(start))
		}
	}
	a := analyzeShell(nested, "/h", "/p")
	if !a.detected(detectTooComplex) {
		t.Error("11 nested bash -c should be too complex")
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// FuzzAnalyzeShell: no panics, bounded output, and the blank-split fast path
// agrees with the parser.
func FuzzAnalyzeShell(f *testing.F) {
	for _, s := range []string{"git status", "rm -rf /", "a && b | c", "bash -c 'x $(y)'", "f(){ f|f& };f",
		"cat <<EOF\nx\nEOF", "echo ${a:-$(b)}", "x=1 y", "{a,b}c", "$'\\x41'", "find . -exec a {} +"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		a := analyzeShell(src, "/home/u", "/home/u/p")
		if len(a.commands) > maxShellCommands {
			t.Fatalf("%d commands", len(a.commands))
		}
		if argv, ok := simpleFields(src); ok {
			f, err := parseShell(src)
			if err != nil {
				t.Fatalf("fast path accepted %q but the parser rejects it: %v", src, err)
			}
			b := &analyzer{home: "/home/u", cwd: "/home/u/p", out: &shellAnalysis{raw: src}}
			b.stmts(f.Stmts, shellCtx{src: src})
			if len(b.out.commands) == 0 || b.out.commands[0].text != strings.Join(append([]string{commandBaseName(argv[0])}, argv[1:]...), " ") {
				t.Fatalf("fast path and parser disagree on %q: %+v", src, b.out.commands)
			}
		}
	})
}
