/*
 * rp_config.c: the settings, read once from the environment when the
 * library is loaded. Later changes to the process's environment do not
 * change them, and children get them back (rp_env.c).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rampart.h"

struct rp_config rp_cfg;

static const char *const env_names[RP_ENV_COUNT] = {
	[RP_ENV_LD_PRELOAD] = "LD_PRELOAD",
	[RP_ENV_URL] = "RAMPART_URL",
	[RP_ENV_TOKEN] = "RAMPART_TOKEN",
	[RP_ENV_MODE] = "RAMPART_MODE",
	[RP_ENV_FAIL_OPEN] = "RAMPART_FAIL_OPEN",
	[RP_ENV_DEBUG] = "RAMPART_DEBUG",
	[RP_ENV_AGENT] = "RAMPART_AGENT",
	[RP_ENV_SESSION] = "RAMPART_SESSION",
	[RP_ENV_KEEP_ENV] = "RAMPART_KEEP_ENV",
	[RP_ENV_CONNECT_TIMEOUT] = "RAMPART_CONNECT_TIMEOUT_MS",
	[RP_ENV_TIMEOUT] = "RAMPART_TIMEOUT_MS",
	[RP_ENV_ASK_TIMEOUT] = "RAMPART_ASK_TIMEOUT_MS",
	[RP_ENV_ALLOW_TABLE] = "RAMPART_ALLOW_TABLE",
};

/* value returns the captured value of variable i, or NULL. */
static const char *value(int i)
{
	const struct rp_trusted *t = &rp_cfg.env[i];
	return t->entry != NULL ? t->entry + t->name_len + 1 : NULL;
}

static int is_false(const char *v)
{
	return v != NULL && (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 ||
	                     strcasecmp(v, "off") == 0);
}

static void capture_env(void)
{
	for (int i = 0; i < RP_ENV_COUNT; i++) {
		struct rp_trusted *t = &rp_cfg.env[i];
		t->name = env_names[i];
		t->name_len = strlen(t->name);
		const char *v = getenv(t->name);
		if (v == NULL)
			continue;
		size_t len = t->name_len + 1 + strlen(v) + 1;
		if (len > RP_MAX_ENV_ENTRY || rp_cfg.arena_used + len > sizeof rp_cfg.arena) {
			rp_debug("ignoring a setting longer than 4 KiB:", t->name);
			continue;
		}
		char *entry = rp_cfg.arena + rp_cfg.arena_used;
		memcpy(entry, t->name, t->name_len);
		entry[t->name_len] = '=';
		strcpy(entry + t->name_len + 1, v);
		rp_cfg.arena_used += len;
		t->entry = entry;
	}
}

/* rampart_home writes $RAMPART_HOME, else $HOME/.rampart, into out. */
static int rampart_home(char *out, size_t n)
{
	const char *home = getenv("RAMPART_HOME");
	if (home != NULL && home[0])
		return rp_strlcpy(out, home, n) < n ? 0 : -1;
	home = getenv("HOME");
	if (home == NULL || home[0] == '\0')
		return -1;
	size_t len = strlen(home);
	if (len + sizeof "/.rampart" > n)
		return -1;
	memcpy(out, home, len);
	memcpy(out + len, "/.rampart", sizeof "/.rampart");
	return 0;
}

/* home_file writes the Rampart home's file name into out. */
static int home_file(const char *name, char *out, size_t n)
{
	char home[1024];
	if (rampart_home(home, sizeof home) != 0)
		return -1;
	size_t hl = strlen(home), nl = strlen(name);
	if (hl + 1 + nl + 1 > n)
		return -1;
	memcpy(out, home, hl);
	out[hl] = '/';
	memcpy(out + hl + 1, name, nl + 1);
	return 0;
}

/* set_token takes the token from RAMPART_TOKEN, else the Rampart home's
 * token file. A token that could break the request header is not used. */
