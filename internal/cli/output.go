package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/rampart-dev/rampart/engine"
)

// writeJSONLine writes v as one line of JSON in a single write, and flushes
// w when it buffers. HTML characters are not escaped: "&&" stays "&&".
func writeJSONLine(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	if f, ok := w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

// decisionLine is the one-line human form of a decision:
// "deny  standard/block-destructive: message".
func decisionLine(d engine.Decision) string {
	var who string
	switch {
	case d.Policy != "" && d.Rule != "":
		who = d.Policy + "/" + d.Rule
	case d.Policy != "" || d.Rule != "":
		who = d.Policy + d.Rule
	}
	msg := d.Message
	if who == "" && msg == "" {
		msg = "no rule matched; the default action is " + d.Decision.String()
	}
	line := fmt.Sprintf("%-5s %s", d.Decision, who)
	if who != "" && msg != "" {
		line += ": "
	}
	return strings.TrimRight(line+msg, " ")
}

// writeDecision prints a decision for people: its line, then what matched.
func writeDecision(w io.Writer, d engine.Decision) error {
	text := decisionLine(d) + "\n"
	if d.Matched != "" {
		text += "  matched: " + indentLines(d.Matched, "           ") + "\n"
	}
	_, err := io.WriteString(w, text)
	return err
}

// indentLines puts indent before every line of s but the first.
func indentLines(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}

// writeSources prints the loaded policy sources as an aligned table.
func writeSources(b *strings.Builder, sources []engine.SourceInfo) {
	if len(sources) == 0 {
		b.WriteString("  (none)\n")
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, s := range sources {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s, %s\n", s.Origin, s.Name, s.Path, plural(s.Policies, "policy", "policies"), plural(s.Rules, "rule", "rules"))
	}
	tw.Flush()
}
