/* clock: clock state from the kernel, and its lock-free publication. */
#include "build_config.h"

#include <string.h>
#include <sys/timex.h>

#include "common/ntp_packet.h"
#include "common/seqlock.h"
#include "ntpd/clock.h"

int clock_read_kernel(struct clock_kernel *out)
{
	struct timex tx;
	int ret;

	memset(&tx, 0, sizeof(tx));
	ret = adjtimex(&tx);
	if (ret < 0)
		return -1;
	out->state = ret;
	out->status = tx.status;
	out->maxerror_us = tx.maxerror;
	out->esterror_us = tx.esterror;
	return 0;
}

void clock_state_from_kernel(const struct clock_kernel *k, const struct clock_config *cfg,
			     const struct timespec *now, struct clock_state *out)
{
	bool unsync = k->state == TIME_ERROR || (k->status & STA_UNSYNC);

	memset(out, 0, sizeof(*out));
	out->precision = cfg->precision;
	out->refid = cfg->refid;
	out->ref_ts = ntp_ts_from_timespec(now);
	if (unsync && cfg->local_stratum < 1) {
		/* Clients see the alarm condition and do not use us. */
		out->leap = NTP_LEAP_UNSYNC;
		out->stratum = CLOCK_STRATUM_UNSYNC;
		out->root_dispersion = ntp_short_from_double(16.0);
		return;
	}
	if (unsync) {
		/* local-stratum: the operator vouches for the clock; the
		 * kernel's error bound (16 s when unsynchronised) means
		 * nothing then. */
		out->leap = NTP_LEAP_NONE;
		out->stratum = (uint8_t)cfg->local_stratum;
		return;
	}
	out->stratum = (uint8_t)cfg->stratum;
	if (k->status & STA_INS)
		out->leap = NTP_LEAP_INSERT;
	else if (k->status & STA_DEL)
		out->leap = NTP_LEAP_DELETE;
	else
		out->leap = NTP_LEAP_NONE;
	/* maxerror bounds the whole error (the discipline daemon's root
	 * delay / 2 + dispersion, growing between updates): report it as
	 * our dispersion and no delay of our own. */
	if (k->maxerror_us > 0)
		out->root_dispersion = ntp_short_from_double((double)k->maxerror_us / 1e6);
}

int8_t clock_measure_precision(void)
{
	struct timespec res, a, b;
	double step = 1e-9, best = 1.0;
	int i;

	if (clock_getres(CLOCK_REALTIME, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0)
		step = (double)res.tv_nsec / 1e9;
	/* The smallest visible difference between two reads is the cost
	 * of reading the clock (or its resolution when that is coarser). */
	for (i = 0; i < 100; i++) {
		double d;

		clock_gettime(CLOCK_REALTIME, &a);
		do
			clock_gettime(CLOCK_REALTIME, &b);
		while (a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec);
		d = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		if (d > 0 && d < best)
			best = d;
	}
	if (best < step)
		best = step;
	/* ceil(log2(best)) without libm */
	for (i = 0; i > -40 && 1.0 / (double)(1ULL << -(i - 1)) >= best; i--)
		;
	return (int8_t)i;
}

void clock_pub_init(struct clock_pub *p, const struct clock_state *st)
{
	atomic_init(&p->seq, 0);
	atomic_init(&p->w[0], 0);
	atomic_init(&p->w[1], 0);
	atomic_init(&p->w[2], 0);
	clock_pub_store(p, st);
}

static void pack(const struct clock_state *st, uint64_t w[3])
{
	w[0] = (uint64_t)st->leap << 56 | (uint64_t)st->stratum << 48 |
	       (uint64_t)(uint8_t)st->precision << 40 | st->refid;
	w[1] = (uint64_t)st->root_delay << 32 | st->root_dispersion;
	w[2] = st->ref_ts;
}

void clock_pub_store(struct clock_pub *p, const struct clock_state *st)
{
	uint64_t w[3];

	pack(st, w);
	seqlock_store(&p->seq, p->w, w, 3);
}

void clock_pub_load(const struct clock_pub *p, struct clock_state *out)
{
	struct clock_pub *q = (struct clock_pub *)p;
	uint64_t w[3];

	seqlock_load(&q->seq, q->w, w, 3);
	out->leap = (uint8_t)(w[0] >> 56);
	out->stratum = (uint8_t)(w[0] >> 48);
	out->precision = (int8_t)(uint8_t)(w[0] >> 40);
	out->refid = (uint32_t)w[0];
	out->root_delay = (uint32_t)(w[1] >> 32);
	out->root_dispersion = (uint32_t)w[1];
	out->ref_ts = w[2];
}
