/*
 * rp_path.c: which file an exec runs, found the way libc and the kernel
 * will find it, with system calls only.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rampart.h"

const char *rp_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

/* fd_link writes the target of /proc/self/fd/FD into out. */
static const char *fd_link(int fd, char *out, size_t n)
{
	struct rp_line l = {0};
	rp_line_str(&l, "/proc/self/fd/");
	rp_line_num(&l, fd);
	l.buf[l.len] = '\0';
	ssize_t k = readlink(l.buf, out, n - 1);
	if (k <= 0)
		return NULL;
	out[k] = '\0';
	return out;
}

/* join writes DIR/NAME into out; NULL when it does not fit. */
static const char *join(const char *dir, size_t dir_len, const char *name, char *out, size_t n)
{
	size_t name_len = strlen(name);
	if (dir_len == 0) {
		dir = ".";
		dir_len = 1;
	}
	if (dir_len + 1 + name_len + 1 > n)
		return NULL;
	memcpy(out, dir, dir_len);
	out[dir_len] = '/';
	memcpy(out + dir_len + 1, name, name_len + 1);
	return out;
}

static int executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* search_path finds file in $PATH as glibc's execvp does: each entry in
 * order (an empty one is the working directory), the first regular
 * executable file wins; without PATH, /bin:/usr/bin. */
static const char *search_path(const char *file, char *out, size_t n)
{
	const char *path = getenv("PATH");
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (const char *p = path;; p++) {
		const char *colon = strchr(p, ':');
		size_t len = colon != NULL ? (size_t)(colon - p) : strlen(p);
		if (join(p, len, file, out, n) != NULL && executable_file(out))
			return out;
		if (colon == NULL)
			return NULL;
		p = colon;
	}
}

const char *rp_resolve_exe(const struct rp_exe *exe, char *out, size_t n)
{
	const char *name = exe->name != NULL ? exe->name : "";
	char dir[PATH_MAX];
	switch (exe->kind) {
	case RP_EXE_PATH:
		return name;
	case RP_EXE_SEARCH:
		if (name[0] == '\0' || strchr(name, '/') != NULL)
			return name;
		return search_path(name, out, n) ?: name;
	case RP_EXE_FD:
		return fd_link(exe->fd, out, n) ?: "/proc/self/fd";
	case RP_EXE_AT:
		if (name[0] == '/')
			return name;
		if (name[0] == '\0' && (exe->at_flags & AT_EMPTY_PATH))
			return fd_link(exe->fd, out, n) ?: "/proc/self/fd";
		if (exe->fd == AT_FDCWD)
			return name;
		if (fd_link(exe->fd, dir, sizeof dir) == NULL)
			return name;
		return join(dir, strlen(dir), name, out, n) ?: name;
	}
	return name;
}
