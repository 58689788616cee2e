/* unit tests for hostport: ntsctl's HOST[:PORT] arguments. */
#include "build_config.h"

#include <stdint.h>
#include <string.h>

#include "tools/hostport.h"
#include "unit.h"

struct good_case {
	const char *in, *host;
	uint16_t port;
};

static void test_hostport_good(void)
{
	static const struct good_case cases[] = {
		{ "ntp.example.org", "ntp.example.org", 0 },
		{ "ntp.example.org:4460", "ntp.example.org", 4460 },
		{ "192.0.2.1:123", "192.0.2.1", 123 },
		{ "::1", "::1", 0 },
		{ "2001:db8::1", "2001:db8::1", 0 },
		{ "[::1]", "::1", 0 },
		{ "[::1]:4460", "::1", 4460 },
		{ "[::1:4460]", "::1:4460", 0 },
		{ "[2001:db8::1]:65535", "2001:db8::1", 65535 },
		/* Several colons, and the head is no IPv6 address or the tail no
		 * port: a bare address, as before. */
		{ "2001:db8:0:0:0:0:0:1", "2001:db8:0:0:0:0:0:1", 0 },
		{ "::1:abcd", "::1:abcd", 0 },
		{ "fe80::1%eth0", "fe80::1%eth0", 0 },
		{ "h:1", "h", 1 },
		/* Brackets around any address literal, a zone included. */
		{ "[fe80::1%eth0]:123", "fe80::1%eth0", 123 },
		{ "[127.0.0.1]:4460", "127.0.0.1", 4460 },
	};
	char host[64], err[HOSTPORT_ERR_MAX];
	uint16_t port;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		port = 7;
		CU_ASSERT_EQUAL_FATAL(hostport_parse(cases[i].in, host, sizeof(host), &port, err,
						     sizeof(err)), 0);
		CU_ASSERT_STRING_EQUAL(host, cases[i].host);
		CU_ASSERT_EQUAL(port, cases[i].port);
	}
}

static void test_hostport_bad(void)
{
	static const char *const bad[] = {
		"", ":123", "[]", "[]:1", "[::1", "[::1]x", "[::1]:", "h:", "h:0", "h:65536",
		"h:-1", "h:+1", "h: 1", "h:1x", "h:0x10", "[::1]:99999",
		"[[]", "[[::1]]", "[a]", "[127.0.0.1%eth0]", "2001:db8::/32", "a:b:c", "[host.example]:4460", "a]b", "a[b:123",
	};
	char host[64], err[HOSTPORT_ERR_MAX];
	uint16_t port;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(hostport_parse(bad[i], host, sizeof(host), &port, err, sizeof(err)), -1);
}

/* Bug probe_v6_port: "::1:4460" was taken for the address ::1:4460 and the
 * probe went to port 4460 of it.  Both readings are valid: refused, with
 * the two bracket forms in the message. */
static void test_hostport_ambiguous(void)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "::1:4460", "'::1:4460' is ambiguous: write [::1]:4460 for port 4460, or "
			      "[::1:4460] for the IPv6 address" },
		{ "2001:db8::7:123", "'2001:db8::7:123' is ambiguous: write [2001:db8::7]:123 "
				     "for port 123, or [2001:db8::7:123] for the IPv6 address" },
		{ "::ffff:192.0.2.1:443", "'::ffff:192.0.2.1:443' is ambiguous: write "
					  "[::ffff:192.0.2.1]:443 for port 443, or "
					  "[::ffff:192.0.2.1:443] for the IPv6 address" },
	};
	char host[64], err[HOSTPORT_ERR_MAX];
	uint16_t port;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(hostport_parse(cases[i].in, host, sizeof(host), &port, err,
					       sizeof(err)), -1);
		CU_ASSERT_STRING_EQUAL(err, cases[i].msg);
	}
	/* A malformed one says how a port is written. */
	CU_ASSERT_EQUAL(hostport_parse("h:0", host, sizeof(host), &port, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad HOST[:PORT] 'h:0' (an IPv6 address with a port goes in "
				    "brackets: [2001:db8::1]:4460)");
}

static void test_hostport_length(void)
{
	char host[8], err[HOSTPORT_ERR_MAX];
	uint16_t port;

	CU_ASSERT_EQUAL(hostport_parse("1234567", host, sizeof(host), &port, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(host, "1234567");
	CU_ASSERT_EQUAL(hostport_parse("12345678", host, sizeof(host), &port, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(hostport_parse("[::1:2:3]:9", host, sizeof(host), &port, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(port, 9);
	CU_ASSERT_EQUAL(hostport_parse("[::1:2:34]:9", host, sizeof(host), &port, err, sizeof(err)), -1);
}

UNIT_SUITE(hostport, NULL, NULL,
	UNIT_TEST(test_hostport_good),
	UNIT_TEST(test_hostport_bad),
	UNIT_TEST(test_hostport_ambiguous),
	UNIT_TEST(test_hostport_length))
