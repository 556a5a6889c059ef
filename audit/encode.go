package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendRecordJSON appends r as a JSON object with the members in the
// order of Record's fields and "hash" last, leaving out empty optional
// members as the struct tags say. It writes what json.Marshal would decode
// to the same Record, without reflection: the first json.Marshal of a type
// costs a fresh process (a hook, rampart-sh) a quarter of a millisecond.
func appendRecordJSON(b []byte, r *Record) []byte {
	b = append(b, `{"time":`...)
	b = appendString(b, r.Time.Format(time.RFC3339Nano))
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"id":`...)
	b = appendString(b, r.ID)
	b = member(b, "prev_id", r.PrevID)
	b = append(b, `,"event":`...)
	b = appendString(b, r.Event)
	b = member(b, "adapter", r.Adapter)
	b = member(b, "agent", r.Agent)
	b = member(b, "session", r.Session)
	b = member(b, "tool", r.Tool)
	b = member(b, "command", r.Command)
	if len(r.Argv) > 0 {
		b = append(b, `,"argv":[`...)
		for i, a := range r.Argv {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, a)
		}
		b = append(b, ']')
	}
	b = member(b, "path", r.Path)
	b = member(b, "url", r.URL)
	b = member(b, "name", r.Name)
	b = member(b, "cwd", r.Cwd)
	if r.ContentBytes != 0 {
		b = append(b, `,"content_bytes":`...)
		b = strconv.AppendInt(b, int64(r.ContentBytes), 10)
	}
	b = member(b, "tool_use_id", r.ToolUseID)
	b = member(b, "decision", r.Decision)
	b = member(b, "policy", r.Policy)
	b = member(b, "rule", r.Rule)
	b = member(b, "message", r.Message)
	b = member(b, "matched", r.Matched)
	if r.EvalUS != 0 {
		b = append(b, `,"eval_us":`...)
		b = strconv.AppendInt(b, r.EvalUS, 10)
	}
	if r.Cached {
		b = append(b, `,"cached":true`...)
	}
	if r.ExitCode != nil {
		b = append(b, `,"exit_code":`...)
		b = strconv.AppendInt(b, int64(*r.ExitCode), 10)
	}
	if r.DurationMS != nil {
		b = append(b, `,"duration_ms":`...)
		b = strconv.AppendInt(b, *r.DurationMS, 10)
	}
	b = member(b, "error", r.Error)
	b = member(b, "approval_id", r.ApprovalID)
	b = member(b, "approved_by", r.ApprovedBy)
	if r.Torn != nil {
		b = append(b, `,"torn":{"file":`...)
		b = appendString(b, r.Torn.File)
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(r.Torn.Line), 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, int64(r.Torn.Bytes), 10)
		b = append(b, '}')
	}
	b = append(b, `,"prev_hash":`...)
	b = appendString(b, r.PrevHash)
	b = append(b, `,"hash":`...)
	b = appendString(b, r.Hash)
	return append(b, '}')
}

// member appends ,"key":"value" unless value is empty (omitempty).
func member(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json writes
// it: control characters, quotes and backslashes escaped, <, > and & as
// \u003c, \u003e, \u0026, U+2028 and U+2029 escaped, and invalid UTF-8
// replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
