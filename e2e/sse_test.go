//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
)

// block is a content block of a fake assistant message: text or tool_use.
type block struct {
	Type  string         `json:"type"`
	Text  string         `json:"text,omitempty"`
	ID    string         `json:"id,omitempty"`
	Name  string         `json:"name,omitempty"`
	Input map[string]any `json:"input,omitempty"`
}

var messageSeq atomic.Int64

// writeMessage answers a Messages API request with an assistant message made
// of blocks: as one JSON object, or, when the request asked to stream, as the
// API's server-sent events (message_start, then per block content_block_start,
// content_block_delta and content_block_stop, then message_delta and
// message_stop). Tool input is streamed as input_json_delta, as the real API
// does.
func writeMessage(w http.ResponseWriter, req messagesRequest, blocks []block, stopReason string) {
	id := fmt.Sprintf("msg_e2e_%04d", messageSeq.Add(1))
	model := req.Model
	if model == "" {
		model = "claude-e2e-fake"
	}
	usage := map[string]int{"input_tokens": 10, "output_tokens": 5,
		"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
	if !req.Stream {
		content := make([]map[string]any, 0, len(blocks))
		for _, b := range blocks {
			content = append(content, blockStart(b))
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": model,
			"content": content, "stop_reason": stopReason, "stop_sequence": nil,
			"usage": usage,
		})
		return
	}

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	event := func(name string, data any) {
		payload, err := json.Marshal(data)
		if err != nil {
			panic(err) // only our own maps and strings are marshalled
		}
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, payload)
	}
	event("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]int{"input_tokens": 10, "output_tokens": 1,
			"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
	}})
	event("ping", map[string]string{"type": "ping"})
	for i, b := range blocks {
		start := blockStart(b)
		var delta map[string]any
		switch b.Type {
		case "text":
			start["text"] = ""
			delta = map[string]any{"type": "text_delta", "text": b.Text}
		case "tool_use":
			start["input"] = map[string]any{}
			input, err := json.Marshal(b.Input)
			if err != nil {
				panic(err)
			}
			delta = map[string]any{"type": "input_json_delta", "partial_json": string(input)}
		}
		event("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": start})
		event("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": delta})
		event("content_block_stop", map[string]any{"type": "content_block_stop", "index": i})
	}
	event("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stopReason, "stop_sequence": nil},
		"usage": map[string]int{"output_tokens": 5}})
	event("message_stop", map[string]string{"type": "message_stop"})
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
}

// blockStart is a block as the API shows it whole: a text block or a
// tool_use block with its complete input.
func blockStart(b block) map[string]any {
	switch b.Type {
	case "tool_use":
		input := b.Input
		if input == nil {
			input = map[string]any{}
		}
		return map[string]any{"type": "tool_use", "id": b.ID, "name": b.Name, "input": input}
	default:
		return map[string]any{"type": "text", "text": b.Text}
	}
}
