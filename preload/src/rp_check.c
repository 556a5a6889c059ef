/*
 * rp_check.c: deciding one exec or shell command: what is sent, what the
 * answer means in each mode, and the one line on stderr when a call is
 * blocked.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rampart.h"

/* The re-entry guard: the pid of the process whose thread is inside a
 * check, per thread. A pid, not a flag, because a vfork child shares its
 * parent's memory (thread-local storage included): if the child dies in
 * the middle of a check, the parent, whose pid differs, is not left looking
 * busy forever. The guard covers Rampart's own work only and is cleared
 * before the real function runs (a vfork child that execs never returns to
 * clear it). */
static __thread pid_t busy_pid __attribute__((tls_model("initial-exec")));

/* warned is set once this process printed that it allows calls without a
 * check; later failures are reported under RAMPART_DEBUG only. */
static int warned;

int rp_active(void) { return rp_cfg.mode != RP_DISABLED; }

/* What a blocked or waiting call is shown as. */
struct shown {
	char *const *argv;   /* the program's own argv, or */
	const char *command; /* the shell command */
};

static void line_call(struct rp_line *l, const struct shown *what)
{
	if (what->command != NULL) {
		rp_line_printable(l, what->command, 300);
		return;
	}
	size_t budget = 300;
	for (char *const *a = what->argv; a != NULL && *a != NULL && budget > 0; a++) {
		if (a != what->argv)
			rp_line_str(l, " ");
		size_t len = strlen(*a);
		rp_line_printable(l, *a, budget);
		budget = len < budget ? budget - len : 0;
	}
}

/* line_reason appends " (policy/rule: message)". */
static void line_reason(struct rp_line *l, const struct rp_answer *ans)
{
	rp_line_str(l, " (");
	if (ans->policy[0] || ans->rule[0]) {
		rp_line_printable(l, ans->policy, 100);
		rp_line_str(l, "/");
		rp_line_printable(l, ans->rule, 100);
		rp_line_str(l, ": ");
	}
	rp_line_printable(l, ans->message[0] ? ans->message : "denied by policy", 400);
	rp_line_str(l, ")");
}

static void say_blocked(const struct shown *what, const struct rp_answer *ans)
{
	struct rp_line l = {0};
	rp_line_str(&l, "rampart: blocked: ");
	line_call(&l, what);
	line_reason(&l, ans);
	rp_line_write(&l);
}

static void say_unchecked(const struct shown *what, const struct rp_answer *ans, int blocked)
{
	struct rp_line l = {0};
	if (blocked) {
		rp_line_str(&l, "rampart: blocked: ");
		line_call(&l, what);
		rp_line_str(&l, " (the policy server did not answer: ");
		rp_line_printable(&l, ans->error, 200);
		rp_line_str(&l, "; RAMPART_FAIL_OPEN=0 blocks what cannot be checked)");
	} else {
		rp_line_str(&l, "rampart: warning: the policy server did not answer (");
		rp_line_printable(&l, ans->error, 200);
		rp_line_str(&l, "); this process runs commands without a check (RAMPART_FAIL_OPEN=1)");
	}
	rp_line_write(&l);
}

static void say_waiting(const struct shown *what, const struct rp_answer *ans)
{
	struct rp_line l = {0};
	rp_line_str(&l, "rampart: waiting for approval: ");
	line_call(&l, what);
	line_reason(&l, ans);
	rp_line_str(&l, "; answer with rampart approve or rampart deny (rampart watch shows it)");
	rp_line_write(&l);
}

static void debug_decision(const struct shown *what, const struct rp_answer *ans, int rc, long long ns)
{
	if (!rp_cfg.debug)
		return;
	static const char *const names[] = {"allow", "deny", "ask", "log"};
	struct rp_line l = {0};
	line_call(&l, what);
	rp_line_str(&l, " -> ");
	if (rc != 0) {
		rp_line_str(&l, "no answer: ");
		rp_line_printable(&l, ans->error, 200);
	} else {
		rp_line_str(&l, names[ans->decision]);
		if (ans->cached)
			rp_line_str(&l, " (allow table)");
		if (ans->rule[0]) {
			rp_line_str(&l, " ");
			rp_line_printable(&l, ans->policy, 100);
			rp_line_str(&l, "/");
			rp_line_printable(&l, ans->rule, 100);
		}
	}
	rp_line_str(&l, " (");
	rp_line_num(&l, ns / 1000);
	rp_line_str(&l, " us)");
	l.buf[l.len] = '\0';
	rp_debug("check:", l.buf);
}

/* decide asks about one call and returns 0 (go ahead) or EACCES. */
static int decide(const struct rp_call *call, const struct shown *what)
{
	struct rp_answer ans;
	long long start = rp_now_ns();
	int rc = rp_ask(call, 0, &ans);
	debug_decision(what, &ans, rc, rp_now_ns() - start);
	int enforce = rp_cfg.mode == RP_ENFORCE;

	if (rc != 0) {
		if (enforce && !rp_cfg.fail_open) {
			say_unchecked(what, &ans, 1);
			return EACCES;
		}
		if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED) && enforce)
			say_unchecked(what, &ans, 0);
		return 0;
	}
	if (ans.decision == RP_ASK && enforce) {
		say_waiting(what, &ans);
		start = rp_now_ns();
		rc = rp_ask(call, 1, &ans);
		debug_decision(what, &ans, rc, rp_now_ns() - start);
		if (rc != 0) {
			/* The server said a human must decide; no answer is no approval. */
			rp_strlcpy(ans.message, ans.error, sizeof ans.message);
			ans.policy[0] = ans.rule[0] = '\0';
			say_blocked(what, &ans);
			return EACCES;
		}
		if (ans.decision == RP_ASK)
			ans.decision = RP_DENY;
	}
	if (ans.decision == RP_DENY && enforce) {
		say_blocked(what, &ans);
		return EACCES;
	}
	return 0;
}

