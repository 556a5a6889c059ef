package cli

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDecodeCall(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{`{"tool":"exec","command":"ls"}`, ""},
		{`  {"tool":"EXEC","argv":["ls","-l"]}  `, ""},
		{`{"tool":"mcp","name":"x","input":{"a":[1]}}`, ""},
		{`[1]`, "want a JSON object (one tool call per line), got an array"},
		{`null`, "got null"},
		{`42`, "got a number"},
		{`{"tool":"exec","cmd":"ls"}`, `unknown field "cmd" (did you mean "command"?)`},
		{`{"tool":"exec","comand":"ls"}`, `unknown field "comand" (did you mean "command"?)`},
		{`{"tool":"read","file_path":"x"}`, `unknown field "file_path" (did you mean "path"?)`},
		{`{"tool":"exec","argv":"ls"}`, `field "argv": want a list of strings, not a JSON string`},
		{`{"tool":"exec","command":"ls"`, "invalid JSON: the object is not closed"},
		{`{"tool":"exec" "command":"ls"}`, "invalid JSON at byte"},
		{`{"tool":"exec","command":"ls"}{}`, "unexpected text after the JSON object"},
		{`{"command":"ls"}`, `missing "tool"`},
		{`{"tool":"shell","command":"ls"}`, `unknown tool "shell"`},
		{`{"tool":"exec","command":"  "}`, `exec call without "command" or "argv"`},
		{`{"tool":"read"}`, `read call without "path"`},
		{`{"tool":"fetch"}`, `fetch call without "url"`},
		{`{"tool":"mcp"}`, `mcp call without "name"`},
	} {
		call, err := decodeCall([]byte(c.in))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.in, err)
		case c.err == "" && call.Tool != strings.ToLower(call.Tool):
			t.Errorf("%s: tool not lower-cased: %q", c.in, call.Tool)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: got error %v, want %q", c.in, err, c.err)
		}
	}
}

// TestCheckStdinStreams proves check --stdin answers each line as soon as it
// arrives, before the next one is written: harnesses use it as a co-process.
func TestCheckStdinStreams(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(policy, []byte(`version: "1"
policies:
  - name: no-rm
    match: {tool: exec}
    rules:
      - action: deny
        when: {command_name: [rm]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	proc, _, errOut := testProcess(t, nil)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	proc.In, proc.Out = inR, outW
	done := make(chan int)
	go func() {
		done <- Main([]string{"check", "--stdin", "--profile", "none", "--policy", policy}, proc)
		outW.Close()
	}()
	lines := bufio.NewReader(outR)
	for _, c := range []struct{ in, want string }{
		{`{"tool":"exec","command":"rm x"}`, `{"decision":"deny","policy":"p","rule":"no-rm","matched":"rm x"}`},
		{`{"tool":"exec","command":"ls && echo a"}`, `{"decision":"allow"}`},
		{`not json`, `{"error":"line 3: want a JSON object (one tool call per line), got \"not json\""}`},
	} {
		if _, err := io.WriteString(inW, c.in+"\n"); err != nil {
			t.Fatal(err)
		}
		got := make(chan string)
		go func() { line, _ := lines.ReadString('\n'); got <- line }()
		select {
		case line := <-got:
			if line != c.want+"\n" {
				t.Fatalf("for %s got %q, want %q", c.in, line, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no answer to %s before the next line", c.in)
		}
	}
	inW.Close()
	if code := <-done; code != ExitDataErr {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitDataErr, errOut)
	}
}

func TestCheckStdinLastLineWithoutNewline(t *testing.T) {
	proc, out, _ := testProcess(t, nil)
	proc.In = strings.NewReader("\n  \n{\"tool\":\"exec\",\"command\":\"ls\"}\r\n{\"tool\":\"exec\",\"command\":\"true\"}")
	if code := Main([]string{"check", "--stdin", "--profile", "none"}, proc); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if want := "{\"decision\":\"allow\"}\n{\"decision\":\"allow\"}\n"; out.String() != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

// FuzzDecodeCall: any line is either a valid tool call or an error; no
// panics.
func FuzzDecodeCall(f *testing.F) {
	for _, s := range []string{`{"tool":"exec","command":"ls"}`, `{"tool":"read","path":"x"}`, `[1]`, `{"tool":"exec","cmd":"ls"}`, `{"tool":"mcp","name":"x","input":{"a":1}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.TrimSpace(line) == "" {
			return
		}
		call, err := decodeCall([]byte(line))
		if err == nil && call.Validate() != nil {
			t.Fatalf("decodeCall accepted an invalid call: %+v", call)
		}
	})
}
