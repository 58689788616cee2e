/* responder: request bytes -> reply bytes or a named drop reason. */
#include "build_config.h"

#include <string.h>

#include "common/buf.h"
#include "common/cookie.h"
#include "common/ntp_ef.h"
#include "common/ntp_packet.h"
#include "common/secmem.h"
#include "ntpd/responder.h"

/* The authenticator's nonce length and ciphertext length, 16 bits each. */
#define AUTH_LENGTHS_LEN 4

/* A reply nonce is the first nonce_len bytes of one nonce_gen nonce. */
_Static_assert(AEAD_NONCE_LEN <= NONCE_GEN_LEN, "a generated nonce holds any reply nonce");

static const char *const counter_names[NTP_CNT_COUNT] = {
	[NTP_CNT_PLAIN_REPLY] = "plain_replies",
	[NTP_CNT_NTS_REPLY] = "nts_replies",
	[NTP_CNT_NAK_COOKIE_LENGTH] = "nak_cookie_length",
	[NTP_CNT_NAK_COOKIE_KEY] = "nak_cookie_unknown_key",
	[NTP_CNT_NAK_COOKIE_AUTH] = "nak_cookie_auth",
	[NTP_CNT_NAK_COOKIE_OTHER] = "nak_cookie_other",
	[NTP_CNT_NAK_AUTH] = "nak_authenticator",
	[NTP_CNT_NAK_AUTH_MALFORMED] = "nak_auth_malformed",
	[NTP_CNT_NAK_AUTH_PADDING] = "nak_auth_padding",
	[NTP_CNT_RATE_KOD] = "rate_kod",
	[NTP_CNT_RATE_DROP] = "rate_dropped",
	[NTP_CNT_DROP_DENIED] = "drop_denied",
	[NTP_CNT_DROP_SHORT] = "drop_short",
	[NTP_CNT_DROP_TOO_LONG] = "drop_too_long",
	[NTP_CNT_DROP_VERSION] = "drop_version",
	[NTP_CNT_DROP_MODE] = "drop_mode",
	[NTP_CNT_DROP_EF_MALFORMED] = "drop_ef_malformed",
	[NTP_CNT_DROP_UID_MISSING] = "drop_uid_missing",
	[NTP_CNT_DROP_UID_DUPLICATE] = "drop_uid_duplicate",
	[NTP_CNT_DROP_UID_SHORT] = "drop_uid_short",
	[NTP_CNT_DROP_COOKIE_MISSING] = "drop_cookie_missing",
	[NTP_CNT_DROP_COOKIE_DUPLICATE] = "drop_cookie_duplicate",
	[NTP_CNT_DROP_AUTH_MISSING] = "drop_auth_missing",
	[NTP_CNT_DROP_AUTH_DUPLICATE] = "drop_auth_duplicate",
	[NTP_CNT_DROP_PLAINTEXT] = "drop_plaintext_malformed",
	[NTP_CNT_DROP_NO_KEYS] = "drop_no_keys",
	[NTP_CNT_DROP_INTERNAL] = "drop_internal",
	[NTP_CNT_DROP_TRUNCATED] = "drop_truncated",
	[NTP_CNT_SEND_ERROR] = "send_errors",
};

const char *ntp_counter_name(enum ntp_counter c)
{
	if ((unsigned)c >= NTP_CNT_COUNT)
		return "unknown";
	return counter_names[c];
}

/* What the extension field walk found. */
struct req_fields {
	unsigned n_uid, n_cookie, n_auth, n_ph;
	struct ntp_ef uid, cookie, auth;
	size_t ph_len[NTP_EF_MAX_FIELDS];	/* clear placeholders' body lengths */
};

int responder_init(struct responder *r, int64_t key_propagation)
{
	memset(r, 0, sizeof(*r));
	r->key_propagation = key_propagation;
	r->s = secmem_alloc(sizeof(*r->s));
	if (!r->s)
		return -1;
	if (nonce_gen_init(&r->nonces) < 0) {
		secmem_free(r->s, sizeof(*r->s));
		r->s = NULL;
		return -1;
	}
	return 0;
}

