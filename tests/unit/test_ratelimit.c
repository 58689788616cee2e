/* unit tests for ratelimit: per-address token buckets. */
#include "build_config.h"

#include <stdio.h>

#include "common/netaddr.h"
#include "common/ratelimit.h"
#include "unit.h"

#define SEC 1000000000LL

/* rate-limit-prefix as config_init sets it: 32 and 64 bits. */
static const struct netaddr_prefix by_default = {
	NETADDR_PREFIX_V4_DEFAULT, NETADDR_PREFIX_V6_DEFAULT,
};

static struct netaddr addr(const char *s)
{
	struct netaddr a;

	CU_ASSERT_EQUAL_FATAL(netaddr_parse(s, 123, &a), 0);
	return a;
}

static void test_params(void)
{
	struct ratelimit *rl;

	CU_ASSERT_PTR_NULL(ratelimit_new(0, 1, 16, &by_default));
	CU_ASSERT_PTR_NULL(ratelimit_new(-1, 1, 16, &by_default));
	CU_ASSERT_PTR_NULL(ratelimit_new(1, 0, 16, &by_default));
	CU_ASSERT_PTR_NULL(ratelimit_new(1, 1, 0, &by_default));
	CU_ASSERT_PTR_NULL(ratelimit_new(1, 1, (1U << 24) + 1, &by_default));
	rl = ratelimit_new(1, 1, 1000, &by_default);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	CU_ASSERT_EQUAL(ratelimit_size(rl), 1024);
	CU_ASSERT_EQUAL(ratelimit_kod_poll(rl), 0);
	ratelimit_free(rl);
	rl = ratelimit_new(0.125, 4, 1, &by_default);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	CU_ASSERT_EQUAL(ratelimit_size(rl), 1);
	CU_ASSERT_EQUAL(ratelimit_kod_poll(rl), 3);	/* 8 s */
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void test_burst_then_kod_once(void)
{
	struct ratelimit *rl = ratelimit_new(2, 4, 64, &by_default);
	struct netaddr a = addr("192.0.2.1");
	int64_t t = 1000 * SEC;
	int i, kods = 0, drops = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t), RATELIMIT_ALLOW);
	/* a flood within one second: one KoD, the rest dropped */
	for (i = 0; i < 100; i++) {
		enum ratelimit_verdict v = ratelimit_check(rl, &a, t + i * 1000);

		kods += v == RATELIMIT_KOD;
		drops += v == RATELIMIT_DROP;
	}
	CU_ASSERT_EQUAL(kods, 1);
	CU_ASSERT_EQUAL(drops, 99);
	/* half a second earns one token (rate 2/s) */
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t + SEC / 2), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t + SEC / 2), RATELIMIT_DROP);
	/* the KoD interval (1 s) has passed: another KoD */
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t + SEC + 1000), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t + SEC + 2000), RATELIMIT_KOD);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t + SEC + 3000), RATELIMIT_DROP);
	/* idle for long: the bucket refills to the burst, not beyond */
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t + 100 * SEC), RATELIMIT_ALLOW);
	CU_ASSERT_NOT_EQUAL(ratelimit_check(rl, &a, t + 100 * SEC), RATELIMIT_ALLOW);
	ratelimit_free(rl);
}

static void test_steady_rate(void)
{
	struct ratelimit *rl = ratelimit_new(1, 1, 64, &by_default);
	struct netaddr a = addr("2001:db8::1");
	int64_t t = 5 * SEC;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	/* one request a second forever is fine */
	for (i = 0; i < 50; i++)
		CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t + i * SEC), RATELIMIT_ALLOW);
	ratelimit_free(rl);
}

static void test_addresses_independent(void)
{
	struct ratelimit *rl = ratelimit_new(1, 1, 4096, &by_default);
	struct netaddr a = addr("192.0.2.1"), b = addr("192.0.2.2");
	struct netaddr mapped = addr("::ffff:192.0.2.1"), v6 = addr("2001:db8::1");
	int64_t t = SEC;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t), RATELIMIT_KOD);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &b, t), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &v6, t), RATELIMIT_ALLOW);
	/* the IPv4-mapped form is the same client; the port does not matter */
	CU_ASSERT_EQUAL(ratelimit_check(rl, &mapped, t), RATELIMIT_DROP);
	netaddr_set_port(&a, 4000);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t), RATELIMIT_DROP);
	ratelimit_free(rl);
}

