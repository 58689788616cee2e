/* unit tests for netaddr: parse, format, compare, keyed hash. */
#include "build_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/netaddr.h"
#include "unit.h"

static void test_parse_ipv4(void)
{
	struct netaddr a;

	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 123, &a), 0);
	CU_ASSERT_EQUAL(netaddr_family(&a), AF_INET);
	CU_ASSERT_EQUAL(a.len, sizeof(struct sockaddr_in));
	CU_ASSERT_EQUAL(netaddr_port(&a), 123);
	CU_ASSERT_EQUAL(ntohl(a.u.in4.sin_addr.s_addr), 0xc0000201U);
	CU_ASSERT_EQUAL(ntohs(a.u.in4.sin_port), 123);
}

static void test_parse_ipv6(void)
{
	struct netaddr a;
	static const uint8_t loop[16] = { [15] = 1 };

	CU_ASSERT_EQUAL_FATAL(netaddr_parse("::1", 4460, &a), 0);
	CU_ASSERT_EQUAL(netaddr_family(&a), AF_INET6);
	CU_ASSERT_EQUAL(a.len, sizeof(struct sockaddr_in6));
	CU_ASSERT_EQUAL(netaddr_port(&a), 4460);
	CU_ASSERT_EQUAL(memcmp(&a.u.in6.sin6_addr, loop, 16), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("[::1]", 4460, &a), 0);
	CU_ASSERT_EQUAL(netaddr_family(&a), AF_INET6);
	CU_ASSERT_EQUAL(memcmp(&a.u.in6.sin6_addr, loop, 16), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("[2001:db8::5]", 0, &a), 0);
	CU_ASSERT_EQUAL(a.u.in6.sin6_addr.s6_addr[0], 0x20);
	CU_ASSERT_EQUAL(a.u.in6.sin6_addr.s6_addr[15], 0x05);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("fe80::1%3", 0, &a), 0);
	CU_ASSERT_EQUAL(a.u.in6.sin6_scope_id, 3);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("::ffff:192.0.2.1", 0, &a), 0);
	CU_ASSERT_EQUAL(netaddr_family(&a), AF_INET6);
}

static void test_parse_rejects(void)
{
	static const char *const bad[] = {
		"", "[]", "[", "]", "[::1", "::1]", "localhost", "example.com",
		"192.0.2", "192.0.2.256", "192.0.2.1 ", " 192.0.2.1", "192.0.2.1:123",
		"[192.0.2.1]", "::1::", "[[::1]]", "::1%", "fe80::1%eth0",
		"fe80::1%-1", "fe80::1%99999999999", "1.2.3.4%1", "[::1]:123",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001",
	};
	struct netaddr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(netaddr_parse(bad[i], 1, &a), -1);
		CU_ASSERT_EQUAL(a.len, 0);
		CU_ASSERT_EQUAL(netaddr_family(&a), AF_UNSPEC);
	}
	CU_ASSERT_EQUAL(netaddr_parse(NULL, 1, &a), -1);
}

static void test_from_sockaddr(void)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_storage ss;
	struct netaddr a;
	char s[NETADDR_STRLEN];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(123);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	CU_ASSERT_EQUAL_FATAL(netaddr_from_sockaddr((struct sockaddr *)&sin, sizeof(sin), &a), 0);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a, s, sizeof(s)), "127.0.0.1:123");
	/* Too short for its family. */
	CU_ASSERT_EQUAL(netaddr_from_sockaddr((struct sockaddr *)&sin, sizeof(sin) - 1, &a), -1);
	CU_ASSERT_EQUAL(a.len, 0);

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(4460);
	sin6.sin6_addr.s6_addr[15] = 1;
	CU_ASSERT_EQUAL_FATAL(netaddr_from_sockaddr((struct sockaddr *)&sin6, sizeof(sin6), &a), 0);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a, s, sizeof(s)), "[::1]:4460");
	CU_ASSERT_EQUAL(netaddr_from_sockaddr((struct sockaddr *)&sin6, sizeof(sin), &a), -1);

	/* A larger buffer (recvfrom into sockaddr_storage) is fine. */
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &sin, sizeof(sin));
	CU_ASSERT_EQUAL(netaddr_from_sockaddr((struct sockaddr *)&ss, sizeof(ss), &a), 0);
	CU_ASSERT_EQUAL(a.len, sizeof(struct sockaddr_in));

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	CU_ASSERT_EQUAL(netaddr_from_sockaddr((struct sockaddr *)&ss, sizeof(ss), &a), -1);
	CU_ASSERT_EQUAL(netaddr_from_sockaddr(NULL, 0, &a), -1);
}

