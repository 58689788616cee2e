/* monotime: the one reader of the monotonic clock, in milliseconds or
 * nanoseconds, for deadlines, reap timers and intervals
 * (never for timestamps on the wire). */
#ifndef NTSD_MONOTIME_H
#define NTSD_MONOTIME_H

#include <stdint.h>
#include <time.h>

#define MS_PER_S 1000
#define NS_PER_US 1000
#define NS_PER_MS 1000000
#define NS_PER_S 1000000000

static inline int64_t monotime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * MS_PER_S + ts.tv_nsec / NS_PER_MS;
}

static inline int64_t monotime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

#endif
