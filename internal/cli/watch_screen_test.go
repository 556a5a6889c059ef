package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// screenSession is a watch session as the screen sees it, with filters.
func screenSession(t *testing.T, f FilterOptions, online bool) *watchSession {
	t.Helper()
	q, err := f.query(testNow, testLoc)
	if err != nil {
		t.Fatal(err)
	}
	s := &watchSession{opts: &WatchOptions{Filter: f}, query: q, now: func() time.Time { return testNow }}
	files := &fileSource{dir: "/a"}
	s.source = files
	if online {
		s.client = &watchClient{Label: "http://127.0.0.1:9090"}
		s.source = &serverSource{client: s.client, files: files}
	}
	return s
}

func TestScreenRender(t *testing.T) {
	s := screenSession(t, FilterOptions{Tools: []string{"exec", "read", "mcp"}}, true)
	st := s.newScreenState()
	for _, r := range sampleTrail() {
		st.apply(watchEvent{Record: r}, s)
	}
	second := pendingApproval()
	second.ID, second.Created, second.Call.Command = "ap8", at(11, 59), "sudo rm -rf /var/cache"
	st.apply(watchEvent{Approvals: []approval{second, pendingApproval()}, Snapshot: true}, s)
	st.apply(watchEvent{Reload: &reloadEvent{OK: true}}, s)

	got := st.render(80, 12, testNow, recordStyle{Loc: testLoc})
	want := []string{
		"rampart watch: server http://127.0.0.1:9090 and audit files in /a",
		"allow 1  deny 3  ask 1  log 0   filter: tool=exec,read,mcp",
		"policies reloaded (0 sources)",
		"approvals waiting (2): a approve, d deny, A always allow, j/k or arrows select",
		"> ap7  codex exec  sudo reboot  (standard/ask-sudo)  expires in 2m0s",
		"  ap8  codex exec  sudo rm -rf /var/cache  (standard/ask-sudo)  expires in 2m0s",
		"",
		// 12 lines fit: the older decisions give way; lines are cut at 80.
		"Nov 24 11:00:00  cursor       read   deny   /home/u/.ssh/id_rsa  (standard/block",
		"Nov 24 12:00:00  claude-code  exec   ask    sudo apt install jq  (standard/ask-s",
		"Nov 24 12:01:00  claude-code  exec   allow  sudo apt install jq  (approval ap1 b",
		"Nov 24 12:30:00  -            mcp    deny   mcp__github__delete_repository  (cus",
		"q quit   a approve  d deny  A always allow",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("render:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Answered elsewhere: the approval leaves the list.
	done := pendingApproval()
	done.Status = "denied"
	st.apply(watchEvent{Approval: &done}, s)
	if len(st.pending) != 1 || st.pending[0].ID != "ap8" || st.selected != 0 {
		t.Errorf("pending after a denial: %+v (selected %d)", st.pending, st.selected)
	}

	// The server goes away: no approvals can be answered.
	st.apply(watchEvent{Notice: "lost it", Warning: true, Offline: true, Source: "server x (reconnecting)"}, s)
	got = st.render(40, 6, testNow, recordStyle{Loc: testLoc, Color: true})
	wantColor := []string{
		"\x1b[1mrampart watch: server x (reconnecting)\x1b[0m",
		"\x1b[32mallow\x1b[0m 1  \x1b[31mdeny\x1b[0m 3  \x1b[33mask\x1b[0m 1  \x1b[36mlog\x1b[0m 0   filter: \x1b[0m",
		"\x1b[33mlost it\x1b[0m",
		"",
		"Nov 24 12:30:00  -            mcp    \x1b[31mden\x1b[0m",
		"q quit",
	}
	if strings.Join(got, "\n") != strings.Join(wantColor, "\n") {
		t.Errorf("render offline:\n%q\nwant:\n%q", got, wantColor)
	}

	empty := screenSession(t, FilterOptions{}, false).newScreenState()
	got = empty.render(30, 6, testNow, recordStyle{})
	if strings.Join(got, "|") != "rampart watch: audit files in |allow 0  deny 0  ask 0  log 0|||waiting for decisions...|q quit" {
		t.Errorf("empty: %q", got)
	}
	if got := empty.render(30, 2, testNow, recordStyle{}); len(got) != 2 {
		t.Errorf("a tiny screen got %d lines", len(got))
	}
}

func TestScreenKeys(t *testing.T) {
	s := screenSession(t, FilterOptions{}, true)
	st := s.newScreenState()
	if a, quit := st.key("a", testNow); a != nil || quit || st.status != "no approval is waiting" {
		t.Errorf("a with nothing pending: %+v %v %q", a, quit, st.status)
	}
	second := pendingApproval()
	second.ID, second.Created = "ap8", at(11, 59)
	st.apply(watchEvent{Approvals: []approval{second, pendingApproval()}, Snapshot: true}, s)

	steps := []struct {
		key    string
		answer string // "ID decision always"
		sel    int
	}{
		{"a", "ap7 allow false", 0}, // the oldest
		{"down", "", 1},
		{"down", "", 1},
		{"d", "ap8 deny false", 1},
		{"k", "", 0},
		{"A", "", 0}, // asks to confirm
		{"A", "ap7 allow true", 0},
		{"A", "", 0},
		{"x", "", 0}, // another key cancels the confirmation
		{"A", "", 0},
		{"j", "", 1},
		{"A", "", 1}, // a different approval: confirm again
		{"A", "ap8 allow true", 1},
	}
	later := testNow.Add(selectGrace)
	for i, step := range steps {
		a, quit := st.key(step.key, later)
		got := ""
		if a != nil {
			got = strings.Join([]string{a.ID, a.Decision, map[bool]string{true: "true", false: "false"}[a.Always]}, " ")
		}
		if quit || got != step.answer || st.selected != step.sel {
			t.Errorf("step %d (%s): answer %q selected %d, want %q %d", i, step.key, got, st.selected, step.answer, step.sel)
		}
	}
	st.key("A", later)
	if a, _ := st.key("A", later.Add(confirmAfter+time.Second)); a != nil {
		t.Errorf("a late second A was taken as confirmation")
	}

	// The selected approval is answered elsewhere: the next one moves
	// under the cursor, and the keys wait a moment before answering it.
	gone := st.pending[st.selected]
	gone.Status = "approved"
	clock := testNow.Add(time.Minute)
	s.now = func() time.Time { return clock }
	st.apply(watchEvent{Approval: &gone}, s)
	if a, _ := st.key("a", clock.Add(selectGrace/2)); a != nil || !strings.Contains(st.status, "just changed") {
		t.Errorf("a key right after the selection changed answered %+v (%q)", a, st.status)
	}
	if a, _ := st.key("a", clock.Add(selectGrace)); a == nil || a.ID != "ap7" {
		t.Errorf("after the grace: %+v", a)
	}
	for _, k := range []string{"q", "ctrl-c"} {
		if _, quit := st.key(k, testNow); !quit {
			t.Errorf("%s does not quit", k)
		}
	}
	offline := screenSession(t, FilterOptions{}, false).newScreenState()
	if a, _ := offline.key("a", testNow); a != nil || !strings.Contains(offline.status, "needs a running server") {
		t.Errorf("offline a: %+v %q", a, offline.status)
	}
}

func TestParseKeysAndTruncate(t *testing.T) {
	got := parseKeys([]byte("aA\x1b[A\x1bOB\x03\x04q\x1b\x7f"))
	if strings.Join(got, ",") != "a,A,up,down,ctrl-c,ctrl-d,q" {
		t.Errorf("parseKeys: %q", got)
	}
	for _, c := range []struct {
		in    string
		width int
		want  string
	}{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"héllo wörld", 7, "héllo w"},
		{"\x1b[31mdeny\x1b[0m rest", 6, "\x1b[31mdeny\x1b[0m r\x1b[0m"},
		{"\x1b[31mdeny\x1b[0m", 2, "\x1b[31mde\x1b[0m"},
		{"ab", 0, ""},
	} {
		if got := truncateVisible(c.in, c.width); got != c.want {
			t.Errorf("truncateVisible(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
}

func TestSendAnswer(t *testing.T) {
	var body map[string]any
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/approvals/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.PathValue("id") {
		case "ap7":
			b, _ := io.ReadAll(r.Body)
			json.Unmarshal(b, &body)
			a := pendingApproval()
			a.Status, a.ResolvedBy = "approved", "alice"
			json.NewEncoder(w).Encode(a)
		case "gone":
			w.WriteHeader(http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusConflict)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	proc, _, _ := testProcess(t, map[string]string{"RAMPART_TOKEN": "tok", "USER": "alice"})
	client, err := newWatchClient(proc, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := &watchSession{opts: &WatchOptions{Proc: proc}, client: client}
	results := make(chan watchEvent, 4)
	ctx := waitTimeout(t)

	s.sendAnswer(ctx, approvalAnswer{ID: "ap7", Decision: "allow", Always: true}, results)
	if e := <-results; e.Approval == nil || e.Approval.Status != "approved" {
		t.Errorf("first result %+v", e)
	}
	if e := <-results; e.Notice != "ap7: approved" {
		t.Errorf("second result %+v", e)
	}
	if body["decision"] != "allow" || body["always"] != true || body["by"] != "alice" {
		t.Errorf("POST body %v", body)
	}
	for id, want := range map[string]string{"gone": "approval gone: the server does not know it", "done": "approval done: already answered"} {
		s.sendAnswer(ctx, approvalAnswer{ID: id, Decision: "deny"}, results)
		if e := <-results; !e.Warning || !strings.HasPrefix(e.Notice, want) {
			t.Errorf("%s: %+v", id, e)
		}
	}
}
