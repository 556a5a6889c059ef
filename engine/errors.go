package engine

import (
	"fmt"
	"strings"
)

// PolicyError is a problem in a policy file, located by line and column.
type PolicyError struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *PolicyError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.File != "":
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return e.Msg
}

// PolicyErrors is every problem found while loading a policy set. A set with
// any error is not loaded at all.
type PolicyErrors []*PolicyError

func (errs PolicyErrors) Error() string {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// didYouMean returns ` (did you mean "x"?)` for the candidate closest to s,
// or "" when none is close.
func didYouMean(s string, candidates []string) string {
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), c)
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := 2
	if len(s) > 10 {
		limit = 3
	}
	if best == "" || bestDist > limit {
		for _, c := range candidates {
			if len(s) >= 4 && (strings.HasPrefix(c, s) || strings.HasPrefix(s, c)) {
				return fmt.Sprintf(" (did you mean %q?)", c)
			}
		}
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
