package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/server"
)

// NewCmdToken builds "rampart token" and its subcommands.
func NewCmdToken(proc *Process) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token <command>",
		Short: "Show or rotate the policy server's bearer token",
		Long: `The policy server (rampart serve) answers only requests that carry its token:
"Authorization: Bearer TOKEN". The token is 32 random bytes in hex, created
on the server's first start in ~/.rampart/token (readable only by you).
Clients (rampart approve, rampart-sh, the preload library) read it from
there, or from $RAMPART_TOKEN, which overrides the file everywhere.`,
		Example: `  rampart token show
  curl -H "Authorization: Bearer $(rampart token show)" http://127.0.0.1:9090/v1/approvals
  rampart token rotate`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(NewCmdTokenShow(proc, nil), NewCmdTokenRotate(proc, nil))
	return cmd
}

// TokenOptions are the flags of "rampart token show" and "rotate".
type TokenOptions struct {
	Proc *Process
}

// NewCmdTokenShow builds "rampart token show".
func NewCmdTokenShow(proc *Process, runF func(*TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{Proc: proc}
	return &cobra.Command{
		Use:   "show",
		Short: "Print the token clients send to the server",
		Long: `Show prints the token on stdout, alone on its line, for use in scripts:
$RAMPART_TOKEN when it is set, else the content of ~/.rampart/token.

Exit codes: 0 printed, 1 there is no token yet.`,
		Example: `  rampart token show
  export RAMPART_TOKEN="$(rampart token show)"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return tokenShowRun(opts)
		},
	}
}

func tokenShowRun(o *TokenOptions) error {
	if env := o.Proc.Getenv("RAMPART_TOKEN"); env != "" {
		fmt.Fprintln(o.Proc.Err, "rampart: note: this is $RAMPART_TOKEN, which overrides ~/.rampart/token")
		_, err := fmt.Fprintln(o.Proc.Out, env)
		return err
	}
	path := server.TokenPath(o.Proc.RampartHome())
	token, err := server.ReadToken(path)
	if errors.Is(err, server.ErrNoToken) {
		return withCode(ExitFailed, fmt.Errorf("there is no token yet (%s does not exist)", path),
			`the server creates it on its first start ("rampart serve"); "rampart token rotate" creates one now`)
	}
	if err != nil {
		return withCode(ExitIOErr, err)
	}
	_, err = fmt.Fprintln(o.Proc.Out, token)
	return err
}

// NewCmdTokenRotate builds "rampart token rotate".
func NewCmdTokenRotate(proc *Process, runF func(*TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{Proc: proc}
	return &cobra.Command{
		Use:   "rotate",
		Short: "Replace the token with a new random one",
		Long: `Rotate writes a new random token to ~/.rampart/token (0600). A running server
uses the new token at once and refuses the old one; clients that read the
file pick it up on their next request. Clients given the old token in
$RAMPART_TOKEN must be given the new one. The new token is not printed:
"rampart token show" prints it.`,
		Example: `  rampart token rotate`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return tokenRotateRun(opts)
		},
	}
}

func tokenRotateRun(o *TokenOptions) error {
	rhome := o.Proc.RampartHome()
	if rhome == "" {
		return withCode(ExitConfig, errors.New("no Rampart home: neither $RAMPART_HOME nor $HOME is set"))
	}
	path := server.TokenPath(rhome)
	if _, err := server.RotateToken(path); err != nil {
		return withCode(ExitCantCreate, err)
	}
	fmt.Fprintf(o.Proc.Out, "wrote a new token to %s; a running server uses it now\n", path)
	if o.Proc.Getenv("RAMPART_TOKEN") != "" {
		fmt.Fprintln(o.Proc.Err, "rampart: warning: $RAMPART_TOKEN is set: clients that use it, and a server started with it, keep the old token")
	}
	return nil
}
