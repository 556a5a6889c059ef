/*
 * rp_json.c: the JSON librampart writes (a tool call, streamed through a
 * small buffer so no argument vector is too long for it) and the JSON it
 * reads (a decision, parsed strictly from a bounded buffer).
 */
#include <string.h>

#include "rampart.h"

/* ---- writing ----------------------------------------------------------- */

void rp_sink_bytes(struct rp_sink *s, const char *p, size_t n)
{
	s->total += n;
	if (s->hold) {
		if (!s->failed && n <= sizeof s->buf - s->len) {
			memcpy(s->buf + s->len, p, n);
			s->len += n;
		} else {
			s->failed = 1;
		}
		return;
	}
	if (s->fd < 0 || s->failed)
		return;
	while (n > 0) {
		size_t room = sizeof s->buf - s->len;
		size_t k = n < room ? n : room;
		memcpy(s->buf + s->len, p, k);
		s->len += k;
		p += k;
		n -= k;
		if (s->len == sizeof s->buf && rp_sink_flush(s) != 0)
			return;
	}
}

void rp_sink_str(struct rp_sink *s, const char *p) { rp_sink_bytes(s, p, strlen(p)); }

int rp_sink_flush(struct rp_sink *s)
{
	if (s->fd < 0 || s->failed)
		return s->failed ? -1 : 0;
	if (s->len > 0 && rp_send_all(s->fd, s->buf, s->len, s->deadline_ns) != 0)
		s->failed = 1;
	s->len = 0;
	return s->failed ? -1 : 0;
}

/* utf8_len returns the length of the valid UTF-8 sequence at p (1 to 4),
 * or 0 when the bytes there are not one: a stray continuation byte, an
 * overlong form, a surrogate, a value past U+10FFFF or a cut sequence. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xf4 && p[1] >= 0x90)
			return 0; /* past U+10FFFF */
		return 4;
	}
	return 0;
}

void rp_json_string(struct rp_sink *s, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)str;
	const unsigned char *run = p; /* bytes that need no escaping, not yet written */

	rp_sink_bytes(s, "\"", 1);
	while (*p) {
		unsigned c = *p;
		size_t n;
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0x80 && (n = utf8_len(p)) > 0) {
			p += n;
			continue;
		}
		rp_sink_bytes(s, (const char *)run, (size_t)(p - run));
		char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
		size_t len = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			if (c < 0x20) {
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
			} else { /* an invalid UTF-8 byte: what encoding/json makes of it too */
				memcpy(esc + 1, "ufffd", 5);
			}
			len = 6;
		}
		rp_sink_bytes(s, esc, len);
		p++;
		run = p;
	}
	rp_sink_bytes(s, (const char *)run, (size_t)(p - run));
	rp_sink_bytes(s, "\"", 1);
}

/* rp_json_call writes the tool call: only tool, argv or command, cwd,
 * agent and session (the server rejects unknown fields). */
void rp_json_call(struct rp_sink *s, const struct rp_call *call)
{
	rp_sink_str(s, "{\"tool\":\"exec\"");
	if (call->command != NULL) {
		rp_sink_str(s, ",\"command\":");
		rp_json_string(s, call->command);
	} else {
		rp_sink_str(s, ",\"argv\":[");
		rp_json_string(s, call->exe_path);
		if (call->argv != NULL && call->argv[0] != NULL) {
			for (char *const *a = call->argv + 1; *a != NULL; a++) {
				rp_sink_bytes(s, ",", 1);
				rp_json_string(s, *a);
			}
		}
		rp_sink_bytes(s, "]", 1);
	}
	if (call->cwd != NULL && call->cwd[0] == '/') {
		rp_sink_str(s, ",\"cwd\":");
		rp_json_string(s, call->cwd);
	}
	if (rp_cfg.agent[0]) {
		rp_sink_str(s, ",\"agent\":");
		rp_json_string(s, rp_cfg.agent);
	}
	if (rp_cfg.session[0]) {
		rp_sink_str(s, ",\"session\":");
		rp_json_string(s, rp_cfg.session);
	}
	rp_sink_bytes(s, "}", 1);
}

