package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/suggest"
)

// MaxBodyBytes is the largest request body the server reads (1 MiB); a
// larger one is answered with 413.
const MaxBodyBytes = 1 << 20

// errBodyTooLarge is what readBody returns for a body over MaxBodyBytes.
var errBodyTooLarge = fmt.Errorf("request body is larger than %d bytes (1 MiB)", MaxBodyBytes)

// readBody reads the whole request body, at most MaxBodyBytes of it.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errBodyTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	return body, nil
}

// exampleCall is shown when a body is not a tool call at all.
const exampleCall = `{"tool":"exec","command":"git status"}`

// DecodeCall parses body as one tool call, as strictly as
// "rampart check --stdin" parses a line: one JSON object, only the fields
// of [engine.ToolCall] with the right types, nothing after it, a known
// tool and the fields that tool needs ([engine.ToolCall.Validate]). The
// tool name is lowercased. Errors say what is wrong and where.
func DecodeCall(body []byte) (*engine.ToolCall, error) {
	if call, ok := decodeCallFast(body); ok {
		return &call, nil
	}
	return decodeCallSlow(body)
}

// decodeCallSlow is DecodeCall's general path, with encoding/json.
func decodeCallSlow(body []byte) (*engine.ToolCall, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("empty body: want a tool call such as %s", exampleCall)
	}
	if body[0] != '{' {
		return nil, fmt.Errorf("want a JSON object (a tool call such as %s), got %s", exampleCall, JSONKind(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var call engine.ToolCall
	if err := dec.Decode(&call); err != nil {
		return nil, describeJSONError(err)
	}
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("unexpected text after the JSON object: %q", truncate(string(rest), 40))
	}
	call.Tool = strings.ToLower(call.Tool)
	if err := call.Validate(); err != nil {
		return nil, err
	}
	return &call, nil
}

// callFields are the JSON names of engine.ToolCall's fields.
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

// fieldAliases are names other tools give a tool call's fields.
var fieldAliases = map[string]string{
	"cmd": "command", "args": "argv", "file": "path", "file_path": "path", "filename": "path",
	"tool_name": "name", "tool_input": "input", "arguments": "input", "params": "input",
	"dir": "cwd", "workdir": "cwd", "working_dir": "cwd", "directory": "cwd", "uri": "url",
}

var unknownFieldRE = regexp.MustCompile(`^json: unknown field "(.*)"$`)

// describeJSONError turns an encoding/json error into a message that names
// the field or byte offset.
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

// JSONKind names the kind of JSON value text starts with ("an array",
// "a string", ...), for messages about a value that is not an object.
func JSONKind(text []byte) string {
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
	return fmt.Sprintf("%q", truncate(string(text), 40))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// decodeObject strictly decodes body, a JSON object, into v: unknown
// fields and trailing text are errors.
func decodeObject(body []byte, v any, example string) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return fmt.Errorf("empty body: want a JSON object such as %s", example)
	}
	if body[0] != '{' {
		return fmt.Errorf("want a JSON object such as %s, got %s", example, JSONKind(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return fmt.Errorf("invalid JSON at byte %d: %v", syn.Offset, syn)
		case errors.As(err, &typ):
			return fmt.Errorf("field %q: not a JSON %s", typ.Field, typ.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("invalid JSON: the object is not closed")
		}
		if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
			return fmt.Errorf("unknown field %q (want an object such as %s)", m[1], example)
		}
		return err
	}
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("unexpected text after the JSON object: %q", truncate(string(rest), 40))
	}
	return nil
}
