/* unit tests for listener: thread counts, default and configured
 * addresses, the port a socket bound to port 0 got (real sockets on
 * 127.0.0.1). */
#include "build_config.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/config.h"
#include "common/listener.h"
#include "unit.h"

static void test_listener_threads(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	CU_ASSERT_EQUAL(listener_threads(3), 3);
	CU_ASSERT_EQUAL(listener_threads(1), 1);
	CU_ASSERT_EQUAL(listener_threads(100000), LISTENER_MAX_THREADS);
	CU_ASSERT_EQUAL(listener_threads(0), cores > 0 ? (unsigned)cores : 1);
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

UNIT_SUITE(listener, NULL, NULL,
	   UNIT_TEST(test_listener_threads),
	   UNIT_TEST(test_listener_defaults),
	   UNIT_TEST(test_listener_addrs),
	   UNIT_TEST(test_listener_bound_port))
