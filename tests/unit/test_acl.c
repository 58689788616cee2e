/* Unit tests for acl: prefix rules, most specific wins, and each family's
 * default for addresses no rule matches (chrony's rule). */
#include "build_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/acl.h"
#include "unit.h"

static bool allows(const struct acl *acl, const char *addr)
{
	struct netaddr a;

	CU_ASSERT_EQUAL_FATAL(netaddr_parse(addr, 123, &a), 0);
	return acl_allows(acl, &a);
}

static void test_empty_allows_all(void)
{
	struct acl *acl = acl_new();

	CU_ASSERT_TRUE(allows(acl, "192.0.2.1"));
	CU_ASSERT_TRUE(allows(acl, "2001:db8::1"));
	CU_ASSERT_TRUE(allows(NULL, "192.0.2.1"));
	CU_ASSERT_EQUAL(acl_count(acl), 0);
	acl_free(acl);
}

static void test_most_specific_wins(void)
{
	struct acl *acl = acl_new();

	CU_ASSERT_EQUAL(acl_add(acl, "0.0.0.0/0", false), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "10.0.0.0/8", true), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "10.1.0.0/16", false), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "10.1.2.3", true), 0);
	CU_ASSERT_FALSE(allows(acl, "192.0.2.1"));
	CU_ASSERT_TRUE(allows(acl, "10.9.9.9"));
	CU_ASSERT_FALSE(allows(acl, "10.1.9.9"));
	CU_ASSERT_TRUE(allows(acl, "10.1.2.3"));
	CU_ASSERT_FALSE(allows(acl, "10.1.2.4"));
	/* IPv6 has its own rules: none here, so allowed. */
	CU_ASSERT_TRUE(allows(acl, "2001:db8::1"));
	CU_ASSERT_EQUAL(acl_count(acl), 4);
	acl_free(acl);
}

static void test_ipv6_and_mapped(void)
{
	struct acl *acl = acl_new();

	CU_ASSERT_EQUAL(acl_add(acl, "::/0", false), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "2001:db8::/32", true), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "192.0.2.0/24", false), 0);
	CU_ASSERT_TRUE(allows(acl, "2001:db8:1::5"));
	CU_ASSERT_FALSE(allows(acl, "2001:db9::1"));
	CU_ASSERT_FALSE(allows(acl, "::1"));
	/* An IPv4-mapped source matches the IPv4 rules, not ::/0. */
	CU_ASSERT_FALSE(allows(acl, "::ffff:192.0.2.9"));
	CU_ASSERT_TRUE(allows(acl, "::ffff:198.51.100.1"));
	acl_free(acl);
}

/* A rule inside ::ffff:0:0/96, in either spelling, could never match (the
 * addresses are looked up as IPv4): refused.  fuzz_netaddr found that
 * "ke-deny ::ffff:c000:201" was taken and denied nothing. */
static void test_mapped_prefix_refused(void)
{
	struct acl *acl = acl_new();
	static const char *mapped[] = {
		"::ffff:192.0.2.1", "::ffff:c000:201", "::ffff:192.0.2.0/120", "::ffff:0:0/96",
	};

	for (size_t i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++) {
		CU_ASSERT_TRUE(acl_prefix_is_mapped(mapped[i]));
		CU_ASSERT_EQUAL(acl_add(acl, mapped[i], false), -1);
	}
	CU_ASSERT_EQUAL(acl_count(acl), 0);
	CU_ASSERT_FALSE(acl_prefix_is_mapped("::/0"));
	CU_ASSERT_FALSE(acl_prefix_is_mapped("::fffe:0:0/96"));
	CU_ASSERT_FALSE(acl_prefix_is_mapped("192.0.2.1"));
	CU_ASSERT_FALSE(acl_prefix_is_mapped("::ffff:192.0.2.1/8x"));
	CU_ASSERT_EQUAL(acl_add(acl, "::/0", false), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "192.0.2.1", false), 0);
	CU_ASSERT_FALSE(allows(acl, "::ffff:192.0.2.1"));
	acl_free(acl);
}

