/* clock_source: poll the local discipline daemon and serve its state. */
#include "build_config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/ntp_packet.h"
#include "common/rng.h"
#include "ntpd/clock_source.h"

/* Datagrams read per readable event: answers are one per poll, so more
 * than a few means someone else is sending to our port. */
#define CLOCK_SOURCE_RX_BURST 8
/* Bytes read of one answer: the header is all we judge; a longer answer
 * (a MAC, extension fields) is truncated and its tail ignored. */
#define CLOCK_SOURCE_RX_MAX 512

/* Kiss codes (RFC 5905 section 7.4) that are about us, not the clock. */
#define KISS_RATE 0x52415445u
#define KISS_DENY 0x44454e59u
#define KISS_RSTR 0x52535452u

static const char *const state_names[CLOCK_SOURCE_STATE_COUNT] = {
	[CLOCK_SOURCE_KERNEL] = "kernel",
	[CLOCK_SOURCE_STARTING] = "starting",
	[CLOCK_SOURCE_SYNCHRONISED] = "synchronised",
	[CLOCK_SOURCE_UNSYNCHRONISED] = "unsynchronised",
	[CLOCK_SOURCE_UNREACHABLE] = "unreachable",
	[CLOCK_SOURCE_INVALID] = "invalid",
};

static const char *const answer_names[CLOCK_ANS_COUNT] = {
	[CLOCK_ANS_SYNCHRONISED] = "synchronised",
	[CLOCK_ANS_UNSYNCHRONISED] = "unsynchronised",
	[CLOCK_ANS_TRUNCATED] = "truncated",
	[CLOCK_ANS_VERSION] = "version",
	[CLOCK_ANS_MODE] = "mode",
	[CLOCK_ANS_ORIGIN] = "origin",
	[CLOCK_ANS_KOD] = "kod",
	[CLOCK_ANS_STRATUM] = "stratum",
	[CLOCK_ANS_LOOP] = "loop",
	[CLOCK_ANS_TIMESTAMPS] = "timestamps",
	[CLOCK_ANS_ROOT] = "root",
	[CLOCK_ANS_OFFSET] = "offset",
};

const char *clock_source_state_name(enum clock_source_state s)
{
	return (unsigned)s < CLOCK_SOURCE_STATE_COUNT ? state_names[s] : "?";
}

const char *clock_answer_name(enum clock_answer a)
{
	return (unsigned)a < CLOCK_ANS_COUNT ? answer_names[a] : "?";
}

const char *clock_refid_str(uint32_t refid, uint8_t stratum, char *buf, size_t len)
{
	char ascii[5];
	bool printable = stratum <= 1;

	for (int i = 0; i < 4; i++) {
		unsigned char ch = (unsigned char)(refid >> (24 - 8 * i));

		ascii[i] = (char)ch;
		if (ch != 0 && (ch < 0x20 || ch > 0x7e))
			printable = false;
		if (ch == 0 && i == 0)
			printable = false;
	}
	ascii[4] = '\0';
	if (printable)
		snprintf(buf, len, "%s", ascii);
	else
		snprintf(buf, len, "%u.%u.%u.%u", refid >> 24, (refid >> 16) & 0xff,
			 (refid >> 8) & 0xff, refid & 0xff);
	return buf;
}

/* ------------------------------------------------------------ pure parts */

size_t clock_source_request(uint8_t *out, size_t cap, uint64_t xmt)
{
	struct ntp_header h;
	struct buf_writer w;

	memset(&h, 0, sizeof(h));
	h.version = 4;
	h.mode = NTP_MODE_CLIENT;
	h.tx_ts = xmt;
	buf_writer_init(&w, out, cap);
	if (!ntp_header_encode(&w, &h) || w.err)
		return 0;
	return w.off;
}

static bool is_kiss(const struct ntp_header *h)
{
	return h->stratum == 0 &&
	       (h->refid == KISS_RATE || h->refid == KISS_DENY || h->refid == KISS_RSTR);
}

static bool root_sane(const struct ntp_header *h)
{
	uint32_t max = ntp_short_from_double(CLOCK_SOURCE_MAX_ROOT);

	return h->root_delay < max && h->root_dispersion < max;
}

/* The header's own timestamps, for a synchronised answer. */
static bool timestamps_sane(const struct ntp_header *h)
{
	if (h->ref_ts == 0 || h->rx_ts == 0 || h->tx_ts == 0)
		return false;
	return ntp_ts_diff(h->tx_ts, h->rx_ts) >= 0 && ntp_ts_diff(h->tx_ts, h->ref_ts) >= 0;
}

/* The exchange on both clocks (RFC 5905 section 8): the offset of the
 * source's clock from ours and the round trip.  False when the two are
 * not the same clock. */
