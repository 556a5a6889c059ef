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
