/*
 * threads.c: a multi-threaded program for the integration tests. Each of
 * THREADS threads starts ROUNDS children with fork+execv, posix_spawn and
 * system, alternating an allowed `touch DIR/allowed-...` and a denied
 * `touch DIR/rampart-denied-...`, while the other threads do the same.
 * It prints "allowed N denied N wrong N" and exits 0 when every result
 * was the expected one.
 *   threads DIR [THREADS] [ROUNDS]
 */
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *dir;
static int rounds = 6;

struct tally {
	int id, allowed, denied, wrong;
};

static int exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* start runs `touch path` the way round r says and returns 1 when it ran. */
static int start(int r, const char *path)
{
	char *argv[] = {"touch", (char *)path, NULL};
	int status = -1;
	switch (r % 3) {
	case 0: {
		pid_t pid = fork();
		if (pid == 0) {
			execv("/usr/bin/touch", argv);
			_exit(errno == EACCES ? 77 : 78);
		}
		waitpid(pid, &status, 0);
		return WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	case 1: {
		pid_t pid;
		if (posix_spawn(&pid, "/usr/bin/touch", NULL, NULL, argv, environ) != 0)
			return 0;
		waitpid(pid, &status, 0);
		return WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	default: {
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "touch '%s'", path);
		status = system(cmd);
		return status == 0;
	}
	}
}

static void *worker(void *p)
{
	struct tally *t = p;
	for (int r = 0; r < rounds; r++) {
		for (int deny = 0; deny < 2; deny++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s-%d-%d", dir, deny ? "rampart-denied" : "allowed", t->id, r);
			int ran = start(r, path);
			if (deny && !ran && !exists(path))
				t->denied++;
			else if (!deny && ran && exists(path))
				t->allowed++;
			else
				t->wrong++;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: threads DIR [THREADS] [ROUNDS]\n");
		return 2;
	}
	dir = argv[1];
	int n = argc > 2 ? atoi(argv[2]) : 8;
	if (argc > 3)
		rounds = atoi(argv[3]);
	if (n < 1 || n > 64)
		n = 8;
	pthread_t tid[64];
	struct tally t[64];
	for (int i = 0; i < n; i++) {
		t[i] = (struct tally){.id = i};
		pthread_create(&tid[i], NULL, worker, &t[i]);
	}
	int allowed = 0, denied = 0, wrong = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		allowed += t[i].allowed;
		denied += t[i].denied;
		wrong += t[i].wrong;
	}
	printf("allowed %d denied %d wrong %d\n", allowed, denied, wrong);
	return wrong == 0 ? 0 : 1;
}
