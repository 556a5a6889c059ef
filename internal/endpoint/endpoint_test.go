package endpoint

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestFromEnv(t *testing.T) {
	home := t.TempDir()

	// Nothing there: the default TCP URL and no token.
	url, token, err := FromEnv(env(nil), home)
	if err != nil || url != DefaultTCPURL || token != "" {
		t.Fatalf("empty home: %q %q %v", url, token, err)
	}

	// A socket and a token file in the home.
	ln, err := net.Listen("unix", SocketPath(home))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.WriteFile(TokenPath(home), []byte("  file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, token, err = FromEnv(env(nil), home)
	if err != nil || url != "unix:"+SocketPath(home) || token != "file-token" {
		t.Fatalf("socket and token file: %q %q %v", url, token, err)
	}

	// The environment wins over both.
	url, token, err = FromEnv(env(map[string]string{"RAMPART_URL": "http://127.0.0.1:1", "RAMPART_TOKEN": "env-token"}), home)
	if err != nil || url != "http://127.0.0.1:1" || token != "env-token" {
		t.Fatalf("environment: %q %q %v", url, token, err)
	}

	// A regular file where the socket should be is not a socket.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, SocketFileName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := DefaultURL(other); got != DefaultTCPURL {
		t.Errorf("a plain file as socket: %q, want %q", got, DefaultTCPURL)
	}
}

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadToken(filepath.Join(dir, "missing")); !errors.Is(err, ErrNoToken) {
		t.Errorf("missing file: %v, want ErrNoToken", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte(" \n"), 0o600)
	if _, err := ReadToken(empty); err == nil || errors.Is(err, ErrNoToken) {
		t.Errorf("empty file: %v, want an error that is not ErrNoToken", err)
	}
	// An empty token file is an error for FromEnv too: a server that
	// cannot be authenticated to should not be asked without a token.
	home := t.TempDir()
	os.WriteFile(TokenPath(home), nil, 0o600)
	if _, _, err := FromEnv(env(nil), home); err == nil {
		t.Error("FromEnv with an empty token file: no error")
	}
}
