/* unit: one CUnit runner for every suite.  A test file declares its suite
 * with UNIT_SUITE(); a constructor adds it to the runner's list, so adding
 * a suite means adding its file to tests/unit/local.mk and nothing else. */
#ifndef NTSD_UNIT_H
#define NTSD_UNIT_H

#include <CUnit/CUnit.h>

struct unit_test {
	const char *name;
	CU_TestFunc fn;
};

struct unit_suite {
	const char *name;
	CU_InitializeFunc init;
	CU_CleanupFunc cleanup;
	const struct unit_test *tests;	/* ends with { NULL, NULL } */
	struct unit_suite *next;
};

void unit_register(struct unit_suite *s);

#define UNIT_TEST(fn) { #fn, fn }

#define UNIT_SUITE(name_, init_, cleanup_, ...)                                   \
	static const struct unit_test unit_tests_##name_[] = { __VA_ARGS__, { 0, 0 } }; \
	static struct unit_suite unit_suite_##name_ = {                          \
		#name_, (init_), (cleanup_), unit_tests_##name_, 0 };            \
	__attribute__((constructor)) static void unit_register_##name_(void)     \
	{                                                                         \
		unit_register(&unit_suite_##name_);                              \
	}

/* Path of a test data file (tests/data/...) relative to the source tree. */
const char *unit_srcdir(void);

#endif
