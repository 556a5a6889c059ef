/*
 * checkloop.c: the cost of one check alone, without a new process: N
 * execv calls of a file that exists but is not executable (each is
 * checked, allowed, and then fails with EACCES). Prints the mean in
 * microseconds.
 *   checkloop N
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	char path[] = "/tmp/rampart-checkloop-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	char *args[] = {path, NULL};
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		execv(args[0], args);
	clock_gettime(CLOCK_MONOTONIC, &b);
	unlink(path);
	printf("%.2f\n", ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / n / 1000);
	return 0;
}
