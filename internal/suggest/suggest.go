// Package suggest finds the closest known word to a misspelt one, for
// "did you mean" hints in error messages.
package suggest

import "strings"

// Closest returns the candidate nearest to s (ignoring case) when it is near
// enough to be a likely misspelling, or "" when none is.
func Closest(s string, candidates []string) string {
	lower := strings.ToLower(s)
	best, bestDist := "", -1
	for _, c := range candidates {
		d := distance(lower, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := 2
	if len(s) > 10 {
		limit = 3
	}
	if best != "" && bestDist <= limit && bestDist < len(s) {
		return best
	}
	if len(s) >= 3 {
		for _, c := range candidates {
			if strings.HasPrefix(strings.ToLower(c), lower) {
				return c
			}
		}
	}
	return ""
}

// DidYouMean returns ` (did you mean "x"?)` for the closest candidate, or ""
// when none is close.
func DidYouMean(s string, candidates []string) string {
	if c := Closest(s, candidates); c != "" {
		return ` (did you mean "` + c + `"?)`
	}
	return ""
}

// distance is the edit distance between a and b counting an insertion, a
// deletion, a substitution or a swap of two neighbours as one edit (optimal
// string alignment), so "lsit" is one edit from "list".
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
