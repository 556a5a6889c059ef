package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is the release version, set at build time with
// -ldflags "-X github.com/rampart-dev/rampart/internal/cli.Version=v1.2.3".
// When empty, the module version or VCS revision recorded by the Go
// toolchain is used.
var Version = ""

// VersionOptions are the flags of "rampart version".
type VersionOptions struct {
	Proc *Process
}

// NewCmdVersion builds "rampart version".
func NewCmdVersion(proc *Process, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{Proc: proc}
	return &cobra.Command{
		Use:   "version",
		Short: "Print Rampart's version",
		Long:  "Version prints the version of this rampart binary, the Go version it was built with, and the platform.",
		Example: `  rampart version
  rampart --version`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
}

func versionRun(o *VersionOptions) error {
	_, err := fmt.Fprintln(o.Proc.Out, versionString())
	return err
}

// versionString is "rampart VERSION (GOVERSION, OS/ARCH)".
func versionString() string {
	return fmt.Sprintf("rampart %s (%s, %s/%s)", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func buildVersion() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}
