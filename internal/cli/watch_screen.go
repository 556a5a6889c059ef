package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/rampart-dev/rampart/audit"
)

// The full-screen view of watch: plain ANSI on the alternate screen,
// redrawn whole (at most every screenTick) when something changed.

const (
	screenTick   = 100 * time.Millisecond
	maxRecent    = 1000            // decisions kept for redrawing
	confirmAfter = 5 * time.Second // how long a first "A" waits for the second
	// selectGrace is how long after the selected approval changed by
	// itself (the one before it was answered or expired) the answer keys
	// wait, so a key meant for one approval does not answer the next.
	selectGrace = time.Second
)

// screenState is what the view shows. Only the view's loop changes it.
type screenState struct {
	source     string
	filters    string
	canApprove bool
	counts     map[string]int
	recent     []*audit.Record // oldest first
	pending    pendingList
	selected   int
	status     string
	warning    bool
	// confirmID is the approval a first "A" chose, until confirmBy.
	confirmID string
	confirmBy time.Time
	// selectedID is the approval selected when the view last looked;
	// selectedAt is when it changed other than by the user's keys.
	selectedID string
	selectedAt time.Time
}

// approvalAnswer is an answer the user gave with a key.
type approvalAnswer struct {
	ID       string
	Decision string // allow or deny
	Always   bool
}

func (s *watchSession) newScreenState() *screenState {
	st := &screenState{source: s.source.describe(), filters: s.opts.Filter.describe(), canApprove: s.client != nil,
		counts: map[string]int{}}
	if s.note != "" {
		st.setStatus(s.note, true)
	}
	return st
}

func (st *screenState) setStatus(msg string, warning bool) { st.status, st.warning = msg, warning }

// apply takes in an event of the source.
func (st *screenState) apply(e watchEvent, s *watchSession) {
	switch {
	case e.Record != nil:
		if !s.newRecord(e.Record) {
			return
		}
		if e.Record.Event == audit.EventDecision || e.Record.Event == "" {
			st.counts[e.Record.Decision]++
		}
		st.recent = append(st.recent, e.Record)
		if len(st.recent) > maxRecent {
			st.recent = st.recent[len(st.recent)-maxRecent:]
		}
	case e.Snapshot:
		st.pending = nil
		for _, a := range e.Approvals {
			if s.matchApproval(a) {
				st.pending = st.pending.apply(a)
			}
		}
	case e.Approval != nil:
		if s.matchApproval(*e.Approval) || e.Approval.Status != "pending" {
			st.pending = st.pending.apply(*e.Approval)
		}
	case e.Reload != nil:
		if e.Reload.OK {
			st.setStatus(fmt.Sprintf("policies reloaded (%s)", plural(len(e.Reload.Sources), "source", "sources")), false)
		} else {
			st.setStatus("a policy reload failed; the last good policies stay in force: "+e.Reload.Error, true)
		}
	case e.Notice != "":
		st.setStatus(e.Notice, e.Warning)
	}
	if e.Source != "" {
		st.source = e.Source
		st.canApprove = s.client != nil && !e.Offline
	}
	if e.Offline {
		st.canApprove, st.pending = false, nil
	}
	st.selected = min(max(st.selected, 0), max(len(st.pending)-1, 0))
	if id := st.selectedApproval(); id != st.selectedID {
		st.selectedID, st.selectedAt = id, s.now()
	}
}

// selectedApproval is the id of the selected approval, or "".
func (st *screenState) selectedApproval() string {
	if len(st.pending) == 0 {
		return ""
	}
	return st.pending[st.selected].ID
}

// key handles one key press; it returns an answer to send, or quit.
func (st *screenState) key(k string, now time.Time) (answer *approvalAnswer, quit bool) {
	confirming := st.confirmID
	st.confirmID = ""
	switch k {
	case "q", "Q", "ctrl-c", "ctrl-d":
		return nil, true
	case "up", "k", "down", "j":
		if k == "up" || k == "k" {
			st.selected = max(st.selected-1, 0)
		} else {
			st.selected = min(st.selected+1, max(len(st.pending)-1, 0))
		}
		st.selectedID, st.selectedAt = st.selectedApproval(), time.Time{}
		return nil, false
	case "a", "d", "A":
	default:
		return nil, false
	}
	if !st.canApprove {
		st.setStatus("answering approvals needs a running server (rampart serve)", true)
		return nil, false
	}
	if len(st.pending) == 0 {
		st.setStatus("no approval is waiting", false)
		return nil, false
	}
	if now.Sub(st.selectedAt) < selectGrace {
		st.setStatus("the selected approval just changed; look, then press again", true)
		return nil, false
	}
	a := st.pending[st.selected]
	switch k {
	case "a":
		return &approvalAnswer{ID: a.ID, Decision: "allow"}, false
	case "d":
		return &approvalAnswer{ID: a.ID, Decision: "deny"}, false
	}
	if confirming == a.ID && now.Before(st.confirmBy) {
		return &approvalAnswer{ID: a.ID, Decision: "allow", Always: true}, false
	}
	st.confirmID, st.confirmBy = a.ID, now.Add(confirmAfter)
	st.setStatus(fmt.Sprintf("press A again to allow %s from now on (adds an allow rule to your policy)", a.ID), true)
	return nil, false
}

