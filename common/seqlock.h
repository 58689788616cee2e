/* seqlock: a few 64-bit words published by one writer and read by any
 * number of threads without locking.  The sequence word is odd while the
 * writer changes the words; a reader copies them and retries until it saw
 * the same even sequence before and after.  The caller owns the storage
 * (struct clock_pub in ntpd/clock.h, struct phc_pub in ntpd/phc.h). */
#ifndef NTSD_SEQLOCK_H
#define NTSD_SEQLOCK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Writer side only: words[0..n) = w[0..n). */
static inline void seqlock_store(_Atomic uint32_t *seq, _Atomic uint64_t *words,
				 const uint64_t *w, size_t n)
{
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < n; i++)
		atomic_store_explicit(&words[i], w[i], memory_order_relaxed);
	atomic_store_explicit(seq, s + 2, memory_order_release);
}

/* Any thread: a consistent copy of words[0..n) into w. */
static inline void seqlock_load(_Atomic uint32_t *seq, _Atomic uint64_t *words, uint64_t *w,
				size_t n)
{
	uint32_t before, after;

	do {
		before = atomic_load_explicit(seq, memory_order_acquire);
		for (size_t i = 0; i < n; i++)
			w[i] = atomic_load_explicit(&words[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		after = atomic_load_explicit(seq, memory_order_relaxed);
	} while ((before & 1) || before != after);
}

#endif