void responder_wipe(struct responder *r)
{
	nonce_gen_wipe(&r->nonces);
	secmem_free(r->s, sizeof(*r->s));
	r->s = NULL;
}

void responder_wipe_keys(struct responder *r)
{
	cookie_keys_wipe(&r->s->ck);
	aead_ctx_wipe(&r->s->c2s);
	aead_ctx_wipe(&r->s->s2c);
}

static uint64_t tx_now(const struct responder_request *rq)
{
	return rq->tx_time != NULL ? rq->tx_time(rq->tx_arg) : rq->rx_ts;
}

/* Whether the reply is interleaved: a time reply (no kiss code) to a
 * request whose origin named a reply of ours the caller knows. */
static bool interleaved(const struct responder_request *rq, uint32_t kiss)
{
	return kiss == 0 && rq->xleave_tx != 0;
}

/* The transmit timestamp, lowest bit clear: the previous reply's in
 * interleaved mode, now otherwise. */
static uint64_t reply_tx(const struct responder_request *rq, uint32_t kiss)
{
	uint64_t now = tx_now(rq);

	return (interleaved(rq, kiss) ? rq->xleave_tx : now) & ~RESPONDER_RX_MARK;
}

/* Reply header; the transmit timestamp is patched in last. */
static bool put_header(struct buf_writer *w, const struct responder_request *rq,
		       const struct ntp_header *req, uint32_t kiss, int8_t poll)
{
	const struct clock_state *c = rq->clock;
	struct ntp_header h;

	memset(&h, 0, sizeof(h));
	h.version = req->version;
	h.mode = NTP_MODE_SERVER;
	h.poll = poll;
	h.precision = c->precision;
	h.root_delay = c->root_delay;
	h.root_dispersion = c->root_dispersion;
	/* Interleaved: the client's receive time of our previous reply. */
	h.origin_ts = interleaved(rq, kiss) ? req->rx_ts : req->tx_ts;
	h.rx_ts = rq->rx_ts | RESPONDER_RX_MARK;
	if (kiss != 0) {
		/* Kiss-o'-Death (RFC 5905 7.4): alarm, stratum 0, the code. */
		h.leap = NTP_LEAP_UNSYNC;
		h.stratum = 0;
		h.refid = kiss;
	} else {
		h.leap = c->leap;
		h.stratum = c->stratum;
		h.refid = c->refid;
		h.ref_ts = c->ref_ts;
	}
	return ntp_header_encode(w, &h);
}

/* A reply without an authenticator: plain, KoD RATE or NTS NAK, with the
 * Unique Identifier echoed when the request had one. */
static enum ntp_counter reply_unauth(const struct responder_request *rq,
				     const struct ntp_header *req,
				     const struct ntp_ef *uid, uint32_t kiss, int8_t poll,
				     enum ntp_counter outcome, uint8_t *out, size_t cap,
				     size_t *out_len)
{
	struct buf_writer w;

	buf_writer_init(&w, out, cap);
	put_header(&w, rq, req, kiss, poll);
	if (uid != NULL)
		ntp_ef_put(&w, NTP_EF_UNIQUE_ID, uid->body, uid->body_len);
	if (w.err)
		return NTP_CNT_DROP_INTERNAL;
	buf_store_u64(out + RESPONDER_TX_OFFSET, reply_tx(rq, kiss));
	*out_len = w.off;
	return outcome;
}

static enum ntp_counter walk_fields(const uint8_t *pkt, size_t len, struct req_fields *f)
{
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	enum ntp_ef_status st;