// render draws the view into at most height lines of at most width
// columns.
func (st *screenState) render(width, height int, now time.Time, style recordStyle) []string {
	var top []string
	title := "rampart watch: " + st.source
	if style.Color {
		title = "\x1b[1m" + title + "\x1b[0m"
	}
	top = append(top, title)
	counts := fmt.Sprintf("%s %d  %s %d  %s %d  %s %d",
		style.paint("allow", "allow"), st.counts["allow"], style.paint("deny", "deny"), st.counts["deny"],
		style.paint("ask", "ask"), st.counts["ask"], style.paint("log", "log"), st.counts["log"])
	if st.filters != "" {
		counts += "   filter: " + printable(st.filters)
	}
	top = append(top, counts)
	status := printable(st.status)
	if st.warning && style.Color && status != "" {
		status = "\x1b[33m" + status + "\x1b[0m"
	}
	top = append(top, status)

	if len(st.pending) > 0 {
		top = append(top, fmt.Sprintf("approvals waiting (%d): a approve, d deny, A always allow, j/k or arrows select", len(st.pending)))
		shown := min(len(st.pending), max(3, height/3))
		first := min(max(st.selected-shown+1, 0), len(st.pending)-shown)
		for i := first; i < first+shown; i++ {
			marker := "  "
			if i == st.selected {
				marker = "> "
			}
			top = append(top, marker+approvalLine(st.pending[i], now))
		}
	}
	top = append(top, "")

	help := "q quit"
	if st.canApprove {
		help += "   a approve  d deny  A always allow"
	}
	room := height - len(top) - 1
	var body []string
	switch {
	case room <= 0:
	case len(st.recent) == 0:
		body = append(body, "waiting for decisions...")
	default:
		for _, r := range st.recent[max(len(st.recent)-room, 0):] {
			body = append(body, style.line(r))
		}
	}
	for len(body) < room {
		body = append(body, "")
	}
	lines := append(append(top, body...), help)
	if len(lines) > height {
		lines = lines[:max(height, 0)]
	}
	for i, l := range lines {
		lines[i] = truncateVisible(l, width)
	}
	return lines
}

// approvalLine is one waiting approval: "ID  agent tool  target  (rule)  expires in 1m30s".
func approvalLine(a approval, now time.Time) string {
	r := approvalRecord(a)
	line := printable(a.ID) + "  " + printable(joinNonEmpty(" ", r.Agent, r.Tool)) + "  " + printable(recordTarget(r))
	if who := policyRule(a.Decision.Policy, a.Decision.Rule); who != "" {
		line += "  (" + printable(who) + ")"
	}
	if !a.Expires.IsZero() {
		if left := a.Expires.Sub(now).Round(time.Second); left > 0 {
			line += "  expires in " + left.String()
		} else {
			line += "  expiring"
		}
	}
	return line
}

// truncateVisible cuts s to width columns, not counting ANSI escape
// sequences (which it keeps whole); a cut line ends with a reset.
func truncateVisible(s string, width int) string {
	var b strings.Builder
	cols, cut := 0, false
	for i := 0; i < len(s); {
		if s[i] == '\x1b' {
			end := i + 1
			if end < len(s) && s[end] == '[' {
				end++
				for end < len(s) && (s[end] < 0x40 || s[end] > 0x7e) {
					end++
				}
				end++
			}
			end = min(end, len(s))
			b.WriteString(s[i:end])
			i = end
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if cols == width {
			cut = true
			break
		}
		b.WriteRune(r)
		cols++
		i += size
	}
	if cut && strings.Contains(s, "\x1b[") {
		b.WriteString("\x1b[0m")
	}
	return b.String()
}

// parseKeys turns bytes read from a terminal in raw mode into key names:
// single characters, "up", "down", "ctrl-c", "ctrl-d".
func parseKeys(b []byte) []string {
	var keys []string
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == 3:
			keys = append(keys, "ctrl-c")
		case c == 4:
			keys = append(keys, "ctrl-d")
		case c == 0x1b:
			if i+2 < len(b) && (b[i+1] == '[' || b[i+1] == 'O') {
				switch b[i+2] {
				case 'A':
					keys = append(keys, "up")
				case 'B':
					keys = append(keys, "down")
				}
				i += 2
			}
		case c >= 0x20 && c < 0x7f:
			keys = append(keys, string(c))
		}
	}
	return keys
}

