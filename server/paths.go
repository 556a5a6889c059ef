package server

import (
	"path/filepath"
	"time"

	"github.com/rampart-dev/rampart/internal/endpoint"
)

// The server's files under the Rampart home directory ($RAMPART_HOME,
// ~/.rampart by default). Clients such as rampart approve, rampart-sh and
// the preload library find the server and its token through them.
const (
	// TokenFileName holds the bearer token (0600).
	TokenFileName = endpoint.TokenFileName
	// SocketFileName is the server's Unix socket (0600).
	SocketFileName = endpoint.SocketFileName
	// PIDFileName holds the process id of the running server.
	PIDFileName = "serve.pid"
	// LogFileName is where rampart serve --background logs.
	LogFileName = "serve.log"
	// ApprovedPolicyFileName, in the policies folder, holds the exact
	// allow rules that "always allow" answers write.
	ApprovedPolicyFileName = "approved.yaml"
)

// DefaultAddr is the TCP address the server listens on by default.
const DefaultAddr = endpoint.DefaultAddr

// DefaultTCPURL is the URL of a server on [DefaultAddr].
const DefaultTCPURL = endpoint.DefaultTCPURL

// TokenPath returns the token file of a Rampart home.
func TokenPath(rampartHome string) string { return endpoint.TokenPath(rampartHome) }

// SocketPath returns the default Unix socket of a Rampart home.
func SocketPath(rampartHome string) string { return endpoint.SocketPath(rampartHome) }

// PIDPath returns the pid file of a Rampart home.
func PIDPath(rampartHome string) string { return filepath.Join(rampartHome, PIDFileName) }

// LogPath returns the background server's log file of a Rampart home.
func LogPath(rampartHome string) string { return filepath.Join(rampartHome, LogFileName) }

// ApprovedPolicyPath returns the policy file that "always allow" answers
// write to.
func ApprovedPolicyPath(rampartHome string) string {
	return filepath.Join(rampartHome, "policies", ApprovedPolicyFileName)
}

// TablePath returns the allow table of a server listening on the Unix
// socket sock (see allowtable.go).
func TablePath(sock string) string { return sock + ".allow" }

// NotesWithin bounds how long a running server takes to write the record
// of a call the preload library ran on the allow table (it collects the
// notes every NotesWithin/2), unless the server is stopped or busy.
const NotesWithin = 20 * time.Millisecond