	memset(f, 0, sizeof(*f));
	ntp_ef_iter_init(&it, pkt + NTP_HEADER_LEN, len - NTP_HEADER_LEN);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_OK) {
		if (ef.type == NTP_EF_NTS_AUTH) {
			if (f->n_auth++ > 0)
				return NTP_CNT_DROP_AUTH_DUPLICATE;
			f->auth = ef;
			continue;
		}
		/* After the authenticator nothing is authenticated: ignore. */
		if (f->n_auth > 0)
			continue;
		switch (ef.type) {
		case NTP_EF_UNIQUE_ID:
			if (f->n_uid++ == 0)
				f->uid = ef;
			break;
		case NTP_EF_NTS_COOKIE:
			if (f->n_cookie++ == 0)
				f->cookie = ef;
			break;
		case NTP_EF_NTS_COOKIE_PLACEHOLDER:
			/* The walk stops at NTP_EF_MAX_FIELDS fields. */
			if (f->n_ph < NTP_EF_MAX_FIELDS)
				f->ph_len[f->n_ph++] = ef.body_len;
			break;
		default:
			break;
		}
	}
	return st == NTP_EF_END ? NTP_CNT_PLAIN_REPLY : NTP_CNT_DROP_EF_MALFORMED;
}

static enum ntp_counter nak_reason(enum cookie_status s)
{
	switch (s) {
	case COOKIE_ERR_LENGTH:
		return NTP_CNT_NAK_COOKIE_LENGTH;
	case COOKIE_ERR_UNKNOWN_KEY:
		return NTP_CNT_NAK_COOKIE_KEY;
	case COOKIE_ERR_AUTH:
		return NTP_CNT_NAK_COOKIE_AUTH;
	default:
		return NTP_CNT_NAK_COOKIE_OTHER;
	}
}

/* Count the placeholders inside the decrypted plaintext; -1 if malformed. */
static int count_enc_placeholders(const uint8_t *pt, size_t pt_len, size_t cookie_len)
{
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	enum ntp_ef_status st;
	int n = 0;

	ntp_ef_iter_init(&it, pt, pt_len);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_OK)
		if (ef.type == NTP_EF_NTS_COOKIE_PLACEHOLDER && ef.body_len == cookie_len)
			n++;
	return st == NTP_EF_END ? n : -1;
}

unsigned responder_reply_size(size_t cap, size_t uid_len, size_t nonce_len,
			      size_t cookie_len, unsigned placeholders, size_t *padding)
{
	/* All but the cookies: header, Unique Identifier, authenticator. */
	size_t base = NTP_HEADER_LEN + NTP_EF_HEADER_LEN + ntp_ef_pad4(uid_len) +
		      NTP_EF_HEADER_LEN + AUTH_LENGTHS_LEN + ntp_ef_pad4(nonce_len) +
		      AEAD_TAG_LEN;
	size_t efl = NTP_EF_HEADER_LEN + ntp_ef_pad4(cookie_len);
	unsigned n = RESPONDER_MAX_COOKIES;

	*padding = 0;
	if (cookie_len == 0)
		return 0;
	if (placeholders < RESPONDER_MAX_COOKIES)
		n = 1 + placeholders;
	while (n > 0 && base + n * efl > cap)
		n--;
	if (n > 0)
		*padding = (cap - (base + n * efl)) & ~(size_t)3;
	return n;
}

/* The request's authenticator body (RFC 8915 5.6), pointing into it. */
struct req_auth {
	const uint8_t *nonce, *ct;
	uint16_t nonce_len, ct_len;
	size_t extra;		/* bytes after the ciphertext: Additional Padding */
};

/* False when the nonce and ciphertext do not fit the field with their
 * padding, the nonce is empty or the ciphertext shorter than a tag. */
static bool parse_auth(const struct ntp_ef *auth, struct req_auth *a)
{
	struct buf_reader ar;

	buf_reader_init(&ar, auth->body, auth->body_len);
	if (!buf_get_u16(&ar, &a->nonce_len) || !buf_get_u16(&ar, &a->ct_len) ||
	    a->nonce_len == 0 || a->ct_len < AEAD_TAG_LEN ||
	    !buf_get_span(&ar, a->nonce_len, &a->nonce) ||
	    !buf_skip(&ar, ntp_ef_pad4(a->nonce_len) - a->nonce_len) ||
	    !buf_get_span(&ar, a->ct_len, &a->ct) ||
	    !buf_skip(&ar, ntp_ef_pad4(a->ct_len) - a->ct_len))
		return false;
	a->extra = buf_remaining(&ar);
	return true;
}

