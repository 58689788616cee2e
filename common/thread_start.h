/* thread_start: what a service's threads call first, after their own
 * set-up and before their loop.  ntsd installs each thread's sandbox with
 * it (ntsd/sandbox.h); the services know nothing of what it does. */
#ifndef NTSD_THREAD_START_H
#define NTSD_THREAD_START_H

struct thread_start {
	void (*fn)(void *arg, unsigned index);	/* NULL: nothing to do */
	void *arg;
};

/* In thread number index of its service. */
static inline void thread_start_run(const struct thread_start *ts, unsigned index)
{
	if (ts->fn)
		ts->fn(ts->arg, index);
}

#endif
