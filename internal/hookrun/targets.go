package hookrun

import (
	"time"

	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/hooks"
)

// decideTargets decides every target of ev's call (one call for most
// tools; every file of a Codex patch, every URL of a Gemini web_fetch: see
// [hooks.MultiTarget]), records each decision in the audit trail, and
// returns the one that answers the agent: the strongest (deny beats ask
// beats log beats allow), the first of equals. ev.Call becomes the target
// it is about, so the reason the model reads names that file or URL.
func decideTargets(p *engine.Program, proto hooks.Protocol, ev *hooks.Event, trail *Audit) engine.Decision {
	targets := hooks.Targets(proto, *ev)
	var answer engine.Decision
	chosen := 0
	for i := range targets {
		start := time.Now()
		d := p.Eval(&targets[i])
		rec := audit.FromCall(hookAdapter(proto), targets[i], d, time.Since(start))
		rec.ToolUseID = ev.ToolUseID
		trail.Append(rec)
		if i == 0 || d.Decision > answer.Decision {
			answer, chosen = d, i
		}
	}
	if len(targets) > 1 {
		ev.Call = targets[chosen]
	}
	return answer
}
