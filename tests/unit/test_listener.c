/* unit tests for listener: thread counts, default and configured
 * addresses, the port a socket bound to port 0 got (real sockets on
 * 127.0.0.1), and CPU steering: the CPU -> socket mapping, the classic
 * BPF program that computes it (run here by a small interpreter of the
 * instructions it uses, and loaded by the kernel onto a real group), and
 * pinning. */
#include "build_config.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/config.h"
#include "common/listener.h"
#include "unit.h"

static void test_listener_threads(void)
{
	cpu_set_t set;

	CU_ASSERT_EQUAL(listener_threads(3), 3);
	CU_ASSERT_EQUAL(listener_threads(1), 1);
	CU_ASSERT_EQUAL(listener_threads(100000), LISTENER_MAX_THREADS);
	/* One per CPU we may run on (under taskset: fewer than the host's). */
	CU_ASSERT_EQUAL_FATAL(sched_getaffinity(0, sizeof(set), &set), 0);
	CU_ASSERT_EQUAL(listener_threads(0), (unsigned)CPU_COUNT(&set));
}

/* The n defaults in a: v4 and, when this host has IPv6, v6. */
static void check_defaults(const struct netaddr *a, size_t n, int socktype, const char *v4,
			   const char *v6)
{
	char buf[NETADDR_STRLEN];
	int fd = socket(AF_INET6, socktype, 0);

	CU_ASSERT_EQUAL(n, fd >= 0 ? 2 : 1);
	if (fd >= 0)
		close(fd);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a[0], buf, sizeof(buf)), v4);
	if (n == 2)
		CU_ASSERT_STRING_EQUAL(netaddr_str(&a[1], buf, sizeof(buf)), v6);
}

static void test_listener_defaults(void)
{
	struct netaddr a[2];
	size_t n = listener_default_addrs(a, 4460, SOCK_STREAM, "test");

	check_defaults(a, n, SOCK_STREAM, "0.0.0.0:4460", "[::]:4460");
}

static void test_listener_addrs(void)
{
	struct config_listen cl[3];
	struct netaddr a[4];
	char buf[NETADDR_STRLEN];
	size_t n;

	CU_ASSERT_EQUAL_FATAL(netaddr_parse("127.0.0.1", 123, &cl[0].addr), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("::1", 4460, &cl[1].addr), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.7", 0, &cl[2].addr), 0);
	/* configured: each in order, its own port, not the default */
	n = listener_addrs(cl, 3, a, 4, 9999, SOCK_DGRAM, "test");
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a[0], buf, sizeof(buf)), "127.0.0.1:123");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a[1], buf, sizeof(buf)), "[::1]:4460");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a[2], buf, sizeof(buf)), "192.0.2.7:0");
	/* no more than max, the rest of out untouched */
	memset(a, 0, sizeof(a));
	CU_ASSERT_EQUAL(listener_addrs(cl, 3, a, 2, 9999, SOCK_STREAM, "test"), 2);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a[1], buf, sizeof(buf)), "[::1]:4460");
	CU_ASSERT_EQUAL(a[2].len, 0);
	/* none configured: the defaults, on the default port */
	n = listener_addrs(cl, 0, a, 4, 9999, SOCK_DGRAM, "test");
	check_defaults(a, n, SOCK_DGRAM, "0.0.0.0:9999", "[::]:9999");
}

static void test_listener_bound_port(void)
{
	struct netaddr a;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("127.0.0.1", 0, &a), 0);
	CU_ASSERT_EQUAL_FATAL(bind(fd, &a.u.sa, a.len), 0);
	CU_ASSERT_EQUAL(netaddr_port(&a), 0);
	CU_ASSERT_EQUAL(listener_bound_port(fd, &a), 0);
	CU_ASSERT_NOT_EQUAL(netaddr_port(&a), 0);
	close(fd);
	/* Not a socket: an error, the address untouched. */
	CU_ASSERT_EQUAL(listener_bound_port(fd, &a), -1);
}

static void cpus_set(struct listener_cpus *c, const unsigned *ids, unsigned n)
{
	c->n = n;
	for (unsigned i = 0; i < n; i++)
		c->id[i] = (uint16_t)ids[i];
}

/* The mapping, by hand: worker i on CPU i; with fewer workers than CPUs,
 * CPU c goes to worker c % N; a taskset list maps through its positions. */
