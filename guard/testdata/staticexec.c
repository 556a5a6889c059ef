/* A statically linked C program that runs, in a child made with fork and
 * execve with an empty environment, the argument vector given one word
 * per line in $EXEC_ARGV, and reports how the exec went. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
	char *spec = getenv("EXEC_ARGV");
	if (spec == NULL) return 2;
	char *argv[64];
	int argc = 0;
	for (char *w = strtok(spec, "\n"); w != NULL && argc < 63; w = strtok(NULL, "\n")) argv[argc++] = w;
	argv[argc] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		char *env[] = {NULL};
		execve(argv[0], argv, env);
		fprintf(stderr, "staticexec.c: %s\n", strerror(errno));
		_exit(126);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
