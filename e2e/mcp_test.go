//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"testing"
)

// mcpServerEnv, set to 1, makes the test binary serve MCP on stdin and stdout
// instead of running tests: Claude Code starts it as the stdio MCP server
// "e2e", whose one tool, echo, appears to the model as mcp__e2e__echo.
const mcpServerEnv = "RAMPART_E2E_MCP_SERVER"

// mcpEchoTool is the name Claude Code gives the fake MCP server's tool.
const mcpEchoTool = "mcp__e2e__echo"

// mcpConfig is the --mcp-config document that starts this test binary as the
// MCP server "e2e".
func mcpConfig(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	config, err := json.Marshal(map[string]any{"mcpServers": map[string]any{
		"e2e": map[string]any{
			"type":    "stdio",
			"command": self,
			"args":    []string{"-test.run=^$"},
			"env":     map[string]string{mcpServerEnv: "1"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return string(config)
}

// rpcMessage is a JSON-RPC 2.0 request, notification or response.
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// serveMCP is a minimal MCP server over newline-delimited JSON-RPC: it
// answers initialize, tools/list (one tool, echo) and tools/call, and ignores
// notifications.
func serveMCP(in io.Reader, out io.Writer) error {
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	enc := json.NewEncoder(out)
	for scanner.Scan() {
		var req rpcMessage
		if err := json.Unmarshal(scanner.Bytes(), &req); err != nil {
			return fmt.Errorf("decode request: %w", err)
		}
		if req.ID == nil || req.Method == "" {
			continue // a notification, or a response to nothing we asked
		}
		resp := rpcMessage{JSONRPC: "2.0", ID: req.ID}
		switch req.Method {
		case "initialize":
			var params struct {
				ProtocolVersion string `json:"protocolVersion"`
			}
			_ = json.Unmarshal(req.Params, &params)
			resp.Result = map[string]any{
				"protocolVersion": params.ProtocolVersion,
				"capabilities":    map[string]any{"tools": map[string]any{}},
				"serverInfo":      map[string]string{"name": "e2e", "version": "1.0.0"},
			}
		case "ping":
			resp.Result = map[string]any{}
		case "tools/list":
			resp.Result = map[string]any{"tools": []any{map[string]any{
				"name":        "echo",
				"description": "Echo the given text back.",
				"inputSchema": map[string]any{
					"type":       "object",
					"properties": map[string]any{"text": map[string]string{"type": "string"}},
					"required":   []string{"text"},
				},
			}}}
		case "tools/call":
			var params struct {
				Arguments struct {
					Text string `json:"text"`
				} `json:"arguments"`
			}
			_ = json.Unmarshal(req.Params, &params)
			resp.Result = map[string]any{"content": []any{
				map[string]string{"type": "text", "text": "echo: " + params.Arguments.Text},
			}}
		default:
			resp.Error = &rpcError{Code: -32601, Message: "method not found: " + req.Method}
		}
		if err := enc.Encode(resp); err != nil {
			return fmt.Errorf("encode response: %w", err)
		}
	}
	return scanner.Err()
}
