package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rampart-dev/rampart/shellwrap"
)

// TestMain lets the test binary stand in for the rampart command inside
// the scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"rampart":    main,
		"rampart-sh": func() { os.Exit(shellwrap.Run(shellwrap.OSEnv())) },
	})
}

// TestScripts runs testdata/*.txtar: rampart command lines with their exact
// stdout, stderr and exit codes.
//
// Every script runs with HOME and RAMPART_HOME inside its own $WORK (and
// sets them again itself, to say so), so no test ever reads or writes the
// real ~/.rampart; RAMPART_PROFILE is unset.
func TestScripts(t *testing.T) {
	profiles, err := filepath.Abs(filepath.Join("..", "..", "policies"))
	if err != nil {
		t.Fatal(err)
	}
	samples, err := filepath.Abs(filepath.Join("..", "..", "hooks", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("RAMPART_HOME", filepath.Join(home, ".rampart"))
			env.Setenv("RAMPART_PROFILE", "")
			env.Setenv("PROFILES", profiles) // the embedded profiles' source files
			env.Setenv("SAMPLES", samples)   // hook inputs captured from real agents
			// The rampart command itself, for setup's --rampart-path.
			for _, kv := range env.Vars {
				if path, ok := strings.CutPrefix(kv, "PATH="); ok {
					env.Setenv("RAMPART_BIN", filepath.Join(filepath.SplitList(path)[0], "rampart"))
				}
			}
			return os.MkdirAll(home, 0o755)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": cmdExits,
			"mode":  cmdMode,
			"cat":   cmdCat,
		},
	})
}

// cmdExits runs a command and checks its exact exit code:
//
//	exits 64 rampart check --tool nope x
//
// Its stdout and stderr can then be checked as after exec.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exits")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARG...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad exit code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdMode checks a file's permission bits:
//
//	mode 0600 $HOME/.rampart/config.yaml
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode PERM PATH")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	if err != nil {
		ts.Fatalf("mode: bad permissions %q", args[0])
	}
	st, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	got := uint64(st.Mode().Perm())
	switch {
	case neg && got == want:
		ts.Fatalf("%s has mode %04o, want any other", args[1], got)
	case !neg && got != want:
		ts.Fatalf("%s has mode %04o, want %04o", args[1], got, want)
	}
}

// cmdCat prints the files matching glob patterns to stdout, in name order,
// for checking files whose names are not known in advance (audit files):
//
//	cat $RAMPART_HOME/audit/*.jsonl
func cmdCat(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: cat GLOB...")
	}
	for _, pattern := range args {
		matches, err := filepath.Glob(ts.MkAbs(pattern))
		ts.Check(err)
		if len(matches) == 0 {
			ts.Fatalf("cat: no file matches %s", pattern)
		}
		for _, m := range matches {
			data, err := os.ReadFile(m)
			ts.Check(err)
			ts.Stdout().Write(data)
		}
	}
}