/* An NTS NAK (RFC 8915 5.7): KoD NTSN with the Unique Identifier echoed. */
static enum ntp_counter reply_nak(const struct responder_request *rq,
				  const struct ntp_header *req, const struct req_fields *f,
				  enum ntp_counter reason, uint8_t *out, size_t cap, size_t *out_len)
{
	return reply_unauth(rq, req, &f->uid, NTP_KISS_NTSN, req->poll, reason, out, cap,
			    out_len);
}

/* Verify the authenticator with the cookie's C2S key; the decrypted fields
 * land in r->s->plain[0..*pt_len).  NTP_CNT_NTS_REPLY when it holds, else
 * the NAK reason (or NTP_CNT_DROP_INTERNAL). */
static enum ntp_counter authenticate(struct responder *r, const struct responder_request *rq,
				     const struct req_fields *f, const struct req_auth *a,
				     const struct cookie_keys *ck, size_t *pt_len)
{
	const struct aead_alg *alg;

	if (aead_set_key(&r->s->c2s, ck->aead, ck->c2s) < 0)
		return NTP_CNT_DROP_INTERNAL;
	alg = r->s->c2s.alg;
	if (a->nonce_len < alg->nonce_min || a->nonce_len > alg->nonce_max)
		return NTP_CNT_NAK_AUTH_MALFORMED;
	if (a->extra < nts_auth_required_padding(alg, a->nonce_len))
		return NTP_CNT_NAK_AUTH_PADDING;
	/* ct_len <= len <= RESPONDER_MAX_PACKET == sizeof(r->s->plain) */
	if (aead_open(&r->s->c2s, a->nonce, a->nonce_len, rq->pkt, NTP_HEADER_LEN + f->auth.offset,
		      a->ct, a->ct_len, r->s->plain) < 0)
		return NTP_CNT_NAK_AUTH;
	*pt_len = a->ct_len - AEAD_TAG_LEN;
	return NTP_CNT_NTS_REPLY;
}

/* What an NTS reply will carry. */
struct reply_plan {
	size_t nonce_len;	/* the AEAD's: both session keys are of one AEAD */
	size_t cookie_len;
	unsigned cookies;
	size_t padding;
};

/* 1 + the placeholders of the cookie's length, clear and inside the
 * decrypted fields pt, as many as fit cap.  NTP_CNT_NTS_REPLY, or why
 * the request is dropped. */
static enum ntp_counter plan_reply(const struct req_fields *f, const uint8_t *pt,
				   size_t pt_len, const struct aead_alg *alg, size_t cap,
				   struct reply_plan *p)
{
	int enc_ph = count_enc_placeholders(pt, pt_len, f->cookie.body_len);
	unsigned ph;
	size_t i;

	if (enc_ph < 0)
		return NTP_CNT_DROP_PLAINTEXT;
	ph = (unsigned)enc_ph;
	for (i = 0; i < f->n_ph; i++)
		if (f->ph_len[i] == f->cookie.body_len)
			ph++;
	p->nonce_len = alg->nonce_len;
	p->cookie_len = cookie_len(alg->id);
	p->cookies = responder_reply_size(cap, f->uid.body_len, p->nonce_len, p->cookie_len,
					  ph, &p->padding);
	return p->cookies > 0 ? NTP_CNT_NTS_REPLY : NTP_CNT_DROP_INTERNAL;
}

/* The plan's fresh cookies for the session into r->s->plain as extension
 * fields; returns the plaintext length or 0. */
static size_t mint_cookies(struct responder *r, const struct responder_request *rq,
			   const struct cookie_keys *ck, const struct reply_plan *p)
{
	const struct master_key *key;
	uint8_t nonce[COOKIE_NONCE_LEN], *dst;
	struct buf_writer w;
	unsigned i;

	key = keyset_sealing_key(rq->keys, rq->now, r->key_propagation);
	if (key == NULL)
		return 0;
	buf_writer_init(&w, r->s->plain, sizeof(r->s->plain));
	for (i = 0; i < p->cookies; i++) {
		if (!ntp_ef_put_header(&w, NTP_EF_NTS_COOKIE, p->cookie_len) ||
		    !buf_reserve(&w, p->cookie_len, &dst))
			return 0;
		nonce_gen_next(&r->nonces, nonce);
		if (cookie_seal(key, ck, nonce, dst, p->cookie_len) != p->cookie_len)
			return 0;
	}
	return w.off;
}

