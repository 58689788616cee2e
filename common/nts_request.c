/* nts_request: build NTS-protected client requests and check replies. */
#include "build_config.h"

#include <string.h>

#include "ntp_ef.h"
#include "nts_request.h"

bool nts_request_put_header(struct buf_writer *w, uint8_t version, uint8_t mode,
			    uint64_t tx_ts)
{
	struct ntp_header h;

	memset(&h, 0, sizeof(h));
	h.version = version;
	h.mode = mode;
	h.tx_ts = tx_ts;
	return ntp_header_encode(w, &h);
}

size_t nts_auth_required_padding(const struct aead_alg *alg, size_t nonce_len)
{
	size_t n_req, n_len;

	n_req = ntp_ef_pad4(alg->nonce_max < 16 ? alg->nonce_max : 16);
	n_len = ntp_ef_pad4(nonce_len);
	return n_len >= n_req ? 0 : n_req - n_len;
}

bool nts_auth_put(struct buf_writer *w, const struct aead_ctx *ctx,
		  const uint8_t *nonce, size_t nonce_len,
		  const uint8_t *pt, size_t pt_len, size_t padding)
{
	size_t ct_len = pt_len + AEAD_TAG_LEN, ad_len = w->off;
	size_t body_len;
	uint8_t *ct;

	/* Padding keeps the field a whole number of words. */
	if (w->err || nonce_len > UINT16_MAX || ct_len > UINT16_MAX || padding % 4 != 0)
		goto out;
	body_len = 4 + ntp_ef_pad4(nonce_len) + ntp_ef_pad4(ct_len) + padding;
	if (body_len > UINT16_MAX - NTP_EF_HEADER_LEN)
		goto out;
	if (!ntp_ef_put_header(w, NTP_EF_NTS_AUTH, body_len) ||
	    !buf_put_u16(w, (uint16_t)nonce_len) || !buf_put_u16(w, (uint16_t)ct_len) ||
	    !buf_put_bytes(w, nonce, nonce_len) ||
	    !buf_put_zeros(w, ntp_ef_pad4(nonce_len) - nonce_len) ||
	    !buf_reserve(w, ct_len, &ct))
		return false;
	/* The associated data ends where this field begins. */
	if (aead_seal(ctx, nonce, nonce_len, w->p, ad_len, pt, pt_len, ct) < 0)
		goto out;
	return buf_put_zeros(w, ntp_ef_pad4(ct_len) - ct_len + padding);
out:
	w->err = true;
	return false;
}

size_t nts_request_build(const struct nts_request *rq, uint8_t *out, size_t cap)
{
	uint8_t pt[NTS_MAX_PACKET];
	struct buf_writer w, pw;
	unsigned i;

	buf_writer_init(&w, out, cap);
	buf_writer_init(&pw, pt, sizeof(pt));
	nts_request_put_header(&w, rq->version, NTP_MODE_CLIENT, rq->tx_ts);
	ntp_ef_put(&w, NTP_EF_UNIQUE_ID, rq->uid, rq->uid_len);
	ntp_ef_put(&w, NTP_EF_NTS_COOKIE, rq->cookie, rq->cookie_len);
	for (i = 0; i < rq->placeholders; i++) {
		ntp_ef_put_header(&w, NTP_EF_NTS_COOKIE_PLACEHOLDER, rq->cookie_len);
		buf_put_zeros(&w, ntp_ef_pad4(rq->cookie_len));
	}
	for (i = 0; i < rq->enc_placeholders; i++) {
		ntp_ef_put_header(&pw, NTP_EF_NTS_COOKIE_PLACEHOLDER, rq->cookie_len);
		buf_put_zeros(&pw, ntp_ef_pad4(rq->cookie_len));
	}
	if (pw.err || w.err)
		return 0;
	if (!nts_auth_put(&w, rq->c2s, rq->nonce, rq->nonce_len, pt, pw.off,
			  nts_auth_required_padding(rq->c2s->alg, rq->nonce_len)))
		return 0;
	return w.off;
}

size_t nts_request_build_plain(uint8_t version, uint64_t tx_ts, uint8_t *out, size_t cap)
{
	struct buf_writer w;

	buf_writer_init(&w, out, cap);
	if (!nts_request_put_header(&w, version, NTP_MODE_CLIENT, tx_ts))
		return 0;
	return w.off;
}

/* Decrypt the authenticator `ef` of pkt (AD = pkt[0..ad_len)) into out->plain. */
static enum nts_reply_status open_auth(const uint8_t *pkt, size_t ad_len,
				       const struct ntp_ef *ef,
				       const struct aead_ctx *s2c, size_t *pt_len,
				       struct nts_reply *out)
{
	struct buf_reader r;
	uint16_t nonce_len, ct_len;
	const uint8_t *nonce, *ct;