static void test_format(void)
{
	struct netaddr a;
	char s[NETADDR_STRLEN];

	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 123, &a), 0);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a, s, sizeof(s)), "192.0.2.1:123");
	CU_ASSERT_STRING_EQUAL(netaddr_host_str(&a, s, sizeof(s)), "192.0.2.1");
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("[2001:DB8:0:0::5]", 65535, &a), 0);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a, s, sizeof(s)), "[2001:db8::5]:65535");
	CU_ASSERT_STRING_EQUAL(netaddr_host_str(&a, s, sizeof(s)), "2001:db8::5");
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("fe80::1%4294967295", 65535, &a), 0);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a, s, sizeof(s)), "[fe80::1%4294967295]:65535");
	CU_ASSERT_TRUE(strlen(s) < NETADDR_STRLEN);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295",
					    65535, &a), 0);
	CU_ASSERT_TRUE(strlen(netaddr_str(&a, s, sizeof(s))) < NETADDR_STRLEN);
	CU_ASSERT_EQUAL(s[0], '[');
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("::ffff:192.0.2.1", 1, &a), 0);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&a, s, sizeof(s)), "[::ffff:192.0.2.1]:1");
}

static void test_format_small_buffers(void)
{
	struct netaddr a, unset;
	char s[8];

	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.100", 12345, &a), 0);
	memset(s, 'x', sizeof(s));
	CU_ASSERT_PTR_EQUAL(netaddr_str(&a, s, 6), s);
	CU_ASSERT_STRING_EQUAL(s, "192.0");
	CU_ASSERT_EQUAL(s[6], 'x');
	CU_ASSERT_STRING_EQUAL(netaddr_host_str(&a, s, 4), "192");
	s[0] = 'q';
	netaddr_str(&a, s, 0);
	CU_ASSERT_EQUAL(s[0], 'q');

	memset(&unset, 0, sizeof(unset));
	CU_ASSERT_STRING_EQUAL(netaddr_str(&unset, s, sizeof(s)), "(none)");
	CU_ASSERT_STRING_EQUAL(netaddr_host_str(&unset, s, sizeof(s)), "(none)");
	CU_ASSERT_EQUAL(netaddr_port(&unset), 0);
	netaddr_set_port(&unset, 5);
	CU_ASSERT_EQUAL(unset.len, 0);
}

static void test_set_port(void)
{
	struct netaddr a;

	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 123, &a), 0);
	netaddr_set_port(&a, 65535);
	CU_ASSERT_EQUAL(netaddr_port(&a), 65535);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("::1", 123, &a), 0);
	netaddr_set_port(&a, 4123);
	CU_ASSERT_EQUAL(netaddr_port(&a), 4123);
	CU_ASSERT_EQUAL(ntohs(a.u.in6.sin6_port), 4123);
}

static void test_same_host(void)
{
	struct netaddr a, b, c, d, e, f, unset;

	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 123, &a), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 50000, &b), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("::ffff:192.0.2.1", 9, &c), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.2", 123, &d), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("fe80::1%1", 123, &e), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("fe80::1%2", 123, &f), 0);
	memset(&unset, 0, sizeof(unset));

	/* Port does not matter. */
	CU_ASSERT_TRUE(netaddr_same_host(&a, &b));
	/* IPv4-mapped IPv6 is the IPv4 host, both ways round. */
	CU_ASSERT_TRUE(netaddr_same_host(&a, &c));
	CU_ASSERT_TRUE(netaddr_same_host(&c, &a));
	CU_ASSERT_FALSE(netaddr_same_host(&a, &d));
	CU_ASSERT_FALSE(netaddr_same_host(&c, &d));
	CU_ASSERT_TRUE(netaddr_same_host(&e, &e));
	CU_ASSERT_FALSE(netaddr_same_host(&e, &f));
	CU_ASSERT_FALSE(netaddr_same_host(&a, &unset));
	CU_ASSERT_FALSE(netaddr_same_host(&unset, &unset));
}

