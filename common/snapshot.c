/* snapshot: lock-free publication of immutable objects, with deferred
 * freeing after a grace period instead of reference counts. */
#include "build_config.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "monotime.h"
#include "snapshot.h"

void snapshot_init(struct snapshot *s, void (*free_fn)(void *), int64_t grace_ms)
{
	memset(s, 0, sizeof(*s));
	atomic_init(&s->cur, NULL);
	s->free_fn = free_fn;
	s->grace_ms = grace_ms;
}

void *snapshot_get(struct snapshot *s)
{
	/* Acquire pairs with the publisher's release: a reader sees the
	 * object fully built. */
	return atomic_load_explicit(&s->cur, memory_order_acquire);
}

static void snapshot_drop_oldest(struct snapshot *s)
{
	s->free_fn(s->retired[0].obj);
	memmove(&s->retired[0], &s->retired[1],
		(s->n_retired - 1) * sizeof(s->retired[0]));
	s->n_retired--;
	s->retired[s->n_retired].obj = NULL;
	s->retired[s->n_retired].retired_ms = 0;
}

void snapshot_publish(struct snapshot *s, void *obj, int64_t now_ms)
{
	void *old = atomic_exchange_explicit(&s->cur, obj, memory_order_acq_rel);

	if (!old || old == obj)
		return;
	if (s->n_retired == SNAPSHOT_RETIRED_MAX) {
		/* A burst of reloads: the oldest retired object may still be
		 * read until its grace period ends.  Wait that out rather than
		 * free it early (this only delays the publishing thread). */
		int64_t wait_ms = s->retired[0].retired_ms + s->grace_ms + 1 - monotime_ms();

		if (wait_ms > 0) {
			struct timespec ts = { wait_ms / 1000, (wait_ms % 1000) * 1000000 };

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		snapshot_drop_oldest(s);
	}
	s->retired[s->n_retired].obj = old;
	s->retired[s->n_retired].retired_ms = now_ms;
	s->n_retired++;
}

void snapshot_reap(struct snapshot *s, int64_t now_ms)
{
	unsigned kept = 0;

	/* The list is in retirement order; keep that order for the rest. */
	for (unsigned i = 0; i < s->n_retired; i++) {
		if (now_ms - s->retired[i].retired_ms > s->grace_ms) {
			s->free_fn(s->retired[i].obj);
			continue;
		}
		s->retired[kept++] = s->retired[i];
	}
	for (unsigned i = kept; i < s->n_retired; i++) {
		s->retired[i].obj = NULL;
		s->retired[i].retired_ms = 0;
	}
	s->n_retired = kept;
}

void snapshot_destroy(struct snapshot *s)
{
	void *cur = atomic_exchange_explicit(&s->cur, NULL, memory_order_acq_rel);

	while (s->n_retired > 0)
		snapshot_drop_oldest(s);
	if (cur)
		s->free_fn(cur);
}
