/* unit tests for responder (the pure NTP/NTS responder, the reply size
 * arithmetic) and clock. */
#include "build_config.h"

#include <stdio.h>
#include <string.h>
#include <sys/timex.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/cookie.h"
#include "common/keyset.h"
#include "common/ntp_ef.h"
#include "common/ntp_packet.h"
#include "common/nts_request.h"
#include "ntpd/clock.h"
#include "ntpd/responder.h"
#include "unit.h"
#include "vmflags.h"

#define TX_TS 0xe5f1a2b3c4d5e6f7ULL
#define RX_TS 0xe5f1a2b400000001ULL
/* even: a reply's transmit timestamp has its lowest bit clear */
#define SERVER_TX 0xe5f1a2b400000776ULL
#define NOW 1700000000

static struct keyset *ks, *other_ks;
static struct responder resp;
static struct clock_state clk;
static struct cookie_keys session;
static struct aead_ctx c2s, s2c;
static uint8_t cookie[COOKIE_MAX_LEN], uid[NTS_UID_LEN], nonce[16];
static size_t cookie_n;
static unsigned tx_calls;
static uint64_t xleave_tx;	/* what run() passes as rq.xleave_tx */
static struct nts_reply rep;

static uint64_t fake_tx(void *arg)
{
	(void)arg;
	tx_calls++;
	return SERVER_TX;
}

static int setup(void)
{
	const struct master_key *mk;
	size_t i;

	ks = keyset_new();
	other_ks = keyset_new();
	if (ks == NULL || other_ks == NULL || keyset_generate(ks, NOW - 7200) == NULL ||
	    keyset_generate(other_ks, NOW - 7200) == NULL)
		return -1;
	if (responder_init(&resp, 3600) < 0)
		return -1;
	memset(&clk, 0, sizeof(clk));
	clk.leap = NTP_LEAP_NONE;
	clk.stratum = 2;
	clk.precision = -24;
	clk.refid = 0x4e545344;
	clk.root_dispersion = 0x00000123;
	clk.ref_ts = RX_TS - 0x100000000ULL;
	session.aead = AEAD_AES_SIV_CMAC_256;
	session.key_len = 32;
	for (i = 0; i < 32; i++) {
		session.c2s[i] = (uint8_t)(i + 1);
		session.s2c[i] = (uint8_t)(0x80 + i);
	}
	for (i = 0; i < sizeof(uid); i++)
		uid[i] = (uint8_t)(0x55 ^ i);
	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0xc0 + i);
	mk = keyset_sealing_key(ks, NOW, 3600);
	cookie_n = cookie_seal(mk, &session, nonce, cookie, sizeof(cookie));
	if (cookie_n != 104 || aead_set_key(&c2s, session.aead, session.c2s) < 0 ||
	    aead_set_key(&s2c, session.aead, session.s2c) < 0)
		return -1;
	return 0;
}

static int teardown(void)
{
	responder_wipe(&resp);
	keyset_free(ks);
	keyset_free(other_ks);
	return 0;
}

/* Run the responder; every call checks the one rule that holds for every
 * input: the reply is never longer than the request. */
static enum ntp_counter run(const uint8_t *pkt, size_t len, bool rate_kod, uint8_t *out,
			    size_t cap, size_t *out_len)
{
	struct responder_request rq;
	enum ntp_counter c;

	memset(&rq, 0, sizeof(rq));
	rq.pkt = pkt;
	rq.len = len;
	rq.rx_ts = RX_TS;
	rq.now = NOW;
	rq.xleave_tx = xleave_tx;
	rq.clock = &clk;
	rq.keys = ks;
	rq.rate_kod = rate_kod;
	rq.rate_poll = 5;
	rq.tx_time = fake_tx;
	c = responder_handle(&resp, &rq, out, cap, out_len);
	CU_ASSERT_TRUE(*out_len <= len);
	CU_ASSERT_TRUE(*out_len <= cap);
	CU_ASSERT_EQUAL(ntp_counter_is_reply(c), *out_len > 0);
	return c;
}

static enum ntp_counter handle(const uint8_t *pkt, size_t len, uint8_t *out, size_t *out_len)
{
	return run(pkt, len, false, out, NTS_MAX_PACKET, out_len);
}

static void base_request(struct nts_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->version = 4;
	rq->tx_ts = TX_TS;
	rq->uid = uid;
	rq->uid_len = sizeof(uid);
	rq->cookie = cookie;
	rq->cookie_len = cookie_n;
	rq->c2s = &c2s;
	rq->nonce = nonce;
	rq->nonce_len = sizeof(nonce);
}

static size_t build(unsigned placeholders, unsigned enc_placeholders, uint8_t *pkt)
{
	struct nts_request rq;

	base_request(&rq);
	rq.placeholders = placeholders;
	rq.enc_placeholders = enc_placeholders;
	return nts_request_build(&rq, pkt, NTS_MAX_PACKET);
}

static void check_header(const uint8_t *out, uint8_t version)
{
	struct buf_reader r;
	struct ntp_header h;

	buf_reader_init(&r, out, 48);
	CU_ASSERT_TRUE_FATAL(ntp_header_decode(&r, &h));
	CU_ASSERT_EQUAL(h.mode, NTP_MODE_SERVER);
	CU_ASSERT_EQUAL(h.version, version);
	CU_ASSERT_EQUAL(h.origin_ts, TX_TS);
	CU_ASSERT_EQUAL(h.rx_ts, RX_TS | RESPONDER_RX_MARK);
	CU_ASSERT_EQUAL(h.tx_ts, SERVER_TX);
}

static void test_plain_versions(void)
{
	uint8_t pkt[48], out[NTS_MAX_PACKET];
	struct buf_reader r;
	struct ntp_header h;
	size_t out_len;
	uint8_t v;

	for (v = 0; v < 8; v++) {
		CU_ASSERT_EQUAL_FATAL(nts_request_build_plain(v, TX_TS, pkt, sizeof(pkt)), 48);
		if (v >= 1 && v <= 4) {
			CU_ASSERT_EQUAL(handle(pkt, 48, out, &out_len), NTP_CNT_PLAIN_REPLY);
			CU_ASSERT_EQUAL(out_len, 48);
			check_header(out, v);
			buf_reader_init(&r, out, 48);
			ntp_header_decode(&r, &h);
			CU_ASSERT_EQUAL(h.stratum, 2);
			CU_ASSERT_EQUAL(h.refid, 0x4e545344);
			CU_ASSERT_EQUAL(h.precision, -24);
			CU_ASSERT_EQUAL(h.root_dispersion, 0x123);
			CU_ASSERT_EQUAL(h.leap, NTP_LEAP_NONE);
			CU_ASSERT_EQUAL(h.ref_ts, clk.ref_ts);
		} else {
			CU_ASSERT_EQUAL(handle(pkt, 48, out, &out_len), NTP_CNT_DROP_VERSION);
		}
	}
}

