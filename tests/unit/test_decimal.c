/* unit tests for decimal: digits only, bounds, overflow. */
#include "build_config.h"

#include <stdint.h>

#include "common/decimal.h"
#include "unit.h"

static void test_decimal_good(void)
{
	uint64_t v = 7;

	CU_ASSERT_TRUE(decimal_parse_str("0", 10, &v));
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_TRUE(decimal_parse_str("65535", UINT16_MAX, &v));
	CU_ASSERT_EQUAL(v, 65535);
	CU_ASSERT_TRUE(decimal_parse_str("0042", 100, &v));
	CU_ASSERT_EQUAL(v, 42);
	CU_ASSERT_TRUE(decimal_parse_str("18446744073709551615", UINT64_MAX, &v));
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	/* A span stops where its length says. */
	CU_ASSERT_TRUE(decimal_parse("123abc", 3, 1000, &v));
	CU_ASSERT_EQUAL(v, 123);
}

static void test_decimal_bad(void)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "0x10", "1.5", "1e3", "a" };
	uint64_t v = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_FALSE(decimal_parse_str(bad[i], UINT64_MAX, &v));
	CU_ASSERT_EQUAL(v, 7);	/* untouched on failure */
	CU_ASSERT_FALSE(decimal_parse("12", 0, 100, &v));
}

static void test_decimal_bounds(void)
{
	uint64_t v;

	CU_ASSERT_FALSE(decimal_parse_str("65536", UINT16_MAX, &v));
	CU_ASSERT_FALSE(decimal_parse_str("18446744073709551616", UINT64_MAX, &v));
	CU_ASSERT_FALSE(decimal_parse_str("99999999999999999999999", UINT64_MAX, &v));
	CU_ASSERT_FALSE(decimal_parse_str("1", 0, &v));
	CU_ASSERT_TRUE(decimal_parse_str("0", 0, &v));
	CU_ASSERT_FALSE(decimal_parse_str("129", 128, &v));
	CU_ASSERT_TRUE(decimal_parse_str("128", 128, &v));
}

UNIT_SUITE(decimal, NULL, NULL,
	   UNIT_TEST(test_decimal_good),
	   UNIT_TEST(test_decimal_bad),
	   UNIT_TEST(test_decimal_bounds))
