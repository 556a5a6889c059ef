package server

import "path/filepath"

// The server's files under the Rampart home directory ($RAMPART_HOME,
// ~/.rampart by default). Clients such as rampart approve, rampart-sh and
// the preload library find the server and its token through them.
const (
	// TokenFileName holds the bearer token (0600).
	TokenFileName = "token"
	// SocketFileName is the server's Unix socket (0600).
	SocketFileName = "rampart.sock"
	// PIDFileName holds the process id of the running server.
	PIDFileName = "serve.pid"
	// LogFileName is where rampart serve --background logs.
	LogFileName = "serve.log"
	// ApprovedPolicyFileName, in the policies folder, holds the exact
	// allow rules that "always allow" answers write.
	ApprovedPolicyFileName = "approved.yaml"
)

// DefaultAddr is the TCP address the server listens on by default.
const DefaultAddr = "127.0.0.1:9090"

// DefaultTCPURL is the URL of a server on [DefaultAddr].
const DefaultTCPURL = "http://" + DefaultAddr

// TokenPath returns the token file of a Rampart home.
func TokenPath(rampartHome string) string { return filepath.Join(rampartHome, TokenFileName) }

// SocketPath returns the default Unix socket of a Rampart home.
func SocketPath(rampartHome string) string { return filepath.Join(rampartHome, SocketFileName) }

// PIDPath returns the pid file of a Rampart home.
func PIDPath(rampartHome string) string { return filepath.Join(rampartHome, PIDFileName) }

// LogPath returns the background server's log file of a Rampart home.
func LogPath(rampartHome string) string { return filepath.Join(rampartHome, LogFileName) }

// ApprovedPolicyPath returns the policy file that "always allow" answers
// write to.
func ApprovedPolicyPath(rampartHome string) string {
	return filepath.Join(rampartHome, "policies", ApprovedPolicyFileName)
}
