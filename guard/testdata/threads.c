/* Many threads exec at once (each forks and execs a child), to check the
 * supervisor answers concurrent notifications without deadlocking. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *prog;

static void *run(void *arg) {
	(void)arg;
	for (int i = 0; i < 5; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			execl(prog, prog, (char *)NULL);
			_exit(127);
		}
		int status;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "threads: exec failed\n");
			exit(1);
		}
	}
	return NULL;
}

int main(int argc, char **argv) {
	if (argc < 2) return 2;
	prog = argv[1];
	pthread_t t[16];
	for (int i = 0; i < 16; i++) pthread_create(&t[i], NULL, run, NULL);
	for (int i = 0; i < 16; i++) pthread_join(t[i], NULL);
	puts("threads: 80 execs done");
	return 0;
}