static void set_token(void)
{
	const char *v = value(RP_ENV_TOKEN);
	if (v != NULL) {
		rp_strlcpy(rp_cfg.token, v, sizeof rp_cfg.token);
	} else {
		char path[1200];
		int fd = home_file("token", path, sizeof path) == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		if (fd >= 0) {
			ssize_t n = read(fd, rp_cfg.token, sizeof rp_cfg.token - 1);
			rp_cfg.token[n > 0 ? n : 0] = '\0';
			close(fd);
		}
	}
	size_t len = strlen(rp_cfg.token);
	while (len > 0 && (rp_cfg.token[len - 1] == '\n' || rp_cfg.token[len - 1] == '\r' ||
	                   rp_cfg.token[len - 1] == ' ' || rp_cfg.token[len - 1] == '\t'))
		rp_cfg.token[--len] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rp_cfg.token[i];
		if (c <= 0x20 || c >= 0x7f) {
			rp_debug("the token has characters that cannot go in a header; it is not sent", NULL);
			rp_cfg.token[0] = '\0';
			return;
		}
	}
}

/* set_tcp parses "http://HOST[:PORT][/]" with an IP literal or localhost
 * (no name lookup: that would load NSS modules into every process). */
static int set_tcp(const char *url)
{
	char host[64];
	const char *p = url + 7, *port = NULL, *end;
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL || (size_t)(end - p - 1) >= sizeof host)
			return -1;
		memcpy(host, p + 1, (size_t)(end - p - 1));
		host[end - p - 1] = '\0';
		end++;
	} else {
		end = p + strcspn(p, ":/");
		if ((size_t)(end - p) >= sizeof host)
			return -1;
		memcpy(host, p, (size_t)(end - p));
		host[end - p] = '\0';
	}
	int portnum = 80;
	if (*end == ':') {
		port = end + 1;
		char digits[8];
		size_t n = strcspn(port, "/");
		if (n == 0 || n >= sizeof digits)
			return -1;
		memcpy(digits, port, n);
		digits[n] = '\0';
		portnum = rp_parse_int(digits, -1, 1, 65535);
		if (portnum < 0 || strchr(digits, '-') != NULL)
			return -1;
		end = port + n;
	}
	if (*end != '\0' && strcmp(end, "/") != 0)
		return -1;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");

	memset(&rp_cfg.tcp_addr, 0, sizeof rp_cfg.tcp_addr);
	struct sockaddr_in *in4 = (struct sockaddr_in *)&rp_cfg.tcp_addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&rp_cfg.tcp_addr;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((unsigned short)portnum);
		rp_cfg.tcp_addrlen = sizeof *in4;
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)portnum);
		rp_cfg.tcp_addrlen = sizeof *in6;
	} else {
		return -1;
	}
	size_t hl = (size_t)(end - (url + 7));
	if (hl >= sizeof rp_cfg.host_header)
		return -1;
	memcpy(rp_cfg.host_header, url + 7, hl);
	rp_cfg.host_header[hl] = '\0';
	rp_cfg.have_tcp = 1;
	return 0;
}

static void set_server(void)
{
	const char *url = value(RP_ENV_URL);
	rp_strlcpy(rp_cfg.host_header, "localhost", sizeof rp_cfg.host_header);
	if (url == NULL || url[0] == '\0') {
		if (home_file("rampart.sock", rp_cfg.default_sock, sizeof rp_cfg.default_sock) != 0)
			rp_cfg.default_sock[0] = '\0';
		set_tcp("http://127.0.0.1:9090");
		rp_strlcpy(rp_cfg.host_header, "127.0.0.1:9090", sizeof rp_cfg.host_header);
		rp_strlcpy(rp_cfg.url_text, "http://127.0.0.1:9090", sizeof rp_cfg.url_text);
		return;
	}
	rp_strlcpy(rp_cfg.url_text, url, sizeof rp_cfg.url_text);
	if (strncmp(url, "unix:", 5) == 0) {
		const char *path = url + 5;
		while (path[0] == '/' && path[1] == '/')
			path++; /* unix:///run/x.sock */
		if (path[0] == '\0' || rp_strlcpy(rp_cfg.unix_path, path, sizeof rp_cfg.unix_path) >= sizeof rp_cfg.unix_path)
			rp_debug("RAMPART_URL: the socket path is empty or too long:", url);
		else
			rp_cfg.url_unix = 1;
		return;
	}
	if (set_tcp(url) != 0)
		rp_debug("RAMPART_URL is not http://IP:PORT, http://localhost:PORT or unix:PATH; every check fails:", url);
}

/* set_table names the allow table: next to the Unix socket the library
 * asks (the server's TablePath), unless RAMPART_ALLOW_TABLE is off. */