static bool same_clock(const struct ntp_header *h, uint64_t t1, uint64_t t4, double *spread)
{
	double offset = (ntp_ts_diff(h->rx_ts, t1) + ntp_ts_diff(h->tx_ts, t4)) / 2;
	double delay = ntp_ts_diff(t4, t1) - ntp_ts_diff(h->tx_ts, h->rx_ts);

	if (offset > CLOCK_SOURCE_MAX_OFFSET || offset < -CLOCK_SOURCE_MAX_OFFSET)
		return false;
	*spread = (offset < 0 ? -offset : offset) + (delay > 0 ? delay / 2 : 0);
	return true;
}

/* Header checks every answer must pass before its content counts. */
static enum clock_answer check_envelope(const struct ntp_header *h, const struct clock_poll *poll)
{
	if (h->version != 3 && h->version != 4)
		return CLOCK_ANS_VERSION;
	if (h->mode != NTP_MODE_SERVER)
		return CLOCK_ANS_MODE;
	if (poll->xmt == 0 || h->origin_ts != poll->xmt)
		return CLOCK_ANS_ORIGIN;
	if (is_kiss(h))
		return CLOCK_ANS_KOD;
	if (h->stratum > CLOCK_STRATUM_UNSYNC)
		return CLOCK_ANS_STRATUM;
	return CLOCK_ANS_SYNCHRONISED;
}

enum clock_answer clock_source_parse(const uint8_t *p, size_t len, const struct clock_poll *poll,
				     uint64_t t4, int64_t mono_ns, struct clock_sample *out)
{
	struct buf_reader r;
	struct ntp_header h;
	enum clock_answer a;
	double spread;

	buf_reader_init(&r, p, len);
	if (!ntp_header_decode(&r, &h))
		return CLOCK_ANS_TRUNCATED;
	a = check_envelope(&h, poll);
	if (a != CLOCK_ANS_SYNCHRONISED)
		return a;
	if (h.leap == NTP_LEAP_UNSYNC || h.stratum == 0 || h.stratum == CLOCK_STRATUM_UNSYNC)
		return CLOCK_ANS_UNSYNCHRONISED;
	if (h.refid == poll->own_refid)
		return CLOCK_ANS_LOOP;
	if (!timestamps_sane(&h))
		return CLOCK_ANS_TIMESTAMPS;
	if (!root_sane(&h))
		return CLOCK_ANS_ROOT;
	if (!same_clock(&h, poll->t1, t4, &spread))
		return CLOCK_ANS_OFFSET;
	out->leap = h.leap;
	out->stratum = h.stratum;
	out->refid = h.refid;
	out->ref_ts = h.ref_ts;
	out->root_delay = h.root_delay;
	out->root_dispersion =
		ntp_short_from_double(ntp_short_to_double(h.root_dispersion) + spread);
	out->mono_ns = mono_ns;
	return CLOCK_ANS_SYNCHRONISED;
}

void clock_source_serve(const struct clock_sample *s, int64_t now_ns, int8_t precision,
			struct clock_state *out)
{
	double age = now_ns > s->mono_ns ? (double)(now_ns - s->mono_ns) / NS_PER_S : 0;

	memset(out, 0, sizeof(*out));
	out->leap = s->leap;
	out->stratum = s->stratum;
	out->precision = precision;
	out->refid = s->refid;
	out->ref_ts = s->ref_ts;
	out->root_delay = s->root_delay;
	out->root_dispersion = ntp_short_from_double(ntp_short_to_double(s->root_dispersion) +
						     CLOCK_SOURCE_PHI * age);
}

void clock_track_init(struct clock_track *t)
{
	memset(t, 0, sizeof(*t));
	t->state = CLOCK_SOURCE_STARTING;
}

void clock_track_answer(struct clock_track *t, enum clock_answer o)
{
	if (o >= CLOCK_ANS_FIRST_REJECT) {
		t->rejected = true;
		t->last_reject = o;
		return;
	}
	t->answered = true;
	t->refused = false;
	t->misses = 0;
	t->state = o == CLOCK_ANS_SYNCHRONISED ? CLOCK_SOURCE_SYNCHRONISED
					       : CLOCK_SOURCE_UNSYNCHRONISED;
}

void clock_track_poll_end(struct clock_track *t)
{
	bool rejected = t->rejected;

	if (t->answered) {
		t->answered = t->rejected = false;
		return;
	}
	t->rejected = false;
	if (t->misses < UINT32_MAX)
		t->misses++;
	if (t->state != CLOCK_SOURCE_STARTING && t->misses < CLOCK_SOURCE_MAX_MISSES)
		return;
	if (rejected)
		t->refused = false;
	t->state = rejected ? CLOCK_SOURCE_INVALID : CLOCK_SOURCE_UNREACHABLE;
}

