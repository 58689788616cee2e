/* unit tests for ntsctl stats' parsers: HTTP status and body, and the
 * Prometheus text ntsd writes (and malformed text, which must be refused
 * without reading past its end). */
#include "build_config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntsd/promtext.h"
#include "tools/stats.h"
#include "unit.h"

static struct stats_sample samples[8];

static void test_http_split(void)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody\n";
	static const char lf[] = "HTTP/1.0 503 Service Unavailable\n\nno keys\n";
	const char *body;
	size_t len;
	int status;

	CU_ASSERT_EQUAL_FATAL(stats_http_split(ok, strlen(ok), &status, &body, &len), 0);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_EQUAL(len, 5);
	CU_ASSERT_EQUAL(memcmp(body, "body\n", 5), 0);
	CU_ASSERT_EQUAL_FATAL(stats_http_split(lf, strlen(lf), &status, &body, &len), 0);
	CU_ASSERT_EQUAL(status, 503);
	CU_ASSERT_EQUAL(len, 8);
	/* Empty body. */
	CU_ASSERT_EQUAL(stats_http_split("HTTP/1.1 404 X\r\n\r\n", 18, &status, &body, &len), 0);
	CU_ASSERT_EQUAL(status, 404);
	CU_ASSERT_EQUAL(len, 0);
	/* Not HTTP, cut short, no end of headers. */
	CU_ASSERT_EQUAL(stats_http_split("HTTP/2 200\r\n\r\n", 14, &status, &body, &len), -1);
	CU_ASSERT_EQUAL(stats_http_split("HTTP/1.1 2x0\r\n\r\n", 16, &status, &body, &len), -1);
	CU_ASSERT_EQUAL(stats_http_split("HTTP/1.1 200", 12, &status, &body, &len), -1);
	CU_ASSERT_EQUAL(stats_http_split("HTTP/1.1 200 OK\r\nA: b\r\n", 23, &status, &body, &len),
			-1);
	CU_ASSERT_EQUAL(stats_http_split("", 0, &status, &body, &len), -1);
	CU_ASSERT_EQUAL(stats_http_split("SSH-2.0-x\r\n\r\n", 13, &status, &body, &len), -1);
}

static int parse(const char *text, size_t *n, size_t *bad)
{
	/* An exact-size heap copy: ASan sees any read past the end. */
	char *copy = malloc(strlen(text) + 1);
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	memcpy(copy, text, strlen(text));
	rc = stats_parse(copy, strlen(text), samples, 8, n, bad);
	free(copy);
	return rc;
}

static void test_parse(void)
{
	size_t n, bad;

	CU_ASSERT_EQUAL_FATAL(parse("# HELP a_total A.\n"
				    "# TYPE a_total counter\n"
				    "a_total{outcome=\"nts\",x=\"q\\\"\\\\\\n\"} 12\n"
				    "a_total{outcome=\"ntp\",} 1e3 1700000000000\r\n"
				    "\n"
				    "# TYPE g gauge\n"
				    "g -2.5\n"
				    "g{v=\"n\"}   NaN\n"
				    "g{v=\"i\"} +Inf\n"
				    "other_total 3", &n, &bad), 0);
	CU_ASSERT_EQUAL_FATAL(n, 6);
	CU_ASSERT_STRING_EQUAL(samples[0].name, "a_total");
	CU_ASSERT_STRING_EQUAL(samples[0].labels, "outcome=nts,x=q\"\\\n");
	CU_ASSERT_DOUBLE_EQUAL(samples[0].value, 12, 0);
	CU_ASSERT_TRUE(samples[0].counter);
	CU_ASSERT_STRING_EQUAL(samples[1].labels, "outcome=ntp");
	CU_ASSERT_DOUBLE_EQUAL(samples[1].value, 1000, 0);
	CU_ASSERT_TRUE(samples[1].counter);
	CU_ASSERT_STRING_EQUAL(samples[2].name, "g");
	CU_ASSERT_STRING_EQUAL(samples[2].labels, "");
	CU_ASSERT_DOUBLE_EQUAL(samples[2].value, -2.5, 0);
	CU_ASSERT_FALSE(samples[2].counter);
	CU_ASSERT_TRUE(isnan(samples[3].value));
	CU_ASSERT_TRUE(isinf(samples[4].value) && samples[4].value > 0);
	/* No TYPE line for it: not known to be a counter. */
	CU_ASSERT_STRING_EQUAL(samples[5].name, "other_total");
	CU_ASSERT_FALSE(samples[5].counter);
	CU_ASSERT_EQUAL(parse("", &n, &bad), 0);
	CU_ASSERT_EQUAL(n, 0);
}

