package cli

import (
	"github.com/rampart-dev/rampart/audit"
	"github.com/rampart-dev/rampart/internal/hookrun"

	"io"
	"strings"
	"testing"
	"time"
)

// A hook whose input never ends must still answer, by the fail mode, when
// its timeout passes: Claude Code would run the tool if the hook hung.
func TestHookAnswersOnTimeout(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		proc, out, errOut := testProcess(t, nil)
		r, w := io.Pipe() // never written, never closed
		defer w.Close()
		proc.In = r
		opts := &HookOptions{Proc: proc, Options: hookrun.Options{Agent: "claude-code", Timeout: 50 * time.Millisecond, FailOpen: failOpen, FailOpenSet: true}}
		if err := hookRun(opts); err != nil {
			t.Fatal(err)
		}
		// The answer is recorded: fail-open let the tool run unchecked.
		var recs []*audit.Record
		audit.Scan(audit.DefaultDir(proc.Getenv("RAMPART_HOME")), func(e audit.Entry) error { //nolint:errcheck // checked below
			if e.Record != nil {
				recs = append(recs, e.Record)
			}
			return nil
		})
		if len(recs) != 1 || recs[0].Decision != "error" || recs[0].Adapter != "hook/claude-code" ||
			recs[0].Error != "no decision within 50ms." {
			t.Errorf("fail-open %v: records %+v", failOpen, recs)
		}
		if failOpen {
			if out.Len() != 0 || !strings.Contains(errOut.String(), "no decision within 50ms. The tool call was not checked (fail-open)") {
				t.Errorf("fail-open: stdout %q stderr %q", out, errOut)
			}
			continue
		}
		if !strings.Contains(out.String(), `"permissionDecision":"deny"`) || !strings.Contains(out.String(), "no decision within 50ms") {
			t.Errorf("fail-closed: stdout %q stderr %q", out, errOut)
		}
	}
}

func TestHookFlags(t *testing.T) {
	var got *HookOptions
	proc, _, errOut := testProcess(t, nil)
	root := NewCmdRoot(proc)
	for _, c := range root.Commands() {
		if c.Name() == "hook" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(NewCmdHook(proc, func(o *HookOptions) error { got = o; return nil }))
	root.SetArgs([]string{"hook", "--fail-open", "--explicit-allow", "--timeout", "3s", "--mode", "monitor", "claude-code"})
	if err := root.Execute(); err != nil {
		t.Fatal(err, errOut)
	}
	if got.Agent != "claude-code" || !got.FailOpen || !got.FailOpenSet || !got.ExplicitAllow || got.Timeout != 3*time.Second || got.Mode != "monitor" {
		t.Fatalf("%+v", got)
	}
}
