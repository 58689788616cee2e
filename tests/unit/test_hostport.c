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
		{ "[2001:db8::1]:65535", "2001:db8::1", 65535 },
		{ "h:1", "h", 1 },
	};
	char host[64];
	uint16_t port;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		port = 7;
		CU_ASSERT_EQUAL_FATAL(hostport_parse(cases[i].in, host, sizeof(host), &port), 0);
		CU_ASSERT_STRING_EQUAL(host, cases[i].host);
		CU_ASSERT_EQUAL(port, cases[i].port);
	}
}

static void test_hostport_bad(void)
{
	static const char *const bad[] = {
		"", ":123", "[]", "[]:1", "[::1", "[::1]x", "[::1]:", "h:", "h:0", "h:65536",
		"h:-1", "h:+1", "h: 1", "h:1x", "h:0x10", "[::1]:99999",
	};
	char host[64];
	uint16_t port;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(hostport_parse(bad[i], host, sizeof(host), &port), -1);
}

static void test_hostport_length(void)
{
	char host[8];
	uint16_t port;

	CU_ASSERT_EQUAL(hostport_parse("1234567", host, sizeof(host), &port), 0);
	CU_ASSERT_STRING_EQUAL(host, "1234567");
	CU_ASSERT_EQUAL(hostport_parse("12345678", host, sizeof(host), &port), -1);
	CU_ASSERT_EQUAL(hostport_parse("[1234567]:9", host, sizeof(host), &port), 0);
	CU_ASSERT_EQUAL(port, 9);
	CU_ASSERT_EQUAL(hostport_parse("[12345678]:9", host, sizeof(host), &port), -1);
}

UNIT_SUITE(hostport, NULL, NULL,
	UNIT_TEST(test_hostport_good),
	UNIT_TEST(test_hostport_bad),
	UNIT_TEST(test_hostport_length))
