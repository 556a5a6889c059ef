package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rampart-dev/rampart/server"
)

// clientTimeout bounds each request of the commands that talk to the server.
const clientTimeout = 10 * time.Second

// serverClient returns a client for the running server: --url, else
// $RAMPART_URL, else the Unix socket of the Rampart home when it exists,
// else http://127.0.0.1:9090; the token from $RAMPART_TOKEN, else the
// token file.
func serverClient(proc *Process, url string) (*server.Client, error) {
	getenv := proc.Getenv
	if url != "" {
		getenv = func(k string) string {
			if k == "RAMPART_URL" {
				return url
			}
			return proc.Getenv(k)
		}
	}
	c, err := server.ClientFromEnv(getenv, proc.RampartHome(), clientTimeout)
	if err != nil {
		return nil, usageErrorf(`for example --url http://127.0.0.1:9090 or --url unix:$HOME/.rampart/rampart.sock`, "%v", err)
	}
	return c, nil
}

// clientError gives an error of a server call its exit code and a hint.
func clientError(c *server.Client, err error) error {
	var unreachable *server.UnreachableError
	var apiErr *server.APIError
	switch {
	case errors.As(err, &unreachable):
		return withCode(ExitUnavailable, fmt.Errorf("no server answers at %s: %v", c.URL, unreachable.Err),
			`start one with "rampart serve --background"; --url or $RAMPART_URL names another one`)
	case errors.As(err, &apiErr) && apiErr.Status == 401:
		return withCode(ExitNoPerm, fmt.Errorf("the server at %s refused the token", c.URL),
			"the token comes from $RAMPART_TOKEN, else ~/.rampart/token; it must be the one the server uses")
	case errors.Is(err, context.DeadlineExceeded):
		return withCode(ExitUnavailable, fmt.Errorf("the server at %s did not answer in time", c.URL))
	}
	return withCode(ExitSoftware, err)
}
