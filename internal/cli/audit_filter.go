package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/internal/suggest"
)

// FilterOptions are the record filters shared by audit tail, audit search,
// audit stats and watch. Each list flag takes comma-separated values and
// may be repeated; a record must match every flag given.
type FilterOptions struct {
	Decisions []string
	Agents    []string
	Tools     []string
	Sessions  []string
	Policies  []string
	Rules     []string
	Events    []string
	Since     string
	Until     string
	Contains  string
}

var (
	filterDecisions = []string{"allow", "deny", "ask", "log"}
	filterEvents    = []string{audit.EventDecision, audit.EventOutcome, audit.EventApproval}
)

func (f *FilterOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.Decisions, "decision", nil, "only these `DECISIONS`: allow, deny, ask, log (comma-separated)")
	fs.StringSliceVar(&f.Agents, "agent", nil, "only these `AGENTS` (claude-code, cursor, ...)")
	fs.StringSliceVar(&f.Tools, "tool", nil, "only these `TOOLS` (exec, read, write, edit, fetch, mcp, agent)")
	fs.StringSliceVar(&f.Sessions, "session", nil, "only these session `IDS`")
	fs.StringSliceVar(&f.Policies, "policy", nil, "only decisions of these `POLICIES` (profile or policy file names)")
	fs.StringSliceVar(&f.Rules, "rule", nil, "only decisions of these `RULES`")
	fs.StringSliceVar(&f.Events, "event", nil, "only these `EVENTS`: decision, outcome, approval")
	fs.StringVar(&f.Since, "since", "", "only records at or after `TIME`: a duration back from now (30m, 2h, 7d), today, yesterday, or a date/time (2026-11-24, 2026-11-24T15:04, RFC 3339)")
	fs.StringVar(&f.Until, "until", "", "only records before `TIME` (same forms as --since)")
	fs.StringVar(&f.Contains, "contains", "", "only records whose command, path, URL, tool name or message contains `TEXT` (ignoring case)")
}

// query checks the flags and builds the query they describe; relative
// times count back from now, dates without a zone are in loc.
func (f *FilterOptions) query(now time.Time, loc *time.Location) (audit.Query, error) {
	q := audit.Query{
		Agents:   trimmed(f.Agents),
		Tools:    trimmed(f.Tools),
		Sessions: trimmed(f.Sessions),
		Policies: trimmed(f.Policies),
		Rules:    trimmed(f.Rules),
		Contains: f.Contains,
	}
	var err error
	if q.Decisions, err = oneOfFlag("--decision", f.Decisions, filterDecisions); err != nil {
		return q, err
	}
	if q.Events, err = oneOfFlag("--event", f.Events, filterEvents); err != nil {
		return q, err
	}
	if q.Since, err = parseTimeFlag("--since", f.Since, now, loc); err != nil {
		return q, err
	}
	if q.Until, err = parseTimeFlag("--until", f.Until, now, loc); err != nil {
		return q, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, usageErrorf("", "--since %s is not before --until %s", f.Since, f.Until)
	}
	return q, nil
}

// trimmed drops blanks around and between comma-separated values.
func trimmed(values []string) []string {
	var out []string
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// oneOfFlag checks that every value of a list flag is one of known.
func oneOfFlag(flag string, values, known []string) ([]string, error) {
	values = trimmed(values)
	for i, v := range values {
		values[i] = strings.ToLower(v)
		if !slices.Contains(known, values[i]) {
			return nil, usageErrorf("", "%s: unknown value %q%s; want %s", flag, v, suggest.DidYouMean(v, known), strings.Join(known, ", "))
		}
	}
	return values, nil
}

// timeLayouts are the absolute forms --since and --until accept, tried in
// order; the ones without a zone are read in the local zone.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTimeFlag reads a --since or --until value: empty (no bound), a
// duration back from now (Go syntax, plus "d" for days and "w" for weeks),
// "today" or "yesterday" (their first second), or a date and time.
func parseTimeFlag(flag, value string, now time.Time, loc *time.Location) (time.Time, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}, nil
	}
	if d, ok := parseAgo(value); ok {
		return now.Add(-d), nil
	}
	switch strings.ToLower(value) {
	case "today":
		y, m, d := now.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc), nil
	case "yesterday":
		y, m, d := now.In(loc).Date()
		return time.Date(y, m, d-1, 0, 0, 0, 0, loc), nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, value, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErrorf("for example 30m, 2h, 7d, today, 2026-11-24, 2026-11-24T15:04 or 2026-11-24T15:04:05Z",
		"%s: cannot read %q as a duration or a date and time", flag, value)
}

// parseAgo reads a positive duration: Go's syntax (90s, 1h30m) or a whole
// number of days or weeks (7d, 2w).
func parseAgo(s string) (time.Duration, bool) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			if v, err := strconv.Atoi(n); err == nil && v >= 0 {
				return time.Duration(v) * unit, true
			}
			return 0, false
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// describe is a short human description of the active filters, or "".
func (f *FilterOptions) describe() string {
	var parts []string
	add := func(name string, values []string) {
		if v := trimmed(values); len(v) > 0 {
			parts = append(parts, name+"="+strings.Join(v, ","))
		}
	}
	add("decision", f.Decisions)
	add("agent", f.Agents)
	add("tool", f.Tools)
	add("session", f.Sessions)
	add("policy", f.Policies)
	add("rule", f.Rules)
	add("event", f.Events)
	if f.Since != "" {
		parts = append(parts, "since="+f.Since)
	}
	if f.Until != "" {
		parts = append(parts, "until="+f.Until)
	}
	if f.Contains != "" {
		parts = append(parts, fmt.Sprintf("contains=%q", f.Contains))
	}
	return strings.Join(parts, " ")
}
