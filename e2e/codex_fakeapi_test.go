//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeResponses is a scripted stand-in for the OpenAI Responses API, which
// Codex reaches through a custom model provider's base_url.
//
// Each POST /v1/responses is answered, as server-sent events, with one
// output item: the next scripted tool call, chosen by how many tool calls
// the request's input already holds (so a retried request gets the same
// answer), else a final message. Every request body is recorded, and so is
// every tool output Codex sends back, by call id.
type fakeResponses struct {
	t      testing.TB
	server *httptest.Server

	mu       sync.Mutex
	script   []codexCall
	bodies   []string
	outputs  map[string]string
	requests int
}

// codexCall is one tool call the fake model makes: a function call with
// JSON arguments (exec_command, MCP tools in Namespace), or, with Input
// set, a freeform custom tool call (apply_patch).
type codexCall struct {
	ID        string
	Name      string
	Namespace string
	Args      map[string]any
	Input     string
}

func newFakeResponses(t testing.TB, script ...codexCall) *fakeResponses {
	f := &fakeResponses{t: t, script: script, outputs: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/responses", f.responses)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Logf("fake responses api: unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	f.server = httptest.NewServer(mux)
	t.Cleanup(f.server.Close)
	return f
}

// setScript sets the tool calls the fake model makes, one per turn.
func (f *fakeResponses) setScript(script ...codexCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = script
}

// BaseURL is the model provider's base_url.
func (f *fakeResponses) BaseURL() string { return f.server.URL + "/v1" }

// Output returns what Codex sent the model as the output of call id.
func (f *fakeResponses) Output(id string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out, ok := f.outputs[id]
	return out, ok
}

// Sent reports whether any request body carried s.
func (f *fakeResponses) Sent(s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.bodies, func(b string) bool { return strings.Contains(b, s) })
}

func (f *fakeResponses) responses(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		Input []struct {
			Type   string          `json:"type"`
			CallID string          `json:"call_id"`
			Output json.RawMessage `json:"output"`
		} `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("fake responses api: decode body: %v", err)
		http.Error(w, "invalid JSON body", http.StatusBadRequest)
		return
	}
	calls := 0
	f.mu.Lock()
	f.requests++
	f.bodies = append(f.bodies, string(body))
	for _, it := range req.Input {
		switch it.Type {
		case "function_call", "custom_tool_call":
			calls++
		case "function_call_output", "custom_tool_call_output":
			f.outputs[it.CallID] = outputText(it.Output)
		}
	}
	script := f.script
	f.mu.Unlock()

	var item map[string]any
	if calls < len(script) {
		c := script[calls]
		if c.Input != "" {
			item = map[string]any{"type": "custom_tool_call", "name": c.Name, "call_id": c.ID, "input": c.Input}
		} else {
			args, _ := json.Marshal(c.Args)
			item = map[string]any{"type": "function_call", "name": c.Name, "call_id": c.ID, "arguments": string(args)}
			if c.Namespace != "" {
				item["namespace"] = c.Namespace
			}
		}
	} else {
		item = map[string]any{"type": "message", "role": "assistant", "id": "msg_e2e",
			"content": []any{map[string]any{"type": "output_text", "text": finalText}}}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	id := fmt.Sprintf("resp_e2e_%d", len(f.bodies))
	event := func(name string, data map[string]any) {
		data["type"] = name
		payload, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, payload)
	}
	event("response.created", map[string]any{"response": map[string]any{"id": id}})
	event("response.output_item.done", map[string]any{"item": item})
	event("response.completed", map[string]any{"response": map[string]any{"id": id, "usage": map[string]any{
		"input_tokens": 10, "input_tokens_details": nil, "output_tokens": 5, "output_tokens_details": nil, "total_tokens": 15}}})
}

// outputText flattens a tool output: a string, or a list of input_text
// items.
func outputText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var items []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return string(raw)
	}
	var texts []string
	for _, it := range items {
		texts = append(texts, it.Text)
	}
	return strings.Join(texts, "\n")
}
