/*
 * entrypoints_test.c: calls every entry point of librampart.so against a
 * real `rampart serve` and checks the result, errno, the "blocked" line,
 * and that a denied stand-in did not run (its marker file is absent).
 *
 * Run by tests/run.sh, which starts the server with tests/policy.yaml and
 * sets LD_PRELOAD, RAMPART_URL (unix:) and RAMPART_TOKEN:
 *   entrypoints_test SCRATCH_DIR
 * The policy denies `touch` of any file named rampart-denied*, asks about
 * rampart-ask*, and allows everything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *scratch;
static int passed, failed;

#define TOUCH "/usr/bin/touch"

static void check(int ok, const char *name, const char *fmt, ...)
{
	if (ok) {
		passed++;
		printf("ok - %s\n", name);
		return;
	}
	failed++;
	printf("not ok - %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static char *path_in(const char *name)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof bufs[0], "%s/%s", scratch, name);
	return b;
}

static int exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static char *read_file(const char *p)
{
	static char buf[65536];
	buf[0] = '\0';
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return buf;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

/* ---- running an exec-family call in a child ----------------------------- */

struct outcome {
	int returned; /* the call returned (the exec failed) */
	int rc, err;  /* what it returned, and errno */
	int status;   /* wait status of the child */
	char err_text[8192], out_text[8192];
};

typedef int (*call_fn)(void *arg);

/* in_child runs fn in a forked child whose stdout and stderr go to files,
 * and reports whether it returned (and with what) or exec'd. */
static void in_child(call_fn fn, void *arg, struct outcome *o)
{
	int pfd[2];
	memset(o, 0, sizeof *o);
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		perror("pipe2");
		exit(2);
	}
	char *out = path_in("child.out"), *err = path_in("child.err");
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fo, 1);
		dup2(fe, 2);
		close(fo);
		close(fe);
		int r[2];
		r[0] = fn(arg);
		r[1] = errno;
		if (write(pfd[1], r, sizeof r) != (ssize_t)sizeof r)
			_exit(98);
		_exit(99);
	}
	close(pfd[1]);
	int r[2];
	ssize_t n = read(pfd[0], r, sizeof r);
	close(pfd[0]);
	waitpid(pid, &o->status, 0);
	if (n == (ssize_t)sizeof r) {
		o->returned = 1;
		o->rc = r[0];
		o->err = r[1];
	}
	snprintf(o->out_text, sizeof o->out_text, "%s", read_file(out));
	snprintf(o->err_text, sizeof o->err_text, "%s", read_file(err));
}

static void expect_denied(const char *name, call_fn fn, void *arg, const char *marker)
{
	struct outcome o;
	in_child(fn, arg, &o);
	check(o.returned && o.rc == -1 && o.err == EACCES, name, "want -1/EACCES, got returned=%d rc=%d errno=%d (%s) status=%d",
	      o.returned, o.rc, o.err, strerror(o.err), o.status);
	char what[300];
	snprintf(what, sizeof what, "%s: one blocked line", name);
	check(strncmp(o.err_text, "rampart: blocked: ", 18) == 0 && strstr(o.err_text, "preload-test/") != NULL &&
	          strchr(o.err_text, '\n') == o.err_text + strlen(o.err_text) - 1,
	      what, "stderr was %s", o.err_text);
	if (marker != NULL) {
		snprintf(what, sizeof what, "%s: the stand-in did not run", name);
		check(!exists(marker), what, "%s exists", marker);
	}
}

static void expect_ran(const char *name, call_fn fn, void *arg, const char *marker)
{
	struct outcome o;
	in_child(fn, arg, &o);
	check(!o.returned && WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0, name,
	      "want a successful exec, got returned=%d rc=%d errno=%d status=%d stderr=%s", o.returned, o.rc, o.err,
	      o.status, o.err_text);
	if (marker != NULL) {
		char what[300];
		snprintf(what, sizeof what, "%s: the command ran", name);
		check(exists(marker), what, "%s is missing", marker);
	}
	char what[300];
	snprintf(what, sizeof what, "%s: nothing on stderr", name);
	check(o.err_text[0] == '\0', what, "stderr was %s", o.err_text);
}

