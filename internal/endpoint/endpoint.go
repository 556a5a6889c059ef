// Package endpoint says where a client finds the local Rampart server and
// its token: the files under the Rampart home directory and the
// environment. It imports no HTTP code, so programs started once per
// command (rampart-sh) can find the server without linking net/http.
package endpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const (
	// TokenFileName holds the server's bearer token (0600).
	TokenFileName = "token"
	// SocketFileName is the server's Unix socket (0600).
	SocketFileName = "rampart.sock"
	// DefaultAddr is the TCP address the server listens on by default.
	DefaultAddr = "127.0.0.1:9090"
	// DefaultTCPURL is the URL of a server on DefaultAddr.
	DefaultTCPURL = "http://" + DefaultAddr
	// AdapterHeader names the adapter (the audit records' adapter) in a
	// request to the server.
	AdapterHeader = "X-Rampart-Adapter"
)

// ErrNoToken is returned by [ReadToken] when the token file does not exist.
var ErrNoToken = errors.New("no token file")

// TokenPath returns the token file of a Rampart home.
func TokenPath(rampartHome string) string { return filepath.Join(rampartHome, TokenFileName) }

// SocketPath returns the default Unix socket of a Rampart home.
func SocketPath(rampartHome string) string { return filepath.Join(rampartHome, SocketFileName) }

// ReadToken reads the token file at path. It returns an error wrapping
// [ErrNoToken] when the file does not exist.
func ReadToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", path, ErrNoToken)
	}
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("%s: the token file is empty", path)
	}
	return token, nil
}

// DefaultURL returns the Unix socket of rampartHome ("unix:/path") when it
// exists, else [DefaultTCPURL].
func DefaultURL(rampartHome string) string {
	if rampartHome != "" {
		sock := SocketPath(rampartHome)
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:" + sock
		}
	}
	return DefaultTCPURL
}

// FromEnv returns the server's URL and token the way every Rampart client
// finds them: $RAMPART_URL, else [DefaultURL]; $RAMPART_TOKEN, else the
// token file of the Rampart home (none is no error: the token is then "").
// getenv is os.Getenv in a real process.
func FromEnv(getenv func(string) string, rampartHome string) (rawURL, token string, err error) {
	rawURL = getenv("RAMPART_URL")
	if rawURL == "" {
		rawURL = DefaultURL(rampartHome)
	}
	token = getenv("RAMPART_TOKEN")
	if token == "" && rampartHome != "" {
		t, err := ReadToken(TokenPath(rampartHome))
		if err != nil && !errors.Is(err, ErrNoToken) {
			return "", "", err
		}
		token = t
	}
	return rawURL, token, nil
}
