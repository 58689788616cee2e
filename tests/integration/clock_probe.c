/* clock_probe: what the systemd unit test asks of the kernel clock.
 *   clock_probe read     print "synchronised 0|1" from adjtimex() (modes 0,
 *                        read-only, as ntsd reads it); exit 1 if it fails
 *   clock_probe sandbox  under ntsd.service's sandbox: reading works, and
 *                        every way of setting the clock is refused.  Each
 *                        attempt passes an invalid value, so it cannot
 *                        change the clock even where it is allowed: the
 *                        kernel checks the value (EINVAL) after seccomp
 *                        (EPERM) for clock_settime and settimeofday, and
 *                        after the CAP_SYS_TIME check (EPERM) for
 *                        clock_adjtime with modes != 0. */
#include "build_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static int read_state(void)
{
	struct timex tx;
	int state;

	memset(&tx, 0, sizeof(tx));
	state = adjtimex(&tx);
	if (state < 0) {
		printf("adjtimex (read): %s\n", strerror(errno));
		return -1;
	}
	printf("synchronised %d\n", state != TIME_ERROR && !(tx.status & STA_UNSYNC));
	return 0;
}

/* 0 when rc is -1 with EPERM; the call is named in the output. */
static int refused(const char *what, long rc)
{
	if (rc == -1 && errno == EPERM) {
		printf("%s: refused (EPERM)\n", what);
		return 0;
	}
	printf("%s: NOT refused (%s)\n", what, rc == -1 ? strerror(errno) : "succeeded");
	return -1;
}

static int sandbox(void)
{
	struct timespec ts = { 0, 2000000000L };	/* invalid tv_nsec */
	struct timeval tv = { 0, 2000000L };		/* invalid tv_usec */
	struct timex tx;
	int rc = 0;

	if (read_state() < 0)
		rc = -1;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_TICK;
	tx.tick = 1;					/* out of range */
	/* Raw system calls: glibc would reject the values before the kernel. */
	if (refused("clock_settime", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts)) < 0)
		rc = -1;
	if (refused("settimeofday", syscall(SYS_settimeofday, &tv, NULL)) < 0)
		rc = -1;
	if (refused("clock_adjtime with modes", syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx)) < 0)
		rc = -1;
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "read"))
		return read_state() < 0;
	if (argc == 2 && !strcmp(argv[1], "sandbox"))
		return sandbox() < 0;
	fprintf(stderr, "usage: clock_probe read|sandbox\n");
	return 2;
}
