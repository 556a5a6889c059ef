package audit

import (
	"regexp"
	"strings"
	"sync"
)

// Redacted replaces every secret that [Redact] finds.
const Redacted = "[REDACTED]"

// secretPatterns find secrets in commands, URLs and messages. The groups
// of a pattern are alternatives; the one that matched is the secret itself
// (a quoted value is the text between its quotes). The text around it is
// kept so a reader still sees what kind of value was there. A pattern runs only when the
// lower-cased text contains one of its hints (every match contains one),
// and is compiled the first time it runs: a hook process recording one
// "git status" compiles none of them.
var secretPatterns = []*secretPattern{
	// Authorization headers: "Authorization: Bearer x", "-H 'Authorization: token x'".
	newSecretPattern([]string{"authorization"}, `(?i)authorization:\s*(?:bearer|basic|token|digest)?\s*([^\s'"]+)`),
	// NAME=value and NAME: value where the name says it is a secret:
	// GITHUB_TOKEN=x, --password=x, api_key: x, X-Api-Key: x.
	newSecretPattern([]string{"pass", "secret", "token", "key", "credential"},
		`(?i)(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth[_-]?(?:token|key))[a-z0-9_-]*["']?\s*[=:]\s*(?:"([^"]+)"|'([^']+)'|([^\s'"&;|]+))`),
	// Flags whose next word is the secret: --password x, --token x.
	newSecretPattern([]string{"pass", "secret", "token", "key"},
		`(?i)(?:^|\s)--?(?:password|passwd|passphrase|secret|token|api-key|apikey|access-token|auth-token|client-secret)\s+(?:"([^"]+)"|'([^']+)'|([^\s'"]+))`),
	// user:password@ in URLs.
	newSecretPattern([]string{"@"}, `[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@`),
	// Well-known token formats.
	newSecretPattern([]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
		`\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`),
	newSecretPattern([]string{"sk-"}, `\b(sk-[A-Za-z0-9_-]{20,})`),
	newSecretPattern([]string{"akia", "asia"}, `\b((?:AKIA|ASIA)[0-9A-Z]{16})\b`),
	newSecretPattern([]string{"xox"}, `\b(xox[abprs]-[A-Za-z0-9-]{10,})`),
	newSecretPattern([]string{"aiza"}, `\b(AIza[0-9A-Za-z_-]{35})`),
	newSecretPattern([]string{"glpat-"}, `\b(glpat-[A-Za-z0-9_-]{20,})`),
	newSecretPattern([]string{"npm_"}, `\b(npm_[A-Za-z0-9]{36})`),
	newSecretPattern([]string{"eyj"}, `\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})`),
	// A private key: its body, up to the END line (or the end of the text).
	newSecretPattern([]string{"private key"}, `-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)(?:-----END [A-Z ]*PRIVATE KEY-----|$)`),
}

type secretPattern struct {
	hints []string
	re    func() *regexp.Regexp
}

func newSecretPattern(hints []string, expr string) *secretPattern {
	return &secretPattern{hints: hints, re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
}

// Redact returns s with secrets (tokens, passwords, API keys, credentials in
// URLs, private keys) replaced by [Redacted].
func Redact(s string) string {
	if s == "" {
		return s
	}
	lower := strings.ToLower(s)
	for _, p := range secretPatterns {
		for _, h := range p.hints {
			if strings.Contains(lower, h) {
				s = redactGroup(p.re(), s)
				break
			}
		}
	}
	return s
}

// redactGroup replaces the group that matched in every match of re in s.
func redactGroup(re *regexp.Regexp, s string) string {
	matches := re.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		start, end := -1, -1
		for g := 2; g+1 < len(m); g += 2 {
			if m[g] >= 0 {
				start, end = m[g], m[g+1]
				break
			}
		}
		if start < 0 || start == end || s[start:end] == Redacted {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(Redacted)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactRecord redacts every field of r that can hold a secret.
func redactRecord(r *Record) {
	r.Command = Redact(r.Command)
	r.URL = Redact(r.URL)
	r.Matched = Redact(r.Matched)
	r.Message = Redact(r.Message)
	r.Error = Redact(r.Error)
	if len(r.Argv) > 0 {
		argv := make([]string, len(r.Argv))
		for i, a := range r.Argv {
			argv[i] = Redact(a)
		}
		// A secret can be the word after a flag: --token X.
		for i := 1; i < len(argv); i++ {
			if isSecretFlag(r.Argv[i-1]) {
				argv[i] = Redacted
			}
		}
		r.Argv = argv
	}
}

func isSecretFlag(a string) bool {
	switch strings.ToLower(strings.TrimLeft(a, "-")) {
	case "password", "passwd", "passphrase", "secret", "token", "api-key", "apikey",
		"access-token", "auth-token", "client-secret":
		return strings.HasPrefix(a, "-")
	}
	return false
}
