package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/audit"
)

// sampleLines are the human lines of sampleTrail, in testLoc.
var sampleLines = []string{
	"Nov 24 10:00:00  claude-code  exec   allow  git status",
	"Nov 24 10:01:00  claude-code  exec   ran    git status  (exit 0, 1200ms)",
	"Nov 24 10:02:00  claude-code  exec   deny   rm -rf /  (standard/block-destructive)",
	"Nov 24 11:00:00  cursor       read   deny   /home/u/.ssh/id_rsa  (standard/block-credentials)",
	"Nov 24 11:05:00  cursor       fetch  log    https://example.com/x.sh  (standard/log-fetch)",
	"Nov 24 12:00:00  claude-code  exec   ask    sudo apt install jq  (standard/ask-sudo)",
	"Nov 24 12:01:00  claude-code  exec   allow  sudo apt install jq  (approval ap1 by alice)",
	"Nov 24 12:30:00  -            mcp    deny   mcp__github__delete_repository  (custom/no-deletes)",
}

func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

func TestAuditTail(t *testing.T) {
	e := newAuditEnv(t, nil)
	writeTrail(t, e.dir, audit.Options{}, sampleTrail()...)
	stored := trailLines(t, e.dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, lines(sampleLines...)},
		{[]string{"-n", "2"}, lines(sampleLines[6:]...)},
		{[]string{"-n", "0"}, ""},
		{[]string{"--decision", "deny", "-n", "2"}, lines(sampleLines[3], sampleLines[7])},
		{[]string{"--agent", "cursor"}, lines(sampleLines[3:5]...)},
		{[]string{"--tool", "exec", "--event", "decision"}, lines(sampleLines[0], sampleLines[2], sampleLines[5])},
		{[]string{"-n", "1", "--json"}, lines(stored[7])},
		{[]string{"--json", "--session", "s2"}, lines(stored[3:5]...)},
		{[]string{"--decision", "ask,log", "--since", "90m"}, lines(sampleLines[5])},
	} {
		args := append([]string{"audit", "tail"}, c.args...)
		if code := e.run(args...); code != ExitOK {
			t.Errorf("%q: exit %d: %s", c.args, code, e.err)
			continue
		}
		if got := e.out.String(); got != c.want {
			t.Errorf("%q:\n%s\nwant:\n%s", c.args, got, c.want)
		}
	}

	empty := newAuditEnv(t, nil)
	if code := empty.run("audit", "tail"); code != ExitOK || empty.out.Len() != 0 ||
		empty.err.String() != "rampart: no audit records yet in "+empty.dir+"\n" {
		t.Errorf("empty trail: exit %d, %q, %q", code, empty.out, empty.err)
	}
	if code := empty.run("audit", "tail", "-n", "-1"); code != ExitUsage {
		t.Errorf("-n -1: exit %d", code)
	}
}

// TestAuditTailFollow runs tail -f while records are appended, through
// several rotations of the files, and sees each matching one once, in
// order.
func TestAuditTailFollow(t *testing.T) {
	e := newAuditEnv(t, nil)
	out := newSyncBuffer()
	e.proc.Out = out
	opts := audit.Options{MaxFileBytes: 700, Now: func() time.Time { return testNow }}
	writeTrail(t, e.dir, opts, sampleTrail()[:3]...)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	follow, stop := context.WithCancel(ctx)
	code := make(chan int, 1)
	go func() { code <- e.runCtx(follow, "audit", "tail", "-f", "-n", "1", "--decision", "deny,allow") }()

	if got, ok := out.waitFor(ctx, func(s string) bool { return s != "" }); !ok || got != lines(sampleLines[2]) {
		t.Fatalf("before appending: %q", got)
	}
	w, err := audit.Open(e.dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var want []string
	for i := 0; i < 12; i++ {
		d := "allow"
		if i%3 == 1 {
			d = "ask" // filtered out
		}
		r := &audit.Record{Time: at(11, 40+i), Agent: "codex", Tool: "exec", Command: fmt.Sprintf("make test%d", i), Decision: d}
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
		if d != "ask" {
			want = append(want, fmt.Sprintf("Nov 24 12:%d:00  codex        exec   allow  make test%d", 40+i, i))
		}
	}
	if files, _ := audit.Files(e.dir); len(files) < 3 {
		t.Fatalf("the trail did not rotate: %v", files)
	}
	wantAll := lines(append([]string{sampleLines[2]}, want...)...)
	got, ok := out.waitFor(ctx, func(s string) bool { return len(s) >= len(wantAll) })
	if !ok || got != wantAll {
		t.Fatalf("tail -f printed:\n%s\nwant:\n%s", got, wantAll)
	}
	stop()
	select {
	case c := <-code:
		if c != ExitOK {
			t.Errorf("tail -f ended with exit %d: %s", c, e.err)
		}
	case <-ctx.Done():
		t.Fatal("tail -f did not end when its context was cancelled")
	}
}

// TestAuditTailFollowEmpty starts following before there is any trail.
func TestAuditTailFollowEmpty(t *testing.T) {
	e := newAuditEnv(t, nil)
	out := newSyncBuffer()
	e.proc.Out = out
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	follow, stop := context.WithCancel(ctx)
	code := make(chan int, 1)
	go func() { code <- e.runCtx(follow, "audit", "tail", "-f", "--json") }()
	writeTrail(t, e.dir, audit.Options{}, sampleTrail()[0])
	want := lines(trailLines(t, e.dir)...)
	if got, ok := out.waitFor(ctx, func(s string) bool { return s != "" }); !ok || got != want {
		t.Fatalf("tail -f --json: %q, want %q", got, want)
	}
	stop()
	if c := <-code; c != ExitOK {
		t.Errorf("exit %d", c)
	}
}
