package cli

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzPrintable: whatever a record holds, what the line formats show has
// no character a terminal would act on.
func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"ls -la", "echo hi\n\x1b[2J", "\u202egnp.exe", "a\xffb", "\x9b31m", "\r\t\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := printable(s)
		if !utf8.ValidString(out) {
			t.Fatalf("printable(%q) = %q is not valid UTF-8", s, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError {
				t.Fatalf("printable(%q) = %q keeps %U", s, out, r)
			}
		}
		if needsNoEscape(s) && out != s {
			t.Fatalf("printable changed clean text %q to %q", s, out)
		}
	})
}

func needsNoEscape(s string) bool {
	for _, r := range s {
		if needsEscape(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// FuzzReadSSE: any byte stream is read without a panic, and no message
// carries a line break other than between data lines.
func FuzzReadSSE(f *testing.F) {
	for _, s := range []string{"event: decision\ndata: {}\n\n", ": ping\r\n\r\n", "data: a\rdata: b\r\r", "event\n\ndata\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		readSSE(strings.NewReader(s), func() {}, func(m sseMessage) error {
			if strings.ContainsAny(m.Event, "\r\n") || strings.Contains(m.Data, "\r") || strings.ContainsAny(m.Comment, "\r\n") {
				t.Fatalf("message %+v from %q", m, s)
			}
			return nil
		})
	})
}
