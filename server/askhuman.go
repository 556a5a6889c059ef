package server

import (
	"context"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/ask"
)

// AskHuman is how an adapter with no prompt of its own (rampart-sh, the
// guard) turns an ask into a human's answer: it holds call as a pending
// approval in the running server ("rampart approve ID", "rampart watch")
// and returns the final allow or deny. The server decides the call with
// its own policies and records the decision and the answer in the audit
// trail itself. It is [ask.Human], which programs that must not link
// net/http call directly.
//
// ok is false when no server answers; the caller then decides alone (and
// records it). ctx bounds the wait.
func AskHuman(ctx context.Context, getenv func(string) string, rampartHome, adapter string, call *engine.ToolCall) (d engine.Decision, ok bool, err error) {
	return ask.Human(ctx, getenv, rampartHome, adapter, call)
}
