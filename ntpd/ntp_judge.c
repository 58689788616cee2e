/* ntp_judge: admission, the responder and interleaved mode, per datagram,
 * for every data path of a worker. */
#include "build_config.h"

#include <string.h>

#include "common/buf.h"
#include "common/keyset.h"
#include "common/monotime.h"
#include "common/ntp_packet.h"
#include "ntpd/ntp_judge.h"

/* The responder's transmit time, kept for the interleaved-mode entry. */
static uint64_t tx_clock(void *arg)
{
	uint64_t *est = arg;

	*est = ntp_ts_now();
	return *est;
}

int ntp_judge_init(struct ntp_judge *j, const struct ntp_judge_env *env,
		   int64_t key_propagation, struct ratelimit *rl)
{
	memset(j, 0, sizeof(*j));
	if (responder_init(&j->resp, key_propagation) < 0) {
		ratelimit_free(rl);
		return -1;
	}
	j->env = env;
	j->rl = rl;
	return 0;
}

void ntp_judge_wipe(struct ntp_judge *j)
{
	ratelimit_free(j->rl);
	j->rl = NULL;
	responder_wipe(&j->resp);
}

void ntp_judge_begin(struct ntp_judge *j, struct ntp_judge_batch *b)
{
	const struct ntp_judge_env *env = j->env;

	memset(b, 0, sizeof(*b));
	clock_gettime(CLOCK_REALTIME, &b->now);
	clock_pub_load(&env->clock, &b->clk);
	b->rq.clock = &b->clk;
	b->rq.keys = snapshot_get(env->keys);
	b->acl = env->acl ? snapshot_get(env->acl) : NULL;
	b->rq.now = b->now.tv_sec;
	b->rq.tx_time = tx_clock;
	b->rq.tx_arg = &j->tx_est;
	if (j->rl != NULL) {
		b->now_mono = monotime_ns();
		b->rq.rate_poll = ratelimit_kod_poll(j->rl);
	}
}

bool ntp_judge_admit(struct ntp_judge *j, struct ntp_judge_batch *b, const struct netaddr *peer)
{
	enum ratelimit_verdict v = RATELIMIT_ALLOW;

	b->rq.rate_kod = false;
	/* Access rules before anything else: a denied source gets no reply
	 * (no KoD either) and takes no rate-limit slot. */
	if (b->acl != NULL && (peer == NULL || !acl_allows(b->acl, peer))) {
		counter_inc(&j->cnt[NTP_CNT_DROP_DENIED]);
		return false;
	}
	if (j->rl != NULL && peer != NULL)
		v = ratelimit_check(j->rl, peer, b->now_mono);
	if (v == RATELIMIT_DROP) {
		counter_inc(&j->cnt[NTP_CNT_RATE_DROP]);
		return false;
	}
	b->rq.rate_kod = v == RATELIMIT_KOD;
	return true;
}

/* A request that may be interleaved (xleave_request_wants). */
struct xl_request {
	bool wants, found;
	uint64_t origin;		/* our receive timestamp it names */
	uint8_t client[16];		/* netaddr_host_bytes of its sender */
};

/* Whether the request may be interleaved and whether the table knows the
 * reply its origin names: then b->rq.xleave_tx is that reply's transmit
 * time.  No table lookup for rate-limited requests: they get a KoD. */
static void xleave_begin(struct ntp_judge *j, struct ntp_judge_batch *b,
			 const struct netaddr *peer, struct xl_request *q)
{
	enum xleave_source src;

	b->rq.xleave_tx = 0;
	q->found = false;
	q->wants = j->env->xl != NULL && !b->rq.rate_kod && peer != NULL &&
		   xleave_request_wants(b->rq.pkt, b->rq.len, &q->origin);
	if (!q->wants)
		return;
	netaddr_host_bytes(peer, q->client);
	q->found = xleave_lookup(j->env->xl, q->client, q->origin, &b->rq.xleave_tx, &src);
}

/* After a reply to such a request: a served entry is forgotten, and a
 * time reply (not a KoD or NAK) gets an entry of its own.  True when its
 * transmit timestamp is wanted. */
static bool xleave_end(struct ntp_judge *j, const struct xl_request *q, enum ntp_counter c,
		       const uint8_t *reply)
{
	struct xleave *xl = j->env->xl;

	if (!q->wants || (c != NTP_CNT_PLAIN_REPLY && c != NTP_CNT_NTS_REPLY))
		return false;
	if (q->found) {
		xleave_forget(xl, q->client, q->origin);
		counter_inc(&j->interleaved);
	}
	xleave_save(xl, q->client, buf_load_u64(reply + RESPONDER_RX_OFFSET), j->tx_est);
	return true;
}

bool ntp_judge_answer(struct ntp_judge *j, struct ntp_judge_batch *b, const struct netaddr *peer,
		      const uint8_t *pkt, size_t len, uint64_t rx_ts, uint8_t *out, size_t cap,
		      size_t *out_len, bool *want_tx)
{
	struct xl_request q;
	enum ntp_counter c;

	*want_tx = false;
	b->rq.pkt = pkt;
	b->rq.len = len;
	b->rq.rx_ts = rx_ts;
	xleave_begin(j, b, peer, &q);
	c = responder_handle(&j->resp, &b->rq, out, cap, out_len);
	counter_inc(&j->cnt[c]);
	if (!ntp_counter_is_reply(c))
		return false;
	*want_tx = xleave_end(j, &q, c, out);
	return true;
}

bool ntp_judge_set_tx(struct ntp_judge *j, const struct netaddr *peer, const uint8_t *reply,
		      uint64_t tx, enum xleave_source src)
{
	uint8_t client[16];

	if (j->env->xl == NULL)
		return false;
	netaddr_host_bytes(peer, client);
	return xleave_set_tx(j->env->xl, client, buf_load_u64(reply + RESPONDER_RX_OFFSET), tx,
			     src);
}