/* What promtext writes, stats reads back. */
static void test_round_trip(void)
{
	static struct promtext pt;
	char text[4096];
	size_t len, n, bad;

	promtext_init(&pt);
	promtext_gauge(&pt, "ntsd_build_info", "B.", "version", "0.1.0", 1);
	promtext_counter(&pt, "ntsd_ntp_requests_total", "R \"x\"\n.", "outcome", "a\"b", 7);
	promtext_gauge(&pt, "ntsd_ke_certificate_expiry_seconds", "E.", NULL, NULL, -3600);
	promtext_gauge(&pt, "ntsd_clock_root_dispersion_seconds", "D.", NULL, NULL, 0.125);
	CU_ASSERT_EQUAL_FATAL(promtext_render(&pt, text, sizeof(text), &len), 0);
	CU_ASSERT_EQUAL_FATAL(stats_parse(text, len, samples, 8, &n, &bad), 0);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_STRING_EQUAL(samples[0].labels, "version=0.1.0");
	CU_ASSERT_FALSE(samples[0].counter);
	CU_ASSERT_STRING_EQUAL(samples[1].labels, "outcome=a\"b");
	CU_ASSERT_TRUE(samples[1].counter);
	CU_ASSERT_DOUBLE_EQUAL(samples[1].value, 7, 0);
	CU_ASSERT_DOUBLE_EQUAL(samples[2].value, -3600, 0);
	CU_ASSERT_DOUBLE_EQUAL(samples[3].value, 0.125, 0);
}

static void test_malformed(void)
{
	static const struct {
		const char *text;
		size_t line;
	} cases[] = {
		{ "a{", 1 },
		{ "a{b", 1 },
		{ "a{b=", 1 },
		{ "a{b=\"", 1 },
		{ "a{b=\"x", 1 },
		{ "a{b=\"x\\", 1 },
		{ "a{b=\"x\\q\"} 1", 1 },
		{ "a{b=\"x\"", 1 },
		{ "a{b=\"x\" c=\"y\"} 1", 1 },
		{ "a{=\"x\"} 1", 1 },
		{ "a", 1 },
		{ "a ", 1 },
		{ "a 1x", 1 },
		{ "a 0x10", 1 },
		{ "a 1 2 3", 1 },
		{ "a\t1", 1 },
		{ "9a 1", 1 },
		{ "{b=\"x\"} 1", 1 },
		{ "# ok\na 1\nb{", 3 },
		{ "a-b 1", 1 },
	};
	size_t n, bad;
	char big[600];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].text, &n, &bad);

		if (rc != -1 || bad != cases[i].line)
			fprintf(stderr, "\naccepted or wrong line: '%s'\n", cases[i].text);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_EQUAL(bad, cases[i].line);
	}
	/* A name or labels longer than the fields: refused, not truncated. */
	memset(big, 'a', sizeof(big));
	memcpy(big + 500, " 1", 3);
	CU_ASSERT_EQUAL(parse(big, &n, &bad), -1);
	memcpy(big, "a{b=\"", 5);
	memcpy(big + 490, "\"} 1", 5);
	CU_ASSERT_EQUAL(parse(big, &n, &bad), -1);
	/* More samples than room. */
	CU_ASSERT_EQUAL(parse("a 1\na 2\na 3\na 4\na 5\na 6\na 7\na 8\na 9\n", &n, &bad), -1);
	CU_ASSERT_EQUAL(bad, 9);
	CU_ASSERT_EQUAL(parse("a 1\na 2\na 3\na 4\na 5\na 6\na 7\na 8\n", &n, &bad), 0);
	CU_ASSERT_EQUAL(n, 8);
}

UNIT_SUITE(stats, NULL, NULL,
	UNIT_TEST(test_http_split),
	UNIT_TEST(test_parse),
	UNIT_TEST(test_round_trip),
	UNIT_TEST(test_malformed))