static void test_modes(void)
{
	uint8_t pkt[48], out[NTS_MAX_PACKET];
	size_t out_len;
	uint8_t m;

	for (m = 0; m < 8; m++) {
		nts_request_build_plain(4, TX_TS, pkt, sizeof(pkt));
		pkt[0] = (uint8_t)((pkt[0] & ~7) | m);
		if (m == NTP_MODE_CLIENT) {
			CU_ASSERT_EQUAL(handle(pkt, 48, out, &out_len), NTP_CNT_PLAIN_REPLY);
		} else {
			CU_ASSERT_EQUAL(handle(pkt, 48, out, &out_len), NTP_CNT_DROP_MODE);
		}
	}
	/* mode 6/7 with payload: still nothing */
	{
		uint8_t big[480];

		memset(big, 0, sizeof(big));
		big[0] = (4 << 3) | 7;
		CU_ASSERT_EQUAL(handle(big, sizeof(big), out, &out_len), NTP_CNT_DROP_MODE);
		big[0] = (2 << 3) | 6;
		CU_ASSERT_EQUAL(handle(big, sizeof(big), out, &out_len), NTP_CNT_DROP_MODE);
	}
}

static void test_short_and_long(void)
{
	static uint8_t pkt[RESPONDER_MAX_PACKET + 4];
	uint8_t out[NTS_MAX_PACKET];
	size_t out_len, len;

	nts_request_build_plain(4, TX_TS, pkt, 48);
	for (len = 0; len < 48; len++)
		CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_DROP_SHORT);
	memset(pkt + 48, 0, sizeof(pkt) - 48);
	CU_ASSERT_EQUAL(handle(pkt, sizeof(pkt), out, &out_len), NTP_CNT_DROP_TOO_LONG);
}

static void test_plain_with_extras(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	struct buf_writer w;
	size_t out_len;

	/* NTPv3 with a legacy MAC: plain reply, MAC not echoed */
	buf_writer_init(&w, pkt, sizeof(pkt));
	nts_request_put_header(&w, 3, NTP_MODE_CLIENT, TX_TS);
	buf_put_u32(&w, 1);
	buf_put_zeros(&w, 16);
	CU_ASSERT_EQUAL(handle(pkt, w.off, out, &out_len), NTP_CNT_PLAIN_REPLY);
	CU_ASSERT_EQUAL(out_len, 48);
	check_header(out, 3);
	/* NTPv4 with an unknown extension field: plain */
	buf_writer_init(&w, pkt, sizeof(pkt));
	nts_request_put_header(&w, 4, NTP_MODE_CLIENT, TX_TS);
	ntp_ef_put(&w, 0x2005, "0123456789ab", 12);
	CU_ASSERT_EQUAL(handle(pkt, w.off, out, &out_len), NTP_CNT_PLAIN_REPLY);
	CU_ASSERT_EQUAL(out_len, 48);
	/* NTPv4 with a legacy MAC: not valid extension fields */
	buf_writer_init(&w, pkt, sizeof(pkt));
	nts_request_put_header(&w, 4, NTP_MODE_CLIENT, TX_TS);
	buf_put_u32(&w, 1);
	buf_put_zeros(&w, 16);
	CU_ASSERT_EQUAL(handle(pkt, w.off, out, &out_len), NTP_CNT_DROP_EF_MALFORMED);
	/* a standalone Unique Identifier (RFC 8915 5.3) is echoed */
	buf_writer_init(&w, pkt, sizeof(pkt));
	nts_request_put_header(&w, 4, NTP_MODE_CLIENT, TX_TS);
	ntp_ef_put(&w, NTP_EF_UNIQUE_ID, uid, sizeof(uid));
	CU_ASSERT_EQUAL(handle(pkt, w.off, out, &out_len), NTP_CNT_PLAIN_REPLY);
	CU_ASSERT_EQUAL(out_len, 48 + 36);
	CU_ASSERT_EQUAL(buf_load_u16(out + 48), NTP_EF_UNIQUE_ID);
	CU_ASSERT_EQUAL(memcmp(out + 52, uid, sizeof(uid)), 0);
	/* ... but a short one is not */
	buf_writer_init(&w, pkt, sizeof(pkt));
	nts_request_put_header(&w, 4, NTP_MODE_CLIENT, TX_TS);
	ntp_ef_put(&w, NTP_EF_UNIQUE_ID, uid, 16);
	CU_ASSERT_EQUAL(handle(pkt, w.off, out, &out_len), NTP_CNT_DROP_UID_SHORT);
}

/* The fresh cookies open under the keyset to the session's keys. */
static void check_cookies(size_t n)
{
	struct cookie_keys k;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(rep.n_cookies, n);
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(rep.cookie_len[i], cookie_n);
		CU_ASSERT_EQUAL_FATAL(cookie_open(ks, rep.cookie[i], rep.cookie_len[i], &k),
				      COOKIE_OK);
		CU_ASSERT_EQUAL(k.aead, session.aead);
		CU_ASSERT_EQUAL(memcmp(k.c2s, session.c2s, 32), 0);
		CU_ASSERT_EQUAL(memcmp(k.s2c, session.s2c, 32), 0);
		/* fresh: not the cookie the client sent */
		CU_ASSERT_NOT_EQUAL(memcmp(rep.cookie[i], cookie, cookie_n), 0);
		if (i > 0)
			CU_ASSERT_NOT_EQUAL(memcmp(rep.cookie[i], rep.cookie[i - 1], cookie_n), 0);
		cookie_keys_wipe(&k);
	}
}

static void test_nts_valid(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	size_t len, out_len;

	len = build(0, 0, pkt);
	tx_calls = 0;
	CU_ASSERT_EQUAL_FATAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL(tx_calls, 1);
	/* same size as the request for a chrony-shaped request */
	CU_ASSERT_EQUAL(out_len, len);
	check_header(out, 4);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.hdr.stratum, 2);
	CU_ASSERT_EQUAL(rep.hdr.leap, NTP_LEAP_NONE);
	check_cookies(1);
	/* the unique identifier is echoed right after the header */
	CU_ASSERT_EQUAL(buf_load_u16(out + 48), NTP_EF_UNIQUE_ID);
	CU_ASSERT_EQUAL(memcmp(out + 52, uid, sizeof(uid)), 0);
	/* the reply is not valid under the C2S key */
	CU_ASSERT_EQUAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &c2s, &rep),
			NTS_REPLY_ERR_AUTH);
}