static void test_host_bytes(void)
{
	static const uint8_t want4[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,
	};
	static const uint8_t want6[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05,
	};
	struct netaddr a;
	uint8_t out[16];

	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 123, &a), 0);
	netaddr_host_bytes(&a, out);
	CU_ASSERT_EQUAL(memcmp(out, want4, 16), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("::ffff:192.0.2.1", 123, &a), 0);
	netaddr_host_bytes(&a, out);
	CU_ASSERT_EQUAL(memcmp(out, want4, 16), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("2001:db8::5", 123, &a), 0);
	netaddr_host_bytes(&a, out);
	CU_ASSERT_EQUAL(memcmp(out, want6, 16), 0);
}

static void expect_key(const char *addr, unsigned v4, unsigned v6, const char *want)
{
	struct netaddr_prefix p = { (uint8_t)v4, (uint8_t)v6 };
	struct netaddr a, w;
	uint8_t got[16], exp[16];

	CU_ASSERT_EQUAL_FATAL(netaddr_parse(addr, 123, &a), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse(want, 0, &w), 0);
	netaddr_prefix_key(&a, &p, got);
	netaddr_host_bytes(&w, exp);
	if (memcmp(got, exp, 16) != 0)
		fprintf(stderr, "\nprefix key of %s /%u /%u is not %s\n", addr, v4, v6, want);
	CU_ASSERT_EQUAL(memcmp(got, exp, 16), 0);
}

/* Issue 11 item 7: the client key is the address cut to its prefix;
 * IPv4-mapped IPv6 is cut as IPv4; the port never counts. */
static void test_prefix_key(void)
{
	expect_key("2001:db8:1:2:3:4:5:6", 32, 64, "2001:db8:1:2::");
	expect_key("2001:db8:1:2:3:4:5:6", 32, 128, "2001:db8:1:2:3:4:5:6");
	expect_key("2001:db8:1:2:3:4:5:6", 32, 48, "2001:db8:1::");
	expect_key("2001:db8:1:2:3:4:5:6", 32, 60, "2001:db8:1:0::");
	expect_key("2001:db8:1:ff:3:4:5:6", 32, 60, "2001:db8:1:f0::");
	expect_key("2001:db8:1:ff:3:4:5:6", 32, 57, "2001:db8:1:80::");
	expect_key("2001:db8:ffff:ffff::1", 32, 16, "2001::");
	expect_key("192.0.2.77", 32, 64, "192.0.2.77");
	expect_key("192.0.2.77", 24, 64, "192.0.2.0");
	expect_key("192.0.2.77", 26, 64, "192.0.2.64");
	expect_key("10.255.255.255", 8, 64, "10.0.0.0");
	expect_key("::ffff:192.0.2.77", 24, 128, "192.0.2.0");
	expect_key("::ffff:192.0.2.77", 32, 16, "192.0.2.77");
	/* an IPv6 address whose low 32 bits look like IPv4 is still IPv6 */
	expect_key("2001:db8::c000:24d", 24, 64, "2001:db8::");
}

/* Two addresses in one /64 hash alike under the default prefix, and
 * apart under /128. */
static void test_prefix_hash(void)
{
	static const struct netaddr_prefix def = {
		NETADDR_PREFIX_V4_DEFAULT, NETADDR_PREFIX_V6_DEFAULT,
	}, host = { 32, 128 };
	uint8_t key[16], ka[16], kb[16];
	struct netaddr a, b;

	memset(key, 0x5a, sizeof(key));
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("2001:db8:0:7::1", 123, &a), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("2001:db8:0:7:abcd::99", 4460, &b), 0);
	netaddr_prefix_key(&a, &def, ka);
	netaddr_prefix_key(&b, &def, kb);
	CU_ASSERT_EQUAL(netaddr_key_hash(ka, key), netaddr_key_hash(kb, key));
	netaddr_prefix_key(&a, &host, ka);
	netaddr_prefix_key(&b, &host, kb);
	CU_ASSERT_NOT_EQUAL(netaddr_key_hash(ka, key), netaddr_key_hash(kb, key));
	/* under /128 the key hash is the host hash */
	CU_ASSERT_EQUAL(netaddr_key_hash(ka, key), netaddr_host_hash(&a, key));
}

