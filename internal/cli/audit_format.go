package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/rampart-dev/rampart/audit"
)

// recordStyle prints audit records for people, one line each:
//
//	Nov 24 15:04:05  claude-code  exec   deny   rm -rf /  (standard/block-destructive)
//
// time (local, to the second), agent, tool, decision, what the call was
// about (command, path, URL or tool name), and the policy/rule that decided.
type recordStyle struct {
	Loc   *time.Location // nil: the local zone
	Color bool           // colour the decision with ANSI escapes
}

// timeLayout is the short time of a human record line.
const timeLayout = "Jan 02 15:04:05"

// line formats r without a newline. Text from the record is made printable
// first: a command cannot move the cursor or recolour the terminal.
func (s recordStyle) line(r *audit.Record) string {
	loc := s.Loc
	if loc == nil {
		loc = time.Local
	}
	verb, detail := recordVerb(r)
	var b strings.Builder
	b.WriteString(r.Time.In(loc).Format(timeLayout))
	b.WriteString("  ")
	b.WriteString(padRight(orDash(printable(r.Agent)), 12))
	b.WriteString(" ")
	b.WriteString(padRight(orDash(printable(r.Tool)), 5))
	b.WriteString("  ")
	b.WriteString(s.paint(verb, padRight(printable(verb), 5)))
	if target := recordTarget(r); target != "" {
		b.WriteString("  ")
		b.WriteString(printable(target))
	}
	if detail != "" {
		b.WriteString("  (")
		b.WriteString(printable(detail))
		b.WriteString(")")
	}
	return strings.TrimRight(b.String(), " ")
}

// recordVerb is the word in the decision column and the detail at the end
// of a record's line, by event.
func recordVerb(r *audit.Record) (verb, detail string) {
	switch r.Event {
	case audit.EventOutcome:
		switch {
		case r.Error != "":
			detail = "error: " + r.Error
		case r.ExitCode != nil:
			detail = "exit " + strconv.Itoa(*r.ExitCode)
		}
		if r.DurationMS != nil {
			detail = joinNonEmpty(", ", detail, strconv.FormatInt(*r.DurationMS, 10)+"ms")
		}
		return "ran", detail
	case audit.EventApproval:
		detail = "approval"
		if r.ApprovalID != "" {
			detail += " " + r.ApprovalID
		}
		if r.ApprovedBy != "" {
			detail += " by " + r.ApprovedBy
		}
		return orDash(r.Decision), detail
	}
	return orDash(r.Decision), policyRule(r.Policy, r.Rule)
}

// policyRule is "policy/rule", or whichever of them is set.
func policyRule(policy, rule string) string {
	if policy != "" && rule != "" {
		return policy + "/" + rule
	}
	return policy + rule
}

// recordTarget is what a call was about: the command (or argument vector),
// the path, the URL or the tool's name.
func recordTarget(r *audit.Record) string {
	switch {
	case r.Command != "":
		return r.Command
	case len(r.Argv) > 0:
		return quoteArgv(r.Argv)
	case r.Path != "":
		return r.Path
	case r.URL != "":
		return r.URL
	}
	return r.Name
}

// quoteArgv joins an argument vector for reading, quoting the arguments
// that are empty or contain spaces or quotes.
func quoteArgv(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// ANSI colours of the decisions.
var decisionColors = map[string]string{
	"allow": "32", // green
	"deny":  "31", // red
	"ask":   "33", // yellow
	"log":   "36", // cyan
}

// paint colours text in the colour of decision, when colours are on.
func (s recordStyle) paint(decision, text string) string {
	code, ok := decisionColors[decision]
	if !s.Color || !ok {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// printable escapes what a terminal would act on instead of showing:
// control characters (newlines, escapes), C1 controls, bidirectional
// overrides and invalid UTF-8.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case needsEscape(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// padRight pads s with spaces to n runes.
func padRight(s string, n int) string {
	if c := utf8.RuneCountInString(s); c < n {
		return s + strings.Repeat(" ", n-c)
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colorOutput reports whether to colour what goes to proc.Out: only on a
// terminal, and not when NO_COLOR is set (https://no-color.org) or TERM is
// "dumb".
func colorOutput(proc *Process) bool {
	return isTerminal(proc.Out) && proc.Getenv("NO_COLOR") == "" && proc.Getenv("TERM") != "dumb"
}

// writeString writes s, and flushes w when it buffers.
func writeString(w io.Writer, s string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return err
	}
	if f, ok := w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}
