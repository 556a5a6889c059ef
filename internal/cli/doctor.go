package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// DoctorOptions are the flags of "rampart doctor".
type DoctorOptions struct {
	Proc *Process
	JSON bool
	// Probe runs each installed hook with a call the policies deny; off
	// only in tests that look at nothing but the configuration.
	Probe bool
}

// NewCmdDoctor builds "rampart doctor".
func NewCmdDoctor(proc *Process, runF func(*DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{Proc: proc, Probe: true}
	cmd := &cobra.Command{
		Use:   "doctor [flags]",
		Short: "Check the whole installation and say what to fix",
		Long: `Doctor checks that Rampart is installed and working, and for every problem
says how to fix it:

  rampart      the rampart on PATH is this one, or the same version
  rampart-sh   installed next to rampart or on PATH, the same version
  policies     the profile, ~/.rampart/policies and this folder's project
               policy load (and lint without warnings)
  server       when one is configured or running: it answers, and the
               token is readable and accepted
  AGENT        for every agent installed here, or set up: its hooks are in
               place for every event, point at a rampart that exists (a
               hook whose binary moved is skipped without a word by most
               agents), and block a read of ~/.ssh/id_rsa when run
  preload      librampart.so is built in and the dynamic loader loads it
  audit        the audit trail's hash chain verifies
  guard        the kernel supports "rampart guard"

Each check is ok, warn (something optional is missing, or an agent here is
not protected), fail, or skip (does not apply). The exit code is 0 when no
check fails, 1 when one does. --json prints one JSON object (see
docs/doctor.md). Running the hooks adds their decisions to the audit trail,
as session rampart-setup-check.`,
		Example: `  rampart doctor
  rampart doctor --json | jq '.checks[] | select(.status == "fail")'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return doctorRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the report as one JSON object")
	return cmd
}

// Statuses of a doctor check.
const (
	doctorOK   = "ok"
	doctorWarn = "warn"
	doctorFail = "fail"
	doctorSkip = "skip"
)

// doctorCheck is one line of the report; its JSON is part of the
// contract of "rampart doctor --json" (docs/doctor.md).
type doctorCheck struct {
	Name    string   `json:"name"`
	Status  string   `json:"status"`
	Summary string   `json:"summary"`
	Details []string `json:"details,omitempty"`
	Fix     string   `json:"fix,omitempty"`
}

// doctorReport is the whole report.
type doctorReport struct {
	OK      bool           `json:"ok"`
	Version string         `json:"version"`
	Checks  []doctorCheck  `json:"checks"`
	Counts  map[string]int `json:"counts"`
}

func doctorRun(opts *DoctorOptions) error {
	rep := doctorReport{Version: versionString(), Counts: map[string]int{doctorOK: 0, doctorWarn: 0, doctorFail: 0, doctorSkip: 0}}
	for _, check := range doctorChecks(opts) {
		rep.Checks = append(rep.Checks, check...)
	}
	for _, c := range rep.Checks {
		rep.Counts[c.Status]++
	}
	rep.OK = rep.Counts[doctorFail] == 0
	out := opts.Proc.Out
	if opts.JSON {
		data, _ := json.Marshal(rep)
		if _, err := fmt.Fprintf(out, "%s\n", data); err != nil {
			return withCode(ExitIOErr, err)
		}
	} else {
		writeDoctorReport(opts, rep)
	}
	if !rep.OK {
		if opts.JSON {
			return exitCode(ExitDeny)
		}
		return withCode(ExitDeny, fmt.Errorf("%s failed", plural(rep.Counts[doctorFail], "check", "checks")))
	}
	return nil
}

func writeDoctorReport(opts *DoctorOptions, rep doctorReport) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", rep.Version)
	width := 0
	for _, c := range rep.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range rep.Checks {
		fmt.Fprintf(&b, "%-4s  %-*s  %s\n", c.Status, width, c.Name, c.Summary)
		indent := strings.Repeat(" ", width+8)
		for _, d := range c.Details {
			fmt.Fprintf(&b, "%s%s\n", indent, d)
		}
		if c.Fix != "" {
			fmt.Fprintf(&b, "%sfix: %s\n", indent, c.Fix)
		}
	}
	switch {
	case rep.Counts[doctorFail] > 0:
		fmt.Fprintf(&b, "%s, %s.\n", plural(rep.Counts[doctorFail], "check failed", "checks failed"), plural(rep.Counts[doctorWarn], "warning", "warnings"))
	case rep.Counts[doctorWarn] > 0:
		fmt.Fprintf(&b, "No check failed; %s.\n", plural(rep.Counts[doctorWarn], "warning", "warnings"))
	default:
		b.WriteString("Everything is in order.\n")
	}
	opts.Proc.Out.Write([]byte(b.String()))
}