/* enter takes the re-entry guard; 0 when this thread is already inside. */
static int enter(pid_t *me)
{
	*me = getpid();
	if (busy_pid == *me)
		return 0;
	busy_pid = *me;
	return 1;
}

static void leave(void) { busy_pid = 0; }

/* nested answers a call made while this thread is inside a check already,
 * which only a signal handler that interrupted the check can make (the
 * check may be waiting minutes for a human's answer). Checking it there
 * would need a second set of buffers on what may be a small signal stack;
 * letting it through would run it unchecked. So it is refused, except in
 * monitor mode. */
static int nested(const struct shown *what)
{
	if (rp_cfg.mode != RP_ENFORCE)
		return 0;
	struct rp_line l = {0};
	rp_line_str(&l, "rampart: blocked: ");
	line_call(&l, what);
	rp_line_str(&l, " (called from a signal handler while this thread waited for a Rampart check, "
	                "so it cannot be checked)");
	rp_line_write(&l);
	return EACCES;
}

/* working_dir returns the working directory in buf, or NULL when it has
 * none that fits (deeper than PATH_MAX), was deleted, or lies outside this
 * process's root. The system call, not getcwd(3): for a directory deeper
 * than its buffer glibc's getcwd walks the tree with opendir, which calls
 * malloc, and a check must not (it runs in vfork children). */
static const char *working_dir(char *buf, size_t n)
{
	int saved = errno;
	long len = syscall(SYS_getcwd, buf, n);
	errno = saved;
	return len > 0 && buf[0] == '/' ? buf : NULL;
}

/* nothing_to_run reports whether the real call will find no file at all
 * and fail with ENOENT (or ENOTDIR) by itself. Python and libuv try execve
 * on every $PATH entry in turn; asking about each missing candidate would
 * cost a round trip and print a "blocked" line each. The file is looked
 * up the way the kernel will look it up, never through exe_path alone:
 * the /proc/self/fd link of a deleted file or a memfd names no file, and
 * a directory's link may be too long to join to a name. */
static int nothing_to_run(const struct rp_exe *exe, const char *exe_path)
{
	struct stat st;
	int rc;
	switch (exe->kind) {
	case RP_EXE_FD:
		return 0;
	case RP_EXE_AT:
		rc = fstatat(exe->fd, exe->name != NULL ? exe->name : "", &st, exe->at_flags & AT_EMPTY_PATH);
		break;
	default:
		/* File actions may change directory before the exec (addchdir):
		 * where a relative name leads is not known here. */
		if (exe->may_chdir && exe_path[0] != '/')
			return 0;
		rc = stat(exe_path, &st);
	}
	return rc != 0 && (errno == ENOENT || errno == ENOTDIR);
}

__attribute__((noinline)) static int check_exec(const struct rp_exe *exe, char *const argv[])
{
	char path[PATH_MAX], cwd[PATH_MAX];
	const char *exe_path = rp_resolve_exe(exe, path, sizeof path);
	if (nothing_to_run(exe, exe_path))
		return 0;
	const char *dir = working_dir(cwd, sizeof cwd);
	struct shown what = {.argv = argv};
	char *const no_args[] = {(char *)exe_path, NULL};
	if (argv == NULL || argv[0] == NULL)
		what.argv = argv = no_args;

	struct rp_call call = {.exe_path = exe_path, .argv = argv, .cwd = dir};
	int rc = decide(&call, &what);
	/* A multi-call binary (busybox) or exec -a runs under a name of its
	 * choosing: judge that name too. */
	if (rc == 0 && argv[0][0] != '\0' && strcmp(rp_base_name(argv[0]), rp_base_name(exe_path)) != 0) {
		struct rp_call as_named = {.exe_path = argv[0], .argv = argv, .cwd = dir};
		rc = decide(&as_named, &what);
	}
	return rc;
}

int rp_check_exec(const struct rp_exe *exe, char *const argv[])
{
	pid_t me;
	if (!rp_active())
		return 0;
	if (!enter(&me)) {
		char *const no_args[] = {(char *)(exe->name != NULL ? exe->name : "(fd)"), NULL};
		return nested(&(struct shown){.argv = argv != NULL && argv[0] != NULL ? argv : no_args});
	}
	int saved = errno;
	int rc = check_exec(exe, argv);
	leave();
	errno = saved;
	return rc;
}

__attribute__((noinline)) static int check_shell(const char *command)
{
	char cwd[PATH_MAX];
	struct rp_call call = {.command = command, .cwd = working_dir(cwd, sizeof cwd)};
	struct shown what = {.command = command};
	return decide(&call, &what);
}

int rp_check_shell(const char *command)
{
	pid_t me;
	if (!rp_active())
		return 0;
	if (!enter(&me))
		return nested(&(struct shown){.command = command != NULL ? command : ""});
	int saved = errno;
	int rc = check_shell(command);
	leave();
	errno = saved;
	return rc;
}
