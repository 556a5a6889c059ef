package integrations

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// object is a JSON object that keeps its members' order and their values
// exactly as written (raw), so editing one member leaves every other
// setting of an agent's config file as it was.
type object struct {
	keys []string
	vals map[string]json.RawMessage
}

// parseObject decodes a JSON object, keeping member order. Duplicate keys
// keep the last value, as encoding/json and JavaScript do.
func parseObject(data []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	o := &object{vals: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if _, dup := o.vals[key]; !dup {
			o.keys = append(o.keys, key)
		}
		o.vals[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return nil, errors.New("text after the JSON object")
	}
	return o, nil
}

func newObject() *object { return &object{vals: map[string]json.RawMessage{}} }

func (o *object) get(key string) (json.RawMessage, bool) {
	v, ok := o.vals[key]
	return v, ok
}

// set replaces a member in place, or appends it.
func (o *object) set(key string, v json.RawMessage) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

func (o *object) remove(key string) {
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

func (o *object) len() int { return len(o.keys) }

// marshal encodes the object compactly; values are written as they were.
func (o *object) marshal() (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(marshalJSON(k))
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalJSON is json.Marshal without its HTML escaping: a user's hook
// "make lint > log && true" stays as written instead of becoming
// "make lint \u003e log \u0026\u0026 true". It is for values that encode
// without error (strings, raw JSON, Rampart's own entries).
func marshalJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("integrations: encode %T: %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// indent formats a config file the way agents write theirs: two spaces and
// a trailing newline.
func indent(raw json.RawMessage) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("format JSON: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// sameJSON reports whether a and b are the same JSON value (ignoring
// whitespace and member order).
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

// withHooks puts hooks into root as its "hooks" member, or takes that
// member out when hooks is empty, and returns root as the file's text.
func withHooks(root, hooks *object) ([]byte, error) {
	if hooks.len() > 0 {
		raw, _ := hooks.marshal()
		root.set("hooks", raw)
	} else {
		root.remove("hooks")
	}
	raw, _ := root.marshal()
	return indent(raw)
}
