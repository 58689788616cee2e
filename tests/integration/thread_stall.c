/* thread_stall: stop one thread of a running process (and only it) with
 * ptrace, as a debugger or a vCPU that is not scheduled would, until
 * stdin closes; then let it go on.  SIGSTOP cannot do this: it stops every
 * thread of the process.
 *
 *   thread_stall TID [PORT]
 *
 * With PORT, plain NTP requests are sent to 127.0.0.1:PORT as fast as
 * possible until the thread is stopped, so that an NTP worker is busy,
 * and the thread is stopped only in user space (in the middle of its
 * work, holding what it took for its batch), never in a system call
 * (poll: where it holds nothing).  Prints "stopped TID" once it is
 * stopped and "resumed TID" once it runs again.  Exit 0, or 1 (with a
 * reason on stderr).  If thread_stall dies, the kernel lets the thread go
 * on. */
#include "build_config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FLOOD_BATCH 64
#define NTP_LEN 48
#define ATTEMPTS 5000

static atomic_bool flooding = true;

static void *flood(void *arg)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint8_t pkt[NTP_LEN] = { 0x23 };	/* NTPv4, client */
	struct mmsghdr m[FLOOD_BATCH];
	struct iovec iov = { pkt, sizeof(pkt) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	to.sin_port = htons((uint16_t)atoi(arg));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(m, 0, sizeof(m));
	for (int i = 0; i < FLOOD_BATCH; i++) {
		m[i].msg_hdr.msg_name = &to;
		m[i].msg_hdr.msg_namelen = sizeof(to);
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (fd >= 0 && atomic_load(&flooding))
		(void)sendmmsg(fd, m, FLOOD_BATCH, 0);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* The thread is stopped outside any system call: /proc says "-1". */
static bool in_user_space(pid_t tid)
{
	char path[64], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strncmp(buf, "-1 ", 3) == 0;
}

/* Stop tid with PTRACE_INTERRUPT; true once stopped (and, when busy, in
 * user space).  false: detached again, try later. */
static bool stop_once(pid_t tid, bool busy)
{
	int st;

	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
		fprintf(stderr, "thread_stall: PTRACE_SEIZE %d: %s\n", (int)tid, strerror(errno));
		exit(1);
	}
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 || waitpid(tid, &st, __WALL) < 0) {
		fprintf(stderr, "thread_stall: stopping %d: %s\n", (int)tid, strerror(errno));
		exit(1);
	}
	if (!busy || in_user_space(tid))
		return true;
	ptrace(PTRACE_DETACH, tid, NULL, NULL);
	return false;
}

int main(int argc, char **argv)
{
	pthread_t flooder;
	struct timespec pause = { 0, 2000000 };
	pid_t tid;
	int i;
	char c;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: thread_stall TID [PORT]\n");
		return 1;
	}
	tid = (pid_t)atoi(argv[1]);
	if (argc == 3 && pthread_create(&flooder, NULL, flood, argv[2]) != 0) {
		fprintf(stderr, "thread_stall: cannot start the sender\n");
		return 1;
	}
	for (i = 0; i < ATTEMPTS && !stop_once(tid, argc == 3); i++)
		nanosleep(&pause, NULL);
	if (argc == 3) {
		atomic_store(&flooding, false);
		pthread_join(flooder, NULL);
	}
	if (i == ATTEMPTS) {
		fprintf(stderr, "thread_stall: %d was never stopped outside a system call\n",
			(int)tid);
		return 1;
	}
	printf("stopped %d\n", (int)tid);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	if (ptrace(PTRACE_DETACH, tid, NULL, NULL) < 0) {
		fprintf(stderr, "thread_stall: PTRACE_DETACH %d: %s\n", (int)tid, strerror(errno));
		return 1;
	}
	printf("resumed %d\n", (int)tid);
	return 0;
}
