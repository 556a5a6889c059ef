package engine

import "strings"

// dynamicNameAdvice ends the message of an ask made because a command's
// name is only known at run time (see evalState.dynamicCheck).
const dynamicNameAdvice = "Write the command name out literally (not through a variable or $(...)) so Rampart can check it."

// IsUnresolvedAsk reports whether d is an ask the engine made itself
// because part of a command is only known when the shell runs it (a
// command name in a variable or $(...), or nesting too deep to analyse),
// rather than an ask a policy rule asked for. Adapters that judge whole
// scripts written by someone else may treat these more leniently.
func IsUnresolvedAsk(d Decision) bool {
	if d.Decision != ActionAsk {
		return false
	}
	return d.Policy == "engine" && d.Rule == "too-complex" || strings.HasSuffix(d.Message, dynamicNameAdvice)
}
