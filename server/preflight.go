package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/rampart-dev/rampart/engine"
)

// PreflightResponse is the answer of POST /v1/preflight/{tool} and
// POST /v1/tool/{tool}, the API of earlier Rampart servers.
type PreflightResponse struct {
	Allowed         bool     `json:"allowed"`
	Decision        string   `json:"decision"`
	Message         string   `json:"message"`
	MatchedPolicies []string `json:"matched_policies"`
	EvalDurationUS  int64    `json:"eval_duration_us"`
	Policy          string   `json:"policy,omitempty"`
	Rule            string   `json:"rule,omitempty"`
	ApprovalID      string   `json:"approval_id,omitempty"`
	ApprovedBy      string   `json:"approved_by,omitempty"`
}

// toolAliases maps the tool names earlier clients use onto the tool-call
// model.
var toolAliases = map[string]string{
	"bash": engine.ToolExec, "shell": engine.ToolExec, "command": engine.ToolExec, "run": engine.ToolExec,
	"read_file": engine.ToolRead, "write_file": engine.ToolWrite, "edit_file": engine.ToolEdit,
	"web_fetch": engine.ToolFetch, "webfetch": engine.ToolFetch, "http": engine.ToolFetch,
}

// handlePreflight decides a call in the shape earlier Rampart clients
// send: the tool in the path, and a body that is either the parameters
// themselves or {"agent","session","params":{...}}. A decision is always
// 200, except that /v1/tool answers a deny with 403 (strict403).
func (s *Server) handlePreflight(w http.ResponseWriter, r *http.Request, tool string, strict403 bool) {
	if tool == "" || strings.Contains(tool, "/") {
		writeError(w, http.StatusNotFound, "no such endpoint: %s %s (the tool name goes last, as in /v1/preflight/exec)", r.Method, r.URL.Path)
		return
	}
	body, err := readBody(w, r)
	var call *engine.ToolCall
	if err == nil {
		call, err = decodePreflight(tool, body)
	}
	if err != nil {
		s.badRequest(w, err)
		return
	}
	adapter := adapterOf(r)
	d, took := s.decide(call, adapter)
	resp := PreflightResponse{Allowed: d.Allowed(), Decision: d.Decision.String(), Message: d.Message,
		MatchedPolicies: []string{}, EvalDurationUS: took.Microseconds(), Policy: d.Policy, Rule: d.Rule}
	if d.Rule != "" {
		resp.MatchedPolicies = append(resp.MatchedPolicies, d.Rule)
	}
	if wantsWait(r) && d.Decision == engine.ActionAsk {
		s.audit.flush() // the ask is on record before the wait
		final, a, err := s.waitForHuman(r, *call, d, adapter)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "%s", err.Error())
			return
		}
		resp.Allowed, resp.Decision, resp.Message = final == engine.ActionAllow, final.String(), a.answerMessage()
		resp.ApprovalID, resp.ApprovedBy = a.ID, a.ResolvedBy
	}
	status := http.StatusOK
	if strict403 && resp.Decision == engine.ActionDeny.String() {
		status = http.StatusForbidden
	}
	writeJSON(w, status, resp)
	s.auditAfterAnswer(w)
}

// decodePreflight builds a tool call from a preflight body. It is lenient
// about names (unknown parameters are ignored, as earlier servers did) but
// not about JSON or about the types of the fields it uses.
func decodePreflight(tool string, body []byte) (*engine.ToolCall, error) {
	var top map[string]json.RawMessage
	if err := decodeObject(body, &top, `{"agent":"a","session":"s","params":{"command":"git status"}}`); err != nil {
		return nil, err
	}
	params := top
	if raw, ok := top["params"]; ok && len(raw) > 0 && raw[0] == '{' {
		params = nil
		if err := json.Unmarshal(raw, &params); err != nil {
			return nil, fmt.Errorf(`field "params": %v`, err)
		}
	}
	call := &engine.ToolCall{Tool: strings.ToLower(tool)}
	if alias, ok := toolAliases[call.Tool]; ok {
		call.Tool = alias
	}
	if strings.HasPrefix(call.Tool, "mcp__") || strings.HasPrefix(call.Tool, "mcp_") {
		call.Name, call.Tool = tool, engine.ToolMCP
		call.Input, _ = json.Marshal(params)
	}
	fields := []struct {
		dst   *string
		names []string
		from  map[string]json.RawMessage
	}{
		{&call.Agent, []string{"agent"}, top},
		{&call.Session, []string{"session"}, top},
		{&call.Command, []string{"command", "cmd"}, params},
		{&call.Path, []string{"path", "file_path", "file"}, params},
		{&call.Content, []string{"content"}, params},
		{&call.URL, []string{"url"}, params},
		{&call.Cwd, []string{"cwd", "workdir"}, params},
	}
	if call.Name == "" {
		fields = append(fields, struct {
			dst   *string
			names []string
			from  map[string]json.RawMessage
		}{&call.Name, []string{"name"}, params})
	}
	for _, f := range fields {
		for _, name := range f.names {
			raw, ok := f.from[name]
			if !ok || string(raw) == "null" || *f.dst != "" {
				continue
			}
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return nil, fmt.Errorf("field %q: want a string", name)
			}
		}
	}
	for _, name := range []string{"argv", "args"} {
		if raw, ok := params[name]; ok && call.Argv == nil && string(raw) != "null" {
			if err := json.Unmarshal(raw, &call.Argv); err != nil {
				return nil, fmt.Errorf("field %q: want a list of strings", name)
			}
		}
	}
	if raw, ok := params["input"]; ok && call.Input == nil {
		call.Input = raw
	}
	if slices.Contains(engine.Tools, call.Tool) {
		if err := call.Validate(); err != nil {
			return nil, err
		}
	}
	return call, nil
}
