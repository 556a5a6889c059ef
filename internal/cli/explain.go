package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/rampart-dev/rampart/engine"
)

// explainReport is what "check --explain" shows besides the decision: the
// engine's explanation plus why the decision came out so and what was
// loaded. Its JSON form is the "explanation" object of --explain --json.
type explainReport struct {
	Call *engine.ToolCall `json:"call"`
	*engine.Explanation
	Reason        string              `json:"reason"`
	Profile       string              `json:"profile"`
	ProfileFrom   string              `json:"profile_from"`
	DefaultAction engine.Action       `json:"default_action"`
	Sources       []engine.SourceInfo `json:"sources"`
	Warnings      []string            `json:"warnings"`
}

func newExplainReport(l *loaded, call *engine.ToolCall, d engine.Decision, ex *engine.Explanation) *explainReport {
	r := &explainReport{
		Call:          call,
		Explanation:   ex,
		Reason:        decisionReason(d, ex),
		Profile:       l.Profile,
		ProfileFrom:   l.ProfileFrom,
		DefaultAction: l.Program.DefaultAction(),
		Sources:       l.Program.Sources(),
		Warnings:      l.Program.Warnings(),
	}
	if r.Sources == nil {
		r.Sources = []engine.SourceInfo{}
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r
}

// decidingMatch finds the rule match the decision came from, if any.
func decidingMatch(d engine.Decision, ex *engine.Explanation) *engine.RuleMatch {
	var found *engine.RuleMatch
	for i := range ex.Matches {
		m := &ex.Matches[i]
		if m.Policy == d.Policy && m.Rule == d.Rule {
			if m.Action == d.Decision {
				return m
			}
			if found == nil {
				found = m
			}
		}
	}
	return found
}

// decisionReason says in one sentence why the decision came out so.
func decisionReason(d engine.Decision, ex *engine.Explanation) string {
	rule := d.Policy + "/" + d.Rule
	if m := decidingMatch(d, ex); m != nil && m.File != "" {
		rule += fmt.Sprintf(" (%s:%d)", m.File, m.Line)
	}
	stronger := 0
	for _, m := range ex.Matches {
		if m.Action != engine.ActionAllow {
			stronger++
		}
	}
	switch {
	case d.Rule == "default_action" && ex.Uncovered != "":
		return fmt.Sprintf("no allow rule covers %q, so the default action decides: %s (set by %s)", ex.Uncovered, d.Decision, d.Policy)
	case d.Rule == "default_action":
		return fmt.Sprintf("no rule matched, so the default action decides: %s (set by %s)", d.Decision, d.Policy)
	case d.Policy == "" && d.Rule == "":
		return "no rule matched, so the default action decides: " + d.Decision.String()
	case d.Decision == engine.ActionAllow:
		return fmt.Sprintf("allow rules cover the call and no deny, ask or log rule matched; the first allow rule was %s", rule)
	case stronger > 1:
		return fmt.Sprintf("rule %s decided: it is the strongest of %d deny, ask or log matches (deny beats ask, ask beats log, log beats allow)", rule, stronger)
	default:
		return fmt.Sprintf("rule %s decided: it is the only deny, ask or log rule that matched (deny beats ask, ask beats log, log beats allow)", rule)
	}
}

// writeExplained prints a decision with its explanation, as text or as
// {"decision":{...},"explanation":{...}}.
func writeExplained(w io.Writer, asJSON bool, d engine.Decision, r *explainReport) error {
	if asJSON {
		return writeJSONLine(w, struct {
			Decision    engine.Decision `json:"decision"`
			Explanation *explainReport  `json:"explanation"`
		}{d, r})
	}
	var b strings.Builder
	if err := writeDecision(&b, d); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nwhy: %s\n", r.Reason)
	fmt.Fprintf(&b, "call: %s\n", describeCall(r.Call))

	if r.Call.Tool == engine.ToolExec {
		b.WriteString("\ncommands found by the shell analysis:\n")
		if len(r.Commands) == 0 {
			b.WriteString("  (none)\n")
		}
		for _, c := range r.Commands {
			b.WriteString("  " + strings.Repeat("  ", c.Depth) + indentLines(c.Text, "    "))
			var notes []string
			if c.Wrapper {
				notes = append(notes, "runs another command")
			}
			if c.Dynamic {
				notes = append(notes, "name known only when it runs")
			}
			if c.Pipeline != "" && c.Pipeline != c.Text {
				notes = append(notes, "in pipeline: "+c.Pipeline)
			}
			if len(notes) > 0 {
				b.WriteString("   [" + strings.Join(notes, "; ") + "]")
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "detections: %s\n", listOrNone(r.Detections))
	}

	b.WriteString("\nrules that matched, in evaluation order:\n")
	if len(r.Matches) == 0 {
		b.WriteString("  (none)\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, m := range r.Matches {
			at := m.File
			if m.Line > 0 {
				at = fmt.Sprintf("%s:%d", m.File, m.Line)
			}
			fmt.Fprintf(tw, "  %s\t%s/%s\t%s\t%s\n", m.Action, m.Policy, m.Rule, at, strings.ReplaceAll(m.Matched, "\n", `\n`))
		}
		tw.Flush()
	}

	fmt.Fprintf(&b, "\nsources, in load order (profile %q from %s):\n", r.Profile, r.ProfileFrom)
	writeSources(&b, r.Sources)
	fmt.Fprintf(&b, "default action: %s\n", r.DefaultAction)
	if len(r.Warnings) == 0 {
		b.WriteString("warnings: none\n")
	} else {
		b.WriteString("warnings:\n")
		for _, warn := range r.Warnings {
			b.WriteString("  " + warn + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// describeCall is a short human description of a tool call.
func describeCall(c *engine.ToolCall) string {
	var s string
	switch {
	case len(c.Argv) > 0 && c.Command != "":
		s = fmt.Sprintf("%s %q and argv %q", c.Tool, c.Command, c.Argv)
	case len(c.Argv) > 0:
		s = fmt.Sprintf("%s argv %q", c.Tool, c.Argv)
	case c.Command != "":
		s = fmt.Sprintf("%s %q", c.Tool, c.Command)
	case c.Path != "":
		s = fmt.Sprintf("%s %s", c.Tool, c.Path)
	case c.URL != "":
		s = fmt.Sprintf("%s %s", c.Tool, c.URL)
	case c.Name != "":
		s = fmt.Sprintf("%s %s", c.Tool, c.Name)
		if len(c.Input) > 0 {
			s += " " + string(c.Input)
		}
	default:
		s = c.Tool
	}
	if c.Cwd != "" {
		s += " in " + c.Cwd
	}
	if c.Agent != "" {
		s += ", agent " + c.Agent
	}
	if c.Session != "" {
		s += ", session " + c.Session
	}
	return s
}

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
