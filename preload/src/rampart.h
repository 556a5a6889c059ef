/*
 * rampart.h: the internals of librampart.so shared by its source files.
 *
 * Everything on the exec path (checking a call, talking to the server,
 * restoring the environment) must be safe in a vfork child and after fork
 * in a multi-threaded program: no malloc, no stdio, no locks, only system
 * calls and bounded stack buffers (plus an anonymous mmap where a bound
 * would otherwise cut something off). The constructor is the only place
 * that may do more.
 */
#ifndef RAMPART_PRELOAD_H
#define RAMPART_PRELOAD_H

#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#define RP_HIDDEN __attribute__((visibility("hidden")))
#define RP_EXPORT __attribute__((visibility("default")))

/* ---- configuration (rp_config.c) --------------------------------------- */

enum rp_mode { RP_ENFORCE, RP_MONITOR, RP_DISABLED };

/* The environment variables that steer librampart. Children get them back
 * when a program drops or changes them (see rp_env.c). RAMPART_HOME is read
 * too (to find the default socket and token) but not kept: other Rampart
 * tools use it, and a child may have its own. */
enum {
	RP_ENV_LD_PRELOAD,
	RP_ENV_URL,
	RP_ENV_TOKEN,
	RP_ENV_MODE,
	RP_ENV_FAIL_OPEN,
	RP_ENV_DEBUG,
	RP_ENV_AGENT,
	RP_ENV_SESSION,
	RP_ENV_KEEP_ENV,
	RP_ENV_CONNECT_TIMEOUT,
	RP_ENV_TIMEOUT,
	RP_ENV_ASK_TIMEOUT,
	RP_ENV_ALLOW_TABLE,
	RP_ENV_COUNT
};

#define RP_MAX_ENV_ENTRY 4096   /* the longest NAME=value kept for children */
#define RP_ENV_ARENA (16 * 1024) /* room for all of them together */

struct rp_trusted {
	const char *name; /* "RAMPART_URL" */
	size_t name_len;
	const char *entry; /* "RAMPART_URL=unix:/...", or NULL: not set at load */
};

struct rp_config {
	int ready;
	int mode;
	int fail_open;
	int debug;
	int keep_env;
	int connect_timeout_ms;
	int total_timeout_ms;
	int ask_timeout_ms;

	/* Where the server is. url_unix: RAMPART_URL is unix:PATH. Without
	 * RAMPART_URL, default_sock is tried first and tcp second. */
	int url_unix;
	char unix_path[108];
	char default_sock[108];
	int have_tcp;
	struct sockaddr_storage tcp_addr;
	socklen_t tcp_addrlen;
	char host_header[280];
	char url_text[300]; /* for messages */
	/* The allow table (rp_cache.c), "" when it is not used:
	 * RAMPART_ALLOW_TABLE=0, or no Unix socket. */
	char table_path[108 + 8];

	char token[512];
	char agent[128];
	char session[128];

	char self_path[1024]; /* this library, as the dynamic loader opened it */
	struct rp_trusted env[RP_ENV_COUNT];
	/* The entries env points into, packed: the constructor touches as few
	 * pages as it can (each first touch is a page fault, in every process
	 * the library is loaded into). */
	size_t arena_used;
	char arena[RP_ENV_ARENA];
};

RP_HIDDEN extern struct rp_config rp_cfg;

/* rp_load_config fills rp_cfg from the environment (constructor only). */
RP_HIDDEN void rp_load_config(void);

/* ---- the real functions (librampart.c) --------------------------------- */

struct rp_real {
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	                   const posix_spawnattr_t *, char *const[], char *const[]);
	int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	                    const posix_spawnattr_t *, char *const[], char *const[]);
	int (*system)(const char *);
	FILE *(*popen)(const char *, const char *);
};

RP_HIDDEN extern struct rp_real rp_real;

/* ---- checking a call (rp_check.c) -------------------------------------- */

/* What the executable of an exec is, for the check. */
enum rp_exe_kind {
	RP_EXE_PATH,   /* a path, used as is (execve, posix_spawn) */
	RP_EXE_SEARCH, /* a file name searched in PATH unless it has a '/' */
	RP_EXE_AT,     /* relative to a directory fd (execveat) */
	RP_EXE_FD      /* an open fd (fexecve) */
};

struct rp_exe {
	enum rp_exe_kind kind;
	const char *name; /* path or file name; NULL for RP_EXE_FD */
	int fd;           /* dirfd (RP_EXE_AT) or fd (RP_EXE_FD) */
	int at_flags;     /* execveat flags */
	int may_chdir;    /* posix_spawn file actions run first: a relative
	                   * name may be found in another directory */
};

/* rp_check_exec asks the server about running exe with argv and returns 0
 * to go ahead or the errno value to fail with (EACCES). It prints the
 * "blocked" line itself. errno is unchanged on return. */
RP_HIDDEN int rp_check_exec(const struct rp_exe *exe, char *const argv[]);

/* rp_check_shell is rp_check_exec for a shell command string (system,
 * popen). */
RP_HIDDEN int rp_check_shell(const char *command);

/* rp_active reports whether calls are checked at all (mode not disabled). */
RP_HIDDEN int rp_active(void);

/* ---- the decision protocol (rp_http.c) --------------------------------- */

