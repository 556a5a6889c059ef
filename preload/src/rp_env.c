/*
 * rp_env.c: children stay covered. When a program starts a child with an
 * environment that drops or changes LD_PRELOAD or the RAMPART_* settings
 * (env -i, subprocess env={...}, unsetenv before exec), the child gets the
 * values this process was started with back.
 *
 * The new vector lives on the caller's stack (256 entries) or, for a
 * bigger environment, in an anonymous mmap: a system call, so it is safe in
 * a vfork child (where the mapping is left to the parent when the exec
 * succeeds: a few KiB, only in that rare case). Entries are never copied,
 * only pointed to, except a merged LD_PRELOAD built in the caller's buffer.
 */
#include <string.h>
#include <sys/mman.h>

#include "rampart.h"

/* managed returns the index in rp_cfg.env of the variable entry sets, or -1. */
static int managed(const char *entry)
{
	if (entry[0] != 'L' && entry[0] != 'R')
		return -1;
	for (int i = 0; i < RP_ENV_COUNT; i++) {
		const struct rp_trusted *t = &rp_cfg.env[i];
		if (strncmp(entry, t->name, t->name_len) == 0 && entry[t->name_len] == '=')
			return i;
	}
	return -1;
}

/* preload_has_self reports whether an LD_PRELOAD value names this library
 * (entries are separated by colons or spaces, as ld.so reads them). */
static int preload_has_self(const char *value)
{
	size_t self_len = strlen(rp_cfg.self_path);
	if (self_len == 0)
		return 1; /* nothing to look for */
	for (const char *p = value; *p;) {
		size_t len = strcspn(p, ": ");
		if (len == self_len && strncmp(p, rp_cfg.self_path, len) == 0)
			return 1;
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

/* entry_ok reports whether an envp entry for managed variable i can stay. */
static int entry_ok(int i, const char *entry)
{
	const struct rp_trusted *t = &rp_cfg.env[i];
	if (i == RP_ENV_LD_PRELOAD)
		return t->entry == NULL || preload_has_self(entry + t->name_len + 1);
	return t->entry != NULL && strcmp(entry, t->entry) == 0;
}

/* needs_fix reports whether envp differs from the trusted environment. */
static int needs_fix(char *const envp[], size_t *count)
{
	int seen[RP_ENV_COUNT] = {0};
	int fix = 0;
	size_t n = 0;
	for (; envp != NULL && envp[n] != NULL; n++) {
		int i = managed(envp[n]);
		if (i < 0)
			continue;
		if (seen[i]++ || !entry_ok(i, envp[n]))
			fix = 1;
	}
	for (int i = 0; i < RP_ENV_COUNT; i++)
		if (rp_cfg.env[i].entry != NULL && !seen[i])
			fix = 1;
	*count = n;
	return fix;
}

/* merged_preload writes "LD_PRELOAD=TRUSTED:THEIRS" into buf->preload for
 * a child that set an LD_PRELOAD of its own without this library: the
 * value this process started with (this library and whatever was preloaded
 * with it) comes first, their entries after. The trusted entry alone when
 * that does not fit. */
static char *merged_preload(const char *entry, struct rp_envbuf *buf)
{
	const struct rp_trusted *t = &rp_cfg.env[RP_ENV_LD_PRELOAD];
	const char *theirs = entry + t->name_len + 1;
	size_t mine = strlen(t->entry), their_len = strlen(theirs);
	if (mine + 1 + their_len + 1 > sizeof buf->preload)
		return (char *)t->entry;
	memcpy(buf->preload, t->entry, mine);
	if (their_len > 0) {
		buf->preload[mine] = ':';
		memcpy(buf->preload + mine + 1, theirs, their_len + 1);
	} else {
		buf->preload[mine] = '\0';
	}
	return buf->preload;
}

char *const *rp_env_fix(char *const envp[], struct rp_envbuf *buf)
{
	size_t n;
	buf->map = NULL;
	buf->map_len = 0;
	if (!rp_cfg.keep_env || !needs_fix(envp, &n))
		return envp;

	size_t want = n + RP_ENV_COUNT + 1;
	char **vec = buf->vec;
	if (want > sizeof buf->vec / sizeof buf->vec[0]) {
		size_t len = want * sizeof(char *);
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			rp_debug("cannot restore the environment of a child (mmap failed); passing it unchanged", NULL);
			return envp;
		}
		buf->map = m;
		buf->map_len = len;
		vec = m;
	}

	int added[RP_ENV_COUNT] = {0};
	size_t k = 0;
	for (size_t j = 0; j < n; j++) {
		int i = managed(envp[j]);
		if (i < 0) {
			vec[k++] = envp[j];
		} else if (!added[i] && (rp_cfg.env[i].entry != NULL || i == RP_ENV_LD_PRELOAD)) {
			/* Without a trusted LD_PRELOAD (not set, or too long to
			 * keep) there is nothing to put back: the child's own
			 * stays, as entry_ok says. */
			added[i] = 1;
			if (entry_ok(i, envp[j]))
				vec[k++] = envp[j];
			else if (i == RP_ENV_LD_PRELOAD)
				vec[k++] = merged_preload(envp[j], buf);
			else
				vec[k++] = (char *)rp_cfg.env[i].entry;
		}
		/* a RAMPART_* variable this process did not have, or a duplicate: dropped */
	}
	for (int i = 0; i < RP_ENV_COUNT; i++)
		if (rp_cfg.env[i].entry != NULL && !added[i])
			vec[k++] = (char *)rp_cfg.env[i].entry;
	vec[k] = NULL;
	rp_debug("restored LD_PRELOAD and RAMPART_* in a child's environment", NULL);
	return vec;
}

void rp_env_release(struct rp_envbuf *buf)
{
	if (buf->map != NULL)
		munmap(buf->map, buf->map_len);
	buf->map = NULL;
}
