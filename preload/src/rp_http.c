/*
 * rp_http.c: one HTTP/1.1 exchange with the policy server, written directly
 * on a socket: a Unix socket or loopback TCP, a new connection per call,
 * non-blocking with a connect deadline and a total deadline. No proxy is
 * ever used (the *_proxy variables are not read).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rampart.h"

#define RESPONSE_MAX 4096 /* the decision fits; a longer answer is cut (see rp_parse_answer) */

static const char *errno_text(int e)
{
	switch (e) {
	case ENOENT: return "no such file or directory";
	case ECONNREFUSED: return "connection refused";
	case EACCES: return "permission denied";
	case ETIMEDOUT: return "timed out";
	case ECONNRESET: return "connection reset";
	case EPIPE: return "connection closed";
	case EMFILE: case ENFILE: return "too many open files";
	case ENOTDIR: return "not a directory";
	case EHOSTUNREACH: case ENETUNREACH: return "unreachable";
	}
	return "error";
}

/* fail fills ans->error with "WHAT: TEXT (errno N)". */
static int fail(struct rp_answer *ans, const char *what, int e)
{
	struct rp_line l = {0};
	rp_line_str(&l, what);
	if (e != 0) {
		rp_line_str(&l, ": ");
		rp_line_str(&l, errno_text(e));
		rp_line_str(&l, " (errno ");
		rp_line_num(&l, e);
		rp_line_str(&l, ")");
	}
	l.buf[l.len] = '\0';
	rp_strlcpy(ans->error, l.buf, sizeof ans->error);
	return -1;
}

/* wait_fd waits until fd is ready for events or deadline_ns passes.
 * Returns 0 when ready, else -1 with errno (ETIMEDOUT on the deadline). */
static int wait_fd(int fd, short events, long long deadline_ns)
{
	for (;;) {
		long long left = deadline_ns - rp_now_ns();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd p = {.fd = fd, .events = events};
		int ms = (int)((left + 999999) / 1000000);
		int rc = poll(&p, 1, ms);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

int rp_send_all(int fd, const char *p, size_t n, long long deadline_ns)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline_ns) != 0)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

/* dial connects a non-blocking, close-on-exec socket to sa before
 * deadline_ns. Returns the fd or -1 with errno. */
