/* unit tests for promtext: the exact exposition text, escaping, number
 * formats, name rules, family grouping and buffer limits. */
#include "build_config.h"

#include <math.h>
#include <string.h>

#include "ntsd/promtext.h"
#include "unit.h"

static struct promtext pt;

static int render(char *buf, size_t cap)
{
	size_t len = 12345;
	int rc = promtext_render(&pt, buf, cap, &len);

	if (rc == 0) {
		CU_ASSERT_EQUAL(len, strlen(buf));
	} else {
		CU_ASSERT_EQUAL(len, 0);
	}
	return rc;
}

static void test_exposition(void)
{
	char buf[2048];

	promtext_init(&pt);
	promtext_gauge(&pt, "ntsd_build_info", "Build information.", "version", "0.1.0", 1);
	promtext_counter(&pt, "ntsd_ntp_requests_total", "NTP requests by outcome.", "outcome",
			 "nts_replies", 12);
	promtext_counter(&pt, "ntsd_ntp_requests_total", "NTP requests by outcome.", "outcome",
			 "drop_short", 0);
	promtext_counter(&pt, "ntsd_ntp_naks_total", "NAKs.", NULL, NULL, 3);
	promtext_gauge(&pt, "ntsd_clock_root_dispersion_seconds", "Dispersion.", NULL, NULL,
		       0.0009765625);
	CU_ASSERT_EQUAL_FATAL(render(buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf,
		"# HELP ntsd_build_info Build information.\n"
		"# TYPE ntsd_build_info gauge\n"
		"ntsd_build_info{version=\"0.1.0\"} 1\n"
		"# HELP ntsd_ntp_requests_total NTP requests by outcome.\n"
		"# TYPE ntsd_ntp_requests_total counter\n"
		"ntsd_ntp_requests_total{outcome=\"nts_replies\"} 12\n"
		"ntsd_ntp_requests_total{outcome=\"drop_short\"} 0\n"
		"# HELP ntsd_ntp_naks_total NAKs.\n"
		"# TYPE ntsd_ntp_naks_total counter\n"
		"ntsd_ntp_naks_total 3\n"
		"# HELP ntsd_clock_root_dispersion_seconds Dispersion.\n"
		"# TYPE ntsd_clock_root_dispersion_seconds gauge\n"
		"ntsd_clock_root_dispersion_seconds 0.0009765625\n");
}

static void test_two_labels_and_escaping(void)
{
	struct promtext_sample s;
	char buf[1024];

	promtext_init(&pt);
	memset(&s, 0, sizeof(s));
	s.name = "x_total";
	s.help = "back\\slash and\nnewline \"quoted\"";
	s.type = PROMTEXT_COUNTER;
	s.label[0].name = "a";
	s.label[0].value = "q\"b\\n\nx";
	s.label[1].name = "b";
	s.label[1].value = "";
	s.value = 7;
	promtext_add(&pt, &s);
	CU_ASSERT_EQUAL_FATAL(render(buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf,
		"# HELP x_total back\\\\slash and\\nnewline \"quoted\"\n"
		"# TYPE x_total counter\n"
		"x_total{a=\"q\\\"b\\\\n\\nx\",b=\"\"} 7\n");
}

static void test_values(void)
{
	char buf[1024];

	promtext_init(&pt);
	promtext_gauge(&pt, "g", "h", "v", "neg", -86400);
	promtext_gauge(&pt, "g", "h", "v", "big", 9007199254740991.0);
	promtext_gauge(&pt, "g", "h", "v", "huge", 1e300);
	promtext_gauge(&pt, "g", "h", "v", "frac", 2.5);
	promtext_gauge(&pt, "g", "h", "v", "nan", NAN);
	promtext_gauge(&pt, "g", "h", "v", "inf", INFINITY);
	promtext_gauge(&pt, "g", "h", "v", "ninf", -INFINITY);
	promtext_counter(&pt, "c_total", "h", NULL, NULL, UINT64_MAX);
	CU_ASSERT_EQUAL_FATAL(render(buf, sizeof(buf)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "g{v=\"neg\"} -86400\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "g{v=\"big\"} 9007199254740991\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "g{v=\"huge\"} 1.0000000000000001e+300\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "g{v=\"frac\"} 2.5\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "g{v=\"nan\"} NaN\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "g{v=\"inf\"} +Inf\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "g{v=\"ninf\"} -Inf\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "c_total 1.8446744073709552e+19\n"));
}

static void test_names(void)
{
	CU_ASSERT_TRUE(promtext_valid_name("ntsd_ntp_requests_total"));
	CU_ASSERT_TRUE(promtext_valid_name("a:b_c9"));
	CU_ASSERT_TRUE(promtext_valid_name("_x"));
	CU_ASSERT_FALSE(promtext_valid_name(""));
	CU_ASSERT_FALSE(promtext_valid_name("9a"));
	CU_ASSERT_FALSE(promtext_valid_name("a-b"));
	CU_ASSERT_FALSE(promtext_valid_name("a b"));
	CU_ASSERT_FALSE(promtext_valid_name("a{"));
	CU_ASSERT_FALSE(promtext_valid_name(NULL));
	CU_ASSERT_TRUE(promtext_valid_label("outcome"));
	CU_ASSERT_TRUE(promtext_valid_label("_a1"));
	CU_ASSERT_FALSE(promtext_valid_label("__name__"));
	CU_ASSERT_FALSE(promtext_valid_label("a:b"));
	CU_ASSERT_FALSE(promtext_valid_label("1a"));
	CU_ASSERT_FALSE(promtext_valid_label(""));
}

static void expect_refused(void)
{
	char buf[1024];

	CU_ASSERT_EQUAL(render(buf, sizeof(buf)), -1);
	CU_ASSERT_STRING_EQUAL(buf, "");
}

static void test_refused(void)
{
	/* A counter must end in _total, a gauge must not. */
	promtext_init(&pt);
	promtext_counter(&pt, "ntsd_requests", "h", NULL, NULL, 1);
	expect_refused();
	promtext_init(&pt);
	promtext_gauge(&pt, "ntsd_keys_total", "h", NULL, NULL, 1);
	expect_refused();
	/* Bad metric or label name, missing help or label value. */
	promtext_init(&pt);
	promtext_gauge(&pt, "ntsd-keys", "h", NULL, NULL, 1);
	expect_refused();
	promtext_init(&pt);
	promtext_gauge(&pt, "g", "h", "bad-label", "v", 1);
	expect_refused();
	promtext_init(&pt);
	promtext_gauge(&pt, "g", NULL, NULL, NULL, 1);
	expect_refused();
	promtext_init(&pt);
	promtext_gauge(&pt, "g", "h", "l", NULL, 1);
	expect_refused();
	/* A family split in two. */
	promtext_init(&pt);
	promtext_gauge(&pt, "a", "h", "l", "1", 1);
	promtext_gauge(&pt, "b", "h", NULL, NULL, 1);
	promtext_gauge(&pt, "a", "h", "l", "2", 1);
	expect_refused();
	/* One family, two helps or two types. */
	promtext_init(&pt);
	promtext_gauge(&pt, "a", "h", "l", "1", 1);
	promtext_gauge(&pt, "a", "other", "l", "2", 1);
	expect_refused();
	/* The same sample twice. */
	promtext_init(&pt);
	promtext_gauge(&pt, "a", "h", "l", "1", 1);
	promtext_gauge(&pt, "a", "h", "l", "1", 2);
	expect_refused();
	promtext_init(&pt);
	promtext_gauge(&pt, "a", "h", NULL, NULL, 1);
	promtext_gauge(&pt, "a", "h", NULL, NULL, 2);
	expect_refused();
	/* The same label twice in one sample. */
	{
		struct promtext_sample s;

		promtext_init(&pt);
		memset(&s, 0, sizeof(s));
		s.name = "a";
		s.help = "h";
		s.type = PROMTEXT_GAUGE;
		s.label[0].name = s.label[1].name = "l";
		s.label[0].value = "1";
		s.label[1].value = "2";
		promtext_add(&pt, &s);
		expect_refused();
	}
}

static void test_limits(void)
{
	char buf[256];
	size_t len;

	/* The list is bounded; one too many makes the render fail. */
	promtext_init(&pt);
	for (int i = 0; i < PROMTEXT_MAX_SAMPLES; i++)
		promtext_counter(&pt, "c_total", "h", "i", i % 2 ? "odd" : "even", 1);
	CU_ASSERT_EQUAL(pt.n, PROMTEXT_MAX_SAMPLES);
	CU_ASSERT_FALSE(pt.overflow);
	promtext_counter(&pt, "d_total", "h", NULL, NULL, 1);
	CU_ASSERT_TRUE(pt.overflow);
	CU_ASSERT_EQUAL(pt.n, PROMTEXT_MAX_SAMPLES);
	expect_refused();

	/* Exactly fitting (NUL included) works; one byte less does not. */
	promtext_init(&pt);
	promtext_gauge(&pt, "g", "h", NULL, NULL, 1);
	CU_ASSERT_EQUAL_FATAL(promtext_render(&pt, buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(len, strlen("# HELP g h\n# TYPE g gauge\ng 1\n"));
	CU_ASSERT_EQUAL(promtext_render(&pt, buf, len + 1, &len), 0);
	CU_ASSERT_EQUAL(promtext_render(&pt, buf, len, &len), -1);
	CU_ASSERT_STRING_EQUAL(buf, "");
	CU_ASSERT_EQUAL(promtext_render(&pt, buf, 0, &len), -1);

	/* Empty list: empty text. */
	promtext_init(&pt);
	CU_ASSERT_EQUAL(promtext_render(&pt, buf, 1, &len), 0);
	CU_ASSERT_EQUAL(len, 0);
}

UNIT_SUITE(promtext, NULL, NULL,
	UNIT_TEST(test_exposition),
	UNIT_TEST(test_two_labels_and_escaping),
	UNIT_TEST(test_values),
	UNIT_TEST(test_names),
	UNIT_TEST(test_refused),
	UNIT_TEST(test_limits))
