/* monotime: the one reader of the monotonic clock, in milliseconds or
 * nanoseconds, for deadlines, grace periods, reap timers and intervals
 * (never for timestamps on the wire). */
#ifndef NTSD_MONOTIME_H
#define NTSD_MONOTIME_H

#include <stdint.h>
#include <time.h>

static inline int64_t monotime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t monotime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
