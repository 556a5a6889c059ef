package server

import (
	"testing"
)

// FuzzDecodeCall: any body either decodes into a valid call or is
// rejected with an error; nothing panics.
func FuzzDecodeCall(f *testing.F) {
	for _, s := range []string{
		`{"tool":"exec","command":"git status"}`,
		`{"tool":"exec","argv":["rm","-rf","/"],"cwd":"/w"}`,
		`{"tool":"mcp","name":"mcp__x__y","input":{"a":[1,2]}}`,
		`{"tool":"read","path":"~/.ssh/id_rsa"} `,
		`[]`, `null`, `{"tool":`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		call, err := DecodeCall(body)
		if err != nil {
			if call != nil || err.Error() == "" {
				t.Fatalf("error %v with call %+v", err, call)
			}
			return
		}
		if verr := call.Validate(); verr != nil {
			t.Fatalf("decoded an invalid call %+v: %v", call, verr)
		}
	})
}

// FuzzDecodePreflight: any body and tool name decode or fail cleanly.
func FuzzDecodePreflight(f *testing.F) {
	f.Add("exec", []byte(`{"params":{"command":"ls"}}`))
	f.Add("mcp__github__x", []byte(`{"owner":"me"}`))
	f.Add("read", []byte(`{"path":1}`))
	f.Fuzz(func(t *testing.T, tool string, body []byte) {
		if tool == "" {
			return
		}
		call, err := decodePreflight(tool, body)
		if err == nil && call == nil {
			t.Fatal("no call and no error")
		}
	})
}
