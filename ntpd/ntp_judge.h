/* ntp_judge: the per-datagram steps every data path of an NTP worker
 * takes, in one place: the sockets (ntpd/ntp_service.c) and the AF_XDP
 * queues (ntpd/xdp_worker.c) both call it.
 *
 *   ntp_judge_begin()   once per batch: clock state, keys, access rules
 *   ntp_judge_admit()   access rules, then the rate limit (drop or KoD)
 *   ntp_judge_answer()  interleaved lookup, the responder, the counters,
 *                       the interleaved entry of the reply
 *
 * What a path does around them (truncation, its receive timestamp, how
 * the reply leaves) stays with the path.  One struct ntp_judge per worker
 * thread: no locks, no allocation after ntp_judge_init. */
#ifndef NTSD_NTP_JUDGE_H
#define NTSD_NTP_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/acl.h"
#include "common/counters.h"
#include "common/netaddr.h"
#include "common/ratelimit.h"
#include "common/snapshot.h"
#include "ntpd/clock.h"
#include "ntpd/responder.h"
#include "ntpd/xleave.h"

/* What the workers share, owned by the service; read-only here. */
struct ntp_judge_env {
	struct snapshot *keys;		/* struct keyset */
	struct snapshot *acl;		/* struct acl; NULL: no access rules */
	struct clock_pub clock;		/* the clock state replies carry */
	struct xleave *xl;		/* interleaved mode; NULL: off */
};

/* One worker's: its responder, rate-limit table and counters. */
struct ntp_judge {
	const struct ntp_judge_env *env;
	struct responder resp;
	struct ratelimit *rl;		/* NULL: no rate limit */
	counter_t cnt[NTP_CNT_COUNT];	/* enum ntp_counter */
	counter_t interleaved;		/* replies sent in interleaved mode */
	uint64_t tx_est;		/* the last reply's transmit time, by our clock */
};

/* One batch's view: read once by ntp_judge_begin. */
struct ntp_judge_batch {
	struct responder_request rq;	/* per datagram: pkt, len, rx_ts, rate_kod */
	struct clock_state clk;
	struct timespec now;		/* the wall clock at the batch's start */
	const struct acl *acl;		/* NULL: no access rules */
	int64_t now_mono;		/* for the rate limiter */
};

/* rl: the worker's rate-limit table (owned from here on; NULL: none).
 * 0, or -1 (no randomness for nonces, no memory) with nothing kept. */
int ntp_judge_init(struct ntp_judge *j, const struct ntp_judge_env *env,
		   int64_t key_propagation, struct ratelimit *rl);
void ntp_judge_wipe(struct ntp_judge *j);
void ntp_judge_begin(struct ntp_judge *j, struct ntp_judge_batch *b);
/* Whether a datagram from peer (NULL: an address we cannot read) is
 * answered at all; b->rq.rate_kod says whether with a RATE KoD only.
 * What it drops is counted. */
bool ntp_judge_admit(struct ntp_judge *j, struct ntp_judge_batch *b, const struct netaddr *peer);
/* An admitted request of len bytes received at rx_ts (NTP format): its
 * reply in out (at most cap bytes, and never longer than the request),
 * *out_len bytes, true when there is one; every outcome is counted.
 * *want_tx: the reply has an interleaved-mode entry that wants its real
 * transmit time (ntp_judge_set_tx, or the socket path's kernel stamp). */
bool ntp_judge_answer(struct ntp_judge *j, struct ntp_judge_batch *b, const struct netaddr *peer,
		      const uint8_t *pkt, size_t len, uint64_t rx_ts, uint8_t *out, size_t cap,
		      size_t *out_len, bool *want_tx);
/* The reply to peer (as ntp_judge_answer wrote it) left at tx: true when
 * its interleaved-mode entry took it. */
bool ntp_judge_set_tx(struct ntp_judge *j, const struct netaddr *peer, const uint8_t *reply,
		      uint64_t tx, enum xleave_source src);

#endif
