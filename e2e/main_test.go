//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"testing"
)

// TestMain plays the fake MCP server when Claude Code starts the test binary
// as one (see [mcpConfig]); otherwise it runs the tests and then removes the
// rampart binary they built.
func TestMain(m *testing.M) {
	if os.Getenv(mcpServerEnv) == "1" {
		if err := serveMCP(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "e2e mcp server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	removeRampartBuild()
	os.Exit(code)
}
