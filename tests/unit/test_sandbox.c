/* unit tests for sandbox: in a forked child per case (a filter cannot be
 * taken off again), each role's filter lets the calls a thread needs
 * through and kills the process at a forbidden one with the handler's
 * line; sandbox_run's thread is filtered and its caller is not. */
#include "build_config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/if_xdp.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ntsd/sandbox.h"
#include "unit.h"

static char child_err[4096];

/* fn() in a child with its stderr in child_err; its wait status. */
static int in_child(int (*fn)(int), int arg)
{
	FILE *f = tmpfile();
	int status = -1;
	pid_t pid;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		dup2(fileno(f), STDERR_FILENO);
		_exit(fn(arg));
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	rewind(f);
	n = fread(child_err, 1, sizeof(child_err) - 1, f);
	child_err[n] = '\0';
	fclose(f);
	return status;
}

/* "Seccomp:\tN" of the calling thread; -1 unreadable. */
static int seccomp_mode(void)
{
	char buf[2048], *p;
	int fd = open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nSeccomp:");
	return p ? atoi(p + strlen("\nSeccomp:")) : -1;
}

static int forbidden_call(int role)
{
	if (sandbox_init(true, false) < 0)
		return 10;
	sandbox_enter((enum sandbox_role)role, 3);
	syscall(SYS_mount, NULL, NULL, NULL, 0UL, NULL);
	return 11;	/* not stopped */
}

static int allowed_calls(int role)
{
	char line[] = "still alive\n";

	if (sandbox_init(true, false) < 0)
		return 10;
	sandbox_enter((enum sandbox_role)role, 0);
	free(malloc(1 << 20));	/* mmap, munmap */
	return write(STDERR_FILENO, line, strlen(line)) == (ssize_t)strlen(line) ? 0 : 12;
}

static void test_sandbox_kills_forbidden_call(void)
{
	for (int r = 0; r < SANDBOX_N_ROLES; r++) {
		char want[64];
		int st = in_child(forbidden_call, r);

		CU_ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
		snprintf(want, sizeof(want), "(role %s) made system call %d (mount)",
			 sandbox_role_name((enum sandbox_role)r), (int)SYS_mount);
		CU_ASSERT_PTR_NOT_NULL(strstr(child_err, want));
		if (r != SANDBOX_MAIN)
			CU_ASSERT_PTR_NOT_NULL(strstr(child_err, "sandbox: thread "));
	}
	/* The thread's name in the line. */
	in_child(forbidden_call, SANDBOX_NTP);
	CU_ASSERT_PTR_NOT_NULL(strstr(child_err, "sandbox: thread ntsd-ntp/3 (role ntp)"));
}

static void test_sandbox_allows_base(void)
{
	for (int r = 0; r < SANDBOX_N_ROLES; r++) {
		int st = in_child(allowed_calls, r);

		CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(child_err, "still alive"));
	}
}

/* The AF_XDP set-up an XDP worker makes (issue 13): the filter lets each
 * call through to the kernel, which may still refuse it (no
 * CAP_NET_RAW/CAP_BPF, no such interface); none of them may kill. */
static int xdp_setup_calls(int unused)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	int one = 1, fd;
	socklen_t len = sizeof(one);

	if (sandbox_init(true, false) < 0)
		return 10;
	sandbox_enter(SANDBOX_XDP, 0);
	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_XDP, XDP_RX_RING, &one, sizeof(one));
		getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &one, &len);
		sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0);	/* the TX kick */
		recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);	/* the RX kick */
		close(fd);
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0 || bind(fd, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		return 16;
	close(fd);
	return 0;
}

/* ... but not a socket of another family. */
static int xdp_inet_socket(int unused)
{
	if (sandbox_init(true, false) < 0)
		return 10;
	sandbox_enter(SANDBOX_XDP, 0);
	socket(AF_INET, SOCK_DGRAM, 0);
	return 11;	/* not stopped */
}

static void test_sandbox_xdp_slot(void)
{
	int st = in_child(xdp_setup_calls, 0);

	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = in_child(xdp_inet_socket, 0);
	CU_ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	CU_ASSERT_PTR_NOT_NULL(strstr(child_err, "(role xdp) made system call"));
	CU_ASSERT_PTR_NOT_NULL(strstr(child_err, "(socket)"));
}

/* bpf(2), command by command: the XDP program's map commands where a
 * role uses them (ntpd/xdp_prog.c), nothing else in any role; without
 * XDP in the build, no bpf(2) at all. */
struct bpf_case {
	enum sandbox_role role;
	int cmd;
	bool allowed;
};

