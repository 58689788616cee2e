/* unit tests for json: ntsctl's --json writer. */
#include "build_config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/json.h"
#include "unit.h"

/* Run fill on a fresh writer; the text it wrote (free it). */
static char *written(void (*fill)(struct json_out *j))
{
	struct json_out j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_FATAL(f != NULL);
	json_begin(&j, f);
	fill(&j);
	json_finish(&j);
	fclose(f);
	return buf;
}

/* fill writes exactly want. */
static void expect(void (*fill)(struct json_out *j), const char *want)
{
	char *s = written(fill);

	CU_ASSERT_STRING_EQUAL(s, want);
	free(s);
}

static void fill_nested(struct json_out *j)
{
	json_object(j, "a");
	json_uint(j, "n", 18446744073709551615ULL);
	json_bool(j, "t", true);
	json_close(j);
	json_array(j, "list");
	json_object(j, NULL);
	json_number(j, "x", 0.5);
	json_close(j);
	json_null(j, NULL);
	json_close(j);
	json_array(j, "empty");
	json_close(j);
}

static void test_json_nested(void)
{
	expect(fill_nested, "{\n"
	       "  \"a\": {\n"
	       "    \"n\": 18446744073709551615,\n"
	       "    \"t\": true\n"
	       "  },\n"
	       "  \"list\": [\n"
	       "    {\n"
	       "      \"x\": 0.5\n"
	       "    },\n"
	       "    null\n"
	       "  ],\n"
	       "  \"empty\": []\n"
	       "}\n");
}

static void fill_escapes(struct json_out *j)
{
	json_string(j, "q\"k", "a\"b\\c\nd\te\x01" "f\x7f\xc3\xa9");
	json_string(j, "null", NULL);
}

/* Quotes, backslashes and control bytes escaped; DEL and non-ASCII bytes
 * (maybe not UTF-8: they come from the server) become '?'. */
static void test_json_escapes(void)
{
	expect(fill_escapes, "{\n"
	       "  \"q\\\"k\": \"a\\\"b\\\\c\\nd\\te\\u0001f???\",\n"
	       "  \"null\": \"\"\n"
	       "}\n");
}

static void fill_numbers(struct json_out *j)
{
	json_number(j, "nan", NAN);
	json_number(j, "inf", -INFINITY);
	json_number(j, "big", 1e300);
	json_number(j, "third", 1.0 / 3);
	json_number(j, "int", 42);
}

/* Not finite is null (JSON has no NaN); finite numbers round-trip. */
static void test_json_numbers(void)
{
	expect(fill_numbers, "{\n"
	       "  \"nan\": null,\n"
	       "  \"inf\": null,\n"
	       "  \"big\": 1.0000000000000001e+300,\n"
	       "  \"third\": 0.33333333333333331,\n"
	       "  \"int\": 42\n"
	       "}\n");
}

static void fill_unclosed(struct json_out *j)
{
	json_array(j, "a");
	json_object(j, NULL);
	json_uint(j, "n", 1);
}

/* json_finish closes what is still open. */
static void test_json_finish_closes(void)
{
	expect(fill_unclosed, "{\n"
	       "  \"a\": [\n"
	       "    {\n"
	       "      \"n\": 1\n"
	       "    }\n"
	       "  ]\n"
	       "}\n");
}

UNIT_SUITE(json, NULL, NULL,
	UNIT_TEST(test_json_nested),
	UNIT_TEST(test_json_escapes),
	UNIT_TEST(test_json_numbers),
	UNIT_TEST(test_json_finish_closes))
