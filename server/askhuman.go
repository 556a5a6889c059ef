package server

import (
	"context"
	"time"

	"github.com/rampart-dev/rampart/engine"
)

// AskHuman is how an adapter with no prompt of its own (rampart-sh, the
// guard) turns an ask into a human's answer: it holds call as a pending
// approval in the running server ("rampart approve ID", "rampart watch")
// and returns the final allow or deny. The server decides the call with
// its own policies and records the decision and the answer in the audit
// trail itself.
//
// ok is false when no server answers; the caller then decides alone (and
// records it). ctx bounds the wait.
func AskHuman(ctx context.Context, getenv func(string) string, rampartHome, adapter string, call *engine.ToolCall) (d engine.Decision, ok bool, err error) {
	client, err := ClientFromEnv(getenv, rampartHome, 2*time.Second)
	if err != nil {
		return engine.Decision{}, false, err
	}
	client.Adapter = adapter
	defer client.CloseIdleConnections()
	hctx, cancel := context.WithTimeout(ctx, time.Second)
	_, err = client.Health(hctx)
	cancel()
	if err != nil {
		return engine.Decision{}, false, nil
	}
	resp, err := client.Check(ctx, call, true)
	if err != nil {
		return engine.Decision{}, false, err
	}
	action, err := engine.ParseAction(resp.Decision)
	if err != nil {
		return engine.Decision{}, false, err
	}
	d = engine.Decision{Decision: action, Policy: resp.Policy, Rule: resp.Rule, Message: resp.Message, Matched: resp.Matched}
	if d.Decision == engine.ActionAsk { // a server that did not wait
		d.Decision = engine.ActionDeny
	}
	return d, true, nil
}