/* The bytes of p are all zero. */
static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* The session keys a cookie opens to sit in the worker's secmem scratch
 * (left out of core dumps) and are wiped once the reply is sealed. */
static void test_nts_keys_wiped(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	size_t len, out_len;

	CU_ASSERT_EQUAL(vmflags_dontdump(resp.s), 1);
	CU_ASSERT_EQUAL(vmflags_dontdump(&resp), 0);	/* the check can tell */
	len = build(0, 0, pkt);
	CU_ASSERT_EQUAL_FATAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT(all_zero(&resp.s->ck, sizeof(resp.s->ck)));
	CU_ASSERT(all_zero(&resp.s->c2s, sizeof(resp.s->c2s)));
	CU_ASSERT(all_zero(&resp.s->s2c, sizeof(resp.s->s2c)));
	/* ... and after a NAK (the cookie opened, the authenticator failed) */
	pkt[len - 1] ^= 1;
	CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NAK_AUTH);
	CU_ASSERT(all_zero(&resp.s->ck, sizeof(resp.s->ck)));
	CU_ASSERT(all_zero(&resp.s->c2s, sizeof(resp.s->c2s)));
}

/* Interleaved mode with NTS (RFC 9769): an ordinary NTS reply, sealed
 * under S2C with a fresh cookie and no longer than the request, whose
 * origin is the request's receive field and whose transmit timestamp is
 * the previous reply's. */
static void test_nts_interleaved(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET], none[1] = { 0 };
	uint64_t client_rx = 0xe5f1a2b3000000aaULL;
	size_t len, out_len, auth_off;
	enum ntp_counter c;

	len = build(0, 0, pkt);
	/* the client's header: origin = our previous receive timestamp,
	 * receive = when it got our previous reply; authenticated again */
	buf_store_u64(pkt + 24, RX_TS);
	buf_store_u64(pkt + 32, client_rx);
	auth_off = len - (NTP_EF_HEADER_LEN + 4 + sizeof(nonce) + AEAD_TAG_LEN);
	CU_ASSERT_EQUAL_FATAL(buf_load_u16(pkt + auth_off), NTP_EF_NTS_AUTH);
	CU_ASSERT_EQUAL_FATAL(aead_seal(&c2s, nonce, sizeof(nonce), pkt, auth_off, none, 0,
					pkt + auth_off + NTP_EF_HEADER_LEN + 4 + sizeof(nonce)),
			      0);
	xleave_tx = 0xe5f1a2b300012345ULL;
	c = handle(pkt, len, out, &out_len);
	xleave_tx = 0;
	CU_ASSERT_EQUAL_FATAL(c, NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL(out_len, len);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, client_rx, uid, sizeof(uid), &s2c,
					      &rep),
			      NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.hdr.tx_ts, 0xe5f1a2b300012344ULL);
	CU_ASSERT_EQUAL(rep.hdr.rx_ts, RX_TS | RESPONDER_RX_MARK);
	check_cookies(1);
	/* the same request in basic mode: origin = its transmit timestamp */
	CU_ASSERT_EQUAL_FATAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.hdr.tx_ts, SERVER_TX);
}

static void test_nts_placeholders(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	size_t len, out_len;

	len = build(3, 0, pkt);
	CU_ASSERT_EQUAL_FATAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL(out_len, len);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	check_cookies(4);
	/* encrypted placeholders count too */
	len = build(1, 2, pkt);
	CU_ASSERT_EQUAL_FATAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL(out_len, len);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	check_cookies(4);
	/* at most RESPONDER_MAX_COOKIES; the rest is padding */
	len = build(7, 5, pkt);
	CU_ASSERT_EQUAL_FATAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL(out_len, len);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	check_cookies(RESPONDER_MAX_COOKIES);
}

