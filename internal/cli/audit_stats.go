package cli

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/audit"
)

// AuditStatsOptions are the flags of "rampart audit stats".
type AuditStatsOptions struct {
	Proc   *Process
	Dir    string
	JSON   bool
	Top    int
	Filter FilterOptions

	// Now and Location are the clock and zone for --since, --until and
	// the days counted (time.Now and the local zone when nil).
	Now      func() time.Time
	Location *time.Location
}

// NewCmdAuditStats builds "rampart audit stats".
func NewCmdAuditStats(proc *Process, runF func(*AuditStatsOptions) error) *cobra.Command {
	opts := &AuditStatsOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "stats [flags]",
		Short: "Count audit records by decision, tool, agent, rule and day",
		Long: `Stats summarises the records that match the filters (all of them without
filters): how many, from when to when, how many of each event, and for the
decisions: how many of each kind, by tool and by agent, the rules that denied
or asked most often, and the decisions per day (days in the local zone).

--json prints one object; docs/audit.md documents its fields:
  {"records":120,"unreadable":0,"first":"...","last":"...",
   "events":{"decision":118,...},"decisions":118,
   "by_decision":{"allow":100,"ask":3,"deny":10,"log":5},
   "by_tool":{"exec":90,...},"by_agent":{"claude-code":118},
   "top_denied":[{"policy":"standard","rule":"block-destructive","count":4}],
   "top_asked":[...],
   "per_day":[{"day":"2026-11-24","records":120,"allow":100,"deny":10,"ask":3,"log":5}]}`,
		Example: `  rampart audit stats
  rampart audit stats --since 7d
  rampart audit stats --agent cursor --top 3
  rampart audit stats --since today --json | jq .by_decision`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Top < 0 {
				return usageErrorf("", "--top: want 0 or more, got %d", opts.Top)
			}
			if runF != nil {
				return runF(opts)
			}
			return auditStatsRun(opts)
		},
	}
	addDirFlag(cmd.Flags(), &opts.Dir)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the counts as JSON")
	cmd.Flags().IntVar(&opts.Top, "top", 10, "show the `N` rules that denied and asked most")
	opts.Filter.addFlags(cmd.Flags())
	return cmd
}

// auditStats is the JSON form of stats (documented in docs/audit.md).
type auditStats struct {
	Records    int            `json:"records"`
	Unreadable int            `json:"unreadable"`
	First      *time.Time     `json:"first,omitempty"`
	Last       *time.Time     `json:"last,omitempty"`
	Events     map[string]int `json:"events"`
	Decisions  int            `json:"decisions"`
	ByDecision map[string]int `json:"by_decision"`
	ByTool     map[string]int `json:"by_tool"`
	ByAgent    map[string]int `json:"by_agent"`
	TopDenied  []ruleCount    `json:"top_denied"`
	TopAsked   []ruleCount    `json:"top_asked"`
	PerDay     []dayCount     `json:"per_day"`
}

type ruleCount struct {
	Policy string `json:"policy"`
	Rule   string `json:"rule"`
	Count  int    `json:"count"`
}

type dayCount struct {
	Day     string `json:"day"`
	Records int    `json:"records"`
	Allow   int    `json:"allow"`
	Deny    int    `json:"deny"`
	Ask     int    `json:"ask"`
	Log     int    `json:"log"`
}

// noneKey counts records without an agent or tool.
const noneKey = "(none)"

// statsCounter adds records up into an auditStats.
type statsCounter struct {
	s      auditStats
	loc    *time.Location
	denied map[ruleCount]int // Count is always 0 in the key
	asked  map[ruleCount]int
	days   map[string]*dayCount
}

func newStatsCounter(loc *time.Location) *statsCounter {
	return &statsCounter{
		s: auditStats{
			Events:     map[string]int{},
			ByDecision: map[string]int{"allow": 0, "deny": 0, "ask": 0, "log": 0},
			ByTool:     map[string]int{},
			ByAgent:    map[string]int{},
		},
		loc:    loc,
		denied: map[ruleCount]int{},
		asked:  map[ruleCount]int{},
		days:   map[string]*dayCount{},
	}
}

func (c *statsCounter) add(r *audit.Record) {
	s := &c.s
	s.Records++
	t := r.Time
	if s.First == nil || t.Before(*s.First) {
		s.First = &t
	}
	if s.Last == nil || t.After(*s.Last) {
		s.Last = &t
	}
	s.Events[r.Event]++
	day := r.Time.In(c.loc).Format(time.DateOnly)
	dc := c.days[day]
	if dc == nil {
		dc = &dayCount{Day: day}
		c.days[day] = dc
	}
	dc.Records++
	if r.Event != audit.EventDecision {
		return
	}
	s.Decisions++
	s.ByDecision[r.Decision]++
	s.ByTool[cmp.Or(r.Tool, noneKey)]++
	s.ByAgent[cmp.Or(r.Agent, noneKey)]++
	key := ruleCount{Policy: r.Policy, Rule: r.Rule}
	switch r.Decision {
	case "allow":
		dc.Allow++
	case "deny":
		dc.Deny++
		c.denied[key]++
	case "ask":
		dc.Ask++
		c.asked[key]++
	case "log":
		dc.Log++
	}
}

