package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/server"
)

// checkStdin decides one JSON line of stdin at a time: it writes each
// decision (or error) line as soon as its input line has arrived, so a
// harness can use it as a co-process.
func checkStdin(o *CheckOptions, l *loaded) error {
	in := bufio.NewReaderSize(o.Proc.In, 64*1024)
	bad := 0
	for lineNo := 1; ; lineNo++ {
		line, readErr := in.ReadBytes('\n')
		if readErr != nil && readErr != io.EOF {
			return withCode(ExitIOErr, fmt.Errorf("reading stdin: %w", readErr))
		}
		if len(bytes.TrimSpace(line)) > 0 {
			var out any
			call, err := decodeCall(line)
			if err != nil {
				bad++
				out = map[string]string{"error": fmt.Sprintf("line %d: %v", lineNo, err)}
			} else {
				o.fillDefaults(call, l.Cwd)
				out = l.Program.Eval(call)
			}
			if err := writeJSONLine(o.Proc.Out, out); err != nil {
				return withCode(ExitIOErr, fmt.Errorf("writing decisions: %w", err))
			}
		}
		if readErr == io.EOF {
			break
		}
	}
	if bad > 0 {
		return withCode(ExitDataErr, fmt.Errorf("stdin had %s that %s not a tool call (see the \"error\" lines in the output)",
			plural(bad, "line", "lines"), pick(bad == 1, "was", "were")),
			`each line must be a JSON object such as {"tool":"exec","command":"git status"}`)
	}
	return nil
}

// fillDefaults gives a call from stdin the flags' agent and session and the
// working directory when it has none of its own; a relative cwd is taken
// relative to the default one.
func (o *CheckOptions) fillDefaults(call *engine.ToolCall, cwd string) {
	switch {
	case call.Cwd == "":
		call.Cwd = cwd
	case !filepath.IsAbs(call.Cwd):
		call.Cwd = filepath.Join(cwd, call.Cwd)
	}
	if call.Agent == "" {
		call.Agent = o.Agent
	}
	if call.Session == "" {
		call.Session = o.Session
	}
}

// decodeCall parses one line as a tool call, strictly (see
// [server.DecodeCall], which the server's API uses for its bodies): the
// line must be one JSON object with known fields of the right types, a
// known tool, and the fields that tool needs.
func decodeCall(line []byte) (*engine.ToolCall, error) {
	line = bytes.TrimSpace(line)
	if line[0] != '{' {
		return nil, fmt.Errorf("want a JSON object (one tool call per line), got %s", server.JSONKind(line))
	}
	return server.DecodeCall(line)
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
