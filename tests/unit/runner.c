/* The one unit-test runner: every suite registered by UNIT_SUITE().
 * Usage: unit_tests [SUITE...]   (no argument: all suites) */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "unit.h"

static struct unit_suite *suites;

void unit_register(struct unit_suite *s)
{
	struct unit_suite **tail = &suites;

	/* Keep registration order stable: append. */
	while (*tail)
		tail = &(*tail)->next;
	s->next = NULL;
	*tail = s;
}

const char *unit_srcdir(void)
{
	const char *d = getenv("srcdir");

	return d && *d ? d : ".";
}

static int wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned failed, run, n_suites = 0;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (struct unit_suite *s = suites; s; s = s->next) {
		CU_pSuite cs;

		if (!wanted(s->name, argc, argv))
			continue;
		cs = CU_add_suite(s->name, s->init, s->cleanup);
		if (!cs)
			return 2;
		for (const struct unit_test *t = s->tests; t->name; t++)
			if (!CU_add_test(cs, t->name, t->fn))
				return 2;
		n_suites++;
	}
	if (n_suites == 0) {
		fprintf(stderr, "unit_tests: no suite matched\n");
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
	printf("\nunit: %u passed, %u failed\n", run - CU_get_number_of_tests_failed(), failed);
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