// result finishes the counts, with the top n rules.
func (c *statsCounter) result(n int) *auditStats {
	s := c.s
	s.TopDenied, s.TopAsked = topRules(c.denied, n), topRules(c.asked, n)
	s.PerDay = make([]dayCount, 0, len(c.days))
	for _, d := range c.days {
		s.PerDay = append(s.PerDay, *d)
	}
	slices.SortFunc(s.PerDay, func(a, b dayCount) int { return strings.Compare(a.Day, b.Day) })
	return &s
}

// topRules returns the n rules with the highest counts, most first.
func topRules(counts map[ruleCount]int, n int) []ruleCount {
	out := make([]ruleCount, 0, len(counts))
	for k, v := range counts {
		k.Count = v
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b ruleCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Policy, b.Policy), strings.Compare(a.Rule, b.Rule))
	})
	return out[:min(n, len(out))]
}

func auditStatsRun(o *AuditStatsOptions) error {
	dir, err := auditDir(o.Proc, o.Dir)
	if err != nil {
		return err
	}
	now, loc := clockOf(o.Now, o.Location)
	q, err := o.Filter.query(now(), loc)
	if err != nil {
		return err
	}
	counter := newStatsCounter(loc)
	err = scanSelected(dir, &q, func(e audit.Entry) error {
		switch {
		case e.Record == nil:
			counter.s.Unreadable++
		case q.Match(e.Record):
			counter.add(e.Record)
		}
		return nil
	})
	if err != nil {
		return withCode(ExitIOErr, err, fmt.Sprintf("check that %s is a folder you can read", dir))
	}
	stats := counter.result(o.Top)
	if o.JSON {
		err = writeJSONLine(o.Proc.Out, stats)
	} else {
		err = writeString(o.Proc.Out, statsText(dir, stats, loc))
	}
	if err != nil {
		return withCode(ExitIOErr, fmt.Errorf("writing the counts: %w", err))
	}
	return nil
}

// statsText is the human form of stats.
func statsText(dir string, s *auditStats, loc *time.Location) string {
	var b strings.Builder
	if s.Records == 0 {
		fmt.Fprintf(&b, "audit trail %s: no matching records\n", dir)
		return b.String()
	}
	const when = "2006-01-02 15:04"
	fmt.Fprintf(&b, "audit trail %s: %s from %s to %s\n", dir, plural(s.Records, "record", "records"),
		s.First.In(loc).Format(when), s.Last.In(loc).Format(when))
	if s.Unreadable > 0 {
		fmt.Fprintf(&b, "(%s that are not records; run \"rampart audit verify\")\n", plural(s.Unreadable, "line", "lines"))
	}
	fmt.Fprintf(&b, "events: %s\n", countList(s.Events, []string{audit.EventDecision, audit.EventOutcome, audit.EventApproval}))
	if s.Decisions == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "\ndecisions: %d\n", s.Decisions)
	var rows [][]string
	for _, d := range filterDecisions {
		rows = append(rows, []string{d, strconv.Itoa(s.ByDecision[d]), fmt.Sprintf("%.1f%%", 100*float64(s.ByDecision[d])/float64(s.Decisions))})
	}
	writeTable(&b, rows)
	writeCounts(&b, "\nby tool:\n", s.ByTool)
	writeCounts(&b, "\nby agent:\n", s.ByAgent)
	writeTopRules(&b, "\nrules that denied most:\n", s.TopDenied)
	writeTopRules(&b, "\nrules that asked most:\n", s.TopAsked)
	b.WriteString("\nper day:\n")
	rows = [][]string{{"day", "records", "allow", "deny", "ask", "log"}}
	for _, d := range s.PerDay {
		rows = append(rows, []string{d.Day, strconv.Itoa(d.Records), strconv.Itoa(d.Allow), strconv.Itoa(d.Deny), strconv.Itoa(d.Ask), strconv.Itoa(d.Log)})
	}
	writeTable(&b, rows)
	return b.String()
}

// countList is "decision 5, outcome 2" in the order of known, then the
// rest by name; zero counts are left out.
func countList(counts map[string]int, known []string) string {
	var parts []string
	for _, k := range known {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	for _, k := range sortedKeys(counts) {
		if !slices.Contains(known, k) && counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", orDash(printable(k)), counts[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// writeCounts prints counts most first, then by name, (none) last.
func writeCounts(b *strings.Builder, title string, counts map[string]int) {
	keys := sortedKeys(counts)
	slices.SortStableFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(counts[y], counts[x]), cmp.Compare(boolInt(x == noneKey), boolInt(y == noneKey)))
	})
	b.WriteString(title)
	rows := make([][]string, len(keys))
	for i, k := range keys {
		rows[i] = []string{printable(k), strconv.Itoa(counts[k])}
	}
	writeTable(b, rows)
}

// writeTable prints rows indented, the first column aligned left and the
// others (numbers) right, two spaces apart.
func writeTable(b *strings.Builder, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		b.WriteString(" ")
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i == 0 {
				b.WriteString(" " + cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		b.WriteString("\n")
	}
}

func writeTopRules(b *strings.Builder, title string, rules []ruleCount) {
	if len(rules) == 0 {
		return
	}
	b.WriteString(title)
	for _, r := range rules {
		who := policyRule(r.Policy, r.Rule)
		if who == "" {
			who = "(the default action)"
		}
		fmt.Fprintf(b, "  %6d  %s\n", r.Count, printable(who))
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
