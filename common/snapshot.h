/* snapshot: publish an immutable object (a keyset, a TLS context, the
 * access rules) to reader threads without locks.
 *
 * Readers call snapshot_get() and may use the object until they return to
 * their event loop (they hold it for microseconds).  One writer thread (the
 * main loop) publishes replacements; a replaced object is retired and freed
 * by snapshot_reap() once it has been retired for longer than the grace
 * period, far longer than any reader holds one. */
#ifndef NTSD_SNAPSHOT_H
#define NTSD_SNAPSHOT_H

#include <stdatomic.h>
#include <stdint.h>

#define SNAPSHOT_RETIRED_MAX 16

struct snapshot {
	_Atomic(void *) cur;
	void (*free_fn)(void *);
	int64_t grace_ms;
	struct {
		void *obj;
		int64_t retired_ms;
	} retired[SNAPSHOT_RETIRED_MAX];
	unsigned n_retired;
};

void snapshot_init(struct snapshot *s, void (*free_fn)(void *), int64_t grace_ms);
/* Reader side: the current object (may be NULL before the first publish). */
void *snapshot_get(struct snapshot *s);
/* Writer side: obj becomes current; the old one is retired.  `now_ms` is
 * monotonic (common/monotime.h).  If the retired list is full, the call
 * waits until the oldest retired object is past its grace period and frees
 * it: never early. */
void snapshot_publish(struct snapshot *s, void *obj, int64_t now_ms);
/* Writer side: free retired objects older than the grace period. */
void snapshot_reap(struct snapshot *s, int64_t now_ms);
/* Free everything, current included (at shutdown, readers stopped). */
void snapshot_destroy(struct snapshot *s);

#endif
