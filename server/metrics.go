package server

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-dev/rampart/engine"
)

// evalBuckets are the upper bounds, in seconds, of the evaluation time
// histogram: from 1 µs (a plain command) to 10 ms.
var evalBuckets = []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2}

// metrics are the server's counters, exposed at GET /metrics in the
// Prometheus text format. Updating them takes no lock on the hot path.
type metrics struct {
	mu        sync.RWMutex // guards the decisions map (not the counters in it)
	decisions map[decisionKey]*atomic.Uint64

	evalCounts [13]atomic.Uint64 // per bucket of evalBuckets, then +Inf
	evalSumNS  atomic.Uint64
	evalCount  atomic.Uint64

	auditRecords     atomic.Uint64
	auditErrors      atomic.Uint64
	eventsDropped    atomic.Uint64
	reloadsOK        atomic.Uint64
	reloadsFailed    atomic.Uint64
	approvalsByState sync.Map // status -> *atomic.Uint64
	badRequests      atomic.Uint64
	unauthorized     atomic.Uint64
	cachedAllows     atomic.Uint64 // notes of calls run on the allow table
}

type decisionKey struct {
	decision engine.Action
	policy   string
}

func newMetrics() *metrics {
	return &metrics{decisions: map[decisionKey]*atomic.Uint64{}}
}

// observeDecision counts a decision and its evaluation time.
func (m *metrics) observeDecision(d engine.Decision, eval time.Duration) {
	m.countDecision(d)
	secs := eval.Seconds()
	i := sort.SearchFloat64s(evalBuckets, secs) // first bound >= secs
	m.evalCounts[i].Add(1)
	m.evalSumNS.Add(uint64(eval.Nanoseconds()))
	m.evalCount.Add(1)
}

// countDecision counts a decision that took no evaluation (one the allow
// table held).
func (m *metrics) countDecision(d engine.Decision) {
	key := decisionKey{d.Decision, d.Policy}
	m.mu.RLock()
	c := m.decisions[key]
	m.mu.RUnlock()
	if c == nil {
		m.mu.Lock()
		if c = m.decisions[key]; c == nil {
			c = new(atomic.Uint64)
			m.decisions[key] = c
		}
		m.mu.Unlock()
	}
	c.Add(1)
}

func (m *metrics) countApproval(status string) {
	c, _ := m.approvalsByState.LoadOrStore(status, new(atomic.Uint64))
	c.(*atomic.Uint64).Add(1)
}

// gauges are the values /metrics reads from the rest of the server.
type gauges struct {
	pendingApprovals int
	subscribers      int
	policyLoadedAt   time.Time
	policyOK         bool
}

// write renders every metric in the Prometheus text exposition format.
func (m *metrics) write(w io.Writer, g gauges) error {
	var b strings.Builder
	header := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}

	header("rampart_decisions_total", "counter", "Decisions made, by decision and by the policy source that decided (\"\" when no rule matched).")
	m.mu.RLock()
	keys := make([]decisionKey, 0, len(m.decisions))
	for k := range m.decisions {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].decision != keys[j].decision {
			return keys[i].decision < keys[j].decision
		}
		return keys[i].policy < keys[j].policy
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "rampart_decisions_total{decision=%s,policy=%s} %d\n",
			labelValue(k.decision.String()), labelValue(k.policy), m.decisions[k].Load())
	}
	m.mu.RUnlock()

	header("rampart_evaluation_seconds", "histogram", "Time the policy engine took to decide a tool call.")
	var cumulative uint64
	for i, bound := range evalBuckets {
		cumulative += m.evalCounts[i].Load()
		fmt.Fprintf(&b, "rampart_evaluation_seconds_bucket{le=\"%s\"} %d\n", strconv.FormatFloat(bound, 'g', -1, 64), cumulative)
	}
	cumulative += m.evalCounts[len(evalBuckets)].Load()
	fmt.Fprintf(&b, "rampart_evaluation_seconds_bucket{le=\"+Inf\"} %d\n", cumulative)
	fmt.Fprintf(&b, "rampart_evaluation_seconds_sum %s\n", strconv.FormatFloat(float64(m.evalSumNS.Load())/1e9, 'g', -1, 64))
	fmt.Fprintf(&b, "rampart_evaluation_seconds_count %d\n", m.evalCount.Load())

	header("rampart_pending_approvals", "gauge", "Ask decisions waiting for a human's answer.")
	fmt.Fprintf(&b, "rampart_pending_approvals %d\n", g.pendingApprovals)

	header("rampart_approvals_total", "counter", "Approvals answered, by outcome (approved, denied, expired).")
	for _, status := range []string{StatusApproved, StatusDenied, StatusExpired} {
		var n uint64
		if c, ok := m.approvalsByState.Load(status); ok {
			n = c.(*atomic.Uint64).Load()
		}
		fmt.Fprintf(&b, "rampart_approvals_total{status=%s} %d\n", labelValue(status), n)
	}

	header("rampart_audit_records_total", "counter", "Records appended to the audit trail.")
	fmt.Fprintf(&b, "rampart_audit_records_total %d\n", m.auditRecords.Load())
	header("rampart_audit_write_errors_total", "counter", "Records that could not be appended to the audit trail.")
	fmt.Fprintf(&b, "rampart_audit_write_errors_total %d\n", m.auditErrors.Load())

	header("rampart_allow_table_runs_total", "counter", "Calls rampart preload ran on the allow table, without asking (each audited).")
	fmt.Fprintf(&b, "rampart_allow_table_runs_total %d\n", m.cachedAllows.Load())

	header("rampart_event_subscribers", "gauge", "Clients connected to GET /v1/events.")
	fmt.Fprintf(&b, "rampart_event_subscribers %d\n", g.subscribers)
	header("rampart_events_dropped_total", "counter", "Events not delivered to a subscriber that was too slow to read them.")
	fmt.Fprintf(&b, "rampart_events_dropped_total %d\n", m.eventsDropped.Load())

	header("rampart_policy_reloads_total", "counter", "Policy reloads, by result.")
	fmt.Fprintf(&b, "rampart_policy_reloads_total{result=\"ok\"} %d\n", m.reloadsOK.Load())
	fmt.Fprintf(&b, "rampart_policy_reloads_total{result=\"error\"} %d\n", m.reloadsFailed.Load())
	header("rampart_policy_ok", "gauge", "1 when the policy files in force are the newest ones, 0 when the last reload failed.")
	fmt.Fprintf(&b, "rampart_policy_ok %d\n", boolInt(g.policyOK))
	header("rampart_policy_loaded_timestamp_seconds", "gauge", "When the policy in force was loaded (Unix time).")
	fmt.Fprintf(&b, "rampart_policy_loaded_timestamp_seconds %d\n", g.policyLoadedAt.Unix())

	header("rampart_bad_requests_total", "counter", "Requests answered with 400 or 413.")
	fmt.Fprintf(&b, "rampart_bad_requests_total %d\n", m.badRequests.Load())
	header("rampart_unauthorized_requests_total", "counter", "Requests answered with 401.")
	fmt.Fprintf(&b, "rampart_unauthorized_requests_total %d\n", m.unauthorized.Load())

	_, err := io.WriteString(w, b.String())
	return err
}

// labelValue quotes s as a Prometheus label value.
func labelValue(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
