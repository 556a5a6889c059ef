package audit

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		// Nothing secret: unchanged.
		{"git status", "git status"},
		{"ls -la ~/.ssh", "ls -la ~/.ssh"},
		{"grep -r token_count src/", "grep -r token_count src/"},
		// Assignments and flags.
		{"GITHUB_TOKEN=ghx12345 gh pr list", "GITHUB_TOKEN=[REDACTED] gh pr list"},
		{"mysql --password=hunter2 db", "mysql --password=[REDACTED] db"},
		{"tool --token abc.def-123 run", "tool --token [REDACTED] run"},
		{"export AWS_SECRET_ACCESS_KEY='wJalr/XUtnFEMI'", "export AWS_SECRET_ACCESS_KEY='[REDACTED]'"},
		{`{"api_key": "k-123"}`, `{"api_key": "[REDACTED]"}`},
		// Headers.
		{"curl -H 'Authorization: Bearer eyJabc' https://api", "curl -H 'Authorization: Bearer [REDACTED]' https://api"},
		{"curl -H 'X-Api-Key: 12345' https://api", "curl -H 'X-Api-Key: [REDACTED]' https://api"},
		// URL credentials.
		{"git clone https://bob:s3cret@github.com/x/y", "git clone https://bob:[REDACTED]@github.com/x/y"},
		// Known token formats anywhere.
		{"echo ghp_abcdefghijklmnopqrstuvwxyz0123456789", "echo [REDACTED]"},
		{"echo sk-ant-api03-abcdefghijklmnopqrstuv", "echo [REDACTED]"},
		{"aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "aws configure set aws_access_key_id [REDACTED]"},
		{"echo xoxb-1234567890-abcdef", "echo [REDACTED]"},
		// Quoted values are redacted whole, spaces and all.
		{`mysql --password "correct horse battery" db`, `mysql --password "[REDACTED]" db`},
		{`export API_KEY='a b c'`, `export API_KEY='[REDACTED]'`},
		{`{"password": "two words"}`, `{"password": "[REDACTED]"}`},
		// A private key's body, not just the line that starts it.
		{"printf '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----\n' > id",
			"printf '-----BEGIN OPENSSH PRIVATE KEY-----[REDACTED]-----END OPENSSH PRIVATE KEY-----\n' > id"},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIEow", "-----BEGIN RSA PRIVATE KEY-----[REDACTED]"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactArgvFlagValue(t *testing.T) {
	r := &Record{Argv: []string{"tool", "--password", "hunter2", "--api-key=abc", "plain"}}
	redactRecord(r)
	got := strings.Join(r.Argv, " ")
	if want := "tool --password [REDACTED] --api-key=[REDACTED] plain"; got != want {
		t.Fatalf("argv %q, want %q", got, want)
	}
	// A flag after a secret flag is redacted as its value, and still
	// names the next word as a secret.
	r = &Record{Argv: []string{"tool", "--token", "--api-key", "k2"}}
	redactRecord(r)
	got = strings.Join(r.Argv, " ")
	if want := "tool --token [REDACTED] [REDACTED]"; got != want {
		t.Fatalf("argv %q, want %q", got, want)
	}
}

func BenchmarkRedactPlain(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Redact("go test ./... -run TestFoo -count 1")
	}
}

func BenchmarkRedactSecret(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Redact("curl -H 'Authorization: Bearer abc' https://api.example.com/v1/x")
	}
}