/* Header, Unique Identifier and an authenticator sealed with the S2C key
 * over r->s->plain[0..pt_len), padded as planned. */
static enum ntp_counter seal_reply(struct responder *r, const struct responder_request *rq,
				   const struct ntp_header *req, const struct req_fields *f,
				   const struct reply_plan *p, size_t pt_len, uint8_t *out,
				   size_t cap, size_t *out_len)
{
	uint8_t nonce[NONCE_GEN_LEN];
	struct buf_writer w;

	buf_writer_init(&w, out, cap);
	put_header(&w, rq, req, 0, req->poll);
	ntp_ef_put(&w, NTP_EF_UNIQUE_ID, f->uid.body, f->uid.body_len);
	if (w.err)
		return NTP_CNT_DROP_INTERNAL;
	nonce_gen_next(&r->nonces, nonce);
	/* As late as possible: only the reply's own seal follows. */
	buf_store_u64(out + RESPONDER_TX_OFFSET, reply_tx(rq, 0));
	/* Pad to the request's length inside the authenticator (RFC 8915
	 * allows additional padding; clients skip it). */
	if (!nts_auth_put(&w, &r->s->s2c, nonce, p->nonce_len, r->s->plain, pt_len, p->padding))
		return NTP_CNT_DROP_INTERNAL;
	*out_len = w.off;
	return NTP_CNT_NTS_REPLY;
}

/* Fresh cookies for an authenticated request, sealed into the reply. */
static enum ntp_counter answer_nts(struct responder *r, const struct responder_request *rq,
				   const struct ntp_header *req, const struct req_fields *f,
				   const struct cookie_keys *ck, size_t pt_len, uint8_t *out,
				   size_t cap, size_t *out_len)
{
	struct reply_plan plan;
	enum ntp_counter ret;

	ret = plan_reply(f, r->s->plain, pt_len, r->s->c2s.alg, cap, &plan);
	if (ret != NTP_CNT_NTS_REPLY)
		return ret;
	pt_len = mint_cookies(r, rq, ck, &plan);
	if (pt_len == 0 || aead_set_key(&r->s->s2c, ck->aead, ck->s2c) < 0)
		return NTP_CNT_DROP_INTERNAL;
	return seal_reply(r, rq, req, f, &plan, pt_len, out, cap, out_len);
}

/* Section 5.7: once the cookie opens, a request that does not
 * authenticate (malformed authenticator, missing padding, wrong tag) gets
 * a NAK, as does a cookie that does not open. */
static enum ntp_counter handle_nts(struct responder *r, const struct responder_request *rq,
				   const struct ntp_header *req, const struct req_fields *f,
				   uint8_t *out, size_t cap, size_t *out_len)
{
	struct cookie_keys *ck = &r->s->ck;
	enum cookie_status cs;
	enum ntp_counter ret;
	struct req_auth a;
	size_t pt_len;

	cs = cookie_open(rq->keys, f->cookie.body, f->cookie.body_len, ck);
	if (cs != COOKIE_OK)
		return reply_nak(rq, req, f, nak_reason(cs), out, cap, out_len);
	if (!parse_auth(&f->auth, &a))
		ret = NTP_CNT_NAK_AUTH_MALFORMED;
	else
		ret = authenticate(r, rq, f, &a, ck, &pt_len);
	if (ntp_counter_is_nak(ret))
		ret = reply_nak(rq, req, f, ret, out, cap, out_len);
	else if (ret == NTP_CNT_NTS_REPLY)
		ret = answer_nts(r, rq, req, f, ck, pt_len, out, cap, out_len);
	responder_wipe_keys(r);
	return ret;
}

/* Never amplify: nothing longer than the request is ever written. */
static size_t responder_reply_limit(const struct responder_request *rq, size_t cap)
{
	return cap > rq->len ? rq->len : cap;
}

/* The header: long enough, a version we serve, a client's mode.
 * NTP_CNT_PLAIN_REPLY when it is fine. */
