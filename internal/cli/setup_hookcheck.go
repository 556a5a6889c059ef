package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/mattn/go-shellwords"

	"github.com/rampart-dev/rampart/integrations"
)

// setupReport prints the lines of a --check ("ok  ", "FAIL", "note") and
// counts the failures.
type setupReport struct {
	out    io.Writer
	failed int
}

func (r *setupReport) line(ok bool, format string, args ...any) {
	mark := "ok  "
	if !ok {
		mark = "FAIL"
		r.failed++
	}
	fmt.Fprintf(r.out, "%s %s\n", mark, fmt.Sprintf(format, args...))
}

// note is a line that is neither a pass nor a failure.
func (r *setupReport) note(format string, args ...any) {
	fmt.Fprintf(r.out, "note %s\n", fmt.Sprintf(format, args...))
}

// result is the check's exit: 1 when any line failed.
func (r *setupReport) result(agent string) error {
	if r.failed > 0 {
		return withCode(ExitDeny, fmt.Errorf("%d check(s) failed", r.failed), fmt.Sprintf("run \"rampart setup %s\" to install or repair the hooks", agent))
	}
	return nil
}

// checkHookEntries reports each event's Rampart entry: present, and run
// for every tool. It returns the first event's command ("" when missing).
func checkHookEntries(r *setupReport, agent string, events []string, installed map[string][]integrations.InstalledHook) string {
	var first string
	for i, event := range events {
		entries := installed[event]
		if len(entries) == 0 {
			r.line(false, "%s: no Rampart hook (run: rampart setup %s)", event, agent)
			continue
		}
		h := entries[0]
		every := h.MatchesEveryTool()
		r.line(every, "%s: %s (matcher %q%s)", event, h.Command, h.Matcher, map[bool]string{true: ", every tool", false: ": NOT every tool"}[every])
		if i == 0 {
			first = h.Command
		}
	}
	return first
}

// checkHookAnswers runs an installed hook command the way the agent would,
// with input (a call the standard policies deny), and checks that its
// answer holds blocked.
func checkHookAnswers(r *setupReport, agentTitle, command, input, blocked, what string) {
	words, err := shellwords.Parse(command)
	if err != nil || len(words) == 0 {
		r.line(false, "the hook command cannot be parsed: %v", err)
		return
	}
	if st, err := os.Stat(words[0]); err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		r.line(false, "the hook's binary %s does not exist or is not executable: %s would skip the hook and run every tool unchecked", words[0], agentTitle)
		return
	}
	r.line(true, "binary %s exists", words[0])
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, words[0], words[1:]...)
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var exit *exec.ExitError
	switch {
	case runErr != nil && !errors.As(runErr, &exit):
		r.line(false, "the hook did not run: %v", runErr)
	case runErr != nil:
		r.line(false, "the hook failed: %v %s", runErr, strings.TrimSpace(stderr.String()))
	case !bytes.Contains(stdout.Bytes(), []byte(blocked)):
		r.line(false, "the hook did not deny %s (answer: %q); check your policies with: rampart check -- 'cat ~/.ssh/id_rsa'", what, strings.TrimSpace(stdout.String()))
	default:
		r.line(true, "the hook answers: %s is denied (recorded in the audit trail as session rampart-setup-check)", what)
	}
}