static void test_nts_capped_by_size(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	size_t len, out_len;

	/* A smaller output buffer than the request: fewer cookies, never
	 * zero, never past the cap. */
	len = build(3, 0, pkt);
	CU_ASSERT_EQUAL_FATAL(run(pkt, len, false, out, len - 108, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL(out_len, len - 108);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	check_cookies(3);
	CU_ASSERT_EQUAL_FATAL(run(pkt, len, false, out, len - 110, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.n_cookies, 2);
	/* no room for one cookie: dropped, nothing written */
	CU_ASSERT_EQUAL(run(pkt, len, false, out, 48 + 36 + 40 + 100, &out_len),
			NTP_CNT_DROP_INTERNAL);
}

/* Assemble a request from parts for the malformed cases. */
struct parts {
	uint8_t version;
	int n_uid;			/* how many uid fields before the authenticator */
	size_t uid_len;
	int n_cookie;
	size_t cookie_len;		/* bytes of the cookie sent */
	int placeholders;
	size_t ph_len;
	int n_auth;
	size_t nonce_len;
	long pad_adjust;		/* added to the required padding */
	bool cookie_after_auth;
	bool uid_after_auth;
	bool junk_after_auth;
	const uint8_t *enc;		/* plaintext to encrypt */
	size_t enc_len;
	const struct aead_ctx *key;
};

static void default_parts(struct parts *p)
{
	memset(p, 0, sizeof(*p));
	p->version = 4;
	p->n_uid = 1;
	p->uid_len = sizeof(uid);
	p->n_cookie = 1;
	p->cookie_len = cookie_n;
	p->ph_len = cookie_n;
	p->n_auth = 1;
	p->nonce_len = 16;
	p->key = &c2s;
}

static size_t assemble(const struct parts *p, uint8_t *pkt)
{
	static const uint8_t zeros[NTS_MAX_PACKET];
	uint8_t big_uid[64];
	struct buf_writer w;
	int i;

	memset(big_uid, 0x42, sizeof(big_uid));
	memcpy(big_uid, uid, sizeof(uid));
	buf_writer_init(&w, pkt, NTS_MAX_PACKET);
	nts_request_put_header(&w, p->version, NTP_MODE_CLIENT, TX_TS);
	for (i = 0; i < p->n_uid; i++)
		ntp_ef_put(&w, NTP_EF_UNIQUE_ID, big_uid, p->uid_len);
	for (i = 0; i < p->n_cookie; i++)
		ntp_ef_put(&w, NTP_EF_NTS_COOKIE, cookie, p->cookie_len);
	for (i = 0; i < p->placeholders; i++)
		ntp_ef_put(&w, NTP_EF_NTS_COOKIE_PLACEHOLDER, zeros, p->ph_len);
	for (i = 0; i < p->n_auth; i++) {
		long pad = (long)nts_auth_required_padding(p->key->alg, p->nonce_len) +
			   p->pad_adjust;

		nts_auth_put(&w, p->key, nonce, p->nonce_len, p->enc ? p->enc : zeros,
			     p->enc_len, pad > 0 ? (size_t)pad : 0);
	}
	if (p->cookie_after_auth)
		ntp_ef_put(&w, NTP_EF_NTS_COOKIE, cookie, p->cookie_len);
	if (p->uid_after_auth)
		ntp_ef_put(&w, NTP_EF_UNIQUE_ID, uid, sizeof(uid));
	if (p->junk_after_auth) {
		ntp_ef_put(&w, NTP_EF_NTS_COOKIE_PLACEHOLDER, zeros, p->ph_len);
		ntp_ef_put(&w, 0x7777, zeros, 40);
	}
	CU_ASSERT_FALSE_FATAL(w.err);
	return w.off;
}

static enum ntp_counter run_parts(const struct parts *p, uint8_t *out, size_t *out_len)
{
	uint8_t pkt[NTS_MAX_PACKET];

	return handle(pkt, assemble(p, pkt), out, out_len);
}

static void test_nts_structure(void)
{
	uint8_t out[NTS_MAX_PACKET];
	struct parts p;
	size_t out_len;

	default_parts(&p);
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NTS_REPLY);
	default_parts(&p);
	p.n_uid = 0;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_UID_MISSING);
	default_parts(&p);
	p.n_uid = 2;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_UID_DUPLICATE);
	default_parts(&p);
	p.uid_len = 28;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_UID_SHORT);
	default_parts(&p);
	p.uid_len = 64;			/* longer is fine, and echoed whole */
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL(buf_load_u16(out + 50), 4 + 64);
	default_parts(&p);
	p.n_cookie = 0;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_COOKIE_MISSING);
	default_parts(&p);
	p.n_cookie = 2;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_COOKIE_DUPLICATE);
	default_parts(&p);
	p.n_auth = 0;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_AUTH_MISSING);
	default_parts(&p);
	p.n_auth = 2;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_AUTH_DUPLICATE);
	/* only placeholders: NTS without a cookie */
	default_parts(&p);
	p.n_cookie = 0;
	p.placeholders = 1;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_COOKIE_MISSING);
	/* cookie or uid only after the authenticator: not authenticated */
	default_parts(&p);
	p.n_cookie = 0;
	p.cookie_after_auth = true;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_COOKIE_MISSING);
	default_parts(&p);
	p.n_uid = 0;
	p.uid_after_auth = true;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_UID_MISSING);
	/* extra fields after the authenticator are ignored (placeholders
	 * there do not count) */
	default_parts(&p);
	p.junk_after_auth = true;
	p.cookie_after_auth = true;
	CU_ASSERT_EQUAL_FATAL(run_parts(&p, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.n_cookies, 1);
	/* NTPv3 never carries NTS: answered plain */
	default_parts(&p);
	p.version = 3;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_PLAIN_REPLY);
	CU_ASSERT_EQUAL(out_len, 48);
}

static void test_nts_placeholder_sizes(void)
{
	uint8_t out[NTS_MAX_PACKET];
	struct parts p;
	size_t out_len;

	/* placeholders of the wrong size do not count */
	default_parts(&p);
	p.placeholders = 3;
	p.ph_len = cookie_n - 4;
	CU_ASSERT_EQUAL_FATAL(run_parts(&p, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.n_cookies, 1);
	default_parts(&p);
	p.placeholders = 2;
	p.ph_len = cookie_n + 4;
	CU_ASSERT_EQUAL_FATAL(run_parts(&p, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.n_cookies, 1);
	default_parts(&p);
	p.placeholders = 2;
	p.ph_len = 0;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NTS_REPLY);
}

static void check_nak(const uint8_t *out, size_t out_len)
{
	struct buf_reader r;
	struct ntp_header h;

	CU_ASSERT_EQUAL_FATAL(out_len, 48 + 36);
	buf_reader_init(&r, out, out_len);
	ntp_header_decode(&r, &h);
	CU_ASSERT_EQUAL(h.leap, NTP_LEAP_UNSYNC);
	CU_ASSERT_EQUAL(h.stratum, 0);
	CU_ASSERT_EQUAL(h.refid, NTP_KISS_NTSN);
	CU_ASSERT_EQUAL(h.mode, NTP_MODE_SERVER);
	CU_ASSERT_EQUAL(h.origin_ts, TX_TS);
	/* the only field: the unique identifier */
	CU_ASSERT_EQUAL(buf_load_u16(out + 48), NTP_EF_UNIQUE_ID);
	CU_ASSERT_EQUAL(buf_load_u16(out + 50), 36);
	CU_ASSERT_EQUAL(memcmp(out + 52, uid, sizeof(uid)), 0);
	CU_ASSERT_EQUAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_NAK);
}

static void test_nak_cookie(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET], saved[COOKIE_MAX_LEN];
	struct parts p;
	size_t out_len, len;
	const struct master_key *mk;

	/* wrong sizes */
	default_parts(&p);
	p.cookie_len = cookie_n - 4;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NAK_COOKIE_LENGTH);
	check_nak(out, out_len);
	default_parts(&p);
	p.cookie_len = 8;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NAK_COOKIE_LENGTH);
	check_nak(out, out_len);
	default_parts(&p);
	p.cookie_len = cookie_n + 4;	/* trailing byte of the array: still wrong */
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NAK_COOKIE_LENGTH);
	/* every corrupted byte of the cookie: NAK (key id or tag) */
	memcpy(saved, cookie, cookie_n);
	for (size_t i = 0; i < cookie_n; i++) {
		enum ntp_counter c;

		cookie[i] ^= 0x80;
		len = build(0, 0, pkt);
		c = handle(pkt, len, out, &out_len);
		CU_ASSERT_TRUE(c == NTP_CNT_NAK_COOKIE_AUTH || c == NTP_CNT_NAK_COOKIE_KEY);
		if (i >= 4)
			CU_ASSERT_EQUAL(c, NTP_CNT_NAK_COOKIE_AUTH);
		check_nak(out, out_len);
		cookie[i] ^= 0x80;
	}
	CU_ASSERT_EQUAL(memcmp(saved, cookie, cookie_n), 0);
	/* a cookie from another key set (rotated away): unknown key */
	mk = keyset_key_at(other_ks, 0);
	CU_ASSERT_EQUAL_FATAL(cookie_seal(mk, &session, nonce, cookie, sizeof(cookie)), cookie_n);
	len = build(0, 0, pkt);
	CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NAK_COOKIE_KEY);
	check_nak(out, out_len);
	memcpy(cookie, saved, cookie_n);
}