/* ---- the calls ----------------------------------------------------------- */

static int do_execve(void *m) { return execve(TOUCH, (char *[]){"touch", m, NULL}, environ); }
static int do_execv(void *m) { return execv(TOUCH, (char *[]){"touch", m, NULL}); }
static int do_execvp(void *m) { return execvp("touch", (char *[]){"touch", m, NULL}); }
static int do_execvpe(void *m) { return execvpe("touch", (char *[]){"touch", m, NULL}, environ); }
static int do_execl(void *m) { return execl(TOUCH, "touch", (char *)m, (char *)NULL); }
static int do_execlp(void *m) { return execlp("touch", "touch", (char *)m, (char *)NULL); }
static int do_execle(void *m) { return execle(TOUCH, "touch", (char *)m, (char *)NULL, environ); }
static int do_execveat_dir(void *m)
{
	int dir = open("/usr/bin", O_RDONLY | O_DIRECTORY);
	return execveat(dir, "touch", (char *[]){"touch", m, NULL}, environ, 0);
}
static int do_execveat_empty(void *m)
{
	int fd = open(TOUCH, O_RDONLY);
	return execveat(fd, "", (char *[]){"touch", m, NULL}, environ, AT_EMPTY_PATH);
}
static int do_fexecve(void *m)
{
	int fd = open(TOUCH, O_RDONLY);
	return fexecve(fd, (char *[]){"touch", m, NULL}, environ);
}
/* copy_touch copies TOUCH into fd (a memfd or a new file). */
static int copy_touch(int fd)
{
	char buf[65536];
	ssize_t n;
	int in = open(TOUCH, O_RDONLY);
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return -1;
	close(in);
	return n == 0 ? 0 : -1;
}
/* execveat of a file whose /proc/self/fd link names no file: a memfd, and
 * a file deleted after it was opened. */
static int do_execveat_memfd(void *m)
{
	int fd = memfd_create("touch", MFD_CLOEXEC);
	if (copy_touch(fd) != 0)
		return -2;
	return execveat(fd, "", (char *[]){"touch", m, NULL}, environ, AT_EMPTY_PATH);
}
static int do_execveat_deleted(void *m)
{
	char *copy = path_in("touch-copy");
	int fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (copy_touch(fd) != 0)
		return -2;
	close(fd);
	fd = open(copy, O_RDONLY | O_CLOEXEC);
	unlink(copy);
	return execveat(fd, "", (char *[]){"touch", m, NULL}, environ, AT_EMPTY_PATH);
}
/* execveat relative to a directory deeper than PATH_MAX, whose path the
 * library cannot build: the file is there all the same. */
static int do_execveat_deep(void *m)
{
	char name[201];
	memset(name, 'd', 200);
	name[200] = '\0';
	int dir = open(scratch, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 25; i++) {
		mkdirat(dir, name, 0700);
		int sub = openat(dir, name, O_RDONLY | O_DIRECTORY);
		close(dir);
		dir = sub;
	}
	symlinkat(TOUCH, dir, "touch");
	return execveat(dir, "touch", (char *[]){"touch", m, NULL}, environ, 0);
}
/* A multi-call binary: /usr/bin/true run under the name "touch". The name
 * is judged too. */
static int do_as_other_name(void *m) { return execve("/bin/true", (char *[]){"touch", m, NULL}, environ); }
static int do_denied_name(void *m)
{
	(void)m;
	return execvp("rampart-test-denied", (char *[]){"rampart-test-denied", NULL});
}
static int do_missing(void *m)
{
	(void)m;
	return execve("/nonexistent/rampart-test-missing", (char *[]){"x", NULL}, environ);
}
static int do_missing_p(void *m)
{
	(void)m;
	return execvp("rampart-test-no-such-command", (char *[]){"x", NULL});
}

