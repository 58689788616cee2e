/* clock: what the responder says about the system clock it serves.
 *
 * The kernel knows whether something (chrony, ntpd, PTP) disciplines the
 * clock: adjtimex() reports a pending leap second (STA_INS / STA_DEL), an
 * unsynchronised clock (TIME_ERROR or STA_UNSYNC) and an error bound
 * (maxerror).  clock_state_from_kernel() turns that, with the configured
 * stratum and refid, into the header fields of our replies; it is pure so
 * the rules are unit-tested.  One thread refreshes the state about once a
 * second and publishes it through a struct clock_pub (a seqlock over
 * atomic words) that workers read per batch without locking. */
#ifndef NTSD_CLOCK_H
#define NTSD_CLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Header fields of a reply (NTP formats). */
struct clock_state {
	uint8_t leap;			/* enum ntp_leap */
	uint8_t stratum;
	int8_t precision;		/* log2 seconds */
	uint32_t refid;
	uint32_t root_delay;		/* short format 16.16 */
	uint32_t root_dispersion;	/* short format 16.16 */
	uint64_t ref_ts;		/* NTP timestamp of the last refresh */
};

/* What the configuration says. */
struct clock_config {
	int stratum;			/* 1-15 */
	uint32_t refid;
	int local_stratum;		/* serve when unsynchronised at this stratum; -1 = off */
	int8_t precision;		/* from clock_measure_precision() */
};

/* The kernel's view, as adjtimex() returns it. */
struct clock_kernel {
	int state;			/* adjtimex() return: TIME_OK, TIME_INS, ..., TIME_ERROR */
	int status;			/* STA_* bits */
	long maxerror_us;
	long esterror_us;
};

/* Stratum sent when the clock is unsynchronised and local-stratum is off. */
#define CLOCK_STRATUM_UNSYNC 16

/* Read the kernel's state (adjtimex with no modes).  0 or -1. */
int clock_read_kernel(struct clock_kernel *out);
/* Pure: the reply fields for this kernel state at time `now`. */
void clock_state_from_kernel(const struct clock_kernel *k, const struct clock_config *cfg,
			     const struct timespec *now, struct clock_state *out);
/* log2 of the system clock's resolution or read cost, whichever is larger. */
int8_t clock_measure_precision(void);

/* Lock-free publication: one writer, any number of readers. */
struct clock_pub {
	_Atomic uint32_t seq;
	_Atomic uint64_t w[3];
};

void clock_pub_init(struct clock_pub *p, const struct clock_state *st);
/* Writer side only. */
void clock_pub_store(struct clock_pub *p, const struct clock_state *st);
/* Any thread: a consistent copy. */
void clock_pub_load(const struct clock_pub *p, struct clock_state *out);

#endif
