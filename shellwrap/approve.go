package shellwrap

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/engine"
	"github.com/rampart-dev/rampart/internal/ask"
)

// approvalTimeout bounds the wait for a human; the server's own timeout
// (2 minutes by default) normally answers first.
const approvalTimeout = 5 * time.Minute

// approve turns an ask into a human's answer through the running server's
// approvals ("rampart approve ID" or "rampart watch"). recorded is true
// when the server answered: it has then put the decision and the answer in
// the audit trail itself. Without a server there is no one to ask: the
// command is denied, with a reason that says an approval is needed.
func (e *Env) approve(call engine.ToolCall, asked engine.Decision, adapter string) (d engine.Decision, recorded bool) {
	denied := asked
	denied.Decision = engine.ActionDeny
	fmt.Fprintf(e.Stderr, "rampart: waiting for a human to approve: %s (rampart watch, or rampart approve ID)\n", oneLine(call.Command))
	ctx, cancel := context.WithTimeout(context.Background(), approvalTimeout)
	defer cancel()
	answer, ok, err := ask.Human(ctx, e.Getenv, rampartHome(e.Getenv), adapter, &call)
	switch {
	case err != nil:
		denied.Message = strings.TrimSpace(asked.Message + " The approval could not be asked for: " + err.Error())
		return denied, false
	case !ok:
		denied.Message = strings.TrimSpace(asked.Message + ` No Rampart server is running to ask a human (start one with "rampart serve --background", then approve with "rampart approve ID" or in "rampart watch").`)
		return denied, false
	}
	return answer, true
}