static void test_later_rule_replaces(void)
{
	struct acl *acl = acl_new();

	CU_ASSERT_EQUAL(acl_add(acl, "192.0.2.0/24", false), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "192.0.2.0/24", true), 0);
	CU_ASSERT_TRUE(allows(acl, "192.0.2.1"));
	CU_ASSERT_EQUAL(acl_count(acl), 1);
	acl_free(acl);
}

static void test_malformed(void)
{
	struct acl *acl = acl_new();
	static const char *bad[] = {
		"", "/", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x",
		"10.0.0.1/8", "300.0.0.0/8", "example.com", "2001:db8::/129",
		"2001:db8::1/32", "10.0.0.0/08/8",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(acl_add(acl, bad[i], true), -1);
	CU_ASSERT_EQUAL(acl_count(acl), 0);
	acl_free(acl);
}

static void test_many_rules(void)
{
	struct acl *acl = acl_new();
	char buf[32];

	/* Deny 10.x.y.0/24 for every even y: lookups still exact. */
	for (int x = 0; x < 4; x++)
		for (int y = 0; y < 256; y += 2) {
			snprintf(buf, sizeof(buf), "10.%d.%d.0/24", x, y);
			CU_ASSERT_EQUAL_FATAL(acl_add(acl, buf, false), 0);
		}
	CU_ASSERT_EQUAL(acl_count(acl), 512);
	CU_ASSERT_FALSE(allows(acl, "10.3.254.77"));
	CU_ASSERT_TRUE(allows(acl, "10.3.255.77"));
	CU_ASSERT_TRUE(allows(acl, "10.4.0.1"));
	acl_free(acl);
}

/* Issue 11 item 8: `ntp-allow 10.0.0.0/8` alone served everyone. */
static void test_allow_only_denies_the_rest(void)
{
	struct acl *acl = acl_new();

	CU_ASSERT_EQUAL(acl_add(acl, "10.0.0.0/8", true), 0);
	CU_ASSERT_TRUE(allows(acl, "10.200.0.1"));
	CU_ASSERT_FALSE(allows(acl, "127.0.0.1"));
	CU_ASSERT_FALSE(allows(acl, "192.0.2.1"));
	/* IPv4-mapped sources are IPv4: the IPv4 default applies. */
	CU_ASSERT_TRUE(allows(acl, "::ffff:10.1.2.3"));
	CU_ASSERT_FALSE(allows(acl, "::ffff:192.0.2.1"));
	/* IPv6 has no rule at all: allowed. */
	CU_ASSERT_TRUE(allows(acl, "2001:db8::1"));
	CU_ASSERT_TRUE(allows(acl, "::1"));
	acl_free(acl);

	acl = acl_new();
	CU_ASSERT_EQUAL(acl_add(acl, "fd00:10::/48", true), 0);
	CU_ASSERT_TRUE(allows(acl, "fd00:10::5"));
	CU_ASSERT_FALSE(allows(acl, "fd00:11::5"));
	CU_ASSERT_FALSE(allows(acl, "::1"));
	CU_ASSERT_TRUE(allows(acl, "192.0.2.1"));
	CU_ASSERT_TRUE(allows(acl, "::ffff:192.0.2.1"));
	acl_free(acl);
}

static void test_whole_space_rule_sets_default(void)
{
	struct acl *acl = acl_new();

	/* An explicit rule for the whole space decides, whatever the others. */
	CU_ASSERT_EQUAL(acl_add(acl, "10.0.0.0/8", true), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "0.0.0.0/0", true), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "192.0.2.0/24", false), 0);
	CU_ASSERT_TRUE(allows(acl, "198.51.100.1"));
	CU_ASSERT_FALSE(allows(acl, "192.0.2.1"));
	acl_free(acl);

	acl = acl_new();
	CU_ASSERT_EQUAL(acl_add(acl, "2001:db8::/32", true), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "::/0", true), 0);
	CU_ASSERT_TRUE(allows(acl, "2001:db9::1"));
	acl_free(acl);
}

