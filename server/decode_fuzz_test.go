package server

import (
	"reflect"
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

// FuzzDecodeCallFast: whatever the fast path accepts, the general path
// decodes into the same call.
func FuzzDecodeCallFast(f *testing.F) {
	for _, s := range []string{
		`{"tool":"exec","command":"git status","cwd":"/w","agent":"a","session":"s"}`,
		`{"tool":"EXEC","argv":["rm","-rf","/"]}`,
		`{"tool":"exec","argv":[]}`,
		` { "tool" : "read" , "path" : "/etc/passwd" } `,
		`{"tool":"exec","command":"echo \"hi\""}`,
		`{"tool":"exec","Command":"ls"}`,
		`{"tool":"exec","command":"ls","command":"rm"}`,
		`{"tool":"write","path":"/x","content":"\u00e9t\u00e9"}`,
		`{"tool":"fetch","url":"https://x","home":"/h"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeCallFast(body)
		if !ok {
			return
		}
		slow, err := decodeCallSlow(body)
		if err != nil {
			t.Fatalf("fast path accepted %q, the general path says: %v", body, err)
		}
		if !reflect.DeepEqual(&fast, slow) {
			t.Fatalf("%q:\n fast    %#v\n general %#v", body, fast, *slow)
		}
	})
}