void clock_track_refused(struct clock_track *t)
{
	t->answered = t->rejected = false;
	t->refused = true;
	if (t->misses < CLOCK_SOURCE_MAX_MISSES)
		t->misses = CLOCK_SOURCE_MAX_MISSES;
	t->state = CLOCK_SOURCE_UNREACHABLE;
}

/* ------------------------------------------------------------ the poller */

struct clock_source {
	struct netaddr addr;
	unsigned poll_s;
	int fd;
	struct clock_poll poll;
	struct clock_track track;
	struct clock_sample served;	/* the last one published (valid when serving) */
	bool serving;
	struct snapshot pub;		/* struct clock_sample; NULL: kernel */
	_Atomic int state;		/* track.state, for other threads */
	counter_t polls, missed, refused, socket_errors, state_changes;
	counter_t answers[CLOCK_ANS_COUNT];
};

struct clock_source *clock_source_new(const struct netaddr *addr, unsigned poll_s,
				      uint32_t own_refid)
{
	struct clock_source *cs = calloc(1, sizeof(*cs));
	char buf[NETADDR_STRLEN];

	if (!cs) {
		log_err("clock-source: out of memory");
		return NULL;
	}
	cs->addr = *addr;
	cs->poll_s = poll_s;
	cs->poll.own_refid = own_refid;
	clock_track_init(&cs->track);
	atomic_init(&cs->state, CLOCK_SOURCE_STARTING);
	snapshot_init(&cs->pub, free);
	netaddr_str(addr, buf, sizeof(buf));
	cs->fd = socket(netaddr_family(addr), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cs->fd < 0 || connect(cs->fd, &addr->u.sa, addr->len) < 0) {
		log_errno(LOG_LVL_ERR, "clock-source: cannot open a socket to %s", buf);
		clock_source_free(cs);
		return NULL;
	}
	log_info("clock-source: polling %s every %u s; serving the kernel's state until it "
		 "answers", buf, poll_s);
	return cs;
}

void clock_source_free(struct clock_source *cs)
{
	if (!cs)
		return;
	if (cs->fd >= 0)
		close(cs->fd);
	snapshot_destroy(&cs->pub);
	free(cs);
}

int clock_source_fd(const struct clock_source *cs)
{
	return cs->fd;
}

unsigned clock_source_poll_s(const struct clock_source *cs)
{
	return cs->poll_s;
}

const struct netaddr *clock_source_addr(const struct clock_source *cs)
{
	return &cs->addr;
}

struct snapshot *clock_source_published(struct clock_source *cs)
{
	return &cs->pub;
}

enum clock_source_state clock_source_state(const struct clock_source *cs)
{
	return (enum clock_source_state)atomic_load_explicit(&((struct clock_source *)cs)->state,
							     memory_order_relaxed);
}

void clock_source_counts(const struct clock_source *cs, struct clock_source_counts *out)
{
	out->polls = counter_get(&cs->polls);
	out->missed = counter_get(&cs->missed);
	out->refused = counter_get(&cs->refused);
	out->socket_errors = counter_get(&cs->socket_errors);
	out->state_changes = counter_get(&cs->state_changes);
	for (int i = 0; i < CLOCK_ANS_COUNT; i++)
		out->answers[i] = counter_get(&cs->answers[i]);
}

/* Why the state is what it is, for the log line of a change. */
static void describe(const struct clock_source *cs, char *buf, size_t len)
{
	char refid[16];

	switch (cs->track.state) {
	case CLOCK_SOURCE_SYNCHRONISED:
		snprintf(buf, len, "stratum %u, refid %s%s: serving its state",
			 cs->served.stratum,
			 clock_refid_str(cs->served.refid, cs->served.stratum, refid, sizeof(refid)),
			 cs->served.leap == NTP_LEAP_INSERT   ? ", leap second insert pending"
			 : cs->served.leap == NTP_LEAP_DELETE ? ", leap second delete pending"
							      : "");
		return;
	case CLOCK_SOURCE_UNREACHABLE:
		if (cs->track.refused)
			snprintf(buf, len, "refused (nothing listens on that port): serving the "
				 "kernel's state and the local-stratum rules");
		else
			snprintf(buf, len, "no answer (%u polls): serving the kernel's state and "
				 "the local-stratum rules", cs->track.misses);
		return;
	case CLOCK_SOURCE_INVALID:
		snprintf(buf, len, "answers rejected (%s): serving the kernel's state and the "
			 "local-stratum rules", clock_answer_name(cs->track.last_reject));
		return;
	case CLOCK_SOURCE_UNSYNCHRONISED:
		snprintf(buf, len, "it says it is not synchronised: serving the kernel's state "
			 "and the local-stratum rules");
		return;
	default:
		snprintf(buf, len, "serving the kernel's state");
		return;
	}
}

