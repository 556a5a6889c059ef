/*
 * librampart.c: the public entry points of librampart.so.
 *
 * Loaded with LD_PRELOAD, the library replaces every exec-family function a
 * dynamically linked program can call (glibc's own internal calls, such as
 * system() starting /bin/sh, do not go through these symbols, so each
 * public one has its wrapper). Each wrapper asks the Rampart policy server
 * about the call (rp_check.c) and either fails the way the function
 * documents a failure, or restores errno, puts the trusted settings back
 * into the child's environment (rp_env.c) and calls the real function,
 * found once with dlsym(RTLD_NEXT) when the library is loaded.
 *
 * On deny: exec* return -1 with errno EACCES; posix_spawn and posix_spawnp
 * return EACCES (errno untouched, *pid not written); system returns -1
 * with errno EACCES; popen returns NULL with errno EACCES.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rampart.h"

extern char **environ;

struct rp_real rp_real;

static void *next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (f == NULL)
		rp_debug("no next definition of", name);
	return f;
}

/* init resolves the real functions and reads the settings. It runs as the
 * library's constructor, before main; a wrapper called earlier (from
 * another library's constructor) runs it itself. */
__attribute__((constructor)) static void init(void)
{
	if (rp_cfg.ready)
		return;
	rp_load_config();
	rp_real.execve = next("execve");
	rp_real.execvpe = next("execvpe");
	rp_real.execveat = next("execveat");
	rp_real.fexecve = next("fexecve");
	rp_real.posix_spawn = next("posix_spawn");
	rp_real.posix_spawnp = next("posix_spawnp");
	rp_real.system = next("system");
	rp_real.popen = next("popen");
	if (rp_active() && rp_cfg.table_path[0])
		pthread_atfork(rp_table_prepare_fork, NULL, NULL);
	__atomic_store_n(&rp_cfg.ready, 1, __ATOMIC_RELEASE);
}

static inline void ensure_init(void)
{
	if (!__atomic_load_n(&rp_cfg.ready, __ATOMIC_ACQUIRE))
		init();
}

static int missing(void)
{
	errno = ENOSYS;
	return -1;
}

/* run_exec makes the real call of exe with envp as the child's
 * environment. */
static int run_exec(const struct rp_exe *exe, char *const argv[], char *const envp[])
{
	switch (exe->kind) {
	case RP_EXE_PATH:
		return rp_real.execve ? rp_real.execve(exe->name, argv, envp) : missing();
	case RP_EXE_SEARCH:
		return rp_real.execvpe ? rp_real.execvpe(exe->name, argv, envp) : missing();
	case RP_EXE_AT:
		if (rp_real.execveat)
			return rp_real.execveat(exe->fd, exe->name, argv, envp, exe->at_flags);
		return (int)syscall(SYS_execveat, exe->fd, exe->name, argv, envp, exe->at_flags);
	case RP_EXE_FD:
		return rp_real.fexecve ? rp_real.fexecve(exe->fd, argv, envp) : missing();
	}
	return missing();
}

/* exec_with_env makes the real call with the trusted settings put back into
 * envp. A frame of its own, so its buffers and the check's are never on
 * the stack at the same time. */
__attribute__((noinline)) static int exec_with_env(const struct rp_exe *exe, char *const argv[], char *const envp[],
                                                   int saved_errno)
{
	struct rp_envbuf env;
	char *const *child_env = rp_env_fix(envp, &env);
	errno = saved_errno;
	int rc = run_exec(exe, argv, child_env);
	int e = errno;
	rp_env_release(&env);
	errno = e;
	return rc;
}

/* exec_checked is every exec* wrapper: check, then the real call with the
 * environment restored. It returns only when the exec failed. */
static int exec_checked(const struct rp_exe *exe, char *const argv[], char *const envp[])
{
	ensure_init();
	if (!rp_active())
		return run_exec(exe, argv, envp);
	int saved = errno;
	int denied = rp_check_exec(exe, argv);
	if (denied) {
		errno = denied;
		return -1;
	}
	return exec_with_env(exe, argv, envp, saved);
}

RP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	struct rp_exe exe = {.kind = RP_EXE_PATH, .name = path, .fd = -1};
	return exec_checked(&exe, argv, envp);
}

RP_EXPORT int execv(const char *path, char *const argv[])
{
	struct rp_exe exe = {.kind = RP_EXE_PATH, .name = path, .fd = -1};
	return exec_checked(&exe, argv, environ);
}

RP_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct rp_exe exe = {.kind = RP_EXE_SEARCH, .name = file, .fd = -1};
	return exec_checked(&exe, argv, envp);
}

RP_EXPORT int execvp(const char *file, char *const argv[])
{
	struct rp_exe exe = {.kind = RP_EXE_SEARCH, .name = file, .fd = -1};
	return exec_checked(&exe, argv, environ);
}

RP_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	struct rp_exe exe = {.kind = RP_EXE_AT, .name = path, .fd = dirfd, .at_flags = flags};
	return exec_checked(&exe, argv, envp);
}

