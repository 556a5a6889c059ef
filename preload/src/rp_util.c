/*
 * rp_util.c: clocks, bounded strings and stderr lines without stdio (stdio
 * locks and may allocate, which a vfork child must not do).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rampart.h"

long long rp_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* rp_strlcpy copies at most n-1 bytes and always terminates; it returns the
 * length of src so callers can tell it was cut. */
size_t rp_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);
	if (n > 0) {
		size_t k = len < n - 1 ? len : n - 1;
		memcpy(dst, src, k);
		dst[k] = '\0';
	}
	return len;
}

/* rp_parse_int reads a decimal integer; def when s is NULL, empty or not a
 * number, clamped to [min, max]. */
int rp_parse_int(const char *s, int def, int min, int max)
{
	long long v = 0;
	if (s == NULL || *s == '\0')
		return def;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return def;
		v = v * 10 + (*p - '0');
		if (v > max)
			return max;
	}
	return v < min ? min : (int)v;
}

void rp_line_str(struct rp_line *l, const char *s)
{
	while (*s && l->len < sizeof l->buf - 1)
		l->buf[l->len++] = *s++;
}

/* rp_line_printable appends at most max bytes of s on one line: tabs and
 * newlines as spaces, other control characters as '?', and "..." when s
 * was longer. */
void rp_line_printable(struct rp_line *l, const char *s, size_t max)
{
	size_t i = 0;
	for (; s[i] && i < max && l->len < sizeof l->buf - 1; i++) {
		unsigned char c = (unsigned char)s[i];
		l->buf[l->len++] = (c == '\n' || c == '\t') ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (s[i] && i >= max)
		rp_line_str(l, "...");
}

void rp_line_num(struct rp_line *l, long long v)
{
	char tmp[24];
	int n = 0;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && n < (int)sizeof tmp);
	if (v < 0 && l->len < sizeof l->buf - 1)
		l->buf[l->len++] = '-';
	while (n > 0 && l->len < sizeof l->buf - 1)
		l->buf[l->len++] = tmp[--n];
}

void rp_line_write(struct rp_line *l)
{
	l->buf[l->len++] = '\n'; /* rp_line_* always leave room for it */
	size_t off = 0;
	while (off < l->len) {
		ssize_t w = write(2, l->buf + off, l->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

/* rp_debug prints "rampart[PID]: debug: WHAT DETAIL" when RAMPART_DEBUG is
 * on. The token is never passed here. */
void rp_debug(const char *what, const char *detail)
{
	if (!rp_cfg.debug)
		return;
	int saved = errno;
	struct rp_line l = {0};
	rp_line_str(&l, "rampart[");
	rp_line_num(&l, (long long)getpid());
	rp_line_str(&l, "]: debug: ");
	rp_line_str(&l, what);
	if (detail != NULL) {
		rp_line_str(&l, " ");
		rp_line_printable(&l, detail, 600);
	}
	rp_line_write(&l);
	errno = saved;
}