/* SipHash-2-4 of the 16 host bytes by OpenSSL's independent code. */
static uint64_t openssl_siphash(const uint8_t key[16], const uint8_t msg[16])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx = NULL;
	size_t size = 8, outl = 0;
	OSSL_PARAM params[2];
	uint8_t out[8];
	uint64_t v = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mac);
	ctx = EVP_MAC_CTX_new(mac);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size);
	params[1] = OSSL_PARAM_construct_end();
	CU_ASSERT_EQUAL_FATAL(EVP_MAC_init(ctx, key, 16, params), 1);
	CU_ASSERT_EQUAL_FATAL(EVP_MAC_update(ctx, msg, 16), 1);
	CU_ASSERT_EQUAL_FATAL(EVP_MAC_final(ctx, out, &outl, sizeof(out)), 1);
	CU_ASSERT_EQUAL(outl, 8);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | out[i];
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return v;
}

static void test_hash_known_answer(void)
{
	uint8_t key[16];
	struct netaddr a;

	/* The SipHash reference vectors (veorq/SipHash vectors.h, entry 16:
	 * key 00..0f, message 00..0f), output read little-endian. */
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("1:203:405:607:809:a0b:c0d:e0f", 0, &a), 0);
	CU_ASSERT_EQUAL(netaddr_host_hash(&a, key), 0x3f2acc7f57c29bdbULL);
}

static void test_hash_matches_openssl(void)
{
	uint8_t key[16], host[16];
	struct netaddr a;
	uint32_t x = 0x12345678;

	/* Deterministic pseudo-random keys and addresses (xorshift). */
	for (int round = 0; round < 64; round++) {
		for (int i = 0; i < 16; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			key[i] = (uint8_t)x;
			host[i] = (uint8_t)(x >> 8);
		}
		memset(&a, 0, sizeof(a));
		a.u.in6.sin6_family = AF_INET6;
		memcpy(&a.u.in6.sin6_addr, host, 16);
		a.len = sizeof(a.u.in6);
		CU_ASSERT_EQUAL(netaddr_host_hash(&a, key), openssl_siphash(key, host));
	}
}

static void test_hash_properties(void)
{
	uint8_t k1[16], k2[16];
	struct netaddr a, b, c, d;

	memset(k1, 0x11, sizeof(k1));
	memcpy(k2, k1, sizeof(k2));
	k2[15] ^= 1;
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 123, &a), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("::ffff:192.0.2.1", 4000, &b), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.2", 123, &c), 0);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 9999, &d), 0);
	/* Host only: mapped form and port do not change the hash. */
	CU_ASSERT_EQUAL(netaddr_host_hash(&a, k1), netaddr_host_hash(&b, k1));
	CU_ASSERT_EQUAL(netaddr_host_hash(&a, k1), netaddr_host_hash(&d, k1));
	CU_ASSERT_NOT_EQUAL(netaddr_host_hash(&a, k1), netaddr_host_hash(&c, k1));
	/* Keyed: one bit of key changes it. */
	CU_ASSERT_NOT_EQUAL(netaddr_host_hash(&a, k1), netaddr_host_hash(&a, k2));
}

UNIT_SUITE(netaddr, NULL, NULL,
	UNIT_TEST(test_parse_ipv4),
	UNIT_TEST(test_parse_ipv6),
	UNIT_TEST(test_parse_rejects),
	UNIT_TEST(test_from_sockaddr),
	UNIT_TEST(test_format),
	UNIT_TEST(test_format_small_buffers),
	UNIT_TEST(test_set_port),
	UNIT_TEST(test_same_host),
	UNIT_TEST(test_prefix_key),
	UNIT_TEST(test_prefix_hash),
	UNIT_TEST(test_host_bytes),
	UNIT_TEST(test_hash_known_answer),
	UNIT_TEST(test_hash_matches_openssl),
	UNIT_TEST(test_hash_properties))