static void test_nak_authenticator(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	struct parts p;
	size_t len, out_len, i, auth_off;

	/* wrong key: NAK */
	default_parts(&p);
	p.key = &s2c;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NAK_AUTH);
	check_nak(out, out_len);
	/* every byte flipped in the header, uid or authenticator tag:
	 * NAK, or a drop for what the flip made malformed; never a reply. */
	len = build(0, 0, pkt);
	auth_off = len - 40;
	for (i = 0; i < len; i++) {
		enum ntp_counter c;

		if (i >= 48 + 36 && i < auth_off)
			continue;	/* the cookie: covered by test_nak_cookie */
		pkt[i] ^= 0x04;
		c = handle(pkt, len, out, &out_len);
		CU_ASSERT_NOT_EQUAL(c, NTP_CNT_NTS_REPLY);
		if (i >= auth_off + 8 || (i >= 52 && i < 48 + 36) ||
		    (i >= 8 && i < 48))
			CU_ASSERT_EQUAL(c, NTP_CNT_NAK_AUTH);
		pkt[i] ^= 0x04;
	}
	CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
}

static void test_auth_lengths(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	struct parts p;
	size_t len, out_len, auth_off;

	/* short nonce with the padding the RFC requires: answered */
	default_parts(&p);
	p.nonce_len = 4;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NTS_REPLY);
	default_parts(&p);
	p.nonce_len = 13;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NTS_REPLY);
	/* ... without it: the cookie opened, the request did not
	 * authenticate: NAK (RFC 8915 section 5.7) */
	default_parts(&p);
	p.nonce_len = 4;
	p.pad_adjust = -4;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NAK_AUTH_PADDING);
	check_nak(out, out_len);
	default_parts(&p);
	p.nonce_len = 12;
	p.pad_adjust = -4;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NAK_AUTH_PADDING);
	check_nak(out, out_len);
	/* more padding than needed is fine */
	default_parts(&p);
	p.pad_adjust = 64;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NTS_REPLY);

	/* length words that do not fit the body: NAK too */
	len = build(0, 0, pkt);
	auth_off = len - 40;
	buf_store_u16(pkt + auth_off + 4, 0xffff);
	CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NAK_AUTH_MALFORMED);
	check_nak(out, out_len);
	buf_store_u16(pkt + auth_off + 4, 0);
	CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NAK_AUTH_MALFORMED);
	check_nak(out, out_len);
	buf_store_u16(pkt + auth_off + 4, 16);
	buf_store_u16(pkt + auth_off + 6, 0xfff0);
	CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NAK_AUTH_MALFORMED);
	check_nak(out, out_len);
	buf_store_u16(pkt + auth_off + 6, 12);
	CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NAK_AUTH_MALFORMED);
	check_nak(out, out_len);
	buf_store_u16(pkt + auth_off + 6, 17);
	CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NAK_AUTH_MALFORMED);
	check_nak(out, out_len);
	buf_store_u16(pkt + auth_off + 6, 16);
	CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	/* authenticator field too short for its own length words */
	buf_store_u16(pkt + auth_off + 2, 4);
	CU_ASSERT_NOT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL(handle(pkt, auth_off + 4, out, &out_len), NTP_CNT_NAK_AUTH_MALFORMED);
	check_nak(out, out_len);
}

static void test_encrypted_fields(void)
{
	uint8_t out[NTS_MAX_PACKET], enc[64];
	struct parts p;
	size_t out_len;

	/* malformed plaintext: authenticated but unusable */
	memset(enc, 0, sizeof(enc));
	buf_store_u16(enc, 0x1234);
	buf_store_u16(enc + 2, 6);
	default_parts(&p);
	p.enc = enc;
	p.enc_len = 8;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_PLAINTEXT);
	/* a short unknown field is fine inside (RFC 8915 5.6) */
	buf_store_u16(enc + 2, 4);
	buf_store_u16(enc + 4, 0x2222);
	buf_store_u16(enc + 6, 4);
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_NTS_REPLY);
	/* a plaintext that is not a whole field */
	p.enc_len = 6;
	CU_ASSERT_EQUAL(run_parts(&p, out, &out_len), NTP_CNT_DROP_PLAINTEXT);
}

static void test_truncations(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	size_t len, l, out_len;

	len = build(2, 1, pkt);
	for (l = 0; l < len; l++) {
		enum ntp_counter c = handle(pkt, l, out, &out_len);

		CU_ASSERT_NOT_EQUAL(c, NTP_CNT_NTS_REPLY);
		if (l > 48 && l % 4 != 0)
			CU_ASSERT_EQUAL(c, NTP_CNT_DROP_EF_MALFORMED);
	}
}

static void test_bad_ef_lengths(void)
{
	static const uint16_t bad[] = { 0, 1, 2, 3, 5, 6, 7, 0xfffc, 0xfffd, 0xffff };
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	size_t len, out_len, f, i;
	size_t field_off[] = { 48, 48 + 36, 48 + 36 + 108 };

	len = build(0, 0, pkt);
	for (f = 0; f < 3; f++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint16_t saved = buf_load_u16(pkt + field_off[f] + 2);

			buf_store_u16(pkt + field_off[f] + 2, bad[i]);
			CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len),
					NTP_CNT_DROP_EF_MALFORMED);
			buf_store_u16(pkt + field_off[f] + 2, saved);
		}
	}
	CU_ASSERT_EQUAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	/* more fields than NTP_EF_MAX_FIELDS */
	{
		struct buf_writer w;
		int n;

		buf_writer_init(&w, pkt, sizeof(pkt));
		nts_request_put_header(&w, 4, NTP_MODE_CLIENT, TX_TS);
		for (n = 0; n < NTP_EF_MAX_FIELDS + 1; n++)
			ntp_ef_put(&w, 0x7000, "abcd", 4);
		CU_ASSERT_EQUAL(handle(pkt, w.off, out, &out_len), NTP_CNT_DROP_EF_MALFORMED);
	}
}

