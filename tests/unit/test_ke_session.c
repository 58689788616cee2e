/* unit tests for ke_session's per-thread state. */
#include "build_config.h"

#include <string.h>

#include "common/cookie.h"
#include "nts-ke/ke_session.h"
#include "unit.h"
#include "vmflags.h"

/* The room each KE thread keeps for a request's session keys is mapped
 * once, out of core dumps, and given back at shutdown (twice: nothing). */
static void test_keys_scratch_dontdump(void)
{
	struct ke_sessions ss;

	memset(&ss, 0, sizeof(ss));
	CU_ASSERT_EQUAL_FATAL(ke_session_init(&ss, NULL, NULL, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ss.keys_scratch);
	CU_ASSERT_EQUAL(vmflags_dontdump(ss.keys_scratch), 1);
	CU_ASSERT_EQUAL(vmflags_dontdump((const uint8_t *)(ss.keys_scratch + 1) - 1), 1);
	ke_session_shutdown(&ss);
	CU_ASSERT_PTR_NULL(ss.keys_scratch);
	ke_session_shutdown(&ss);
}

UNIT_SUITE(ke_session, NULL, NULL,
	   UNIT_TEST(test_keys_scratch_dontdump))
