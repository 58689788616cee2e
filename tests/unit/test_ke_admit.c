/* unit tests for ke_admit: the handshake rate and session caps at accept. */
#include "build_config.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "nts-ke/ke_admit.h"
#include "unit.h"

static struct log_ratelimit quiet = LOG_RATELIMIT_INIT(0, 3600);

static struct netaddr addr(const char *s)
{
	struct netaddr a;

	CU_ASSERT_EQUAL_FATAL(netaddr_parse(s, 40000, &a), 0);
	return a;
}

static struct ke_admit *admit_new(unsigned per_address, unsigned v4, unsigned v6)
{
	struct ke_admit_limits lim = {
		.max_sessions = 100,
		.max_per_address = per_address,
		.prefix = { (uint8_t)v4, (uint8_t)v6 },
	};

	return ke_admit_new(&lim, &quiet);
}

/* Issue 11 item 7: two addresses in one IPv6 /64 are one client for the
 * per-address cap; another /64 is not. */
static void test_ipv6_prefix_shares_cap(void)
{
	struct ke_admit *a = admit_new(1, 32, 64);
	struct netaddr x = addr("2001:db8:0:1::1"), y = addr("2001:db8:0:1:8000::2");
	struct netaddr z = addr("2001:db8:0:2::1");
	struct ke_admission ax, ay, az;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ke_admit(a, &x, -1, &ax), KE_ADMIT_OK);
	CU_ASSERT_EQUAL(ke_admit(a, &y, -1, &ay), KE_ADMIT_ADDRESS_FULL);
	CU_ASSERT_FALSE(ay.held);
	CU_ASSERT_EQUAL(ke_admit(a, &z, -1, &az), KE_ADMIT_OK);
	CU_ASSERT_EQUAL(ke_admit_sessions(a), 2);
	/* released: the /64 has room again */
	ke_release(a, &ax);
	CU_ASSERT_EQUAL(ke_admit(a, &y, -1, &ay), KE_ADMIT_OK);
	ke_release(a, &ay);
	ke_release(a, &az);
	ke_release(a, &az);	/* twice: nothing */
	CU_ASSERT_EQUAL(ke_admit_sessions(a), 0);
	ke_admit_free(a);
}

/* rate-limit-prefix 24 128: the IPv6 hosts are apart again, an IPv4 /24
 * (mapped form included) is one client. */
static void test_configured_prefix(void)
{
	struct ke_admit *a = admit_new(1, 24, 128);
	struct netaddr x = addr("2001:db8:0:1::1"), y = addr("2001:db8:0:1::2");
	struct netaddr v4 = addr("192.0.2.1"), mapped = addr("::ffff:192.0.2.99");
	struct ke_admission ax, ay, a4, am;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ke_admit(a, &x, -1, &ax), KE_ADMIT_OK);
	CU_ASSERT_EQUAL(ke_admit(a, &y, -1, &ay), KE_ADMIT_OK);
	CU_ASSERT_EQUAL(ke_admit(a, &v4, -1, &a4), KE_ADMIT_OK);
	CU_ASSERT_EQUAL(ke_admit(a, &mapped, -1, &am), KE_ADMIT_ADDRESS_FULL);
	ke_release(a, &ax);
	ke_release(a, &ay);
	ke_release(a, &a4);
	CU_ASSERT_EQUAL(ke_admit_sessions(a), 0);
	ke_admit_free(a);
}

/* Issue 11 item 5: ke-rate-limit refuses a client over its rate at
 * accept, before the caps, and each client (prefix) has its own bucket. */