enum rp_decision { RP_ALLOW, RP_DENY, RP_ASK, RP_LOG };

struct rp_answer {
	int decision;
	int cached; /* the allow table held it: the server was not asked */
	char policy[128];
	char rule[128];
	char message[512];
	char error[200]; /* set when the exchange failed: why */
};

/* The tool call to send. Either argv (with exe_path replacing argv[0]) or
 * command. */
struct rp_call {
	const char *exe_path;
	char *const *argv;
	const char *command;
	const char *cwd;
};

/* rp_ask sends call to the server (waiting for a human when wait is set)
 * and fills ans. It returns 0 when ans->decision holds the server's
 * answer, -1 when the exchange failed (ans->error says why). */
RP_HIDDEN int rp_ask(const struct rp_call *call, int wait, struct rp_answer *ans);

/* ---- the allow table (rp_cache.c) ------------------------------------- */

/* The longest request body the table holds (the server's tableKeyMax). */
#define RP_TABLE_KEY_MAX 1008

/* rp_table_allows reports whether the server's allow table holds an allow
 * (or log) for exactly the request body key[0..len), and the note that
 * audits running it is written: then ans says so and the call may go
 * ahead without asking. Anything else (no table, a server that is not
 * collecting notes, not there, the table changing, no room for the note)
 * returns 0: ask the server. */
RP_HIDDEN int rp_table_allows(const char *key, size_t len, struct rp_answer *ans);

/* rp_table_prepare_fork maps the table in a process about to fork (a
 * pthread_atfork handler), so that its children, which are the ones that
 * exec, inherit the mapping instead of each making its own. */
RP_HIDDEN void rp_table_prepare_fork(void);

/* rp_send_all sends n bytes on a non-blocking socket before deadline_ns
 * (never raising SIGPIPE). Returns 0 or -1. */
RP_HIDDEN int rp_send_all(int fd, const char *p, size_t n, long long deadline_ns);

/* ---- JSON (rp_json.c) -------------------------------------------------- */

/* A sink that either counts bytes (fd < 0) or sends them on a socket
 * through a small buffer. */
/* rp_sink writes to fd through buf, counting every byte in total. With
 * fd -1 it only counts (to measure a body); with hold set it keeps what
 * fits in buf and sends nothing (to build a request before connecting),
 * and failed says it did not all fit. */
struct rp_sink {
	int fd;
	int hold;
	long long deadline_ns;
	size_t total;
	int failed;
	size_t len;
	char buf[2048];
};

RP_HIDDEN void rp_sink_bytes(struct rp_sink *s, const char *p, size_t n);
RP_HIDDEN void rp_sink_str(struct rp_sink *s, const char *p);
RP_HIDDEN int rp_sink_flush(struct rp_sink *s);
/* rp_json_string writes p as a JSON string: quotes, backslashes and
 * control characters escaped, invalid UTF-8 bytes as \ufffd. */
RP_HIDDEN void rp_json_string(struct rp_sink *s, const char *p);
RP_HIDDEN void rp_json_call(struct rp_sink *s, const struct rp_call *call);

/* rp_parse_answer reads a decision object from body[0..len). truncated
 * says the body was cut off by the buffer: a prefix that already holds the
 * decision is then accepted. Returns 0 or -1 (ans->error set). */
RP_HIDDEN int rp_parse_answer(const char *body, size_t len, int truncated, struct rp_answer *ans);

/* ---- the environment of children (rp_env.c) ---------------------------- */

struct rp_envbuf {
	char *vec[256];
	char preload[2 * RP_MAX_ENV_ENTRY];
	void *map;
	size_t map_len;
};

/* rp_env_fix returns envp, or a copy in buf with the trusted LD_PRELOAD and
 * RAMPART_* entries put back when envp dropped or changed them. Release
 * with rp_env_release after the real call returned. */
RP_HIDDEN char *const *rp_env_fix(char *const envp[], struct rp_envbuf *buf);
RP_HIDDEN void rp_env_release(struct rp_envbuf *buf);

/* ---- paths (rp_path.c) ------------------------------------------------- */

/* rp_resolve_exe writes the executable's path into out (size n): the PATH
 * search as execvp does it, or the /proc/self/fd link of an fd. Returns
 * out, or a pointer to the unresolved name when it cannot do better. */
RP_HIDDEN const char *rp_resolve_exe(const struct rp_exe *exe, char *out, size_t n);
RP_HIDDEN const char *rp_base_name(const char *path);

/* ---- small helpers (rp_util.c) ----------------------------------------- */

RP_HIDDEN long long rp_now_ns(void);
RP_HIDDEN size_t rp_strlcpy(char *dst, const char *src, size_t n);
RP_HIDDEN int rp_parse_int(const char *s, int def, int min, int max);
/* rp_line is a bounded line being built for stderr. */
struct rp_line {
	size_t len;
	char buf[1024];
};
RP_HIDDEN void rp_line_str(struct rp_line *l, const char *s);
RP_HIDDEN void rp_line_printable(struct rp_line *l, const char *s, size_t max);
RP_HIDDEN void rp_line_num(struct rp_line *l, long long v);
RP_HIDDEN void rp_line_write(struct rp_line *l); /* adds '\n', writes to fd 2 */
RP_HIDDEN void rp_debug(const char *what, const char *detail);

#endif
