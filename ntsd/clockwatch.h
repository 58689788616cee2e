/* clockwatch: the clock source's poll timer and socket on the daemon's
 * main loop (libev).  The polling itself is ntpd/clock_source.h; this only
 * calls it: clock_source_poll() at once and then every clock-source-poll
 * seconds, clock_source_receive() when its socket is readable. */
#ifndef NTSD_CLOCKWATCH_H
#define NTSD_CLOCKWATCH_H

#include <ev.h>

#include "ntpd/clock_source.h"

struct clockwatch {
	struct clock_source *cs;	/* borrowed */
	ev_io io;
	ev_timer timer;
	struct ev_loop *loop;		/* NULL: not started */
};

/* Start watching cs on loop (the first request goes out at once). */
void clockwatch_start(struct clockwatch *w, struct ev_loop *loop, struct clock_source *cs);
/* Stop the watchers; safe when never started. */
void clockwatch_stop(struct clockwatch *w);

#endif