static const struct bpf_case bpf_cases[] = {
#ifdef HAVE_XDP
	{ SANDBOX_MAIN, BPF_MAP_LOOKUP_ELEM, true },
	{ SANDBOX_MAIN, BPF_MAP_UPDATE_ELEM, true },
	{ SANDBOX_MAIN, BPF_MAP_DELETE_ELEM, true },
	{ SANDBOX_MAIN, BPF_MAP_GET_NEXT_KEY, true },
	{ SANDBOX_METRICS, BPF_MAP_LOOKUP_ELEM, true },
	{ SANDBOX_XDP, BPF_MAP_LOOKUP_ELEM, true },
	{ SANDBOX_XDP, BPF_MAP_UPDATE_ELEM, true },
	{ SANDBOX_XDP, BPF_MAP_DELETE_ELEM, true },
	{ SANDBOX_METRICS, BPF_MAP_UPDATE_ELEM, false },
	{ SANDBOX_XDP, BPF_MAP_GET_NEXT_KEY, false },
#else
	{ SANDBOX_MAIN, BPF_MAP_LOOKUP_ELEM, false },
	{ SANDBOX_XDP, BPF_MAP_UPDATE_ELEM, false },
#endif
	{ SANDBOX_MAIN, BPF_PROG_TEST_RUN, false },
	{ SANDBOX_MAIN, BPF_PROG_LOAD, false },
	{ SANDBOX_MAIN, BPF_MAP_CREATE, false },
	{ SANDBOX_MAIN, BPF_LINK_CREATE, false },
	{ SANDBOX_XDP, BPF_PROG_TEST_RUN, false },
	{ SANDBOX_XDP, BPF_PROG_LOAD, false },
	{ SANDBOX_NTP, BPF_MAP_LOOKUP_ELEM, false },
	{ SANDBOX_KE, BPF_MAP_LOOKUP_ELEM, false },
	{ SANDBOX_RECLAIM, BPF_MAP_LOOKUP_ELEM, false },
};

/* A descriptor of -1: the kernel answers EBADF where the filter lets
 * the call through. */
static int bpf_call(int i)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)-1;
	if (sandbox_init(true, false) < 0)
		return 10;
	sandbox_enter(bpf_cases[i].role, 0);
	syscall(SYS_bpf, bpf_cases[i].cmd, &attr, sizeof(attr));
	return 0;
}

static void test_sandbox_bpf_commands(void)
{
	for (size_t i = 0; i < sizeof(bpf_cases) / sizeof(bpf_cases[0]); i++) {
		int st = in_child(bpf_call, (int)i);

		if (bpf_cases[i].allowed) {
			CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		} else {
			CU_ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
			CU_ASSERT_PTR_NOT_NULL(strstr(child_err, "(bpf)"));
		}
	}
}

/* Disabled: nothing filtered, the self-test's mount fails harmlessly. */
static int disabled(int unused)
{
	if (sandbox_init(false, false) < 0)
		return 10;
	sandbox_enter(SANDBOX_KE, 0);
	syscall(SYS_mount, NULL, NULL, NULL, 0UL, NULL);
	return seccomp_mode() == 0 ? 0 : 13;
}

static void test_sandbox_off(void)
{
	int st = in_child(disabled, 0);

	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int mode_in_thread(void *unused)
{
	return seccomp_mode();
}

/* sandbox_run's thread is filtered (what it creates inherits that), the
 * caller is not. */
static int run_in_role(int unused)
{
	if (sandbox_init(true, false) < 0)
		return 10;
	if (sandbox_run(SANDBOX_KE, mode_in_thread, NULL) != 2)
		return 14;
	return seccomp_mode() == 0 ? 0 : 15;
}

static void test_sandbox_run(void)
{
	int st = in_child(run_in_role, 0);

	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_sandbox_names(void)
{
	CU_ASSERT_STRING_EQUAL(sandbox_role_name(SANDBOX_MAIN), "main");
	CU_ASSERT_STRING_EQUAL(sandbox_role_name(SANDBOX_METRICS), "metrics");
	CU_ASSERT_PTR_NULL(sandbox_role_name(SANDBOX_N_ROLES));
}

static void test_sandbox_describe(void)
{
	FILE *out = tmpfile(), *err = tmpfile();
	char text[512];
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_EQUAL(sandbox_describe(true, out, err), 0);
	CU_ASSERT_EQUAL(sandbox_describe(false, out, err), 0);
	rewind(out);
	n = fread(text, 1, sizeof(text) - 1, out);
	text[n] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "sandbox: on: seccomp filters available (libseccomp 2."));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "sandbox: off (sandbox no); seccomp filters available"));
	fclose(out);
	fclose(err);
}

UNIT_SUITE(sandbox, NULL, NULL,
	   UNIT_TEST(test_sandbox_kills_forbidden_call),
	   UNIT_TEST(test_sandbox_allows_base),
	   UNIT_TEST(test_sandbox_off),
	   UNIT_TEST(test_sandbox_xdp_slot),
	   UNIT_TEST(test_sandbox_bpf_commands),
	   UNIT_TEST(test_sandbox_run),
	   UNIT_TEST(test_sandbox_names),
	   UNIT_TEST(test_sandbox_describe))