static const struct {
	const char *name;
	call_fn fn;
} exec_calls[] = {
	{"execve", do_execve},         {"execv", do_execv},
	{"execvp", do_execvp},         {"execvpe", do_execvpe},
	{"execl", do_execl},           {"execlp", do_execlp},
	{"execle", do_execle},         {"execveat dirfd", do_execveat_dir},
	{"execveat AT_EMPTY_PATH", do_execveat_empty},
	{"fexecve", do_fexecve},
	{"execveat AT_EMPTY_PATH of a memfd", do_execveat_memfd},
	{"execveat AT_EMPTY_PATH of a deleted file", do_execveat_deleted},
	{"execveat in a directory deeper than PATH_MAX", do_execveat_deep},
};

static void test_exec_family(void)
{
	for (size_t i = 0; i < sizeof exec_calls / sizeof exec_calls[0]; i++) {
		char name[200], file[100];
		snprintf(file, sizeof file, "rampart-denied-%zu", i);
		char *denied = path_in(file);
		snprintf(name, sizeof name, "%s denied", exec_calls[i].name);
		expect_denied(name, exec_calls[i].fn, denied, denied);

		snprintf(file, sizeof file, "allowed-%zu", i);
		char *allowed = path_in(file);
		snprintf(name, sizeof name, "%s allowed", exec_calls[i].name);
		expect_ran(name, exec_calls[i].fn, allowed, allowed);
	}
	expect_denied("argv[0] other than the executable's name is judged too", do_as_other_name,
	              path_in("rampart-denied-as"), NULL);
	struct outcome o;
	in_child(do_denied_name, NULL, &o);
	check(o.returned && o.rc == -1 && o.err == ENOENT && o.err_text[0] == '\0',
	      "a command that does not exist fails with ENOENT, unchecked and silent", "got rc=%d errno=%d stderr=%s",
	      o.rc, o.err, o.err_text);

	in_child(do_missing, NULL, &o);
	check(o.returned && o.rc == -1 && o.err == ENOENT && o.err_text[0] == '\0',
	      "an allowed exec that fails keeps the real errno", "got rc=%d errno=%d stderr=%s", o.rc, o.err,
	      o.err_text);
	in_child(do_missing_p, NULL, &o);
	check(o.returned && o.rc == -1 && o.err == ENOENT, "execvp of a missing command keeps ENOENT",
	      "got rc=%d errno=%d", o.rc, o.err);
}

/* ---- posix_spawn, system, popen (called in this process) ---------------- */

static int spawn_wait(int search, const char *file, char *const argv[], char *const envp[], int *rc, int *err_after)
{
	pid_t pid = -12345;
	errno = EDOM;
	*rc = search ? posix_spawnp(&pid, file, NULL, NULL, argv, envp) : posix_spawn(&pid, file, NULL, NULL, argv, envp);
	*err_after = errno;
	if (*rc != 0)
		return pid == -12345 ? -2 : -3;
	int status;
	waitpid(pid, &status, 0);
	return status;
}