	buf_reader_init(&r, ef->body, ef->body_len);
	if (!buf_get_u16(&r, &nonce_len) || !buf_get_u16(&r, &ct_len) ||
	    !buf_get_span(&r, nonce_len, &nonce) ||
	    !buf_skip(&r, ntp_ef_pad4(nonce_len) - nonce_len) ||
	    !buf_get_span(&r, ct_len, &ct) ||
	    !buf_skip(&r, ntp_ef_pad4(ct_len) - ct_len))
		return NTS_REPLY_ERR_AUTH;
	if (ct_len < AEAD_TAG_LEN || (size_t)ct_len - AEAD_TAG_LEN > sizeof(out->plain))
		return NTS_REPLY_ERR_AUTH;
	if (aead_open(s2c, nonce, nonce_len, pkt, ad_len, ct, ct_len, out->plain) < 0)
		return NTS_REPLY_ERR_AUTH;
	*pt_len = ct_len - AEAD_TAG_LEN;
	return NTS_REPLY_OK;
}

static enum nts_reply_status collect_cookies(size_t pt_len, struct nts_reply *out)
{
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	enum ntp_ef_status st;

	ntp_ef_iter_init(&it, out->plain, pt_len);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_OK) {
		if (ef.type != NTP_EF_NTS_COOKIE || out->n_cookies == NTS_REPLY_MAX_COOKIES)
			continue;
		out->cookie[out->n_cookies] = ef.body;
		out->cookie_len[out->n_cookies] = ef.body_len;
		out->n_cookies++;
	}
	if (st != NTP_EF_END || out->n_cookies == 0)
		return NTS_REPLY_ERR_COOKIES;
	return NTS_REPLY_OK;
}

enum nts_reply_status nts_reply_parse(const uint8_t *pkt, size_t len, uint64_t tx_ts,
				      const uint8_t *uid, size_t uid_len,
				      const struct aead_ctx *s2c, struct nts_reply *out)
{
	struct buf_reader r;
	struct ntp_ef_iter it;
	struct ntp_ef ef, auth = { 0 };
	enum ntp_ef_status st;
	enum nts_reply_status ret;
	unsigned n_uid = 0;
	bool uid_ok = false, have_auth = false;
	size_t pt_len = 0;

	out->n_cookies = 0;
	out->len = len;
	buf_reader_init(&r, pkt, len);
	if (!ntp_header_decode(&r, &out->hdr))
		return NTS_REPLY_ERR_SHORT;
	if (out->hdr.mode != NTP_MODE_SERVER)
		return NTS_REPLY_ERR_MODE;
	if (out->hdr.origin_ts != tx_ts)
		return NTS_REPLY_ERR_ORIGIN;
	if (s2c == NULL)
		return out->hdr.stratum == 0 ? NTS_REPLY_KOD : NTS_REPLY_OK;

	ntp_ef_iter_init(&it, pkt + NTP_HEADER_LEN, len - NTP_HEADER_LEN);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_OK) {
		if (have_auth)
			return NTS_REPLY_ERR_AUTH_MISSING;	/* not the last field */
		if (ef.type == NTP_EF_UNIQUE_ID) {
			n_uid++;
			uid_ok = ef.body_len == ntp_ef_pad4(uid_len) &&
				 memcmp(ef.body, uid, uid_len) == 0;
		} else if (ef.type == NTP_EF_NTS_AUTH) {
			have_auth = true;
			auth = ef;
		}
	}
	if (st != NTP_EF_END)
		return NTS_REPLY_ERR_FIELDS;
	if (n_uid != 1 || !uid_ok)
		return NTS_REPLY_ERR_UID;
	if (out->hdr.stratum == 0)
		return out->hdr.refid == NTP_KISS_NTSN ? NTS_REPLY_NAK : NTS_REPLY_KOD;
	if (!have_auth)
		return NTS_REPLY_ERR_AUTH_MISSING;
	ret = open_auth(pkt, NTP_HEADER_LEN + auth.offset, &auth, s2c, &pt_len, out);
	if (ret != NTS_REPLY_OK)
		return ret;
	return collect_cookies(pt_len, out);
}

static const char *const reply_status_names[NTS_REPLY_STATUS_COUNT] = {
	[NTS_REPLY_OK] = "ok",
	[NTS_REPLY_NAK] = "nts-nak",
	[NTS_REPLY_KOD] = "kiss-o-death",
	[NTS_REPLY_ERR_SHORT] = "short",
	[NTS_REPLY_ERR_MODE] = "not-mode-4",
	[NTS_REPLY_ERR_ORIGIN] = "origin-mismatch",
	[NTS_REPLY_ERR_FIELDS] = "malformed-fields",
	[NTS_REPLY_ERR_UID] = "unique-id-mismatch",
	[NTS_REPLY_ERR_AUTH_MISSING] = "authenticator-missing",
	[NTS_REPLY_ERR_AUTH] = "authenticator-invalid",
	[NTS_REPLY_ERR_COOKIES] = "no-cookies",
};

const char *nts_reply_status_str(enum nts_reply_status s)
{
	if ((unsigned)s >= NTS_REPLY_STATUS_COUNT)
		return "unknown";
	return reply_status_names[s];
}
