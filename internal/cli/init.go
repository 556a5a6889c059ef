package cli

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/internal/config"
	"github.com/rampart-dev/rampart/internal/suggest"
)

// customTemplate is the commented starting policy file "rampart init"
// writes. It loads with no active rules.
//
//go:embed templates/custom.yaml
var customTemplate []byte

// InitOptions are the flags of "rampart init".
type InitOptions struct {
	Proc    *Process
	Profile string // "" means the profile in force now
	Force   bool
}

// NewCmdInit builds "rampart init".
func NewCmdInit(proc *Process, runF func(*InitOptions) error) *cobra.Command {
	opts := &InitOptions{Proc: proc}
	cmd := &cobra.Command{
		Use:   "init [flags]",
		Short: "Write a starting ~/.rampart/policies/custom.yaml and config.yaml",
		Long: `Init sets up ~/.rampart (or $RAMPART_HOME) for your own policies:

  policies/custom.yaml   a commented policy file that teaches the format with
                         examples; it changes nothing until you switch one on
  config.yaml            "profile: NAME", the embedded profile check starts from

Directories are created with mode 0700 and files with 0600. Init refuses to
overwrite a file that exists unless you pass --force.`,
		Example: `  rampart init
  rampart init --profile paranoid
  RAMPART_HOME=/tmp/rampart-test rampart init --force`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Profile != "" && !config.ValidProfile(opts.Profile) {
				return usageErrorf(`"rampart policy show NAME" prints a profile`, "--profile: unknown profile %q%s; available: %s", opts.Profile,
					suggest.DidYouMean(opts.Profile, config.ProfileNames()), strings.Join(config.ProfileNames(), ", "))
			}
			if runF != nil {
				return runF(opts)
			}
			return initRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Profile, "profile", "", "profile `NAME` to write to config.yaml (default: the one in force now, else \"standard\")")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite files that exist")
	return cmd
}

func initRun(o *InitOptions) error {
	home := o.Proc.RampartHome()
	if home == "" {
		return withCode(ExitCantCreate, errors.New("cannot tell where ~/.rampart is: neither HOME nor RAMPART_HOME is set"),
			"set RAMPART_HOME to the directory to write to")
	}
	profile := o.Profile
	if profile == "" {
		var err error
		if profile, _, err = resolveProfile(o.Proc, "", home); err != nil {
			return err
		}
	}
	files := []struct {
		path string
		data []byte
	}{
		{filepath.Join(home, "policies", "custom.yaml"), customTemplate},
		{config.Path(home), config.Marshal(config.Config{Profile: profile})},
	}
	if !o.Force {
		var existing []string
		for _, f := range files {
			if _, err := os.Lstat(f.path); err == nil {
				existing = append(existing, f.path)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return withCode(ExitCantCreate, fmt.Errorf("cannot check %s: %w", f.path, err))
			}
		}
		if len(existing) > 0 {
			return withCode(ExitCantCreate,
				fmt.Errorf("not overwriting %s: %s", pick(len(existing) == 1, "an existing file", "existing files"), strings.Join(existing, ", ")),
				"nothing was written; run \"rampart init --force\" to replace "+pick(len(existing) == 1, "it", "them"))
		}
	}
	for _, f := range files {
		if err := writePrivateFile(f.path, f.data); err != nil {
			return withCode(ExitCantCreate, err)
		}
		fmt.Fprintf(o.Proc.Out, "wrote %s\n", f.path)
	}
	fmt.Fprintf(o.Proc.Out, "profile: %s\n", profile)
	fmt.Fprintf(o.Proc.Out, "next: edit %s, then run \"rampart policy lint %[1]s\"\n", files[0].path)
	return nil
}

// writePrivateFile writes data to path atomically (a temporary file renamed
// into place), creating missing directories with mode 0700; the file gets
// mode 0600.
func writePrivateFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, unwrapPathError(err))
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, unwrapPathError(err))
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPathError(err))
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
