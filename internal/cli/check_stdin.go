package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/suggest"
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

// callFields are the JSON field names of engine.ToolCall.
var callFields = func() []string {
	var out []string
	t := reflect.TypeFor[engine.ToolCall]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}()

// fieldAliases are names other tools use for a tool call's fields.
var fieldAliases = map[string]string{
	"cmd": "command", "args": "argv", "file": "path", "file_path": "path", "filename": "path",
	"tool_name": "name", "tool_input": "input", "arguments": "input", "params": "input",
	"dir": "cwd", "workdir": "cwd", "working_dir": "cwd", "directory": "cwd", "uri": "url",
}

var unknownFieldRE = regexp.MustCompile(`^json: unknown field "(.*)"$`)

// decodeCall parses one line as a tool call, strictly: the line must be one
// JSON object with known fields of the right types, a known tool, and the
// fields that tool needs.
func decodeCall(line []byte) (*engine.ToolCall, error) {
	line = bytes.TrimSpace(line)
	if line[0] != '{' {
		return nil, fmt.Errorf("want a JSON object (one tool call per line), got %s", jsonKind(line))
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var call engine.ToolCall
	if err := dec.Decode(&call); err != nil {
		return nil, describeJSONError(err)
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("unexpected text after the JSON object: %q", truncateText(string(rest), 40))
	}
	call.Tool = strings.ToLower(call.Tool)
	if err := call.Validate(); err != nil {
		return nil, err
	}
	return &call, nil
}

func describeJSONError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		want := typ.Type.Kind().String()
		switch typ.Type.Kind() {
		case reflect.Slice:
			want = "a list of strings"
		case reflect.String:
			want = "a string"
		}
		return fmt.Errorf("field %q: want %s, not a JSON %s", typ.Field, want, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: the object is not closed")
	}
	if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
		hint := suggest.DidYouMean(m[1], callFields)
		if alias, ok := fieldAliases[strings.ToLower(m[1])]; ok {
			hint = fmt.Sprintf(" (did you mean %q?)", alias)
		}
		return fmt.Errorf("unknown field %q%s", m[1], hint)
	}
	return fmt.Errorf("invalid tool call: %v", err)
}

// jsonKind names the kind of JSON value text starts with.
func jsonKind(text []byte) string {
	switch {
	case text[0] == '[':
		return "an array"
	case text[0] == '"':
		return "a string"
	case bytes.Equal(text, []byte("null")):
		return "null"
	case bytes.Equal(text, []byte("true")), bytes.Equal(text, []byte("false")):
		return "a boolean"
	case text[0] == '-' || (text[0] >= '0' && text[0] <= '9'):
		if json.Valid(text) {
			return "a number"
		}
	}
	return fmt.Sprintf("%q", truncateText(string(text), 40))
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
