package server

import (
	"strings"
	"unicode/utf8"

	"github.com/rampart-dev/rampart/engine"
)

// decodeCallFast parses the common shape of a tool call without
// reflection: one object whose keys are field names of [engine.ToolCall],
// lowercase and each at most once, with string values that hold no escape
// or control character, argv a list of such strings, and nothing after
// the object. For anything else (an escape, "input", null, an unknown
// key, a syntax error, a call that does not validate) it returns false
// and [DecodeCall] takes the general path, which decodes what the fast
// path accepts into the same call (FuzzDecodeCallFast checks this) and
// words every error.
func decodeCallFast(body []byte) (engine.ToolCall, bool) {
	var call engine.ToolCall
	p := fastParser{b: body}
	p.space()
	if !p.byte('{') {
		return call, false
	}
	var seen uint16
	p.space()
	if p.peek() == '}' {
		return call, false // let the general path say what is missing
	}
	for {
		p.space()
		key, ok := p.str()
		if !ok {
			return call, false
		}
		p.space()
		if !p.byte(':') {
			return call, false
		}
		p.space()
		var dst *string
		var bit uint16
		switch key {
		case "tool":
			dst, bit = &call.Tool, 1<<0
		case "command":
			dst, bit = &call.Command, 1<<1
		case "path":
			dst, bit = &call.Path, 1<<2
		case "content":
			dst, bit = &call.Content, 1<<3
		case "url":
			dst, bit = &call.URL, 1<<4
		case "name":
			dst, bit = &call.Name, 1<<5
		case "cwd":
			dst, bit = &call.Cwd, 1<<6
		case "agent":
			dst, bit = &call.Agent, 1<<7
		case "session":
			dst, bit = &call.Session, 1<<8
		case "home":
			dst, bit = &call.Home, 1<<9
		case "argv":
			bit = 1 << 10
		default:
			return call, false
		}
		if seen&bit != 0 {
			return call, false
		}
		seen |= bit
		if dst != nil {
			if *dst, ok = p.str(); !ok {
				return call, false
			}
		} else if call.Argv, ok = p.strList(); !ok {
			return call, false
		}
		p.space()
		switch {
		case p.byte(','):
			continue
		case p.byte('}'):
			p.space()
			if p.i != len(p.b) {
				return call, false
			}
			call.Tool = strings.ToLower(call.Tool)
			if call.Validate() != nil {
				return call, false
			}
			return call, true
		default:
			return call, false
		}
	}
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *fastParser) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters, in valid
// UTF-8.
func (p *fastParser) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

// strList reads a list of such strings.
func (p *fastParser) strList() ([]string, bool) {
	if !p.byte('[') {
		return nil, false
	}
	out := []string{}
	p.space()
	if p.byte(']') {
		return out, true
	}
	for {
		p.space()
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		p.space()
		switch {
		case p.byte(','):
		case p.byte(']'):
			return out, true
		default:
			return nil, false
		}
	}
}