static void test_rate_kod(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	struct buf_reader r;
	struct ntp_header h;
	struct parts p;
	size_t len, out_len;

	/* NTS: RATE with the uid, no cookie, no authenticator */
	len = build(1, 0, pkt);
	CU_ASSERT_EQUAL_FATAL(run(pkt, len, true, out, sizeof(out), &out_len), NTP_CNT_RATE_KOD);
	CU_ASSERT_EQUAL(out_len, 48 + 36);
	buf_reader_init(&r, out, out_len);
	ntp_header_decode(&r, &h);
	CU_ASSERT_EQUAL(h.stratum, 0);
	CU_ASSERT_EQUAL(h.leap, NTP_LEAP_UNSYNC);
	CU_ASSERT_EQUAL(h.refid, NTP_KISS_RATE);
	CU_ASSERT_EQUAL(h.poll, 5);
	CU_ASSERT_EQUAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_KOD);
	/* a bad cookie under rate limiting: RATE, never a NAK as well */
	default_parts(&p);
	p.cookie_len = 8;
	len = assemble(&p, pkt);
	CU_ASSERT_EQUAL(run(pkt, len, true, out, sizeof(out), &out_len), NTP_CNT_RATE_KOD);
	buf_reader_init(&r, out, out_len);
	ntp_header_decode(&r, &h);
	CU_ASSERT_EQUAL(h.refid, NTP_KISS_RATE);
	/* plain: a 48-byte RATE */
	nts_request_build_plain(4, TX_TS, pkt, 48);
	CU_ASSERT_EQUAL(run(pkt, 48, true, out, sizeof(out), &out_len), NTP_CNT_RATE_KOD);
	CU_ASSERT_EQUAL(out_len, 48);
	CU_ASSERT_EQUAL(nts_reply_parse(out, out_len, TX_TS, NULL, 0, NULL, &rep), NTS_REPLY_KOD);
	/* malformed stays dropped */
	default_parts(&p);
	p.n_auth = 2;
	len = assemble(&p, pkt);
	CU_ASSERT_EQUAL(run(pkt, len, true, out, sizeof(out), &out_len),
			NTP_CNT_DROP_AUTH_DUPLICATE);
}

static void test_no_keys_and_clock(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	struct responder_request rq;
	struct clock_state unsync = clk;
	size_t len, out_len;

	len = build(0, 0, pkt);
	memset(&rq, 0, sizeof(rq));
	rq.pkt = pkt;
	rq.len = len;
	rq.rx_ts = RX_TS;
	rq.now = NOW;
	rq.clock = &clk;
	rq.keys = NULL;
	CU_ASSERT_EQUAL(responder_handle(&resp, &rq, out, sizeof(out), &out_len),
			NTP_CNT_DROP_NO_KEYS);
	CU_ASSERT_EQUAL(out_len, 0);
	/* the header follows the clock state; without tx_time the receive
	 * time is used */
	unsync.leap = NTP_LEAP_UNSYNC;
	unsync.stratum = 16;
	rq.clock = &unsync;
	rq.keys = ks;
	CU_ASSERT_EQUAL_FATAL(responder_handle(&resp, &rq, out, sizeof(out), &out_len),
			      NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.hdr.leap, NTP_LEAP_UNSYNC);
	CU_ASSERT_EQUAL(rep.hdr.stratum, 16);
	CU_ASSERT_EQUAL(rep.hdr.tx_ts, RX_TS & ~RESPONDER_RX_MARK);
}

static void test_counter_names(void)
{
	int c;

	for (c = 0; c < NTP_CNT_COUNT; c++) {
		CU_ASSERT_PTR_NOT_NULL(ntp_counter_name((enum ntp_counter)c));
		CU_ASSERT_STRING_NOT_EQUAL(ntp_counter_name((enum ntp_counter)c), "unknown");
	}
	CU_ASSERT_STRING_EQUAL(ntp_counter_name(NTP_CNT_COUNT), "unknown");
	CU_ASSERT_TRUE(ntp_counter_is_reply(NTP_CNT_NAK_AUTH));
	CU_ASSERT_TRUE(ntp_counter_is_reply(NTP_CNT_RATE_KOD));
	CU_ASSERT_FALSE(ntp_counter_is_reply(NTP_CNT_RATE_DROP));
	CU_ASSERT_FALSE(ntp_counter_is_reply(NTP_CNT_DROP_MODE));
}

/* Bug: the reply nonce was 16 bytes whatever the AEAD, and AES-128-GCM-SIV
 * takes exactly 12, so every GCM-SIV request was dropped unanswered. */
static void test_gcm_siv_reply_nonce(void)
{
#ifdef HAVE_GCM_SIV
	uint8_t gcookie[COOKIE_MAX_LEN], pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	struct aead_ctx gc2s, gs2c;
	struct cookie_keys gk;
	struct nts_request rq;
	size_t gcookie_n, len, out_len, i;

	memset(&gk, 0, sizeof(gk));
	gk.aead = AEAD_AES_128_GCM_SIV;
	gk.key_len = 16;
	for (i = 0; i < gk.key_len; i++) {
		gk.c2s[i] = (uint8_t)(i + 1);
		gk.s2c[i] = (uint8_t)(0x80 + i);
	}
	gcookie_n = cookie_seal(keyset_sealing_key(ks, NOW, 3600), &gk, nonce, gcookie,
				sizeof(gcookie));
	CU_ASSERT_EQUAL_FATAL(gcookie_n, 72);
	CU_ASSERT_EQUAL_FATAL(aead_set_key(&gc2s, gk.aead, gk.c2s), 0);
	CU_ASSERT_EQUAL_FATAL(aead_set_key(&gs2c, gk.aead, gk.s2c), 0);
	base_request(&rq);
	rq.cookie = gcookie;
	rq.cookie_len = gcookie_n;
	rq.c2s = &gc2s;
	rq.nonce_len = 12;
	rq.placeholders = 1;
	len = nts_request_build(&rq, pkt, sizeof(pkt));
	CU_ASSERT_EQUAL_FATAL(len, 48 + 36 + 76 + 76 + 36);
	CU_ASSERT_EQUAL_FATAL(handle(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_EQUAL(out_len, len);
	/* header, Unique Identifier, then the authenticator: a 12-byte nonce */
	CU_ASSERT_EQUAL(buf_load_u16(out + 48 + 36), NTP_EF_NTS_AUTH);
	CU_ASSERT_EQUAL(buf_load_u16(out + 48 + 36 + 4), 12);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &gs2c, &rep),
			      NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.n_cookies, 2);
	CU_ASSERT_EQUAL(rep.cookie_len[0], gcookie_n);
#else
	/* Not in this build: no cookie can carry GCM-SIV keys. */
	CU_ASSERT_EQUAL(cookie_len(AEAD_AES_128_GCM_SIV), 0);
#endif
}