static void test_listener_steer_index(void)
{
	static const unsigned all4[] = { 0, 1, 2, 3 }, odd[] = { 2, 5, 7 };
	struct listener_cpus c;

	cpus_set(&c, all4, 4);
	for (unsigned cpu = 0; cpu < 4; cpu++) {
		CU_ASSERT_EQUAL(listener_steer_index(&c, cpu, 4), cpu);
		CU_ASSERT_EQUAL(listener_cpu_of(&c, cpu), cpu);
	}
	CU_ASSERT_EQUAL(listener_steer_index(&c, 0, 2), 0);
	CU_ASSERT_EQUAL(listener_steer_index(&c, 1, 2), 1);
	CU_ASSERT_EQUAL(listener_steer_index(&c, 2, 2), 0);
	CU_ASSERT_EQUAL(listener_steer_index(&c, 3, 2), 1);
	CU_ASSERT_EQUAL(listener_steer_index(&c, 3, 1), 0);
	/* taskset -c 2,5,7: worker 0 on CPU 2, 1 on 5, 2 on 7 */
	cpus_set(&c, odd, 3);
	CU_ASSERT_EQUAL(listener_cpu_of(&c, 0), 2);
	CU_ASSERT_EQUAL(listener_cpu_of(&c, 1), 5);
	CU_ASSERT_EQUAL(listener_cpu_of(&c, 2), 7);
	CU_ASSERT_EQUAL(listener_cpu_of(&c, 3), 2);
	CU_ASSERT_EQUAL(listener_steer_index(&c, 2, 3), 0);
	CU_ASSERT_EQUAL(listener_steer_index(&c, 5, 3), 1);
	CU_ASSERT_EQUAL(listener_steer_index(&c, 7, 3), 2);
	CU_ASSERT_EQUAL(listener_steer_index(&c, 7, 2), 0);
	/* a CPU outside the set (an interrupt may run there): cpu % N */
	CU_ASSERT_EQUAL(listener_steer_index(&c, 4, 3), 1);
	CU_ASSERT_EQUAL(listener_steer_index(&c, 0, 3), 0);
}

/* A classic BPF interpreter for exactly what listener_steer_prog emits:
 * ld [SKF_AD_CPU], jeq #k, alu mod #k, ret #k, ret a.  Anything else, a
 * jump out of the program or a fall off its end fails the test. */
static unsigned run_prog(const struct sock_filter *f, size_t len, unsigned cpu)
{
	uint32_t a = 0;

	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *i = &f[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			CU_ASSERT_EQUAL(i->k, (uint32_t)(SKF_AD_OFF + SKF_AD_CPU));
			a = cpu;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_ALU | BPF_MOD | BPF_K:
			CU_ASSERT_NOT_EQUAL_FATAL(i->k, 0);
			a %= i->k;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		case BPF_RET | BPF_A:
			return a;
		default:
			CU_FAIL("an instruction listener_steer_prog should not emit");
			return ~0u;
		}
	}
	CU_FAIL("fell off the end of the program");
	return ~0u;
}

/* The program agrees with listener_steer_index for every CPU (in the set
 * and out of it), for contiguous and scattered sets and any thread count. */
static void test_listener_steer_prog(void)
{
	static const unsigned sets[][6] = {
		{ 0, 1 }, { 0, 1, 2, 3, 4, 5 }, { 1 }, { 2, 5, 7 }, { 1, 2, 3, 9, 10, 63 },
	};
	static const unsigned set_len[] = { 2, 6, 1, 3, 6 };
	struct sock_filter prog[2 * 6 + 3];
	struct listener_cpus c;

	for (size_t s = 0; s < sizeof(set_len) / sizeof(set_len[0]); s++) {
		cpus_set(&c, sets[s], set_len[s]);
		for (unsigned n = 1; n <= 7; n++) {
			size_t len = listener_steer_prog(&c, n, prog, sizeof(prog) / sizeof(prog[0]));

			CU_ASSERT_FATAL(len >= 3 && len <= 2 * c.n + 3);
			for (unsigned cpu = 0; cpu < 70; cpu++)
				CU_ASSERT_EQUAL(run_prog(prog, len, cpu),
						listener_steer_index(&c, cpu, n));
		}
	}
	/* CPUs 0..k-1 with k workers: three instructions, no table. */
	cpus_set(&c, sets[1], 6);
	CU_ASSERT_EQUAL(listener_steer_prog(&c, 6, prog, 15), 3);
	/* no room: 0, never a truncated program */
	cpus_set(&c, sets[4], 6);
	CU_ASSERT_EQUAL(listener_steer_prog(&c, 2, prog, 4), 0);
	CU_ASSERT_EQUAL(listener_steer_prog(&c, 2, prog, 2), 0);
}

