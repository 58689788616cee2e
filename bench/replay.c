/* replay: requests built once, replies checked cheaply or fully (replay.h). */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "bench/replay.h"
#include "common/buf.h"
#include "common/ntp_packet.h"
#include "common/rng.h"

/* Room for one request: header, Unique Identifier, the longest cookie,
 * an authenticator with its padding. */
#define REPLAY_PKT_STRIDE 512
/* Offsets in the NTP header (RFC 5905 figure 8). */
#define OFF_STRATUM 1
#define OFF_REFID 12
#define OFF_ORIGIN 24

struct replay_req {
	uint16_t len;
	uint16_t session;
	uint8_t uid[NTS_UID_LEN];
};

struct replay_set {
	bool plain;
	uint32_t salt;
	size_t n;
	struct replay_req *req;
	uint8_t *pkt;			/* n * REPLAY_PKT_STRIDE */
	size_t n_sessions;
	struct aead_ctx *s2c;		/* one per session */
};

static uint64_t tx_ts_of(const struct replay_set *rs, size_t i)
{
	return (uint64_t)(i + 1) << 32 | rs->salt;
}

/* Request i from session s, sealed under c2s. */
static int build_one(struct replay_set *rs, size_t i, const struct replay_session *s,
		     unsigned si, const struct aead_ctx *c2s, struct nonce_gen *ng)
{
	struct replay_req *r = &rs->req[i];
	uint8_t *pkt = rs->pkt + i * REPLAY_PKT_STRIDE, nonce[NONCE_GEN_LEN];
	struct nts_request rq;
	size_t len, c;

	if (rs->plain) {
		len = nts_request_build_plain(4, tx_ts_of(rs, i), pkt, REPLAY_PKT_STRIDE);
	} else {
		nonce_gen_next(ng, r->uid);
		nonce_gen_next(ng, r->uid + 16);
		nonce_gen_next(ng, nonce);
		c = (i / rs->n_sessions) % s->n_cookies;
		memset(&rq, 0, sizeof(rq));
		rq.version = 4;
		rq.tx_ts = tx_ts_of(rs, i);
		rq.uid = r->uid;
		rq.uid_len = NTS_UID_LEN;
		rq.cookie = s->cookie[c];
		rq.cookie_len = s->cookie_len[c];
		rq.c2s = c2s;
		rq.nonce = nonce;
		rq.nonce_len = c2s->alg->nonce_len;
		len = nts_request_build(&rq, pkt, REPLAY_PKT_STRIDE);
	}
	if (len == 0)
		return -1;
	r->len = (uint16_t)len;
	r->session = (uint16_t)si;
	return 0;
}

/* Every request of session si (i = si, si + n_sessions, ...). */
static int build_session(struct replay_set *rs, const struct replay_session *s, unsigned si,
			 struct nonce_gen *ng)
{
	struct aead_ctx c2s;
	size_t i;
	int ret = -1;

	memset(&c2s, 0, sizeof(c2s));
	if (!rs->plain) {
		if (s->n_cookies == 0 || aead_set_key(&c2s, s->aead, s->c2s) < 0 ||
		    aead_set_key(&rs->s2c[si], s->aead, s->s2c) < 0)
			goto out;
	}
	for (i = si; i < rs->n; i += rs->n_sessions)
		if (build_one(rs, i, s, si, &c2s, ng) < 0)
			goto out;
	ret = 0;
out:
	aead_ctx_wipe(&c2s);
	return ret;
}

struct replay_set *replay_set_new(const struct replay_session *sessions, size_t n_sessions,
				  size_t n_requests, uint32_t salt, bool plain)
{
	static const struct replay_session none;
	struct replay_set *rs;
	struct nonce_gen ng;
	size_t s;

	if (n_requests == 0 || n_requests >= UINT32_MAX || (!plain && n_sessions == 0) ||
	    n_sessions > UINT16_MAX)
		return NULL;
	if (plain)
		n_sessions = 1;
	rs = calloc(1, sizeof(*rs));
	if (rs == NULL)
		return NULL;
	rs->plain = plain;
	rs->salt = salt;
	rs->n = n_requests;
	rs->n_sessions = n_sessions;
	rs->req = calloc(n_requests, sizeof(*rs->req));
	rs->pkt = calloc(n_requests, REPLAY_PKT_STRIDE);
	rs->s2c = calloc(n_sessions, sizeof(*rs->s2c));
	if (rs->req == NULL || rs->pkt == NULL || rs->s2c == NULL || nonce_gen_init(&ng) < 0)
		goto fail;
	for (s = 0; s < n_sessions; s++)
		if (build_session(rs, plain ? &none : &sessions[s], (unsigned)s, &ng) < 0) {
			nonce_gen_wipe(&ng);
			goto fail;
		}
	nonce_gen_wipe(&ng);
	return rs;
fail:
	replay_set_free(rs);
	return NULL;
}

void replay_set_free(struct replay_set *rs)
{
	size_t s;

	if (rs == NULL)
		return;
	if (rs->s2c)
		for (s = 0; s < rs->n_sessions; s++)
			aead_ctx_wipe(&rs->s2c[s]);
	free(rs->s2c);
	free(rs->pkt);
	free(rs->req);
	free(rs);
}

size_t replay_set_count(const struct replay_set *rs)
{
	return rs->n;
}

const uint8_t *replay_set_packet(const struct replay_set *rs, size_t i, size_t *len)
{
	*len = rs->req[i].len;
	return rs->pkt + i * REPLAY_PKT_STRIDE;
}

enum replay_class replay_classify(const struct replay_set *rs, const uint8_t *pkt, size_t len,
				  size_t *index)
{
	uint64_t origin, i;

	if (len < NTP_HEADER_LEN || (pkt[0] & 7) != NTP_MODE_SERVER)
		return REPLAY_STRAY;
	origin = buf_load_u64(pkt + OFF_ORIGIN);
	i = (origin >> 32) - 1;
	if ((uint32_t)origin != rs->salt || (origin >> 32) == 0 || i >= rs->n)
		return REPLAY_STRAY;
	*index = (size_t)i;
	if (len > rs->req[i].len)
		return REPLAY_OVERSIZE;
	if (pkt[OFF_STRATUM] == 0)
		return buf_load_u32(pkt + OFF_REFID) == NTP_KISS_NTSN ? REPLAY_NAK : REPLAY_KOD;
	return REPLAY_REPLY;
}

enum nts_reply_status replay_verify(const struct replay_set *rs, size_t index, const uint8_t *pkt,
				    size_t len, struct nts_reply *scratch)
{
	const struct replay_req *r = &rs->req[index];

	return nts_reply_parse(pkt, len, tx_ts_of(rs, index), r->uid, NTS_UID_LEN,
			       rs->plain ? NULL : &rs->s2c[r->session], scratch);
}