// readKeys reads key presses from in until it fails. The goroutine stays
// blocked in a read when watch ends, which only matters until the process
// exits.
func readKeys(in *os.File) <-chan string {
	keys := make(chan string, 16)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := in.Read(buf)
			for _, k := range parseKeys(buf[:n]) {
				keys <- k
			}
			if err != nil {
				close(keys)
				return
			}
		}
	}()
	return keys
}

// runScreen is watch on a terminal.
func (s *watchSession) runScreen(ctx context.Context) error {
	out := s.opts.Proc.Out.(*os.File) // runScreen runs only on a terminal
	var keys <-chan string
	if in, ok := s.opts.Proc.In.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		if old, err := term.MakeRaw(int(in.Fd())); err == nil {
			defer term.Restore(int(in.Fd()), old)
			keys = readKeys(in)
		}
	}
	// The alternate screen, without a cursor; both restored on the way out.
	out.WriteString("\x1b[?1049h\x1b[?25l")
	defer out.WriteString("\x1b[?25h\x1b[?1049l")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, errc := s.start(ctx)
	answers := make(chan watchEvent, 4)
	st := s.newScreenState()
	tick := time.NewTicker(screenTick)
	defer tick.Stop()
	var lastW, lastH int
	var lastDraw time.Time
	dirty := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-events:
			if !ok {
				if err := <-errc; err != nil {
					return withCode(ExitIOErr, fmt.Errorf("watching %s: %w", st.source, err))
				}
				return nil
			}
			st.apply(e, s)
			dirty = true
		case e := <-answers:
			st.apply(e, s)
			dirty = true
		case k, ok := <-keys:
			if !ok {
				keys = nil
				continue
			}
			answer, quit := st.key(k, s.now())
			if quit {
				return nil
			}
			if answer != nil {
				st.setStatus(fmt.Sprintf("sending %s for %s...", answerWord(answer), answer.ID), false)
				go s.sendAnswer(ctx, *answer, answers)
			}
			dirty = true
		case <-tick.C:
		}
		w, h, err := term.GetSize(int(out.Fd()))
		if err != nil || w <= 0 || h <= 0 {
			w, h = 80, 24
		}
		now := s.now()
		resized := w != lastW || h != lastH
		// Redraw what changed, and every second the expiry countdowns.
		if !dirty && !resized && !(len(st.pending) > 0 && now.Sub(lastDraw) >= time.Second) {
			continue
		}
		frame := "\x1b[H"
		if resized {
			frame = "\x1b[2J" + frame
		}
		frame += strings.Join(st.render(w, h, now, s.style), "\x1b[K\r\n") + "\x1b[K\x1b[J"
		if _, err := out.WriteString(frame); err != nil {
			return withCode(ExitIOErr, fmt.Errorf("drawing the screen: %w", err))
		}
		lastW, lastH, lastDraw, dirty = w, h, now, false
	}
}

func answerWord(a *approvalAnswer) string {
	switch {
	case a.Always:
		return "always allow"
	case a.Decision == "allow":
		return "approve"
	}
	return "deny"
}

// sendAnswer posts an answer and reports the outcome as events.
func (s *watchSession) sendAnswer(ctx context.Context, a approvalAnswer, results chan<- watchEvent) {
	resolved, err := s.client.resolve(ctx, a.ID, a.Decision, a.Always, approver(s.opts.Proc))
	var e watchEvent
	if err != nil {
		e = watchEvent{Notice: err.Error(), Warning: true}
	} else {
		e = watchEvent{Approval: resolved}
		if resolved.Status == "pending" { // a server that answers later; the event stream will say
			e = watchEvent{Notice: fmt.Sprintf("sent %s for %s", answerWord(&a), a.ID)}
		}
	}
	select {
	case results <- e:
	case <-ctx.Done():
		return
	}
	if err == nil && resolved.Status != "pending" {
		select {
		case results <- watchEvent{Notice: fmt.Sprintf("%s: %s", a.ID, resolved.Status)}:
		case <-ctx.Done():
		}
	}
}

// approver is who answers approvals in watch: the user's login name.
func approver(proc *Process) string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := proc.Getenv(k); v != "" {
			return v
		}
	}
	return "rampart watch"
}