/* The kernel takes the program onto a real group of two UDP sockets on
 * 127.0.0.1, and steering reports itself on; pinning puts this thread on
 * the CPU listener_cpu_of names; cpu-steering no does neither. */
static void test_listener_steer_live(void)
{
	struct listener_steer *s = listener_steer_new("test", true, 1);
	struct listener_cpus c;
	struct netaddr a;
	cpu_set_t saved, now;
	int fd[2], one = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(listener_cpus_allowed(&c), 0);
	CU_ASSERT_FATAL(c.n >= 1);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("127.0.0.1", 0, &a), 0);
	for (int i = 0; i < 2; i++) {
		fd[i] = socket(AF_INET, SOCK_DGRAM, 0);
		CU_ASSERT_FATAL(fd[i] >= 0);
		CU_ASSERT_EQUAL(setsockopt(fd[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
		CU_ASSERT_EQUAL_FATAL(bind(fd[i], &a.u.sa, a.len), 0);
		if (i == 0)
			CU_ASSERT_EQUAL(listener_bound_port(fd[0], &a), 0);
	}
	CU_ASSERT_FALSE(listener_steer_on(s));	/* no group yet */
	listener_steer_group(s, fd[0], &a);
	CU_ASSERT_TRUE(listener_steer_on(s));
	CU_ASSERT_EQUAL(listener_steer_cpu(s, 0), -1);
	CU_ASSERT_EQUAL_FATAL(pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved), 0);
	listener_steer_pin(s, 0);
	CU_ASSERT_EQUAL(listener_steer_cpu(s, 0), (int)listener_cpu_of(&c, 0));
	CU_ASSERT_EQUAL(pthread_getaffinity_np(pthread_self(), sizeof(now), &now), 0);
	CU_ASSERT_EQUAL(CPU_COUNT(&now), 1);
	CU_ASSERT_TRUE(CPU_ISSET(listener_cpu_of(&c, 0), &now));
	CU_ASSERT_EQUAL(pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved), 0);
	listener_steer_free(s);
	/* cpu-steering no: nothing attached, nothing pinned */
	s = listener_steer_new("test", false, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	listener_steer_group(s, fd[0], &a);
	listener_steer_pin(s, 0);
	CU_ASSERT_FALSE(listener_steer_on(s));
	CU_ASSERT_EQUAL(listener_steer_cpu(s, 0), -1);
	listener_steer_free(s);
	/* More threads than CPUs: pinned, not steered. */
	s = listener_steer_new("test", true, c.n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	listener_steer_group(s, fd[0], &a);
	CU_ASSERT_FALSE(listener_steer_on(s));
	listener_steer_free(s);
	/* Not a socket: the failure is logged, the group unsteered. */
	s = listener_steer_new("test", true, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	listener_steer_group(s, -1, &a);
	CU_ASSERT_FALSE(listener_steer_on(s));
	listener_steer_free(s);
	close(fd[0]);
	close(fd[1]);
}

/* Thread body: under a filter that refuses sched_setaffinity with EPERM,
 * as a service manager's may, pin threads 0 and 1.  NULL, or what went
 * wrong with the set-up. */
static void *pin_refused(void *arg)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);

	if (f == NULL ||
	    seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(sched_setaffinity), 0) < 0 ||
	    seccomp_load(f) < 0) {
		seccomp_release(f);
		return (void *)"cannot install the seccomp filter";
	}
	seccomp_release(f);
	listener_steer_pin(arg, 0);
	listener_steer_pin(arg, 1);
	return NULL;
}

/* A thread that cannot be pinned says so (logged once) and is reported
 * unpinned; the service goes on. */
static void test_listener_pin_refused(void)
{
	struct listener_steer *s = listener_steer_new("test", true, 2);
	pthread_t t;
	void *why = (void *)"not run";

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, pin_refused, s), 0);
	CU_ASSERT_EQUAL(pthread_join(t, &why), 0);
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT_EQUAL(listener_steer_cpu(s, 0), -1);
	CU_ASSERT_EQUAL(listener_steer_cpu(s, 1), -1);
	listener_steer_free(s);
}

UNIT_SUITE(listener, NULL, NULL,
	   UNIT_TEST(test_listener_pin_refused),
	   UNIT_TEST(test_listener_steer_index),
	   UNIT_TEST(test_listener_steer_prog),
	   UNIT_TEST(test_listener_steer_live),
	   UNIT_TEST(test_listener_threads),
	   UNIT_TEST(test_listener_defaults),
	   UNIT_TEST(test_listener_addrs),
	   UNIT_TEST(test_listener_bound_port))