/* ---- reading ----------------------------------------------------------- */

/* Results of the readers below. */
enum { RJ_OK = 0, RJ_BAD = -1, RJ_EOF = -2 /* ran out of input */ };

struct reader {
	const char *p, *end;
};

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* put appends byte c to out (size n, at *k), dropping what does not fit. */
static void put(char *out, size_t n, size_t *k, char c)
{
	if (out != NULL && *k + 1 < n)
		out[(*k)++] = c;
}

static void put_utf8(char *out, size_t n, size_t *k, unsigned cp)
{
	if (cp == 0) {
		put(out, n, k, '?'); /* never a NUL inside a C string */
	} else if (cp < 0x80) {
		put(out, n, k, (char)cp);
	} else if (cp < 0x800) {
		put(out, n, k, (char)(0xc0 | cp >> 6));
		put(out, n, k, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		put(out, n, k, (char)(0xe0 | cp >> 12));
		put(out, n, k, (char)(0x80 | ((cp >> 6) & 0x3f)));
		put(out, n, k, (char)(0x80 | (cp & 0x3f)));
	} else {
		put(out, n, k, (char)(0xf0 | cp >> 18));
		put(out, n, k, (char)(0x80 | ((cp >> 12) & 0x3f)));
		put(out, n, k, (char)(0x80 | ((cp >> 6) & 0x3f)));
		put(out, n, k, (char)(0x80 | (cp & 0x3f)));
	}
}

/* read_string reads a JSON string at r->p into out (size n, may be NULL to
 * skip), unescaped and cut to fit. */
static int read_string(struct reader *r, char *out, size_t n)
{
	size_t k = 0;
	if (r->p >= r->end)
		return RJ_EOF;
	if (*r->p != '"')
		return RJ_BAD;
	r->p++;
	while (r->p < r->end) {
		unsigned char c = (unsigned char)*r->p++;
		if (c == '"') {
			if (out != NULL && n > 0)
				out[k] = '\0';
			return RJ_OK;
		}
		if (c < 0x20)
			return RJ_BAD;
		if (c != '\\') {
			put(out, n, &k, (char)c);
			continue;
		}
		if (r->p >= r->end)
			return RJ_EOF;
		c = (unsigned char)*r->p++;
		switch (c) {
		case '"': case '\\': case '/': put(out, n, &k, (char)c); break;
		case 'b': put(out, n, &k, '\b'); break;
		case 'f': put(out, n, &k, '\f'); break;
		case 'n': put(out, n, &k, '\n'); break;
		case 'r': put(out, n, &k, '\r'); break;
		case 't': put(out, n, &k, '\t'); break;
		case 'u': {
			unsigned cp, lo;
			if (r->end - r->p < 4)
				return RJ_EOF;
			if (hex4(r->p, &cp) != 0)
				return RJ_BAD;
			r->p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && r->end - r->p >= 6 && r->p[0] == '\\' &&
			    r->p[1] == 'u' && hex4(r->p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				r->p += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd;
			}
			put_utf8(out, n, &k, cp);
			break;
		}
		default:
			return RJ_BAD;
		}
	}
	return RJ_EOF;
}

/* skip_value skips one JSON value of any kind (nesting at most 32 deep). */
static int skip_value(struct reader *r, int depth)
{
	skip_ws(r);
	if (r->p >= r->end)
		return RJ_EOF;
	char c = *r->p;
	if (c == '"')
		return read_string(r, NULL, 0);
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		if (depth > 32)
			return RJ_BAD;
		r->p++;
		skip_ws(r);
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return RJ_OK;
		}
		for (;;) {
			int rc;
			if (c == '{') {
				skip_ws(r);
				if ((rc = read_string(r, NULL, 0)) != RJ_OK)
					return rc;
				skip_ws(r);
				if (r->p >= r->end)
					return RJ_EOF;
				if (*r->p++ != ':')
					return RJ_BAD;
			}
			if ((rc = skip_value(r, depth + 1)) != RJ_OK)
				return rc;
			skip_ws(r);
			if (r->p >= r->end)
				return RJ_EOF;
			char sep = *r->p++;
			if (sep == close)
				return RJ_OK;
			if (sep != ',')
				return RJ_BAD;
		}
	}
	/* number, true, false, null: a run of their characters */
	const char *start = r->p;
	while (r->p < r->end && strchr("0123456789+-.eEtruefalsn", *r->p) != NULL)
		r->p++;
	if (r->p == start)
		return RJ_BAD;
	return r->p >= r->end ? RJ_EOF : RJ_OK;
}

