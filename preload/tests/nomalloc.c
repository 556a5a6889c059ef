/*
 * nomalloc: counts the malloc calls made while librampart.so checks an exec
 * from a working directory deeper than PATH_MAX, where glibc's getcwd(3)
 * falls back to walking the tree with opendir. A check must not allocate:
 * it runs in vfork children. Prints "rc RC errno ERRNO mallocs N" for
 * execve of touch MARKER (a denied stand-in). Run by fault_test.go.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;
extern void *__libc_malloc(size_t n);

static volatile unsigned long calls;

/* Replaces malloc for the whole process, glibc's own calls included. */
void *malloc(size_t n)
{
	calls++;
	return __libc_malloc(n);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s MARKER\n", argv[0]);
		return 2;
	}
	char name[201];
	memset(name, 'd', 200);
	name[200] = '\0';
	for (int i = 0; i < 25; i++) {
		if ((mkdir(name, 0700) != 0 && errno != EEXIST) || chdir(name) != 0) {
			perror("nomalloc: a deep directory");
			return 2;
		}
	}
	unsigned long before = calls;
	int rc = execve("/usr/bin/touch", (char *[]){"touch", argv[1], NULL}, environ);
	int err = errno;
	unsigned long during = calls - before;
	printf("rc %d errno %d mallocs %lu\n", rc, err, during);
	return 0;
}