static bool sample_differs(const struct clock_sample *a, const struct clock_sample *b)
{
	return a->leap != b->leap || a->stratum != b->stratum || a->refid != b->refid;
}

/* After the tracker moved: publish (or withdraw) and log a change once. */
static void settle(struct clock_source *cs, const struct clock_sample *fresh)
{
	enum clock_source_state was = clock_source_state(cs), now = cs->track.state;
	bool serve = now == CLOCK_SOURCE_SYNCHRONISED;
	bool changed = serve && cs->serving && fresh && sample_differs(fresh, &cs->served);
	char buf[NETADDR_STRLEN], why[160];
	struct clock_sample *copy;

	if (serve && fresh && (copy = malloc(sizeof(*copy)))) {
		*copy = *fresh;
		cs->served = *fresh;
		snapshot_publish(&cs->pub, copy);
		cs->serving = true;
	} else if (!serve && cs->serving) {
		snapshot_publish(&cs->pub, NULL);
		cs->serving = false;
	}
	if (was == now && !changed)
		return;
	netaddr_str(&cs->addr, buf, sizeof(buf));
	describe(cs, why, sizeof(why));
	if (was == now) {
		/* Still synchronised, to another upstream or with a leap
		 * second announced or withdrawn. */
		log_info("clock-source %s: now %s", buf, why);
		return;
	}
	atomic_store_explicit(&cs->state, now, memory_order_relaxed);
	counter_inc(&cs->state_changes);
	if (now == CLOCK_SOURCE_SYNCHRONISED)
		log_notice("clock-source %s: %s: %s", buf, clock_source_state_name(now), why);
	else
		log_warn("clock-source %s: %s: %s", buf, clock_source_state_name(now), why);
}

static void send_request(struct clock_source *cs)
{
	uint8_t req[NTP_HEADER_LEN];
	uint64_t xmt = 0;
	size_t n;

	/* A random transmit timestamp: only the source's answer can echo it. */
	while (xmt == 0)
		if (rng_bytes(&xmt, sizeof(xmt)) < 0) {
			counter_inc(&cs->socket_errors);
			cs->poll.xmt = 0;
			return;
		}
	n = clock_source_request(req, sizeof(req), xmt);
	cs->poll.xmt = xmt;
	cs->poll.t1 = ntp_ts_now();
	counter_inc(&cs->polls);
	if (send(cs->fd, req, n, 0) == (ssize_t)n)
		return;
	if (errno == ECONNREFUSED) {
		counter_inc(&cs->refused);
		clock_track_refused(&cs->track);
	} else {
		counter_inc(&cs->socket_errors);
		log_debug("clock-source: send: %s", strerror(errno));
	}
}

void clock_source_poll(struct clock_source *cs)
{
	if (counter_get(&cs->polls) > 0) {
		if (!cs->track.answered)
			counter_inc(&cs->missed);
		clock_track_poll_end(&cs->track);
	}
	send_request(cs);
	settle(cs, NULL);
}

/* One datagram judged; a good answer ends the poll's expectations. */
static void judge(struct clock_source *cs, const uint8_t *p, size_t len)
{
	struct clock_sample s;
	enum clock_answer a = clock_source_parse(p, len, &cs->poll, ntp_ts_now(), monotime_ns(), &s);
	char buf[NETADDR_STRLEN];

	counter_inc(&cs->answers[a]);
	if (a >= CLOCK_ANS_FIRST_REJECT)
		log_debug("clock-source %s: answer rejected: %s",
			     netaddr_str(&cs->addr, buf, sizeof(buf)), clock_answer_name(a));
	else
		cs->poll.xmt = 0;	/* one answer per request: a copy is late */
	clock_track_answer(&cs->track, a);
	settle(cs, a == CLOCK_ANS_SYNCHRONISED ? &s : NULL);
}

void clock_source_receive(struct clock_source *cs)
{
	uint8_t p[CLOCK_SOURCE_RX_MAX];

	for (int i = 0; i < CLOCK_SOURCE_RX_BURST; i++) {
		ssize_t n = recv(cs->fd, p, sizeof(p), MSG_TRUNC);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			if (errno == ECONNREFUSED) {
				counter_inc(&cs->refused);
				clock_track_refused(&cs->track);
				settle(cs, NULL);
				continue;
			}
			counter_inc(&cs->socket_errors);
			log_debug("clock-source: recv: %s", strerror(errno));
			return;
		}
		judge(cs, p, (size_t)n < sizeof(p) ? (size_t)n : sizeof(p));
	}
}