static void set_table(void)
{
	const char *sock = rp_cfg.url_unix ? rp_cfg.unix_path : rp_cfg.default_sock;
	rp_cfg.table_path[0] = '\0';
	if (is_false(value(RP_ENV_ALLOW_TABLE)) || sock[0] == '\0')
		return;
	size_t n = strlen(sock); /* < 108: unix_path and default_sock are that long */
	memcpy(rp_cfg.table_path, sock, n);
	memcpy(rp_cfg.table_path + n, ".allow", sizeof ".allow");
}

static void find_self(void)
{
	Dl_info info;
	if (dladdr((void *)&rp_load_config, &info) != 0 && info.dli_fname != NULL)
		rp_strlcpy(rp_cfg.self_path, info.dli_fname, sizeof rp_cfg.self_path);
}

static void debug_summary(void)
{
	struct rp_line l = {0};
	static const char *const modes[] = {"enforce", "monitor", "disabled"};
	rp_line_str(&l, "loaded; mode ");
	rp_line_str(&l, modes[rp_cfg.mode]);
	rp_line_str(&l, rp_cfg.fail_open ? ", fail-open" : ", fail-closed");
	rp_line_str(&l, ", server ");
	if (rp_cfg.url_unix) {
		rp_line_str(&l, "unix:");
		rp_line_str(&l, rp_cfg.unix_path);
	} else {
		if (rp_cfg.default_sock[0]) {
			rp_line_str(&l, "unix:");
			rp_line_str(&l, rp_cfg.default_sock);
			rp_line_str(&l, " if it exists, else ");
		}
		rp_line_str(&l, rp_cfg.url_text);
	}
	rp_line_str(&l, rp_cfg.token[0] ? ", token set" : ", no token");
	rp_line_str(&l, ", timeouts (ms) connect ");
	rp_line_num(&l, rp_cfg.connect_timeout_ms);
	rp_line_str(&l, " total ");
	rp_line_num(&l, rp_cfg.total_timeout_ms);
	rp_line_str(&l, " ask ");
	rp_line_num(&l, rp_cfg.ask_timeout_ms);
	rp_line_str(&l, rp_cfg.keep_env ? ", children keep the settings" : ", children may change the settings");
	rp_line_str(&l, rp_cfg.table_path[0] ? ", allow table " : ", no allow table");
	rp_line_str(&l, rp_cfg.table_path);
	l.buf[l.len] = '\0';
	rp_debug(l.buf, rp_cfg.self_path);
}

void rp_load_config(void)
{
	capture_env();
	const char *debug = value(RP_ENV_DEBUG);
	rp_cfg.debug = debug != NULL && debug[0] != '\0' && !is_false(debug);

	const char *mode = value(RP_ENV_MODE);
	rp_cfg.mode = RP_ENFORCE;
	if (mode != NULL && strcasecmp(mode, "monitor") == 0)
		rp_cfg.mode = RP_MONITOR;
	else if (mode != NULL && strcasecmp(mode, "disabled") == 0)
		rp_cfg.mode = RP_DISABLED;
	else if (mode != NULL && mode[0] != '\0' && strcasecmp(mode, "enforce") != 0)
		rp_debug("unknown RAMPART_MODE (want enforce, monitor or disabled); enforcing:", mode);

	rp_cfg.fail_open = !is_false(value(RP_ENV_FAIL_OPEN));
	rp_cfg.keep_env = !is_false(value(RP_ENV_KEEP_ENV));
	rp_cfg.connect_timeout_ms = rp_parse_int(value(RP_ENV_CONNECT_TIMEOUT), 1000, 1, 60000);
	rp_cfg.total_timeout_ms = rp_parse_int(value(RP_ENV_TIMEOUT), 3000, 1, 600000);
	rp_cfg.ask_timeout_ms = rp_parse_int(value(RP_ENV_ASK_TIMEOUT), 300000, 1, 86400000);

	const char *agent = value(RP_ENV_AGENT);
	rp_strlcpy(rp_cfg.agent, agent != NULL && agent[0] ? agent : "preload", sizeof rp_cfg.agent);
	const char *session = value(RP_ENV_SESSION);
	rp_strlcpy(rp_cfg.session, session != NULL ? session : "", sizeof rp_cfg.session);

	set_server();
	set_table();
	set_token();
	find_self();
	if (rp_cfg.debug)
		debug_summary();
}