/* responder_reply_size: the cookie count and padding that keep a reply
 * within its request.  Sizes below: header 48, Unique Identifier field
 * 4 + 32, authenticator 4 + 4 + 16-byte nonce + 16-byte tag = 124 without
 * cookies; an AEAD 15 cookie field is 4 + 104. */

/* One case: the inputs, then the cookie count and padding wanted. */
struct size_case {
	size_t cap, uid_len, nonce_len, cookie_len;
	unsigned placeholders, cookies;
	size_t padding;
};

static void check_sizes(const struct size_case *c, size_t n)
{
	unsigned got;
	size_t i, pad;

	for (i = 0; i < n; i++, c++) {
		pad = 12345;
		got = responder_reply_size(c->cap, c->uid_len, c->nonce_len, c->cookie_len,
					   c->placeholders, &pad);
		CU_ASSERT_EQUAL(got, c->cookies);
		CU_ASSERT_EQUAL(pad, c->padding);
		if (got != c->cookies || pad != c->padding)
			printf("\n    case %zu: %u cookies, padding %zu\n", i, got, pad);
	}
}

static void test_reply_size_counts(void)
{
	static const struct size_case cases[] = {
		/* chrony's requests: 1 + placeholders cookies, no padding */
		{ 232, 32, 16, 104, 0, 1, 0 },
		{ 340, 32, 16, 104, 1, 2, 0 },
		{ 988, 32, 16, 104, 7, 8, 0 },
		/* room to spare: only what was asked, the rest padding */
		{ 2048, 32, 16, 104, 2, 3, 1600 },
		/* never more than RESPONDER_MAX_COOKIES, whatever is asked */
		{ 1312, 32, 16, 104, 10, 8, 324 },
		{ 2048, 32, 16, 104, 8, 8, 1060 },
		{ 2048, 32, 16, 104, ~0U, 8, 1060 },
		/* room for fewer than asked: as many as fit */
		{ 300, 32, 16, 104, 3, 1, 68 },
		{ 339, 32, 16, 104, 1, 1, 104 },
		{ 447, 32, 16, 104, 5, 2, 104 },
		{ 448, 32, 16, 104, 5, 3, 0 },
		/* not one fits: nothing, no padding */
		{ 231, 32, 16, 104, 0, 0, 0 },
		{ 124, 32, 16, 104, 3, 0, 0 },
		{ 0, 32, 16, 104, 0, 0, 0 },
		/* no cookie length: no cookie */
		{ 2048, 32, 16, 0, 0, 0, 0 },
		/* AEAD 17 cookies (168 bytes) */
		{ 640, 32, 16, 168, 5, 3, 0 },
		{ 639, 32, 16, 168, 5, 2, 168 },
		/* a longer Unique Identifier takes room from the cookies */
		{ 264, 64, 16, 104, 0, 1, 0 },
		{ 263, 64, 16, 104, 0, 0, 0 },
		{ 340, 64, 16, 104, 1, 1, 76 },
	};

	check_sizes(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_reply_size_nonce(void)
{
	static const struct size_case cases[] = {
		/* GCM-SIV: a 12-byte nonce and 72-byte cookies.  196 bytes
		 * hold a reply with a 12-byte nonce, not with a 16-byte one. */
		{ 196, 32, 12, 72, 0, 1, 0 },
		{ 196, 32, 16, 72, 0, 0, 0 },
		{ 200, 32, 12, 72, 0, 1, 4 },
		{ 272, 32, 12, 72, 1, 2, 0 },
		/* lengths not a multiple of 4 take their padded room */
		{ 232, 32, 13, 104, 0, 1, 0 },
		{ 231, 32, 13, 104, 0, 0, 0 },
		{ 232, 29, 16, 104, 0, 1, 0 },
		{ 236, 32, 16, 101, 0, 1, 4 },
	};

	check_sizes(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_reply_size_padding(void)
{
	struct size_case c = { 0, 32, 16, 104, 3, 1, 0 };
	size_t extra;

	/* what is left over is padding, rounded down to whole words */
	for (extra = 0; extra < 108; extra++) {
		c.cap = 232 + extra;
		c.padding = extra & ~(size_t)3;
		check_sizes(&c, 1);
	}
}

/* Write the reply responder_reply_size plans, with the real writers, into
 * exactly cap bytes; false if it does not fit. */
static bool write_planned(size_t cap, size_t uid_len, size_t nonce_len, size_t clen,
			  unsigned n, size_t pad, size_t *len)
{
	static uint8_t out[NTS_MAX_PACKET], zeros[NTS_MAX_PACKET];
	struct buf_writer w;

	buf_writer_init(&w, out, cap);
	buf_put_zeros(&w, NTP_HEADER_LEN);
	ntp_ef_put(&w, NTP_EF_UNIQUE_ID, zeros, uid_len);
	nts_auth_put(&w, &s2c, zeros, nonce_len, zeros,
		     n * (NTP_EF_HEADER_LEN + ntp_ef_pad4(clen)), pad);
	*len = w.off;
	return !w.err;
}

/* Every cap up to the largest request: what is planned fits in cap with
 * less than a word to spare, and one cookie more would not fit. */
static unsigned check_every_cap(size_t uid_len, size_t nonce_len, size_t clen)
{
	unsigned ph, n, want, bad = 0;
	size_t cap, pad, len;

	for (cap = 0; cap <= NTS_MAX_PACKET; cap++) {
		for (ph = 0; ph < 10; ph++) {
			n = responder_reply_size(cap, uid_len, nonce_len, clen, ph, &pad);
			want = ph + 1 < RESPONDER_MAX_COOKIES ? ph + 1 : RESPONDER_MAX_COOKIES;
			if (n > want)
				bad++;
			if (n > 0 && (!write_planned(cap, uid_len, nonce_len, clen, n, pad, &len) ||
				      len > cap || cap - len >= 4))
				bad++;
			if (n < want && write_planned(cap, uid_len, nonce_len, clen, n + 1, 0, &len))
				bad++;
		}
	}
	return bad;
}

static void test_reply_size_never_longer(void)
{
	CU_ASSERT_EQUAL(check_every_cap(32, 16, 104), 0);
	CU_ASSERT_EQUAL(check_every_cap(64, 16, 168), 0);
	CU_ASSERT_EQUAL(check_every_cap(32, 12, 72), 0);
}

/* The responder's replies follow the plan for every output capacity. */
static void test_nts_every_cap(void)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET];
	size_t len, out_len, cap, pad;
	enum ntp_counter c;
	unsigned n;

	len = build(2, 1, pkt);
	for (cap = 0; cap <= len; cap++) {
		n = responder_reply_size(cap, sizeof(uid), 16, cookie_n, 3, &pad);
		c = run(pkt, len, false, out, cap, &out_len);
		if (n == 0) {
			CU_ASSERT_EQUAL(c, NTP_CNT_DROP_INTERNAL);
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(c, NTP_CNT_NTS_REPLY);
		CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s2c,
						      &rep), NTS_REPLY_OK);
		CU_ASSERT_EQUAL(rep.n_cookies, n);
		CU_ASSERT_TRUE(out_len <= cap && cap - out_len < 4);
	}
}

UNIT_SUITE(responder, setup, teardown,
	   UNIT_TEST(test_plain_versions),
	   UNIT_TEST(test_modes),
	   UNIT_TEST(test_short_and_long),
	   UNIT_TEST(test_plain_with_extras),
	   UNIT_TEST(test_nts_valid),
	   UNIT_TEST(test_nts_keys_wiped),
	   UNIT_TEST(test_nts_interleaved),
	   UNIT_TEST(test_nts_placeholders),
	   UNIT_TEST(test_nts_capped_by_size),
	   UNIT_TEST(test_nts_every_cap),
	   UNIT_TEST(test_nts_structure),
	   UNIT_TEST(test_nts_placeholder_sizes),
	   UNIT_TEST(test_nak_cookie),
	   UNIT_TEST(test_nak_authenticator),
	   UNIT_TEST(test_auth_lengths),
	   UNIT_TEST(test_encrypted_fields),
	   UNIT_TEST(test_truncations),
	   UNIT_TEST(test_bad_ef_lengths),
	   UNIT_TEST(test_rate_kod),
	   UNIT_TEST(test_no_keys_and_clock),
	   UNIT_TEST(test_counter_names),
	   UNIT_TEST(test_gcm_siv_reply_nonce),
	   UNIT_TEST(test_reply_size_counts),
	   UNIT_TEST(test_reply_size_nonce),
	   UNIT_TEST(test_reply_size_padding),
	   UNIT_TEST(test_reply_size_never_longer))

/* clock: kernel state -> reply fields, and the seqlock. */

static const struct clock_config ccfg = { 2, 0x47505300, -1, -23 };
static const struct timespec t0 = { 1700000000, 500000000 };

static void test_clock_synced(void)
{
	struct clock_kernel k = { TIME_OK, 0, 2000, 100 };
	struct clock_state st;

	clock_state_from_kernel(&k, &ccfg, &t0, &st);
	CU_ASSERT_EQUAL(st.leap, NTP_LEAP_NONE);
	CU_ASSERT_EQUAL(st.stratum, 2);
	CU_ASSERT_EQUAL(st.refid, 0x47505300);
	CU_ASSERT_EQUAL(st.precision, -23);
	CU_ASSERT_EQUAL(st.root_delay, 0);
	/* 2 ms in 16.16 */
	CU_ASSERT_TRUE(st.root_dispersion >= 130 && st.root_dispersion <= 132);
	CU_ASSERT_EQUAL(st.ref_ts, ntp_ts_from_timespec(&t0));
	k.status = STA_INS;
	clock_state_from_kernel(&k, &ccfg, &t0, &st);
	CU_ASSERT_EQUAL(st.leap, NTP_LEAP_INSERT);
	k.status = STA_DEL;
	clock_state_from_kernel(&k, &ccfg, &t0, &st);
	CU_ASSERT_EQUAL(st.leap, NTP_LEAP_DELETE);
}

static void test_clock_unsynced(void)
{
	struct clock_kernel k = { TIME_OK, STA_UNSYNC, 16000000, 16000000 };
	struct clock_config local = ccfg;
	struct clock_state st;

	clock_state_from_kernel(&k, &ccfg, &t0, &st);
	CU_ASSERT_EQUAL(st.leap, NTP_LEAP_UNSYNC);
	CU_ASSERT_EQUAL(st.stratum, CLOCK_STRATUM_UNSYNC);
	k.status = 0;
	k.state = TIME_ERROR;
	clock_state_from_kernel(&k, &ccfg, &t0, &st);
	CU_ASSERT_EQUAL(st.leap, NTP_LEAP_UNSYNC);
	/* local-stratum: served anyway, at that stratum */
	local.local_stratum = 10;
	clock_state_from_kernel(&k, &local, &t0, &st);
	CU_ASSERT_EQUAL(st.leap, NTP_LEAP_NONE);
	CU_ASSERT_EQUAL(st.stratum, 10);
	CU_ASSERT_EQUAL(st.root_dispersion, 0);
	/* synchronised with local-stratum set: the configured stratum */
	k.state = TIME_OK;
	clock_state_from_kernel(&k, &local, &t0, &st);
	CU_ASSERT_EQUAL(st.stratum, 2);
}

static void test_clock_pub(void)
{
	struct clock_state a, b;
	struct clock_pub pub;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.leap = 3;
	a.stratum = 16;
	a.precision = -20;
	a.refid = 0xdeadbeef;
	a.root_delay = 0x12345678;
	a.root_dispersion = 0x9abcdef0;
	a.ref_ts = 0x0123456789abcdefULL;
	clock_pub_init(&pub, &a);
	clock_pub_load(&pub, &b);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	a.precision = 5;
	a.leap = 1;
	clock_pub_store(&pub, &a);
	clock_pub_load(&pub, &b);
	CU_ASSERT_EQUAL(b.precision, 5);
	CU_ASSERT_EQUAL(b.leap, 1);
	CU_ASSERT_EQUAL(b.ref_ts, a.ref_ts);
}

static void test_clock_kernel(void)
{
	struct clock_kernel k;
	int8_t p = clock_measure_precision();

	CU_ASSERT_EQUAL(clock_read_kernel(&k), 0);
	CU_ASSERT_TRUE(k.state >= TIME_OK && k.state <= TIME_ERROR);
	CU_ASSERT_TRUE(p <= -5 && p >= -32);
}

UNIT_SUITE(clock, NULL, NULL,
	   UNIT_TEST(test_clock_synced),
	   UNIT_TEST(test_clock_unsynced),
	   UNIT_TEST(test_clock_pub),
	   UNIT_TEST(test_clock_kernel))
