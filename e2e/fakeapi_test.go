//go:build e2e

package e2e

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeAPI is a scripted stand-in for the Anthropic Messages API. Claude Code
// reaches it through ANTHROPIC_BASE_URL.
//
// Requests of the main conversation (the agent loop: a /v1/messages request
// that offers the Bash tool) are answered from script, one turn per request;
// which turn is chosen by how many assistant messages the request already
// carries, so a retried request gets the same answer. When the script is used
// up the answer is a final text. Every other /v1/messages request (a side
// request, such as WebFetch asking the model about the page it fetched; it
// offers no tools) gets a short text and never consumes the script.
//
// Every request is recorded, and so is every tool_result block the main
// conversation sends back, so a test can assert on what the model was shown.
type fakeAPI struct {
	t      testing.TB
	server *httptest.Server
	web    *httptest.Server // HTTPS, for the WebFetch tool

	mu          sync.Mutex
	script      []turn
	requests    []apiRequest
	toolResults map[string]toolResult
}

// turn is one scripted answer of the main conversation: tool calls if any,
// else a final text.
type turn struct {
	toolUses []toolUse
	text     string
}

// toolUse is one tool_use block the fake model emits. ID must be unique within
// a run; it comes back as the tool_result's tool_use_id.
type toolUse struct {
	ID    string
	Name  string
	Input map[string]any
}

// apiRequest is what the fake API records of each HTTP request.
type apiRequest struct {
	Method, Path string
	Model        string
	Stream       bool
	Main         bool // a request of the main conversation
	Body         string
}

// toolResult is a tool_result block Claude Code sent back to the model.
type toolResult struct {
	ToolUseID string
	IsError   bool
	Text      string // the text of its content, blocks joined by newlines
}

// finalText is the answer of the main conversation once the script is used up.
const finalText = "All done."

// newFakeAPI starts a fake API on 127.0.0.1; [fakeAPI.SetScript] gives it
// the main conversation's answers. It stops when the test ends.
func newFakeAPI(t testing.TB) *fakeAPI {
	f := &fakeAPI{t: t, toolResults: map[string]toolResult{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/messages", f.messages)
	mux.HandleFunc("POST /v1/messages/count_tokens", f.countTokens)
	mux.HandleFunc("/", f.notFound)
	f.server = httptest.NewServer(mux)
	t.Cleanup(f.server.Close)
	// WebFetch upgrades http:// to https://, so the page it fetches is
	// served over TLS; [fakeAPI.CertPEM] is the certificate to trust.
	web := http.NewServeMux()
	web.HandleFunc("GET /page", f.page)
	web.HandleFunc("/", f.notFound)
	f.web = httptest.NewTLSServer(web)
	t.Cleanup(f.web.Close)
	return f
}

// URL is the base URL to give Claude Code as ANTHROPIC_BASE_URL.
func (f *fakeAPI) URL() string { return f.server.URL }

// PageURL is the URL of a web page for the WebFetch tool.
func (f *fakeAPI) PageURL() string { return f.web.URL + "/page" }

// CertPEM is the certificate of the HTTPS server behind [fakeAPI.PageURL].
func (f *fakeAPI) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.web.Certificate().Raw})
}

// SetScript sets the answers of the main conversation, one per model turn.
func (f *fakeAPI) SetScript(script ...turn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = script
}

// Requests returns a copy of every request received so far.
func (f *fakeAPI) Requests() []apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiRequest(nil), f.requests...)
}

// ToolResult returns the tool_result Claude Code sent for the tool_use id.
func (f *fakeAPI) ToolResult(id string) (toolResult, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.toolResults[id]
	return r, ok
}

// messagesRequest is the part of a Messages API request the fake reads.
type messagesRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
}

// contentBlock is a content block of a request message.
type contentBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ToolUseID string          `json:"tool_use_id"`
	IsError   bool            `json:"is_error"`
	Content   json.RawMessage `json:"content"`
}

func (f *fakeAPI) record(r *http.Request, body []byte, req messagesRequest, main bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, apiRequest{
		Method: r.Method, Path: r.URL.Path, Model: req.Model, Stream: req.Stream,
		Main: main, Body: string(body),
	})
}

func (f *fakeAPI) messages(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req messagesRequest
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("fake api: %s %s: decode body: %v", r.Method, r.URL.Path, err)
		apiError(w, http.StatusBadRequest, "invalid_request_error", "invalid JSON body")
		return
	}
	main := offersTool(req, "Bash")
	f.record(r, body, req, main)
	if !main {
		writeMessage(w, req, []block{{Type: "text", Text: "OK."}}, "end_turn")
		return
	}
	f.collectToolResults(req)
	f.mu.Lock()
	script := f.script
	f.mu.Unlock()
	assistants := 0
	for _, m := range req.Messages {
		if m.Role == "assistant" {
			assistants++
		}
	}
	if assistants >= len(script) || len(script[assistants].toolUses) == 0 {
		text := finalText
		if assistants < len(script) && script[assistants].text != "" {
			text = script[assistants].text
		}
		writeMessage(w, req, []block{{Type: "text", Text: text}}, "end_turn")
		return
	}
	var blocks []block
	for _, u := range script[assistants].toolUses {
		blocks = append(blocks, block{Type: "tool_use", ID: u.ID, Name: u.Name, Input: u.Input})
	}
	writeMessage(w, req, blocks, "tool_use")
}

func offersTool(req messagesRequest, name string) bool {
	for _, t := range req.Tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// collectToolResults records the tool_result blocks of the request's last
// user message.
func (f *fakeAPI) collectToolResults(req messagesRequest) {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		m := req.Messages[i]
		if m.Role != "user" {
			continue
		}
		var blocks []contentBlock
		if json.Unmarshal(m.Content, &blocks) != nil {
			return // a plain string: no tool results
		}
		f.mu.Lock()
		for _, b := range blocks {
			if b.Type != "tool_result" {
				continue
			}
			f.toolResults[b.ToolUseID] = toolResult{ToolUseID: b.ToolUseID, IsError: b.IsError, Text: blockText(b.Content)}
		}
		f.mu.Unlock()
		return
	}
}

// blockText flattens a tool_result's content: a string, or text blocks.
func blockText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var blocks []contentBlock
	if json.Unmarshal(raw, &blocks) != nil {
		return string(raw)
	}
	var texts []string
	for _, b := range blocks {
		if b.Type == "text" {
			texts = append(texts, b.Text)
		}
	}
	return strings.Join(texts, "\n")
}

func (f *fakeAPI) countTokens(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req messagesRequest
	_ = json.Unmarshal(body, &req)
	f.record(r, body, req, false)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"input_tokens":%d}`, len(body)/4+1)
}

// page is a web page on the fake server for the WebFetch tool to fetch.
func (f *fakeAPI) page(w http.ResponseWriter, r *http.Request) {
	f.record(r, nil, messagesRequest{}, false)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, "<html><body><h1>Fake page</h1><p>Served by the Rampart e2e fake API.</p></body></html>\n")
}

func (f *fakeAPI) notFound(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.record(r, body, messagesRequest{}, false)
	f.t.Logf("fake api: unexpected request %s %s", r.Method, r.URL)
	apiError(w, http.StatusNotFound, "not_found_error", "no such endpoint in the fake API")
}

func apiError(w http.ResponseWriter, status int, kind, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"type":  "error",
		"error": map[string]string{"type": kind, "message": message},
	})
}