/* acl_matches: a list, not rules: no family default, NULL matches nothing. */
static void test_matches_has_no_default(void)
{
	struct acl *acl = acl_new();
	struct netaddr a;

	CU_ASSERT_EQUAL_FATAL(netaddr_parse("10.0.0.5", 1, &a), 0);
	CU_ASSERT_FALSE(acl_matches(NULL, &a));
	CU_ASSERT_FALSE(acl_matches(acl, &a));
	CU_ASSERT_EQUAL(acl_add(acl, "10.0.0.0/8", true), 0);
	CU_ASSERT_TRUE(acl_matches(acl, &a));
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 1, &a), 0);
	CU_ASSERT_FALSE(acl_matches(acl, &a));
	/* No IPv6 rule: acl_allows lets IPv6 in, acl_matches does not. */
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("2001:db8::1", 1, &a), 0);
	CU_ASSERT_TRUE(acl_allows(acl, &a));
	CU_ASSERT_FALSE(acl_matches(acl, &a));
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("::ffff:10.1.2.3", 1, &a), 0);
	CU_ASSERT_TRUE(acl_matches(acl, &a));
	acl_free(acl);
}

static void test_deny_only_allows_the_rest(void)
{
	struct acl *acl = acl_new();

	CU_ASSERT_EQUAL(acl_add(acl, "192.0.2.0/24", false), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "2001:db8::/32", false), 0);
	CU_ASSERT_FALSE(allows(acl, "192.0.2.1"));
	CU_ASSERT_TRUE(allows(acl, "198.51.100.1"));
	CU_ASSERT_FALSE(allows(acl, "2001:db8::1"));
	CU_ASSERT_TRUE(allows(acl, "2001:db9::1"));
	acl_free(acl);
}

/* A replaced rule changes the family's allow count: allow replaced by
 * deny leaves a deny-only family, and the other way round. */
static void test_replaced_rule_moves_default(void)
{
	struct acl *acl = acl_new();

	CU_ASSERT_EQUAL(acl_add(acl, "10.0.0.0/8", true), 0);
	CU_ASSERT_FALSE(allows(acl, "192.0.2.1"));
	CU_ASSERT_EQUAL(acl_add(acl, "10.0.0.0/8", false), 0);
	CU_ASSERT_TRUE(allows(acl, "192.0.2.1"));
	CU_ASSERT_FALSE(allows(acl, "10.0.0.1"));
	CU_ASSERT_EQUAL(acl_add(acl, "10.0.0.0/8", true), 0);
	CU_ASSERT_FALSE(allows(acl, "192.0.2.1"));
	CU_ASSERT_EQUAL(acl_count(acl), 1);
	acl_free(acl);
}

static void test_family_info(void)
{
	struct acl *acl = acl_new();
	struct acl_family_info fi;

	acl_family_info(NULL, AF_INET, &fi);
	CU_ASSERT_TRUE(fi.default_allows);
	CU_ASSERT_EQUAL(fi.n_rules, 0);
	CU_ASSERT_EQUAL(acl_add(acl, "10.0.0.0/8", true), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "10.1.0.0/16", false), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "2001:db8::/32", false), 0);
	acl_family_info(acl, AF_INET, &fi);
	CU_ASSERT_EQUAL(fi.n_rules, 2);
	CU_ASSERT_EQUAL(fi.n_allow, 1);
	CU_ASSERT_FALSE(fi.whole_space);
	CU_ASSERT_FALSE(fi.default_allows);
	acl_family_info(acl, AF_INET6, &fi);
	CU_ASSERT_EQUAL(fi.n_rules, 1);
	CU_ASSERT_EQUAL(fi.n_allow, 0);
	CU_ASSERT_TRUE(fi.default_allows);
	CU_ASSERT_EQUAL(acl_add(acl, "0.0.0.0/0", false), 0);
	acl_family_info(acl, AF_INET, &fi);
	CU_ASSERT_TRUE(fi.whole_space);
	CU_ASSERT_FALSE(fi.default_allows);	/* the /0 rule denies */
	CU_ASSERT_FALSE(allows(acl, "192.0.2.1"));
	acl_free(acl);
}

/* acl_walk: every rule once, as acl_add took it (a replaced rule with
 * its later verdict), host bits clear; the rules it gives rebuild an acl
 * with the same verdicts. */
struct walked {
	char rule[16][80];
	size_t n;
	struct acl *copy;
};