static enum ntp_counter parse_header(const struct responder_request *rq, size_t cap,
				     struct ntp_header *req)
{
	struct buf_reader rd;

	if (rq->len < NTP_HEADER_LEN)
		return NTP_CNT_DROP_SHORT;
	if (rq->len > RESPONDER_MAX_PACKET)
		return NTP_CNT_DROP_TOO_LONG;
	if (cap < NTP_HEADER_LEN)
		return NTP_CNT_DROP_INTERNAL;
	buf_reader_init(&rd, rq->pkt, rq->len);
	if (!ntp_header_decode(&rd, req))
		return NTP_CNT_DROP_SHORT;
	if (req->version < 1 || req->version > 4)
		return NTP_CNT_DROP_VERSION;
	if (req->mode != NTP_MODE_CLIENT)
		return NTP_CNT_DROP_MODE;
	return NTP_CNT_PLAIN_REPLY;
}

/* Unauthenticated: the time, or KoD RATE when the client is over its
 * rate; uid (RFC 8915 5.3) echoed when given. */
static enum ntp_counter reply_plain(const struct responder_request *rq,
				    const struct ntp_header *req, const struct ntp_ef *uid,
				    uint8_t *out, size_t cap, size_t *out_len)
{
	if (rq->rate_kod)
		return reply_unauth(rq, req, uid, NTP_KISS_RATE, rq->rate_poll,
				    NTP_CNT_RATE_KOD, out, cap, out_len);
	return reply_unauth(rq, req, uid, 0, req->poll, NTP_CNT_PLAIN_REPLY, out, cap,
			    out_len);
}

/* An NTS request carries exactly one UID, one cookie and an
 * authenticator.  NTP_CNT_PLAIN_REPLY when it does. */
static enum ntp_counter check_nts_fields(const struct req_fields *f)
{
	if (f->n_uid == 0)
		return NTP_CNT_DROP_UID_MISSING;
	if (f->n_cookie == 0)
		return NTP_CNT_DROP_COOKIE_MISSING;
	if (f->n_cookie > 1)
		return NTP_CNT_DROP_COOKIE_DUPLICATE;
	if (f->n_auth == 0)
		return NTP_CNT_DROP_AUTH_MISSING;
	return NTP_CNT_PLAIN_REPLY;
}

enum ntp_counter responder_handle(struct responder *r, const struct responder_request *rq,
				  uint8_t *out, size_t cap, size_t *out_len)
{
	struct ntp_header req;
	struct req_fields f;
	enum ntp_counter ret;

	*out_len = 0;
	cap = responder_reply_limit(rq, cap);
	ret = parse_header(rq, cap, &req);
	if (ret != NTP_CNT_PLAIN_REPLY)
		return ret;
	/* Before version 4 anything after the header is a legacy MAC we do
	 * not check: answer as plain NTP. */
	if (req.version < 4 || rq->len == NTP_HEADER_LEN)
		return reply_plain(rq, &req, NULL, out, cap, out_len);
	ret = walk_fields(rq->pkt, rq->len, &f);
	if (ret != NTP_CNT_PLAIN_REPLY)
		return ret;
	if (f.n_uid > 1)
		return NTP_CNT_DROP_UID_DUPLICATE;
	if (f.n_uid == 1 && f.uid.body_len < RESPONDER_MIN_UID_LEN)
		return NTP_CNT_DROP_UID_SHORT;
	if (f.n_cookie == 0 && f.n_auth == 0 && f.n_ph == 0)
		return reply_plain(rq, &req, f.n_uid ? &f.uid : NULL, out, cap, out_len);
	ret = check_nts_fields(&f);
	if (ret != NTP_CNT_PLAIN_REPLY)
		return ret;
	/* Rate limiting comes before any crypto, and excludes a NAK. */
	if (rq->rate_kod)
		return reply_plain(rq, &req, &f.uid, out, cap, out_len);
	if (rq->keys == NULL)
		return NTP_CNT_DROP_NO_KEYS;
	return handle_nts(r, rq, &req, &f, out, cap, out_len);
}
