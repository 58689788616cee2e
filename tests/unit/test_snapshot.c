/* unit tests for snapshot: publish, get, retire, reap after the grace
 * period, overflow of the retired list, destroy. */
#include "build_config.h"

#include <stdlib.h>

#include "common/monotime.h"
#include "common/snapshot.h"
#include "unit.h"

static int freed;
static int last_freed;

static void count_free(void *p)
{
	last_freed = *(int *)p;
	freed++;
	free(p);
}

static int *obj(int v)
{
	int *p = malloc(sizeof(*p));

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	*p = v;
	return p;
}

static void test_publish_get_reap(void)
{
	struct snapshot s;
	int *a = obj(1), *b = obj(2), *c = obj(3);

	freed = 0;
	snapshot_init(&s, count_free, 1000);
	CU_ASSERT_PTR_NULL(snapshot_get(&s));
	snapshot_publish(&s, a, 0);
	CU_ASSERT_PTR_EQUAL(snapshot_get(&s), a);
	CU_ASSERT_EQUAL(s.n_retired, 0);
	snapshot_publish(&s, b, 100);
	CU_ASSERT_PTR_EQUAL(snapshot_get(&s), b);
	CU_ASSERT_EQUAL(s.n_retired, 1);
	snapshot_publish(&s, c, 600);
	CU_ASSERT_EQUAL(s.n_retired, 2);

	/* Within the grace period nothing is freed. */
	snapshot_reap(&s, 1100);
	CU_ASSERT_EQUAL(freed, 0);
	/* a was retired at 100: past grace at 1101, b (600) not yet. */
	snapshot_reap(&s, 1101);
	CU_ASSERT_EQUAL(freed, 1);
	CU_ASSERT_EQUAL(last_freed, 1);
	CU_ASSERT_EQUAL(s.n_retired, 1);
	CU_ASSERT_PTR_EQUAL(s.retired[0].obj, b);
	snapshot_reap(&s, 5000);
	CU_ASSERT_EQUAL(freed, 2);
	CU_ASSERT_EQUAL(last_freed, 2);
	CU_ASSERT_EQUAL(s.n_retired, 0);
	/* The current object is never reaped. */
	CU_ASSERT_PTR_EQUAL(snapshot_get(&s), c);
	CU_ASSERT_EQUAL(*(int *)snapshot_get(&s), 3);
	/* Publishing the current object again retires nothing. */
	snapshot_publish(&s, c, 6000);
	CU_ASSERT_EQUAL(s.n_retired, 0);
	snapshot_destroy(&s);
	CU_ASSERT_EQUAL(freed, 3);
	CU_ASSERT_PTR_NULL(snapshot_get(&s));
}

/* Regression (fleet review): a burst of more than SNAPSHOT_RETIRED_MAX
 * publishes used to free the oldest retired object at once, while a reader
 * could still hold it.  Now the publish waits out its grace period. */
static void test_retired_full(void)
{
	struct snapshot s;
	int64_t t0, waited;

	freed = 0;
	snapshot_init(&s, count_free, 80);
	t0 = monotime_ms();
	for (int i = 0; i <= SNAPSHOT_RETIRED_MAX; i++)
		snapshot_publish(&s, obj(i), monotime_ms());
	CU_ASSERT_EQUAL(s.n_retired, SNAPSHOT_RETIRED_MAX);
	CU_ASSERT_EQUAL(freed, 0);
	/* One more publish frees the oldest retired object, and only it,
	 * but not before its grace period has passed. */
	snapshot_publish(&s, obj(100), monotime_ms());
	waited = monotime_ms() - t0;
	CU_ASSERT(waited >= 80);
	CU_ASSERT_EQUAL(freed, 1);
	CU_ASSERT_EQUAL(last_freed, 0);
	CU_ASSERT_EQUAL(s.n_retired, SNAPSHOT_RETIRED_MAX);
	CU_ASSERT_EQUAL(*(int *)s.retired[0].obj, 1);
	CU_ASSERT_EQUAL(*(int *)s.retired[SNAPSHOT_RETIRED_MAX - 1].obj,
			SNAPSHOT_RETIRED_MAX);
	CU_ASSERT_EQUAL(*(int *)snapshot_get(&s), 100);
	/* Everything retired in the burst is past its grace by now + 81. */
	snapshot_reap(&s, monotime_ms() + 81);
	CU_ASSERT_EQUAL(freed, SNAPSHOT_RETIRED_MAX + 1);
	CU_ASSERT_EQUAL(s.n_retired, 0);
	snapshot_destroy(&s);
	CU_ASSERT_EQUAL(freed, SNAPSHOT_RETIRED_MAX + 2);
}

UNIT_SUITE(snapshot, NULL, NULL,
	   UNIT_TEST(test_publish_get_reap),
	   UNIT_TEST(test_retired_full))
