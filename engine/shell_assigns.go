// Builtins that set shell variables through their arguments rather than
// through NAME=VALUE words before a command.

package engine

import "strings"

// builtinAssigns returns the variables the builtin name sets when run with
// args: read NAME..., read -a NAME, printf -v NAME, mapfile NAME, getopts
// OPTS NAME, and declaration builtins whose words the parser did not take
// for assignments (export LD_PRE\LOAD=x is a parse error; bash runs it).
func builtinAssigns(name string, args []string) []string {
	var out []string
	switch name {
	case "export", "declare", "typeset", "readonly", "local":
		for _, w := range args {
			if n, _, _ := strings.Cut(w, "="); !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "+") && isAssignment(n+"=") {
				out = append(out, n)
			}
		}
	case "read":
		out = optionVars(args, "dinNptu", "a", true)
	case "printf":
		out = optionVars(args, "", "v", false)
	case "mapfile", "readarray":
		out = optionVars(args, "dnOsuCc", "", true)
		if len(out) == 0 {
			out = []string{"MAPFILE"}
		}
	case "getopts":
		if len(args) >= 2 && isAssignment(args[1]+"=") {
			out = []string{args[1]}
		}
	}
	return out
}

// optionVars reads a builtin's options: valueOpts take a value, nameOpts
// take a variable name; with operands, the words after the options are
// variable names too.
func optionVars(args []string, valueOpts, nameOpts string, operands bool) []string {
	var out []string
	i := 0
	for ; i < len(args); i++ {
		w := args[i]
		if w == "--" {
			i++
			break
		}
		if len(w) < 2 || w[0] != '-' {
			break
		}
		for j := 1; j < len(w); j++ {
			o := w[j]
			takesName := strings.IndexByte(nameOpts, o) >= 0
			if !takesName && strings.IndexByte(valueOpts, o) < 0 {
				continue
			}
			val := w[j+1:]
			if val == "" && i+1 < len(args) {
				i++
				val = args[i]
			}
			if takesName && isAssignment(val+"=") {
				out = append(out, val)
			}
			break
		}
	}
	if operands {
		for _, w := range args[i:] {
			if isAssignment(w + "=") {
				out = append(out, w)
			}
		}
	}
	return out
}