static int decision_of(const char *s)
{
	if (strcmp(s, "allow") == 0)
		return RP_ALLOW;
	if (strcmp(s, "deny") == 0)
		return RP_DENY;
	if (strcmp(s, "ask") == 0)
		return RP_ASK;
	if (strcmp(s, "log") == 0)
		return RP_LOG;
	return -1;
}

int rp_parse_answer(const char *body, size_t len, int truncated, struct rp_answer *ans)
{
	struct reader r = {body, body + len};
	char key[32], decision[16] = "";
	int rc = RJ_OK, have_decision = 0;

	ans->decision = -1;
	ans->policy[0] = ans->rule[0] = ans->message[0] = '\0';
	skip_ws(&r);
	if (r.p >= r.end || *r.p != '{') {
		rp_strlcpy(ans->error, "the answer is not a JSON object", sizeof ans->error);
		return -1;
	}
	r.p++;
	skip_ws(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
	} else {
		for (;;) {
			skip_ws(&r);
			if ((rc = read_string(&r, key, sizeof key)) != RJ_OK)
				break;
			skip_ws(&r);
			if (r.p >= r.end) {
				rc = RJ_EOF;
				break;
			}
			if (*r.p++ != ':') {
				rc = RJ_BAD;
				break;
			}
			skip_ws(&r);
			char *dst = NULL;
			size_t dst_n = 0;
			if (strcmp(key, "decision") == 0)
				dst = decision, dst_n = sizeof decision;
			else if (strcmp(key, "policy") == 0)
				dst = ans->policy, dst_n = sizeof ans->policy;
			else if (strcmp(key, "rule") == 0)
				dst = ans->rule, dst_n = sizeof ans->rule;
			else if (strcmp(key, "message") == 0)
				dst = ans->message, dst_n = sizeof ans->message;
			rc = dst != NULL ? read_string(&r, dst, dst_n) : skip_value(&r, 0);
			if (rc != RJ_OK)
				break;
			if (dst == decision)
				have_decision = 1;
			skip_ws(&r);
			if (r.p >= r.end) {
				rc = RJ_EOF;
				break;
			}
			char sep = *r.p++;
			if (sep == '}')
				break;
			if (sep != ',') {
				rc = RJ_BAD;
				break;
			}
		}
	}
	if (rc == RJ_OK) {
		skip_ws(&r);
		if (r.p != r.end)
			rc = RJ_BAD; /* text after the object */
	}
	if (rc == RJ_BAD || (rc == RJ_EOF && !(truncated && have_decision))) {
		rp_strlcpy(ans->error, rc == RJ_BAD ? "the answer is not valid JSON" : "the answer's JSON is cut off",
		           sizeof ans->error);
		return -1;
	}
	ans->decision = have_decision ? decision_of(decision) : -1;
	if (ans->decision < 0) {
		rp_strlcpy(ans->error, have_decision ? "the answer has an unknown decision" : "the answer has no decision",
		           sizeof ans->error);
		return -1;
	}
	return 0;
}