static void test_rate_limit(void)
{
	struct ke_admit_limits lim = {
		.max_sessions = 100, .max_per_address = 1,
		.prefix = { NETADDR_PREFIX_V4_DEFAULT, NETADDR_PREFIX_V6_DEFAULT },
		/* one token in 1000 s: none comes back during the test */
		.rate_limit = true, .rate = 0.001, .burst = 3, .table = 256,
	};
	struct ke_admit *a = ke_admit_new(&lim, &quiet);
	struct netaddr x = addr("2001:db8:0:1::1"), y = addr("2001:db8:0:1::2");
	struct netaddr other = addr("192.0.2.1");
	struct ke_admission ax, ay, ao;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ke_admit(a, &x, -1, &ax), KE_ADMIT_OK);
	/* a second from the same /64: a token spent, then the cap refuses */
	CU_ASSERT_EQUAL(ke_admit(a, &y, -1, &ay), KE_ADMIT_ADDRESS_FULL);
	ke_release(a, &ax);
	CU_ASSERT_EQUAL(ke_admit(a, &y, -1, &ay), KE_ADMIT_OK);
	ke_release(a, &ay);
	/* three tokens spent: refused for the rate, whatever the caps say */
	CU_ASSERT_EQUAL(ke_admit(a, &x, -1, &ax), KE_ADMIT_RATE);
	CU_ASSERT_FALSE(ax.held);
	CU_ASSERT_EQUAL(ke_admit(a, &y, -1, &ay), KE_ADMIT_RATE);
	CU_ASSERT_EQUAL(ke_admit_sessions(a), 0);
	/* another client has its own bucket */
	CU_ASSERT_EQUAL(ke_admit(a, &other, -1, &ao), KE_ADMIT_OK);
	ke_release(a, &ao);
	ke_admit_free(a);
	ke_admit_free(NULL);
}

/* A loopback TCP pair: *server is the accepted end. */
static void tcp_pair(int *client, int *server)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	CU_ASSERT_FATAL(l >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	CU_ASSERT_EQUAL_FATAL(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(l, 4), 0);
	CU_ASSERT_EQUAL_FATAL(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	*client = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL_FATAL(connect(*client, (struct sockaddr *)&sa, sizeof(sa)), 0);
	*server = accept(l, NULL, NULL);
	CU_ASSERT_FATAL(*server >= 0);
	close(l);
}

/* Wait (up to 5 s) until fd sees its peer's reset or FIN: on loopback the
 * peer's segment is delivered by a softirq that, on a busy machine, may
 * run in ksoftirqd after close() or shutdown() has returned. */
static void await_peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	CU_ASSERT_EQUAL(poll(&p, 1, 5000), 1);
}

/* Issue 11 item 6: at the per-address cap, the slot of a session whose
 * peer reset is freed for the new connection; a live one's is not. */
static void test_dead_session_frees_slot(void)
{
	struct ke_admit *a = admit_new(1, 32, 64);
	struct netaddr peer = addr("127.0.0.1");
	struct linger lg = { 1, 0 };
	struct ke_admission first, second, third;
	int c1, s1, c2, s2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	tcp_pair(&c1, &s1);
	tcp_pair(&c2, &s2);
	CU_ASSERT_EQUAL(ke_admit(a, &peer, s1, &first), KE_ADMIT_OK);
	/* the first is alive: the cap holds */
	CU_ASSERT_EQUAL(ke_admit(a, &peer, s2, &second), KE_ADMIT_ADDRESS_FULL);
	CU_ASSERT_EQUAL(second.reclaimed, 0);
	/* its peer resets: the next connection gets the slot */
	setsockopt(c1, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c1);
	await_peer_gone(s1);
	CU_ASSERT_EQUAL(ke_admit(a, &peer, s2, &second), KE_ADMIT_OK);
	CU_ASSERT_EQUAL(second.reclaimed, 1);
	CU_ASSERT_FALSE(first.held);
	CU_ASSERT_EQUAL(ke_admit_sessions(a), 1);
	/* the dead session's own release, later, gives nothing back twice */
	ke_release(a, &first);
	CU_ASSERT_EQUAL(ke_admit_sessions(a), 1);
	/* a peer that closed (FIN) counts as gone too */
	shutdown(c2, SHUT_WR);
	await_peer_gone(s2);
	CU_ASSERT_EQUAL(ke_admit(a, &peer, -1, &third), KE_ADMIT_OK);
	CU_ASSERT_EQUAL(third.reclaimed, 1);
	ke_release(a, &second);
	ke_release(a, &third);
	CU_ASSERT_EQUAL(ke_admit_sessions(a), 0);
	close(s1);
	close(s2);
	close(c2);
	ke_admit_free(a);
}

UNIT_SUITE(ke_admit, NULL, NULL,
	   UNIT_TEST(test_dead_session_frees_slot),
	   UNIT_TEST(test_rate_limit),
	   UNIT_TEST(test_ipv6_prefix_shares_cap),
	   UNIT_TEST(test_configured_prefix))