static void test_spawn(void)
{
	int rc, err;
	char *m = path_in("rampart-denied-spawn");
	int st = spawn_wait(0, TOUCH, (char *[]){"touch", m, NULL}, environ, &rc, &err);
	check(rc == EACCES && st == -2 && err == EDOM && !exists(m), "posix_spawn denied",
	      "want EACCES, pid untouched, errno untouched, no marker; got rc=%d st=%d errno=%d", rc, st, err);
	m = path_in("rampart-denied-spawnp");
	st = spawn_wait(1, "touch", (char *[]){"touch", m, NULL}, environ, &rc, &err);
	check(rc == EACCES && st == -2 && err == EDOM && !exists(m), "posix_spawnp denied", "got rc=%d st=%d errno=%d",
	      rc, st, err);

	m = path_in("allowed-spawn");
	st = spawn_wait(0, TOUCH, (char *[]){"touch", m, NULL}, environ, &rc, &err);
	check(rc == 0 && st == 0 && exists(m), "posix_spawn allowed", "got rc=%d status=%d", rc, st);
	check(err == EDOM, "posix_spawn allowed keeps errno", "errno %d", err);
	m = path_in("allowed-spawnp");
	st = spawn_wait(1, "touch", (char *[]){"touch", m, NULL}, environ, &rc, &err);
	check(rc == 0 && st == 0 && exists(m), "posix_spawnp allowed", "got rc=%d status=%d", rc, st);
	st = spawn_wait(1, "rampart-test-no-such-command", (char *[]){"x", NULL}, environ, &rc, &err);
	check(rc == ENOENT, "posix_spawnp of a missing command is ENOENT", "got rc=%d", rc);

	/* File actions that change directory first: a relative name that is
	 * not in the caller's directory is found in the child's. */
	posix_spawn_file_actions_t chdir_first;
	posix_spawn_file_actions_init(&chdir_first);
	posix_spawn_file_actions_addchdir_np(&chdir_first, "/usr/bin");
	for (int allowed = 0; allowed < 2; allowed++) {
		m = path_in(allowed ? "allowed-spawn-chdir" : "rampart-denied-spawn-chdir");
		pid_t pid = -12345;
		rc = posix_spawn(&pid, "touch", &chdir_first, NULL, (char *[]){"touch", m, NULL}, environ);
		st = -1;
		if (rc == 0)
			waitpid(pid, &st, 0);
		if (allowed)
			check(rc == 0 && st == 0 && exists(m), "posix_spawn after addchdir allowed", "got rc=%d status=%d",
			      rc, st);
		else
			check(rc == EACCES && !exists(m), "posix_spawn of a relative name after addchdir denied",
			      "want EACCES and no marker, got rc=%d status=%d", rc, st);
	}
	posix_spawn_file_actions_destroy(&chdir_first);
}

static void test_system_popen(void)
{
	char cmd[8192];
	char *m = path_in("rampart-denied-system");
	snprintf(cmd, sizeof cmd, "touch '%s'", m);
	errno = 0;
	int rc = system(cmd);
	check(rc == -1 && errno == EACCES && !exists(m), "system denied", "rc=%d errno=%d", rc, errno);

	m = path_in("rampart-denied-system2");
	snprintf(cmd, sizeof cmd, "true && echo hi | (cat >/dev/null; touch '%s')", m);
	rc = system(cmd);
	check(rc == -1 && errno == EACCES && !exists(m), "system denied inside a pipeline and a subshell", "rc=%d errno=%d",
	      rc, errno);

	m = path_in("allowed-system");
	snprintf(cmd, sizeof cmd, "touch '%s' && exit 3", m);
	rc = system(cmd);
	check(WIFEXITED(rc) && WEXITSTATUS(rc) == 3 && exists(m), "system allowed keeps the exit status", "rc=%d", rc);
	check(system(NULL) != 0, "system(NULL) still reports a shell", "");

	m = path_in("rampart-denied-popen");
	snprintf(cmd, sizeof cmd, "touch '%s'", m);
	errno = 0;
	FILE *f = popen(cmd, "r");
	check(f == NULL && errno == EACCES && !exists(m), "popen denied", "f=%p errno=%d", (void *)f, errno);
	if (f)
		pclose(f);

	f = popen("echo hello; exit 4", "r");
	char line[64] = "";
	if (f != NULL && fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	rc = f != NULL ? pclose(f) : -1;
	check(strcmp(line, "hello\n") == 0 && WIFEXITED(rc) && WEXITSTATUS(rc) == 4, "popen allowed",
	      "line %s rc %d", line, rc);
}

/* ---- vfork ---------------------------------------------------------------- */

static void test_vfork(void)
{
	char *m = path_in("rampart-denied-vfork");
	char *argv[] = {"touch", m, NULL};
	pid_t pid = vfork();
	if (pid == 0) {
		execve(TOUCH, argv, environ);
		_exit(errno == EACCES ? 0 : 50 + errno);
	}
	int status;
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0 && !exists(m), "vfork child: denied exec is EACCES",
	      "status %d", status);

	char *ok = path_in("allowed-vfork");
	char *argv2[] = {"touch", ok, NULL};
	pid = vfork();
	if (pid == 0) {
		execve(TOUCH, argv2, environ);
		_exit(111);
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0 && exists(ok), "vfork child: allowed exec runs",
	      "status %d", status);

	/* The parent is still checked after its vfork child exec'd (the
	 * re-entry guard did not stay set in the shared memory). */
	int rc, err;
	m = path_in("rampart-denied-after-vfork");
	spawn_wait(0, TOUCH, (char *[]){"touch", m, NULL}, environ, &rc, &err);
	check(rc == EACCES && !exists(m), "after a vfork child exec'd, the parent is still checked", "rc=%d", rc);

	/* A vfork child killed in the middle of nothing leaves the guard too. */
	pid = vfork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, &status, 0);
	m = path_in("rampart-denied-after-vfork2");
	spawn_wait(0, TOUCH, (char *[]){"touch", m, NULL}, environ, &rc, &err);
	check(rc == EACCES && !exists(m), "after a vfork child exited, the parent is still checked", "rc=%d", rc);
}