static int dial(const struct sockaddr *sa, socklen_t len, long long deadline_ns)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc;
	for (;;) {
		rc = connect(fd, sa, len);
		if (rc == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && sa->sa_family == AF_UNIX) {
			/* the server's backlog is full: try again shortly */
			struct timespec pause = {0, 1000000};
			if (rp_now_ns() + 1000000 >= deadline_ns) {
				errno = ETIMEDOUT;
				break;
			}
			nanosleep(&pause, NULL);
			continue;
		}
		if (errno == EINPROGRESS) {
			int err = 0;
			socklen_t elen = sizeof err;
			if (wait_fd(fd, POLLOUT, deadline_ns) != 0)
				break;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
				break;
			errno = err;
			rc = err == 0 ? 0 : -1;
		}
		break;
	}
	if (rc < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int dial_unix(const char *path, long long deadline_ns)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (rp_strlcpy(sun.sun_path, path, sizeof sun.sun_path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return dial((const struct sockaddr *)&sun, sizeof sun, deadline_ns);
}

/* open_conn connects to the configured server: RAMPART_URL's Unix socket,
 * else (without RAMPART_URL) the default socket when it answers, else TCP. */
static int open_conn(struct rp_answer *ans, long long deadline_ns)
{
	int fd;
	if (rp_cfg.url_unix) {
		if ((fd = dial_unix(rp_cfg.unix_path, deadline_ns)) < 0)
			return fail(ans, "cannot connect to the policy server's socket", errno);
		return fd;
	}
	if (rp_cfg.default_sock[0]) {
		fd = dial_unix(rp_cfg.default_sock, deadline_ns);
		if (fd >= 0)
			return fd;
		if (errno != ENOENT && errno != ECONNREFUSED && errno != ENOTDIR)
			return fail(ans, "cannot connect to the policy server's socket", errno);
	}
	if (!rp_cfg.have_tcp)
		return fail(ans, "no policy server address (RAMPART_URL is not a usable URL)", 0);
	fd = dial((const struct sockaddr *)&rp_cfg.tcp_addr, rp_cfg.tcp_addrlen, deadline_ns);
	if (fd < 0)
		return fail(ans, "cannot connect to the policy server", errno);
	return fd;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* header_value finds header name (lowercase) in the header block
 * [h, end) and returns its value, or NULL. */
static const char *header_value(const char *h, const char *end, const char *name, const char **vend)
{
	size_t n = strlen(name);
	for (const char *line = h; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - line) > n && line[n] == ':') {
			size_t i = 0;
			while (i < n && lower((unsigned char)line[i]) == name[i])
				i++;
			if (i == n) {
				const char *v = line + n + 1;
				while (v < eol && (*v == ' ' || *v == '\t'))
					v++;
				const char *e = eol;
				while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
					e--;
				*vend = e;
				return v;
			}
		}
		line = eol + 1;
	}
	return NULL;
}

/* dechunk decodes a chunked body in place and returns its length; *cut is
 * set when the input ends before the last chunk. */
static size_t dechunk(char *body, size_t len, int *cut)
{
	size_t in = 0, out = 0;
	for (;;) {
		size_t size = 0;
		int digits = 0;
		while (in < len) {
			char c = body[in];
			int v = c >= '0' && c <= '9' ? c - '0' : lower((unsigned char)c) >= 'a' && lower((unsigned char)c) <= 'f' ? lower((unsigned char)c) - 'a' + 10 : -1;
			if (v < 0)
				break;
			if (size > (1u << 24)) {
				*cut = 1;
				return out;
			}
			size = size * 16 + (size_t)v;
			digits++;
			in++;
		}
		const char *eol = memchr(body + in, '\n', len - in);
		if (digits == 0 || eol == NULL) {
			*cut = 1;
			return out;
		}
		in = (size_t)(eol - body) + 1;
		if (size == 0)
			return out;
		size_t have = len - in < size ? len - in : size;
		memmove(body + out, body + in, have);
		out += have;
		in += have;
		if (have < size) {
			*cut = 1;
			return out;
		}
		if (in < len && body[in] == '\r')
			in++;
		if (in < len && body[in] == '\n')
			in++;
	}
}

/* parse_length reads the decimal number [p, end), or -1. */
static long long parse_length(const char *p, const char *end)
{
	long long v = 0;
	if (p == end)
		return -1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || v > (1LL << 40))
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

/* read_answer reads the response and parses it into ans. */
static int read_answer(int fd, long long deadline_ns, struct rp_answer *ans)
{
	char buf[RESPONSE_MAX + 1];
	size_t len = 0;
	int full = 0;
	const char *hend = NULL;
	long long content_length = -1;

	/* The answer takes the server a round trip: wait for it rather than
	 * try a read that would only say EAGAIN. */
	if (wait_fd(fd, POLLIN, deadline_ns) != 0)
		return fail(ans, "no answer from the policy server in time", errno);
	for (;;) {
		if (len == RESPONSE_MAX) {
			full = 1;
			break;
		}
		ssize_t r = recv(fd, buf + len, RESPONSE_MAX - len, 0);
		if (r > 0) {
			len += (size_t)r;
			buf[len] = '\0';
			if (hend == NULL && (hend = strstr(buf, "\r\n\r\n")) != NULL) {
				const char *ve;
				const char *v = header_value(buf, hend + 2, "content-length", &ve);
					if (v != NULL)
					content_length = parse_length(v, ve);
			}
			if (hend != NULL && content_length >= 0 && (long long)len >= (hend + 4 - buf) + content_length)
				break;
			continue;
		}
		if (r == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLIN, deadline_ns) != 0)
				return fail(ans, "no answer from the policy server in time", errno);
			continue;
		}
		return fail(ans, "reading the policy server's answer", errno);
	}
	buf[len] = '\0';
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
		return fail(ans, "the policy server's answer is not HTTP", 0);
	int status = rp_parse_int((char[]){buf[9], buf[10], buf[11], 0}, -1, 100, 999);
	if (hend == NULL)
		return fail(ans, "the policy server's answer has no complete header", 0);
	char *body = (char *)hend + 4;
	size_t blen = len - (size_t)(body - buf);
	int cut = full;
	const char *ve;
	const char *te = header_value(buf, hend + 2, "transfer-encoding", &ve);
	if (te != NULL && (size_t)(ve - te) == 7 && strncmp(te, "chunked", 7) == 0) {
		blen = dechunk(body, blen, &cut);
	} else if (content_length >= 0) {
		if ((long long)blen > content_length)
			blen = (size_t)content_length;
		else if ((long long)blen < content_length)
			cut = 1;
	}
	if (status != 200) {
		if (status == 401)
			return fail(ans, "the policy server refused the token (HTTP 401; check RAMPART_TOKEN)", 0);
		if (status == 413) {
			/* Not a server that is down but a call it will not judge:
			 * padding a command past the limit must not get it run,
			 * whatever the fail mode. */
			ans->decision = RP_DENY;
			ans->policy[0] = ans->rule[0] = '\0';
			rp_strlcpy(ans->message, "the call is larger than the policy server checks (1 MiB of JSON); it cannot be checked",
			           sizeof ans->message);
			return 0;
		}
		struct rp_line l = {0};
		rp_line_str(&l, "the policy server answered HTTP ");
		rp_line_num(&l, status < 0 ? 0 : status);
		l.buf[l.len] = '\0';
		return fail(ans, l.buf, 0);
	}
	if (cut && !full)
		return fail(ans, "the policy server's answer is cut off", 0);
	return rp_parse_answer(body, blen, cut, ans);
}

