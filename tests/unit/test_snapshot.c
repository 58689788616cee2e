/* unit tests for snapshot: publish and get, a replaced object freed only
 * after every reader thread passed a quiescent point (a reader stalled
 * while it holds one keeps a whole burst of replacements waiting, and the
 * writer never waits), offline readers delay nothing, destroy. */
#include "build_config.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common/monotime.h"
#include "common/snapshot.h"
#include "unit.h"

#define BURST 50
/* How long a free may take once nothing holds the object any more. */
#define FREE_WAIT_MS 5000

static _Atomic int freed;
static _Atomic int last_freed;

static void count_free(void *p)
{
	atomic_store(&last_freed, *(int *)p);
	atomic_fetch_add(&freed, 1);
	free(p);
}

static int *obj(int v)
{
	int *p = malloc(sizeof(*p));

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	*p = v;
	return p;
}

/* Up to FREE_WAIT_MS for n frees; true once there are. */
static bool wait_freed(int n)
{
	int64_t end = monotime_ms() + FREE_WAIT_MS;
	struct timespec ms = { 0, 1000000 };

	while (atomic_load(&freed) < n && monotime_ms() < end)
		nanosleep(&ms, NULL);
	return atomic_load(&freed) == n;
}

static void sleep_ms(long n)
{
	struct timespec t = { n / 1000, (n % 1000) * 1000000 };

	nanosleep(&t, NULL);
}

static void test_publish_get(void)
{
	struct snapshot s;
	struct snapshot_counts before, after;
	int *a = obj(1), *b = obj(2), *c = obj(3);

	atomic_store(&freed, 0);
	snapshot_counts(&before);
	snapshot_init(&s, count_free);
	CU_ASSERT_PTR_NULL(snapshot_get(&s));
	CU_ASSERT_EQUAL(snapshot_publish(&s, a), 0);
	CU_ASSERT_PTR_EQUAL(snapshot_get(&s), a);
	CU_ASSERT_EQUAL(snapshot_publish(&s, b), 0);
	CU_ASSERT_PTR_EQUAL(snapshot_get(&s), b);
	/* No reader thread: a goes after the next grace period. */
	CU_ASSERT(wait_freed(1));
	CU_ASSERT_EQUAL(atomic_load(&last_freed), 1);
	/* Publishing the current object again retires nothing. */
	CU_ASSERT_EQUAL(snapshot_publish(&s, b), 0);
	CU_ASSERT_EQUAL(snapshot_publish(&s, c), 0);
	CU_ASSERT(wait_freed(2));
	CU_ASSERT_EQUAL(atomic_load(&last_freed), 2);
	CU_ASSERT_EQUAL(*(int *)snapshot_get(&s), 3);
	/* NULL withdraws: c is replaced by nothing. */
	CU_ASSERT_EQUAL(snapshot_publish(&s, NULL), 0);
	CU_ASSERT_PTR_NULL(snapshot_get(&s));
	CU_ASSERT(wait_freed(3));
	CU_ASSERT_EQUAL(snapshot_publish(&s, NULL), 0);
	snapshot_counts(&after);
	CU_ASSERT_EQUAL(after.retired - before.retired, 3);
	CU_ASSERT_EQUAL(after.freed - before.freed, 3);
	a = obj(4);
	CU_ASSERT_EQUAL(snapshot_publish(&s, a), 0);
	snapshot_destroy(&s);
	CU_ASSERT_EQUAL(atomic_load(&freed), 4);
	CU_ASSERT_PTR_NULL(snapshot_get(&s));
}

/* A reader thread that takes the current object, says so, and then holds
 * it (online, as a worker stopped in the middle of a batch) until told to
 * go on; offline_wait makes it wait offline instead, holding nothing. */
struct reader {
	struct snapshot *s;
	bool offline_wait;
	sem_t taken, go, done;
	int seen, seen_after;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	int *p;

	snapshot_thread_join();
	p = snapshot_get(r->s);
	r->seen = *p;
	if (r->offline_wait)
		snapshot_offline();
	sem_post(&r->taken);
	while (sem_wait(&r->go) < 0)
		;
	if (r->offline_wait) {
		snapshot_online();
		p = snapshot_get(r->s);
	}
	/* Still valid: nothing was freed under it (ASan would say). */
	r->seen_after = *p;
	snapshot_quiescent();
	sem_post(&r->done);
	while (sem_wait(&r->go) < 0)
		;
	snapshot_thread_leave();
	return NULL;
}

static void reader_start(struct reader *r, struct snapshot *s, bool offline_wait, pthread_t *t)
{
	r->s = s;
	r->offline_wait = offline_wait;
	sem_init(&r->taken, 0, 0);
	sem_init(&r->go, 0, 0);
	sem_init(&r->done, 0, 0);
	CU_ASSERT_FATAL(pthread_create(t, NULL, reader_main, r) == 0);
	while (sem_wait(&r->taken) < 0)
		;
}

static void reader_end(struct reader *r, pthread_t t)
{
	sem_post(&r->go);
	pthread_join(t, NULL);
	sem_destroy(&r->taken);
	sem_destroy(&r->go);
	sem_destroy(&r->done);
}

/* BURST replacements while a reader holds the first object: none is
 * freed (any of them could be held, as far as liburcu can tell), no
 * publish waits, and all go once the reader passes a quiescent point. */
static void test_stalled_reader(void)
{
	struct snapshot s;
	struct reader r = { 0 };
	pthread_t t;
	int64_t t0, took;

	atomic_store(&freed, 0);
	snapshot_init(&s, count_free);
	snapshot_publish(&s, obj(0));
	reader_start(&r, &s, false, &t);
	CU_ASSERT_EQUAL(r.seen, 0);
	t0 = monotime_ms();
	for (int i = 1; i <= BURST; i++)
		CU_ASSERT_EQUAL(snapshot_publish(&s, obj(i)), 0);
	took = monotime_ms() - t0;
	CU_ASSERT(took < 500);
	sleep_ms(200);
	CU_ASSERT_EQUAL(atomic_load(&freed), 0);
	CU_ASSERT_EQUAL(*(int *)snapshot_get(&s), BURST);

	sem_post(&r.go);
	while (sem_wait(&r.done) < 0)
		;
	CU_ASSERT_EQUAL(r.seen_after, 0);
	/* It passed a quiescent point and is still registered and online. */
	CU_ASSERT(wait_freed(BURST));
	reader_end(&r, t);
	snapshot_destroy(&s);
	CU_ASSERT_EQUAL(atomic_load(&freed), BURST + 1);
}

/* A reader blocked offline (an idle worker in poll) delays nothing. */
static void test_offline_reader(void)
{
	struct snapshot s;
	struct reader r = { 0 };
	pthread_t t;

	atomic_store(&freed, 0);
	snapshot_init(&s, count_free);
	snapshot_publish(&s, obj(0));
	reader_start(&r, &s, true, &t);
	for (int i = 1; i <= BURST; i++)
		snapshot_publish(&s, obj(i));
	CU_ASSERT(wait_freed(BURST));
	sem_post(&r.go);
	while (sem_wait(&r.done) < 0)
		;
	CU_ASSERT_EQUAL(r.seen_after, BURST);
	reader_end(&r, t);
	snapshot_destroy(&s);
	CU_ASSERT_EQUAL(atomic_load(&freed), BURST + 1);
}

UNIT_SUITE(snapshot, NULL, NULL,
	   UNIT_TEST(test_publish_get),
	   UNIT_TEST(test_stalled_reader),
	   UNIT_TEST(test_offline_reader))
