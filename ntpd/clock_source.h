/* clock_source: serve what the local discipline daemon says about the
 * clock (clock-source ntp ADDRESS [PORT]).
 *
 * ntsd serves the host's clock; chronyd, ntpd, NTPsec, ntpd-rs or any NTP
 * server on this host disciplines it.  Every clock-source-poll seconds the
 * daemon's main loop sends that server one plain NTP client request on a
 * connected UDP socket and judges the answer as untrusted bytes: mode 4,
 * origin = our transmit, stratum, leap, timestamps, root delay and
 * dispersion sane, not a kiss-o'-death, its clock this host's clock.  A
 * good synchronised answer becomes a struct clock_sample, published through
 * a snapshot that the NTP responder reads about once a second
 * (clock_source_serve: the source's leap, stratum, refid, reference
 * timestamp and root delay; its root dispersion grown by 15 ppm of the
 * time since the answer).  The same clock, so the same stratum.
 *
 * When the source says it is unsynchronised (leap 3, stratum 0 or 16), is
 * refused by the kernel (nothing listens there), or gives no usable answer
 * for CLOCK_SOURCE_MAX_MISSES polls in a row, nothing is published and the
 * responder serves the kernel's state and the local-stratum rules
 * (ntpd/clock.h).  Each change of state is logged once and counted.
 *
 * The parsing, the judging, the state machine and what is served are pure
 * (clock_source_parse, clock_track_*, clock_source_serve) and unit-tested;
 * struct clock_source adds the socket, the counters and the publication.
 * The main loop owns it; other threads only read its state and counters. */
#ifndef NTSD_CLOCK_SOURCE_H
#define NTSD_CLOCK_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"
#include "common/netaddr.h"
#include "common/snapshot.h"
#include "ntpd/clock.h"

/* Polls in a row without a usable answer before a served source is
 * dropped: rides out one or two lost datagrams or a slow restart. */
#define CLOCK_SOURCE_MAX_MISSES 3
/* Growth of the served root dispersion since the answer, as chrony's
 * server assumes for its own clock (RFC 5905's PHI). */
#define CLOCK_SOURCE_PHI 15e-6
/* Largest difference between the source's clock and ours: past it the
 * answer does not describe this host's clock (or the clock was stepped
 * between request and answer). */
#define CLOCK_SOURCE_MAX_OFFSET 1.0
/* Root delay or dispersion at or past this (RFC 5905's MAXDISP) is not a
 * synchronised clock's. */
#define CLOCK_SOURCE_MAX_ROOT 16.0

enum clock_source_state {
	CLOCK_SOURCE_KERNEL,		/* clock-source kernel: nothing polled */
	CLOCK_SOURCE_STARTING,		/* no answer yet */
	CLOCK_SOURCE_SYNCHRONISED,	/* serving the source's state */
	CLOCK_SOURCE_UNSYNCHRONISED,	/* the source says it is not synchronised */
	CLOCK_SOURCE_UNREACHABLE,	/* refused, or polls without any answer */
	CLOCK_SOURCE_INVALID,		/* polls whose answers were all rejected */
	CLOCK_SOURCE_STATE_COUNT
};

/* What one answer was: two kinds of good answer, then named rejects. */
enum clock_answer {
	CLOCK_ANS_SYNCHRONISED,
	CLOCK_ANS_UNSYNCHRONISED,	/* leap 3, or stratum 0 or 16 */
	CLOCK_ANS_FIRST_REJECT,
	CLOCK_ANS_TRUNCATED = CLOCK_ANS_FIRST_REJECT,	/* shorter than 48 bytes */
	CLOCK_ANS_VERSION,		/* not NTP version 3 or 4 */
	CLOCK_ANS_MODE,			/* not mode 4 (server) */
	CLOCK_ANS_ORIGIN,		/* not the answer to our outstanding request */
	CLOCK_ANS_KOD,			/* kiss-o'-death RATE, DENY or RSTR */
	CLOCK_ANS_STRATUM,		/* stratum above 16 */
	CLOCK_ANS_LOOP,			/* our own refid: an ntsd, not a discipline daemon */
	CLOCK_ANS_TIMESTAMPS,		/* a zero timestamp, transmit before receive,
					 * reference after transmit */
	CLOCK_ANS_ROOT,			/* root delay or dispersion >= CLOCK_SOURCE_MAX_ROOT */
	CLOCK_ANS_OFFSET,		/* its clock > CLOCK_SOURCE_MAX_OFFSET from ours */
	CLOCK_ANS_COUNT
};