static void test_bounded_table(void)
{
	struct ratelimit *rl = ratelimit_new(1, 1, 1, &by_default);
	struct netaddr a = addr("192.0.2.1"), b = addr("192.0.2.2");
	char s[64];
	int64_t t = SEC;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	/* one slot: the newer address takes it and starts with a full bucket */
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t), RATELIMIT_KOD);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &b, t), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t), RATELIMIT_ALLOW);
	ratelimit_free(rl);

	/* many addresses through a small table: each new one is served and
	 * the table does not grow */
	rl = ratelimit_new(1, 1, 256, &by_default);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	for (i = 0; i < 20000; i++) {
		struct netaddr x;

		snprintf(s, sizeof(s), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		x = addr(s);
		CU_ASSERT_EQUAL(ratelimit_check(rl, &x, t + i), RATELIMIT_ALLOW);
	}
	CU_ASSERT_EQUAL(ratelimit_size(rl), 256);
	ratelimit_free(rl);
}

/* Issue 11 item 7: a client is a prefix.  Two addresses in one IPv6 /64
 * share a bucket by default, so a host cannot walk around the limit by
 * changing its interface identifier; another /64 has its own. */
static void test_ipv6_prefix_shares_bucket(void)
{
	struct ratelimit *rl = ratelimit_new(1, 2, 4096, &by_default);
	struct netaddr a = addr("2001:db8:0:1::1"), b = addr("2001:db8:0:1:ffff:1234:5678:9abc");
	struct netaddr other = addr("2001:db8:0:2::1");
	int64_t t = SEC;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &b, t), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t), RATELIMIT_KOD);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &b, t), RATELIMIT_DROP);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &other, t), RATELIMIT_ALLOW);
	ratelimit_free(rl);
}

/* Other prefix lengths: /128 separates the two hosts again; an IPv4 /24
 * (and its IPv4-mapped form) is one client. */
static void test_configured_prefix(void)
{
	static const struct netaddr_prefix host = { 32, 128 }, v4_24 = { 24, 64 };
	struct netaddr a = addr("2001:db8:0:1::1"), b = addr("2001:db8:0:1::2");
	struct netaddr c = addr("192.0.2.1"), d = addr("::ffff:192.0.2.200");
	struct netaddr e = addr("192.0.3.1");
	struct ratelimit *rl = ratelimit_new(1, 1, 4096, &host);
	int64_t t = SEC;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &a, t), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &b, t), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &c, t), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &d, t), RATELIMIT_ALLOW);
	ratelimit_free(rl);
	rl = ratelimit_new(1, 1, 4096, &v4_24);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &c, t), RATELIMIT_ALLOW);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &d, t), RATELIMIT_KOD);
	CU_ASSERT_EQUAL(ratelimit_check(rl, &e, t), RATELIMIT_ALLOW);
	ratelimit_free(rl);
}

/* The KoD interval: the time to earn a token, at least 1 s, at most
 * about 11.6 days. */
static void test_kod_interval(void)
{
	CU_ASSERT_EQUAL(ratelimit_kod_interval_ms(1000.0), 1000);
	CU_ASSERT_EQUAL(ratelimit_kod_interval_ms(1.0), 1000);
	CU_ASSERT_EQUAL(ratelimit_kod_interval_ms(0.5), 2000);
	CU_ASSERT_EQUAL(ratelimit_kod_interval_ms(0.001), 1000000);
	CU_ASSERT_EQUAL(ratelimit_kod_interval_ms(1e-9), 1000000000U);
}

UNIT_SUITE(ratelimit, NULL, NULL,
	   UNIT_TEST(test_kod_interval),
	   UNIT_TEST(test_params),
	   UNIT_TEST(test_ipv6_prefix_shares_bucket),
	   UNIT_TEST(test_configured_prefix),
	   UNIT_TEST(test_burst_then_kod_once),
	   UNIT_TEST(test_steady_rate),
	   UNIT_TEST(test_addresses_independent),
	   UNIT_TEST(test_bounded_table))