/* headers writes the request line and headers for a body of n bytes. */
static void headers(struct rp_sink *s, int wait, size_t n)
{
	rp_sink_str(s, wait ? "POST /v1/check?wait=1 HTTP/1.1\r\nHost: " : "POST /v1/check HTTP/1.1\r\nHost: ");
	rp_sink_str(s, rp_cfg.host_header);
	rp_sink_str(s, "\r\nUser-Agent: librampart\r\nX-Rampart-Adapter: preload\r\n");
	if (rp_cfg.token[0]) {
		rp_sink_str(s, "Authorization: Bearer ");
		rp_sink_str(s, rp_cfg.token);
		rp_sink_str(s, "\r\n");
	}
	struct rp_line l = {0};
	rp_line_str(&l, "Content-Type: application/json\r\nConnection: close\r\nContent-Length: ");
	rp_line_num(&l, (long long)n);
	rp_line_str(&l, "\r\n\r\n");
	rp_sink_bytes(s, l.buf, l.len);
}

/* write_body writes the request body: the one built already, or, when it
 * did not fit its buffer, the call's JSON again. */
static void write_body(struct rp_sink *s, const struct rp_sink *body, const struct rp_call *call)
{
	if (body->failed)
		rp_json_call(s, call);
	else
		rp_sink_bytes(s, body->buf, body->len);
}

int rp_ask(const struct rp_call *call, int wait, struct rp_answer *ans)
{
	long long start = rp_now_ns();
	long long total_ms = wait ? rp_cfg.ask_timeout_ms : rp_cfg.total_timeout_ms;
	long long deadline = start + total_ms * 1000000LL;
	long long connect_deadline = start + (long long)rp_cfg.connect_timeout_ms * 1000000LL;
	if (connect_deadline > deadline)
		connect_deadline = deadline;

	ans->error[0] = '\0';
	ans->cached = 0;
	/* The body, built once: kept when it fits the buffer (it is then the
	 * allow table's key too), else only measured, and built again as it
	 * is sent. */
	struct rp_sink body = {.fd = -1, .hold = 1};
	rp_json_call(&body, call);
	if (!wait && rp_cfg.table_path[0] && !body.failed && body.len <= RP_TABLE_KEY_MAX &&
	    rp_table_allows(body.buf, body.len, ans))
		return 0;

	/* The request is built before connecting, so that it follows the
	 * connection at once: the server, woken by the connection, finds it
	 * there and answers without waiting for it. A request larger than
	 * the buffer is written as it is built, after connecting. */
	struct rp_sink out = {.fd = -1, .hold = 1, .deadline_ns = deadline};
	headers(&out, wait, body.total);
	write_body(&out, &body, call);

	int fd = open_conn(ans, connect_deadline);
	if (fd < 0)
		return -1;
	if (!out.failed) {
		out.hold = 0;
		out.fd = fd;
	} else {
		out = (struct rp_sink){.fd = fd, .deadline_ns = deadline};
		headers(&out, wait, body.total);
		write_body(&out, &body, call);
	}
	int rc;
	if (rp_sink_flush(&out) != 0) {
		int e = errno;
		/* A server that refuses a request (413 for a body over its
		 * limit) answers and closes before reading all of it: read
		 * that answer, if there is one. */
		rc = e == ETIMEDOUT ? -1 : read_answer(fd, deadline, ans);
		if (rc != 0)
			rc = fail(ans, e == ETIMEDOUT ? "sending to the policy server timed out" : "sending to the policy server", e);
	} else {
		rc = read_answer(fd, deadline, ans);
	}
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}