static int collect(int family, const uint8_t *addr, unsigned plen, bool allow, void *arg)
{
	struct walked *w = arg;
	char host[INET6_ADDRSTRLEN], cidr[64];

	if (w->n == 16 || !inet_ntop(family, addr, host, sizeof(host)))
		return -1;
	snprintf(cidr, sizeof(cidr), "%s/%u", host, plen);
	snprintf(w->rule[w->n++], sizeof(w->rule[0]), "%s %s", cidr, allow ? "allow" : "deny");
	/* acl_add refuses host bits set past plen: the walk must clear them. */
	return acl_add(w->copy, cidr, allow) == 0 ? 0 : -2;
}

static bool walked_has(const struct walked *w, const char *rule)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->rule[i], rule) == 0)
			return true;
	return false;
}

static int stop_at_second(int family, const uint8_t *addr, unsigned plen, bool allow, void *arg)
{
	return ++*(int *)arg == 2 ? 7 : 0;
}

static void test_walk(void)
{
	static const char *const probes[] = { "192.0.2.1", "10.1.2.3", "10.1.2.4", "10.9.9.9",
					      "2001:db8::1", "2001:db9::1", "::ffff:10.1.2.3",
					      "0.0.0.0", "255.255.255.255" };
	struct acl *acl = acl_new();
	struct walked w = { .n = 0, .copy = acl_new() };
	int calls = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(acl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w.copy);
	CU_ASSERT_EQUAL(acl_walk(NULL, collect, &w), 0);
	CU_ASSERT_EQUAL(acl_walk(acl, collect, &w), 0);
	CU_ASSERT_EQUAL(w.n, 0);
	CU_ASSERT_EQUAL(acl_add(acl, "10.0.0.0/8", true), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "10.1.0.0/16", false), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "10.1.2.3", true), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "2001:db8::/32", false), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "::/0", true), 0);
	CU_ASSERT_EQUAL(acl_add(acl, "2001:db8::/32", true), 0);	/* replaces */
	CU_ASSERT_EQUAL(acl_add(acl, "128.0.0.0/1", false), 0);
	CU_ASSERT_EQUAL(acl_walk(acl, collect, &w), 0);
	CU_ASSERT_EQUAL(w.n, 6);
	CU_ASSERT_TRUE(walked_has(&w, "10.0.0.0/8 allow"));
	CU_ASSERT_TRUE(walked_has(&w, "10.1.0.0/16 deny"));
	CU_ASSERT_TRUE(walked_has(&w, "10.1.2.3/32 allow"));
	CU_ASSERT_TRUE(walked_has(&w, "128.0.0.0/1 deny"));
	CU_ASSERT_TRUE(walked_has(&w, "2001:db8::/32 allow"));
	CU_ASSERT_TRUE(walked_has(&w, "::/0 allow"));
	CU_ASSERT_EQUAL(acl_count(w.copy), acl_count(acl));
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		CU_ASSERT_EQUAL(allows(w.copy, probes[i]), allows(acl, probes[i]));
	/* fn's first nonzero return ends the walk. */
	CU_ASSERT_EQUAL(acl_walk(acl, stop_at_second, &calls), 7);
	CU_ASSERT_EQUAL(calls, 2);
	acl_free(w.copy);
	acl_free(acl);
}

UNIT_SUITE(acl, NULL, NULL,
	   UNIT_TEST(test_empty_allows_all),
	   UNIT_TEST(test_most_specific_wins),
	   UNIT_TEST(test_ipv6_and_mapped),
	   UNIT_TEST(test_mapped_prefix_refused),
	   UNIT_TEST(test_later_rule_replaces),
	   UNIT_TEST(test_malformed),
	   UNIT_TEST(test_many_rules),
	   UNIT_TEST(test_allow_only_denies_the_rest),
	   UNIT_TEST(test_whole_space_rule_sets_default),
	   UNIT_TEST(test_deny_only_allows_the_rest),
	   UNIT_TEST(test_matches_has_no_default),
	   UNIT_TEST(test_replaced_rule_moves_default),
	   UNIT_TEST(test_family_info),
	   UNIT_TEST(test_walk))
