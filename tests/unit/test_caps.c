/* unit tests for caps (ntsd/caps.h) and the capabilities
 * daemon_drop_privileges keeps.  Capabilities are per thread and cannot
 * be regained, so every case that changes them runs in a child process
 * and reports through its exit status.  As root the cases drop real
 * capabilities; as another user they check that nothing held means no
 * change. */
#include "build_config.h"

#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ntsd/caps.h"
#include "ntsd/daemon.h"
#include "unit.h"

/* fn() in a child; its exit status (0: every check in it held). */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn());
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* The effective set, which the kernel checks. */
static uint64_t effective(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return ~UINT64_C(0);
	return (uint64_t)d[0].effective | (uint64_t)d[1].effective << 32;
}

static void test_caps_describe(void)
{
	char buf[128];

	CU_ASSERT_STRING_EQUAL(caps_describe(0, buf, sizeof(buf)), "none");
	CU_ASSERT_STRING_EQUAL(caps_describe(CAPS_BIT(CAP_BPF) | CAPS_BIT(CAP_NET_ADMIN), buf,
					     sizeof(buf)), "CAP_NET_ADMIN CAP_BPF");
	CU_ASSERT_STRING_EQUAL(caps_describe(CAPS_BIT(CAP_KILL), buf, sizeof(buf)), "cap_5");
	/* Truncated, still a string. */
	CU_ASSERT_EQUAL(strlen(caps_describe(~UINT64_C(0), buf, 16)), 15);
}

/* Root keeps CAP_BPF and nothing else, in both sets. */
static int keep_bpf(void)
{
	if (caps_limit(CAPS_BIT(CAP_BPF)) != 0)
		return 1;
	if (caps_permitted() != CAPS_BIT(CAP_BPF) || effective() != CAPS_BIT(CAP_BPF))
		return 2;
	/* CAP_CHOWN is gone: giving a file away is refused. */
	if (chown("/proc/self/comm", 1, 1) == 0)
		return 3;
	return 0;
}

/* Keeping one that is not held does not grant it. */
static int keep_unheld(void)
{
	if (caps_limit(CAPS_BIT(CAP_NET_ADMIN)) != 0 || caps_limit(CAPS_BIT(CAP_BPF)) != 0)
		return 1;
	return caps_permitted() == 0 && effective() == 0 ? 0 : 2;
}

/* An ambient capability (a unit's AmbientCapabilities=) is cleared too. */
static int clear_ambient(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return 1;
	d[0].inheritable |= 1u << CAP_NET_BIND_SERVICE;
	if (syscall(SYS_capset, &h, d) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) < 0)
		return 2;
	if (caps_ambient() != CAPS_BIT(CAP_NET_BIND_SERVICE))
		return 3;
	if (caps_limit(0) != 0)
		return 4;
	return caps_ambient() == 0 && caps_permitted() == 0 ? 0 : 5;
}

/* Root to nobody keeping CAP_BPF: the uid changes, CAP_BPF stays, and
 * root cannot be regained (daemon_drop_privileges checks). */
static int drop_keep_bpf(void)
{
	if (daemon_drop_privileges("nobody", CAPS_BIT(CAP_BPF)) != 0)
		return 1;
	if (geteuid() == 0 || getuid() == 0)
		return 2;
	return caps_permitted() == CAPS_BIT(CAP_BPF) && effective() == CAPS_BIT(CAP_BPF) ? 0 : 3;
}

/* ... and keeping none: none. */
static int drop_keep_none(void)
{
	if (daemon_drop_privileges("nobody", 0) != 0)
		return 1;
	return caps_permitted() == 0 && effective() == 0 && prctl(PR_GET_KEEPCAPS) == 0 ? 0 : 2;
}

/* Holding nothing (as any user, or root after a first limit): success
 * and no change. */
static int nothing_held(void)
{
	if (caps_limit(0) != 0 || caps_limit(0) != 0)
		return 1;
	return caps_permitted() == 0 && caps_ambient() == 0 ? 0 : 2;
}

static void test_caps_limit(void)
{
	if (geteuid() != 0) {
		CU_ASSERT_EQUAL(caps_permitted(), 0);
		CU_ASSERT_EQUAL(in_child(nothing_held), 0);
		return;
	}
	CU_ASSERT_NOT_EQUAL(caps_permitted() & CAPS_BIT(CAP_BPF), 0);
	CU_ASSERT_EQUAL(in_child(keep_bpf), 0);
	CU_ASSERT_EQUAL(in_child(keep_unheld), 0);
	CU_ASSERT_EQUAL(in_child(clear_ambient), 0);
	CU_ASSERT_EQUAL(in_child(nothing_held), 0);
}

static void test_caps_drop_privileges(void)
{
	if (geteuid() != 0)
		return;	/* test_precheck covers a user that cannot switch */
	CU_ASSERT_EQUAL(in_child(drop_keep_bpf), 0);
	CU_ASSERT_EQUAL(in_child(drop_keep_none), 0);
}

UNIT_SUITE(caps, NULL, NULL,
	   UNIT_TEST(test_caps_describe),
	   UNIT_TEST(test_caps_limit),
	   UNIT_TEST(test_caps_drop_privileges))
