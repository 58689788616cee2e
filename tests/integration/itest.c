/* itest: shared helpers for the C integration tests. */
#include "build_config.h"

#include <stdarg.h>
#include <stdio.h>

#include "itest.h"

static unsigned n_passed, n_failed;

void itest_report(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s: ", ok ? "PASS" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		n_passed++;
	else
		n_failed++;
}

int itest_finish(void)
{
	printf("%u passed, %u failed\n", n_passed, n_failed);
	return n_failed ? 1 : 0;
}
