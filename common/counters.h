/* counters: event counters owned by one thread and read by others.
 * Each thread increments its own (no lock, no read-modify-write bus lock);
 * a scrape sums the per-thread copies.  Relaxed atomics keep the reads
 * well defined. */
#ifndef NTSD_COUNTERS_H
#define NTSD_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint64_t counter_t;

/* Only the owning thread may call these. */
static inline void counter_add(counter_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void counter_inc(counter_t *c)
{
	counter_add(c, 1);
}

/* Any thread. */
static inline uint64_t counter_get(const counter_t *c)
{
	return atomic_load_explicit((counter_t *)c, memory_order_relaxed);
}

#endif
