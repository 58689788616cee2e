/* itest: the few helpers the C integration tests share: one PASS/FAIL
 * line per case and the closing "N passed, N failed" line. */
#ifndef NTSD_ITEST_H
#define NTSD_ITEST_H

#include <stdbool.h>

void itest_report(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print the totals; the process exit status (0 when nothing failed). */
int itest_finish(void);

#endif