/* A synchronised answer, as served. */
struct clock_sample {
	uint8_t leap;			/* enum ntp_leap: none, insert or delete */
	uint8_t stratum;		/* 1-15 */
	uint32_t refid;
	uint64_t ref_ts;
	uint32_t root_delay;		/* short format */
	/* short format: the source's, plus how far its clock was from ours
	 * in this exchange (|offset| + delay / 2) */
	uint32_t root_dispersion;
	int64_t mono_ns;		/* when it arrived (CLOCK_MONOTONIC) */
};

/* One poll in flight: what its answer must match. */
struct clock_poll {
	uint64_t xmt;			/* our transmit timestamp (random); 0: none */
	uint64_t t1;			/* our clock when it was sent (NTP) */
	uint32_t own_refid;		/* the refid ntsd announces itself (config) */
};

/* Pure.  The 48-byte request (version 4, client mode, all zero but the
 * transmit timestamp) into out[0..cap); its length, 0 if cap is short. */
size_t clock_source_request(uint8_t *out, size_t cap, uint64_t xmt);
/* Pure.  Judge answer bytes p[0..len) that arrived at our clock t4 (NTP)
 * and monotonic time mono_ns; for CLOCK_ANS_SYNCHRONISED fills *out. */
enum clock_answer clock_source_parse(const uint8_t *p, size_t len, const struct clock_poll *poll,
				     uint64_t t4, int64_t mono_ns, struct clock_sample *out);
/* Pure.  The reply fields for sample s at monotonic time now_ns. */
void clock_source_serve(const struct clock_sample *s, int64_t now_ns, int8_t precision,
			struct clock_state *out);

/* Pure: the state machine. */
struct clock_track {
	enum clock_source_state state;
	unsigned misses;		/* polls in a row without a good answer */
	bool answered;			/* the current poll got a good answer */
	bool rejected;			/* the current poll got a rejected one */
	bool refused;			/* unreachable because the kernel refused */
	enum clock_answer last_reject;
};

void clock_track_init(struct clock_track *t);
/* An answer to the current poll was judged o. */
void clock_track_answer(struct clock_track *t, enum clock_answer o);
/* The current poll ends (the next one is due): a poll without a good
 * answer is a miss; STARTING moves on at the first, other states after
 * CLOCK_SOURCE_MAX_MISSES. */
void clock_track_poll_end(struct clock_track *t);
/* The kernel refused our request (ICMP port unreachable): nothing listens
 * at the source's address, so it is unreachable now. */
void clock_track_refused(struct clock_track *t);

const char *clock_source_state_name(enum clock_source_state s);
const char *clock_answer_name(enum clock_answer a);
/* "127.127.1.1", or "GPS" for an ASCII refid at stratum 0 or 1. */
const char *clock_refid_str(uint32_t refid, uint8_t stratum, char *buf, size_t len);

/* ------------------------------------------------------------ the poller */

struct clock_source;

/* Counts since start; any thread may read them. */
struct clock_source_counts {
	uint64_t polls;			/* requests sent */
	uint64_t missed;		/* polls that ended without a good answer */
	uint64_t refused;		/* requests the kernel refused (nothing listening) */
	uint64_t socket_errors;		/* send or receive failures other than that */
	uint64_t state_changes;
	uint64_t answers[CLOCK_ANS_COUNT];
};

/* A connected UDP socket to addr; own_refid is the configured refid.
 * NULL (logged) on failure. */
struct clock_source *clock_source_new(const struct netaddr *addr, unsigned poll_s,
				      uint32_t own_refid);
void clock_source_free(struct clock_source *cs);	/* NULL-safe */
int clock_source_fd(const struct clock_source *cs);
unsigned clock_source_poll_s(const struct clock_source *cs);
const struct netaddr *clock_source_addr(const struct clock_source *cs);
/* Main loop: every poll interval, from the first moment on: end the poll
 * in flight, send the next request. */
void clock_source_poll(struct clock_source *cs);
/* Main loop: the socket is readable: judge what arrived. */
void clock_source_receive(struct clock_source *cs);
/* The struct clock_sample to serve, NULL when the kernel's state is to be
 * served (snapshot_get from any thread). */
struct snapshot *clock_source_published(struct clock_source *cs);
/* Any thread. */
enum clock_source_state clock_source_state(const struct clock_source *cs);
void clock_source_counts(const struct clock_source *cs, struct clock_source_counts *out);

#endif
