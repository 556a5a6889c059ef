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

// fakeGemini is a scripted stand-in for the Gemini API, which Gemini CLI
// reaches through GOOGLE_GEMINI_BASE_URL.
//
// A generateContent or streamGenerateContent request that offers tools
// (the agent loop) is answered with the next scripted function call,
// chosen by how many model turns the request's contents already hold (so
// a retried request gets the same answer), else a final text. Any other
// request gets a short text. Every request body is recorded, and so is
// every functionResponse Gemini CLI sends back, in order.
type fakeGemini struct {
	t      testing.TB
	server *httptest.Server

	mu        sync.Mutex
	script    []geminiCall
	bodies    []string
	responses []geminiResponse
}

// geminiCall is one function call the fake model makes.
type geminiCall struct {
	Name string
	Args map[string]any
}

// geminiResponse is a functionResponse part: the tool's name and what the
// model reads (output, or error when the tool failed or was blocked).
type geminiResponse struct {
	Name     string
	Response map[string]any
}

func newFakeGemini(t testing.TB) *fakeGemini {
	f := &fakeGemini{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1beta/models/{call}", f.generate)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Logf("fake gemini api: unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	f.server = httptest.NewServer(mux)
	t.Cleanup(f.server.Close)
	return f
}

// URL is GOOGLE_GEMINI_BASE_URL.
func (f *fakeGemini) URL() string { return f.server.URL }

// setScript sets the function calls the fake model makes, one per turn.
func (f *fakeGemini) setScript(script ...geminiCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = script
}

// Response returns the functionResponse the model got for the i-th
// scripted call.
func (f *fakeGemini) Response(i int) (geminiResponse, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.responses) {
		return geminiResponse{}, false
	}
	return f.responses[i], true
}

// Sent reports whether any request body carried s.
func (f *fakeGemini) Sent(s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.bodies, func(b string) bool { return strings.Contains(b, s) })
}

func (f *fakeGemini) generate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		Contents []struct {
			Role  string `json:"role"`
			Parts []struct {
				FunctionCall     json.RawMessage `json:"functionCall"`
				FunctionResponse *struct {
					Name     string         `json:"name"`
					Response map[string]any `json:"response"`
				} `json:"functionResponse"`
			} `json:"parts"`
		} `json:"contents"`
		Tools []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("fake gemini api: decode body: %v", err)
		http.Error(w, "invalid JSON body", http.StatusBadRequest)
		return
	}
	turns := 0
	var responses []geminiResponse
	for _, c := range req.Contents {
		called := false
		for _, p := range c.Parts {
			called = called || p.FunctionCall != nil
			if p.FunctionResponse != nil {
				responses = append(responses, geminiResponse{p.FunctionResponse.Name, p.FunctionResponse.Response})
			}
		}
		if c.Role == "model" && called {
			turns++
		}
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	if len(responses) > len(f.responses) {
		f.responses = responses
	}
	script := f.script
	f.mu.Unlock()

	var part map[string]any
	switch {
	case len(req.Tools) > 0 && turns < len(script):
		part = map[string]any{"functionCall": map[string]any{"name": script[turns].Name, "args": script[turns].Args}}
	case len(req.Tools) > 0:
		part = map[string]any{"text": finalText}
	default:
		part = map[string]any{"text": "OK."}
	}
	resp, _ := json.Marshal(map[string]any{
		"candidates": []any{map[string]any{"index": 0, "finishReason": "STOP",
			"content": map[string]any{"role": "model", "parts": []any{part}}}},
		"usageMetadata": map[string]any{"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
		"modelVersion":  "gemini-e2e-fake",
	})
	if strings.Contains(r.PathValue("call"), ":streamGenerateContent") {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: %s\n\n", resp)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(resp)
}
