/* clockwatch: libev watchers around the clock source poller. */
#include "build_config.h"

#include "ntsd/clockwatch.h"

static void on_poll(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct clockwatch *w = t->data;

	(void)loop;
	(void)revents;
	clock_source_poll(w->cs);
}

static void on_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct clockwatch *w = io->data;

	(void)loop;
	(void)revents;
	clock_source_receive(w->cs);
}

void clockwatch_start(struct clockwatch *w, struct ev_loop *loop, struct clock_source *cs)
{
	w->cs = cs;
	w->loop = loop;
	ev_io_init(&w->io, on_readable, clock_source_fd(cs), EV_READ);
	ev_timer_init(&w->timer, on_poll, 0.0, (ev_tstamp)clock_source_poll_s(cs));
	w->io.data = w->timer.data = w;
	ev_io_start(loop, &w->io);
	ev_timer_start(loop, &w->timer);
}

void clockwatch_stop(struct clockwatch *w)
{
	if (!w->loop)
		return;
	ev_io_stop(w->loop, &w->io);
	ev_timer_stop(w->loop, &w->timer);
	w->loop = NULL;
}