RP_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	struct rp_exe exe = {.kind = RP_EXE_FD, .fd = fd};
	return exec_checked(&exe, argv, envp);
}

/* opaque hides a pointer's value from the optimiser: glibc declares the
 * first argument of execl* nonnull, but execl(path, NULL) happens, and the
 * NULL check must not be folded away. */
static inline const char *opaque(const char *p)
{
	__asm__("" : "+r"(p));
	return p;
}

/* The execl family collects its arguments on the stack, as glibc does. */
#define COLLECT_ARGS(first, argv, after_null)                                \
	size_t argc_ = 1;                                                     \
	va_list ap_;                                                          \
	va_start(ap_, first);                                                 \
	while (va_arg(ap_, char *) != NULL)                                   \
		argc_++;                                                      \
	va_end(ap_);                                                          \
	char *argv[argc_ + 1];                                                \
	argv[0] = (char *)(first);                                            \
	va_start(ap_, first);                                                 \
	for (size_t i_ = 1; i_ <= argc_; i_++)                                \
		argv[i_] = va_arg(ap_, char *);                               \
	after_null;                                                           \
	va_end(ap_)

RP_EXPORT int execl(const char *path, const char *arg, ...)
{
	struct rp_exe exe = {.kind = RP_EXE_PATH, .name = path, .fd = -1};
	if (opaque(arg) == NULL) {
		char *argv[] = {NULL};
		return exec_checked(&exe, argv, environ);
	}
	COLLECT_ARGS(arg, argv, (void)0);
	return exec_checked(&exe, argv, environ);
}

RP_EXPORT int execlp(const char *file, const char *arg, ...)
{
	struct rp_exe exe = {.kind = RP_EXE_SEARCH, .name = file, .fd = -1};
	if (opaque(arg) == NULL) {
		char *argv[] = {NULL};
		return exec_checked(&exe, argv, environ);
	}
	COLLECT_ARGS(arg, argv, (void)0);
	return exec_checked(&exe, argv, environ);
}

RP_EXPORT int execle(const char *path, const char *arg, ...)
{
	struct rp_exe exe = {.kind = RP_EXE_PATH, .name = path, .fd = -1};
	char *const *envp;
	if (opaque(arg) == NULL) {
		va_list ap;
		va_start(ap, arg);
		envp = va_arg(ap, char *const *);
		va_end(ap);
		char *argv[] = {NULL};
		return exec_checked(&exe, argv, envp);
	}
	COLLECT_ARGS(arg, argv, envp = va_arg(ap_, char *const *));
	return exec_checked(&exe, argv, envp);
}

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                        char *const[], char *const[]);

/* spawn_with_env is exec_with_env for posix_spawn and posix_spawnp. */
__attribute__((noinline)) static int spawn_with_env(spawn_fn real, pid_t *pid, const char *path,
                                                    const posix_spawn_file_actions_t *actions,
                                                    const posix_spawnattr_t *attr, char *const argv[],
                                                    char *const envp[])
{
	int saved = errno;
	struct rp_envbuf env;
	char *const *child_env = rp_env_fix(envp, &env);
	errno = saved;
	int rc = real(pid, path, actions, attr, argv, child_env);
	saved = errno;
	rp_env_release(&env);
	errno = saved;
	return rc;
}

/* spawn_checked is posix_spawn and posix_spawnp: a denied call returns
 * EACCES and leaves errno and *pid alone. */
static int spawn_checked(int search, pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                         const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	ensure_init();
	spawn_fn real = search ? rp_real.posix_spawnp : rp_real.posix_spawn;
	if (real == NULL)
		return ENOSYS;
	if (!rp_active())
		return real(pid, path, actions, attr, argv, envp);
	struct rp_exe exe = {.kind = search ? RP_EXE_SEARCH : RP_EXE_PATH, .name = path, .fd = -1,
	                     .may_chdir = actions != NULL};
	int denied = rp_check_exec(&exe, argv);
	if (denied)
		return denied;
	return spawn_with_env(real, pid, path, actions, attr, argv, envp);
}

RP_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn_checked(0, pid, path, actions, attr, argv, envp);
}

RP_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn_checked(1, pid, file, actions, attr, argv, envp);
}

/* system and popen send the command string: the server's shell analysis
 * judges every command in it. The shell they start inherits this process's
 * environment as it is (there is no envp to restore), and checks what it
 * runs itself when LD_PRELOAD is still there. */
RP_EXPORT int system(const char *command)
{
	ensure_init();
	if (rp_real.system == NULL)
		return missing();
	if (command != NULL) {
		int denied = rp_check_shell(command);
		if (denied) {
			errno = denied;
			return -1;
		}
	}
	return rp_real.system(command);
}

RP_EXPORT FILE *popen(const char *command, const char *type)
{
	ensure_init();
	if (rp_real.popen == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	if (command != NULL) {
		int denied = rp_check_shell(command);
		if (denied) {
			errno = denied;
			return NULL;
		}
	}
	return rp_real.popen(command, type);
}