/* ---- the environment of children ----------------------------------------- */

static int do_env(void *envp) { return execve("/usr/bin/env", (char *[]){"env", NULL}, envp); }

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

static int has_prefix_line(const char *text, const char *prefix)
{
	for (const char *p = text; (p = strstr(p, prefix)) != NULL; p++)
		if (p == text || p[-1] == '\n')
			return 1;
	return 0;
}

static int do_env_unset(void *unused)
{
	(void)unused;
	unsetenv("LD_PRELOAD");
	unsetenv("RAMPART_URL");
	setenv("RAMPART_MODE", "disabled", 1);
	return execv("/usr/bin/env", (char *[]){"env", NULL});
}

static void test_env(void)
{
	const char *preload = getenv("LD_PRELOAD"), *url = getenv("RAMPART_URL"), *token = getenv("RAMPART_TOKEN");
	char want_preload[8192], want_url[4096], want_token[1024];
	snprintf(want_preload, sizeof want_preload, "LD_PRELOAD=%s", preload ? preload : "");
	snprintf(want_url, sizeof want_url, "RAMPART_URL=%s", url ? url : "");
	snprintf(want_token, sizeof want_token, "RAMPART_TOKEN=%s", token ? token : "");

	struct outcome o;
	char *empty[] = {"FOO=1", NULL};
	in_child(do_env, empty, &o);
	check(has_line(o.out_text, "FOO=1") && has_line(o.out_text, want_preload) && has_line(o.out_text, want_url) &&
	          has_line(o.out_text, want_token),
	      "an explicit environment without LD_PRELOAD and RAMPART_* gets them back", "env printed:\n%s", o.out_text);

	char *tampered[] = {"RAMPART_MODE=disabled", "RAMPART_URL=unix:/nonexistent", "LD_PRELOAD=", "BAR=2", NULL};
	in_child(do_env, tampered, &o);
	check(!has_prefix_line(o.out_text, "RAMPART_MODE=") && has_line(o.out_text, want_url) &&
	          has_line(o.out_text, want_preload) && has_line(o.out_text, "BAR=2"),
	      "changed settings are replaced by the trusted ones", "env printed:\n%s", o.out_text);

	char theirs[8192], want_merged[8192];
	snprintf(theirs, sizeof theirs, "LD_PRELOAD=libm.so.6");
	snprintf(want_merged, sizeof want_merged, "LD_PRELOAD=%s:libm.so.6", preload ? preload : "");
	char *own[] = {theirs, NULL};
	in_child(do_env, own, &o);
	check(has_line(o.out_text, want_merged), "a child's own LD_PRELOAD keeps it, after the library",
	      "env printed:\n%s", o.out_text);

	in_child(do_env_unset, NULL, &o);
	check(has_line(o.out_text, want_preload) && has_line(o.out_text, want_url) &&
	          !has_prefix_line(o.out_text, "RAMPART_MODE="),
	      "unsetenv before execv does not drop the settings", "env printed:\n%s", o.out_text);

	/* More variables than the stack vector holds (the mmap path). */
	static char vars[400][32];
	char *big[401];
	for (int i = 0; i < 400; i++) {
		snprintf(vars[i], sizeof vars[i], "V%d=%d", i, i);
		big[i] = vars[i];
	}
	big[400] = NULL;
	in_child(do_env, big, &o);
	check(has_line(o.out_text, "V0=0") && has_line(o.out_text, "V399=399") && has_line(o.out_text, want_preload),
	      "a 400-variable environment is restored too", "env printed %zu bytes", strlen(o.out_text));

	int rc, err;
	char *none[] = {NULL};
	char *out = path_in("spawn-env.out");
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "env > '%s'", out);
	spawn_wait(0, "/bin/sh", (char *[]){"sh", "-c", cmd, NULL}, none, &rc, &err);
	check(rc == 0 && has_line(read_file(out), want_preload), "posix_spawn with an empty environment gets it back",
	      "rc=%d env:\n%s", rc, read_file(out));
}

/* ---- threads ------------------------------------------------------------- */

struct worker {
	int id, errors;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	for (int i = 0; i < 10; i++) {
		char name[64];
		int denied = i % 2;
		snprintf(name, sizeof name, denied ? "rampart-denied-t%d-%d" : "allowed-t%d-%d", w->id, i);
		char *m = path_in(name);
		char mark[4096];
		snprintf(mark, sizeof mark, "%s", m);
		int rc, err;
		int st = spawn_wait(0, TOUCH, (char *[]){"touch", mark, NULL}, environ, &rc, &err);
		if (denied ? (rc != EACCES || exists(mark)) : (rc != 0 || st != 0 || !exists(mark)))
			w->errors++;
	}
	return NULL;
}

static void test_threads(void)
{
	enum { N = 8 };
	pthread_t t[N];
	struct worker w[N];
	for (int i = 0; i < N; i++) {
		w[i] = (struct worker){.id = i};
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	int errors = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		errors += w[i].errors;
	}
	check(errors == 0, "8 threads spawning allowed and denied commands at once", "%d wrong results", errors);
}

/* ---- ask: a human answers over the server's API ------------------------- */

/* api sends one request to the server (RAMPART_URL is unix:PATH) and
 * returns the response body in buf. */
static int api(const char *method, const char *path, const char *body, char *buf, size_t n)
{
	const char *url = getenv("RAMPART_URL"), *token = getenv("RAMPART_TOKEN");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (url == NULL || strncmp(url, "unix:", 5) != 0)
		return -1;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", url + 5);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		close(fd);
		return -1;
	}
	char req[4096];
	int len = snprintf(req, sizeof req,
	                   "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
	                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	                   method, path, token ? token : "", strlen(body), body);
	if (write(fd, req, (size_t)len) != len) {
		close(fd);
		return -1;
	}
	size_t got = 0;
	ssize_t r;
	while (got < n - 1 && (r = read(fd, buf + got, n - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	close(fd);
	return 0;
}

struct asker {
	const char *marker;
	int rc;
};

static void *ask_main(void *p)
{
	struct asker *a = p;
	int err;
	int status = spawn_wait(0, TOUCH, (char *[]){"touch", (char *)a->marker, NULL}, environ, &a->rc, &err);
	if (a->rc == 0 && status != 0)
		a->rc = -1;
	return NULL;
}

/* wait_pending waits for a pending approval and writes its API path. */
static int wait_pending(char *path, size_t n)
{
	char buf[16384];
	for (int i = 0; i < 100; i++) {
		if (api("GET", "/v1/approvals", "", buf, sizeof buf) == 0) {
			char *id = strstr(buf, "\"id\":\"");
			if (id != NULL) {
				id += 6;
				char *end = strchr(id, '"');
				if (end != NULL && end - id < 100) {
					snprintf(path, n, "/v1/approvals/%.*s", (int)(end - id), id);
					return 0;
				}
			}
		}
		usleep(50000);
	}
	return -1;
}

static int answer(const char *path, const char *decision)
{
	char buf[4096], body[200];
	snprintf(body, sizeof body, "{\"decision\":\"%s\",\"by\":\"entrypoints_test\"}", decision);
	return api("POST", path, body, buf, sizeof buf);
}

/* answer_next waits for a pending approval and answers it. */
static int answer_next(const char *decision)
{
	char path[200];
	if (wait_pending(path, sizeof path) != 0)
		return -1;
	return answer(path, decision);
}

/* A signal handler that execs while its thread waits for a human's
 * answer: the check cannot be made there, so the exec is refused. */
static const char *handler_marker;
static volatile sig_atomic_t handler_errno = -1;
static void exec_in_handler(int sig)
{
	(void)sig;
	int saved = errno;
	execve(TOUCH, (char *[]){"touch", (char *)handler_marker, NULL}, environ);
	handler_errno = errno;
	errno = saved;
}

static void test_exec_from_signal_handler(void)
{
	handler_marker = path_in("allowed-from-handler"); /* allowed by the policy, but not checked */
	char *waiting = path_in("rampart-ask-interrupted");
	pid_t child = fork();
	if (child == 0) {
		struct sigaction sa = {.sa_handler = exec_in_handler};
		sigaction(SIGUSR1, &sa, NULL);
		execve(TOUCH, (char *[]){"touch", waiting, NULL}, environ);
		_exit(errno == EACCES && handler_errno == EACCES ? 0 : 1);
	}
	char path[200];
	int pending = wait_pending(path, sizeof path);
	kill(child, SIGUSR1);
	usleep(200000);
	int answered = pending == 0 ? answer(path, "deny") : -1;
	int st = -1;
	waitpid(child, &st, 0);
	check(pending == 0 && answered == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && !exists(handler_marker) &&
	          !exists(waiting),
	      "an exec from a signal handler during a check is refused with EACCES",
	      "pending=%d answered=%d status=%d handler's marker %s", pending, answered, st,
	      exists(handler_marker) ? "exists" : "absent");
}

static void test_ask(void)
{
	struct asker a = {.marker = path_in("rampart-ask-approved")};
	pthread_t t;
	pthread_create(&t, NULL, ask_main, &a);
	int answered = answer_next("allow");
	pthread_join(t, NULL);
	check(answered == 0 && a.rc == 0 && exists(a.marker), "ask, approved by a human: runs", "answered=%d rc=%d",
	      answered, a.rc);

	struct asker b = {.marker = path_in("rampart-ask-denied")};
	pthread_create(&t, NULL, ask_main, &b);
	answered = answer_next("deny");
	pthread_join(t, NULL);
	check(answered == 0 && b.rc == EACCES && !exists(b.marker), "ask, denied by a human: EACCES",
	      "answered=%d rc=%d", answered, b.rc);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SCRATCH_DIR (run by tests/run.sh)\n", argv[0]);
		return 2;
	}
	scratch = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	test_exec_family();
	test_spawn();
	test_system_popen();
	test_vfork();
	test_env();
	test_threads();
	test_ask();
	test_exec_from_signal_handler();

	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
