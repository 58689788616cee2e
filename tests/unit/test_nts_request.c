/* unit tests for nts_request: the client side of NTS-protected NTP. */
#include "build_config.h"

#include <string.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/ntp_ef.h"
#include "common/ntp_packet.h"
#include "common/nts_request.h"
#include "unit.h"

#define TX_TS 0xe5f1a2b3c4d5e6f7ULL

static struct aead_ctx c2s, s2c;
static uint8_t uid[NTS_UID_LEN], cookie[104], nonce[16];

static int setup(void)
{
	uint8_t k1[32], k2[32];
	size_t i;

	for (i = 0; i < sizeof(k1); i++) {
		k1[i] = (uint8_t)i;
		k2[i] = (uint8_t)(0xa0 + i);
	}
	for (i = 0; i < sizeof(uid); i++)
		uid[i] = (uint8_t)(0x30 + i);
	for (i = 0; i < sizeof(cookie); i++)
		cookie[i] = (uint8_t)(i * 7);
	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0xf0 ^ i);
	if (aead_set_key(&c2s, AEAD_AES_SIV_CMAC_256, k1) < 0 ||
	    aead_set_key(&s2c, AEAD_AES_SIV_CMAC_256, k2) < 0)
		return -1;
	return 0;
}

static void base_request(struct nts_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->version = 4;
	rq->tx_ts = TX_TS;
	rq->uid = uid;
	rq->uid_len = sizeof(uid);
	rq->cookie = cookie;
	rq->cookie_len = sizeof(cookie);
	rq->c2s = &c2s;
	rq->nonce = nonce;
	rq->nonce_len = sizeof(nonce);
}

static void test_build_layout(void)
{
	struct nts_request rq;
	uint8_t pkt[NTS_MAX_PACKET], pt[64];
	struct ntp_ef_iter it;
	struct ntp_ef ef[16];
	struct buf_reader r;
	struct ntp_header h;
	size_t len, n = 0;

	base_request(&rq);
	rq.placeholders = 2;
	len = nts_request_build(&rq, pkt, sizeof(pkt));
	/* header + uid + cookie + 2 placeholders + auth (4+4+16+16) */
	CU_ASSERT_EQUAL(len, 48 + 36 + 3 * 108 + 40);
	buf_reader_init(&r, pkt, len);
	CU_ASSERT_TRUE(ntp_header_decode(&r, &h));
	CU_ASSERT_EQUAL(h.mode, NTP_MODE_CLIENT);
	CU_ASSERT_EQUAL(h.version, 4);
	CU_ASSERT_EQUAL(h.tx_ts, TX_TS);
	ntp_ef_iter_init(&it, pkt + 48, len - 48);
	while (n < 16 && ntp_ef_next(&it, &ef[n]) == NTP_EF_OK)
		n++;
	CU_ASSERT_EQUAL_FATAL(n, 5);
	CU_ASSERT_EQUAL(ef[0].type, NTP_EF_UNIQUE_ID);
	CU_ASSERT_EQUAL(memcmp(ef[0].body, uid, sizeof(uid)), 0);
	CU_ASSERT_EQUAL(ef[1].type, NTP_EF_NTS_COOKIE);
	CU_ASSERT_EQUAL(memcmp(ef[1].body, cookie, sizeof(cookie)), 0);
	CU_ASSERT_EQUAL(ef[2].type, NTP_EF_NTS_COOKIE_PLACEHOLDER);
	CU_ASSERT_EQUAL(ef[2].body_len, sizeof(cookie));
	CU_ASSERT_EQUAL(ef[3].type, NTP_EF_NTS_COOKIE_PLACEHOLDER);
	CU_ASSERT_EQUAL(ef[4].type, NTP_EF_NTS_AUTH);
	/* nonce length 16, ciphertext = tag only */
	CU_ASSERT_EQUAL(buf_load_u16(ef[4].body), 16);
	CU_ASSERT_EQUAL(buf_load_u16(ef[4].body + 2), 16);
	CU_ASSERT_EQUAL(memcmp(ef[4].body + 4, nonce, 16), 0);
	/* the authenticator opens with C2S over everything before it */
	CU_ASSERT_EQUAL(aead_open(&c2s, nonce, 16, pkt, 48 + ef[4].offset,
				  ef[4].body + 20, 16, pt), 0);
	CU_ASSERT_NOT_EQUAL(aead_open(&s2c, nonce, 16, pkt, 48 + ef[4].offset,
				      ef[4].body + 20, 16, pt), 0);
}

static void test_build_encrypted_placeholders(void)
{
	struct nts_request rq;
	uint8_t pkt[NTS_MAX_PACKET], pt[NTS_MAX_PACKET];
	struct ntp_ef_iter it;
	struct ntp_ef ef, last = { 0 };
	size_t len;
	uint16_t ct_len;

	base_request(&rq);
	rq.enc_placeholders = 3;
	len = nts_request_build(&rq, pkt, sizeof(pkt));
	CU_ASSERT_EQUAL(len, 48 + 36 + 108 + 4 + 4 + 16 + 16 + 3 * 108);
	ntp_ef_iter_init(&it, pkt + 48, len - 48);
	while (ntp_ef_next(&it, &ef) == NTP_EF_OK)
		last = ef;
	CU_ASSERT_EQUAL_FATAL(last.type, NTP_EF_NTS_AUTH);
	ct_len = buf_load_u16(last.body + 2);
	CU_ASSERT_EQUAL_FATAL(ct_len, 16 + 3 * 108);
	CU_ASSERT_EQUAL_FATAL(aead_open(&c2s, nonce, 16, pkt, 48 + last.offset,
					last.body + 20, ct_len, pt), 0);
	/* plaintext = three placeholder fields */
	ntp_ef_iter_init(&it, pt, ct_len - 16u);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL_FATAL(ntp_ef_next(&it, &ef), NTP_EF_OK);
		CU_ASSERT_EQUAL(ef.type, NTP_EF_NTS_COOKIE_PLACEHOLDER);
		CU_ASSERT_EQUAL(ef.body_len, 104);
	}
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_END);
}

static void test_short_nonce_padding(void)
{
	const struct aead_alg *alg = aead_by_id(AEAD_AES_SIV_CMAC_256);
	struct nts_request rq;
	uint8_t pkt[NTS_MAX_PACKET];
	size_t len;

	CU_ASSERT_EQUAL(nts_auth_required_padding(alg, 16), 0);
	CU_ASSERT_EQUAL(nts_auth_required_padding(alg, 20), 0);
	CU_ASSERT_EQUAL(nts_auth_required_padding(alg, 12), 4);
	CU_ASSERT_EQUAL(nts_auth_required_padding(alg, 5), 8);
	CU_ASSERT_EQUAL(nts_auth_required_padding(alg, 1), 12);
	base_request(&rq);
	rq.nonce_len = 5;
	len = nts_request_build(&rq, pkt, sizeof(pkt));
	/* nonce 5 -> 8 padded + 8 additional padding: same size as 16 */
	CU_ASSERT_EQUAL(len, 48 + 36 + 108 + 4 + 4 + 8 + 16 + 8);
}

static void test_build_too_small(void)
{
	struct nts_request rq;
	uint8_t pkt[NTS_MAX_PACKET];
	size_t full, cap;

	base_request(&rq);
	full = nts_request_build(&rq, pkt, sizeof(pkt));
	CU_ASSERT_TRUE(full > 0);
	for (cap = 0; cap < full; cap += 7)
		CU_ASSERT_EQUAL(nts_request_build(&rq, pkt, cap), 0);
	CU_ASSERT_EQUAL(nts_request_build(&rq, pkt, full), full);
	CU_ASSERT_EQUAL(nts_request_build_plain(3, TX_TS, pkt, 47), 0);
	CU_ASSERT_EQUAL(nts_request_build_plain(3, TX_TS, pkt, 48), 48);
	CU_ASSERT_EQUAL(pkt[0], (3 << 3) | 3);
	CU_ASSERT_EQUAL(buf_load_u64(pkt + 40), TX_TS);
}

/* A server reply built from the pieces, as the responder shapes it. */
static size_t make_reply(uint8_t *pkt, size_t cap, uint8_t mode, uint64_t origin,
			 uint8_t stratum, uint32_t refid, const uint8_t *echo,
			 unsigned n_cookies, bool with_auth, bool trailing)
{
	struct buf_writer w, pw;
	struct ntp_header h;
	uint8_t pt[NTS_MAX_PACKET];
	unsigned i;

	memset(&h, 0, sizeof(h));
	h.version = 4;
	h.mode = mode;
	h.stratum = stratum;
	h.refid = refid;
	h.origin_ts = origin;
	h.tx_ts = 1234;
	buf_writer_init(&w, pkt, cap);
	buf_writer_init(&pw, pt, sizeof(pt));
	ntp_header_encode(&w, &h);
	if (echo != NULL)
		ntp_ef_put(&w, NTP_EF_UNIQUE_ID, echo, NTS_UID_LEN);
	for (i = 0; i < n_cookies; i++) {
		uint8_t c[104];

		memset(c, (int)(0x11 * (i + 1)), sizeof(c));
		ntp_ef_put(&pw, NTP_EF_NTS_COOKIE, c, sizeof(c));
	}
	if (with_auth)
		nts_auth_put(&w, &s2c, nonce, sizeof(nonce), pt, pw.off, 0);
	if (trailing)
		ntp_ef_put(&w, 0x7777, "abcd", 4);
	return w.err ? 0 : w.off;
}

static void test_reply_ok(void)
{
	static struct nts_reply rep;
	uint8_t pkt[NTS_MAX_PACKET];
	size_t len;

	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 2, 0x4e545344, uid, 3,
			 true, false);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			      NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.n_cookies, 3);
	CU_ASSERT_EQUAL(rep.cookie_len[0], 104);
	CU_ASSERT_EQUAL(rep.cookie[0][0], 0x11);
	CU_ASSERT_EQUAL(rep.cookie[2][103], 0x33);
	CU_ASSERT_EQUAL(rep.hdr.stratum, 2);
	CU_ASSERT_EQUAL(rep.hdr.tx_ts, 1234);
	CU_ASSERT_EQUAL(rep.len, len);
}

static void test_reply_errors(void)
{
	static struct nts_reply rep;
	uint8_t pkt[NTS_MAX_PACKET], other[NTS_UID_LEN];
	size_t len;

	memset(other, 0x99, sizeof(other));
	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 2, 1, uid, 1, true, false);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, 47, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_ERR_SHORT);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS + 1, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_ERR_ORIGIN);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, other, sizeof(other), &s2c, &rep),
			NTS_REPLY_ERR_UID);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &c2s, &rep),
			NTS_REPLY_ERR_AUTH);
	/* truncated in the middle of a field */
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len - 2, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_ERR_FIELDS);
	/* any changed byte fails authentication (or an earlier check) */
	for (size_t i = 0; i < len; i++) {
		pkt[i] ^= 0x01;
		CU_ASSERT_NOT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c,
						    &rep), NTS_REPLY_OK);
		pkt[i] ^= 0x01;
	}
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_OK);

	len = make_reply(pkt, sizeof(pkt), NTP_MODE_CLIENT, TX_TS, 2, 1, uid, 1, true, false);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_ERR_MODE);
	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 2, 1, NULL, 1, true, false);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_ERR_UID);
	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 2, 1, uid, 1, false, false);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_ERR_AUTH_MISSING);
	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 2, 1, uid, 1, true, true);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_ERR_AUTH_MISSING);
	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 2, 1, uid, 0, true, false);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_ERR_COOKIES);
}

static void test_reply_nak_kod(void)
{
	static struct nts_reply rep;
	uint8_t pkt[NTS_MAX_PACKET], other[NTS_UID_LEN];
	size_t len;

	memset(other, 0x99, sizeof(other));
	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 0, NTP_KISS_NTSN, uid, 0,
			 false, false);
	CU_ASSERT_EQUAL(len, 48 + 36);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_NAK);
	/* a NAK for somebody else's request is not ours */
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, other, sizeof(other), &s2c, &rep),
			NTS_REPLY_ERR_UID);
	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 0, NTP_KISS_NTSN, NULL, 0,
			 false, false);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_ERR_UID);
	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 0, NTP_KISS_RATE, uid, 0,
			 false, false);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, uid, sizeof(uid), &s2c, &rep),
			NTS_REPLY_KOD);
	CU_ASSERT_EQUAL(rep.hdr.refid, NTP_KISS_RATE);
}

static void test_reply_plain(void)
{
	static struct nts_reply rep;
	uint8_t pkt[NTS_MAX_PACKET];
	size_t len;

	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 3, 1, NULL, 0, false, false);
	CU_ASSERT_EQUAL(len, 48);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, NULL, 0, NULL, &rep), NTS_REPLY_OK);
	CU_ASSERT_EQUAL(rep.hdr.stratum, 3);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, 1, NULL, 0, NULL, &rep), NTS_REPLY_ERR_ORIGIN);
	len = make_reply(pkt, sizeof(pkt), NTP_MODE_SERVER, TX_TS, 0, NTP_KISS_RATE, NULL, 0,
			 false, false);
	CU_ASSERT_EQUAL(nts_reply_parse(pkt, len, TX_TS, NULL, 0, NULL, &rep), NTS_REPLY_KOD);
	CU_ASSERT_STRING_EQUAL(nts_reply_status_str(NTS_REPLY_NAK), "nts-nak");
	CU_ASSERT_STRING_EQUAL(nts_reply_status_str((enum nts_reply_status)99), "unknown");
}

UNIT_SUITE(nts_request, setup, NULL,
	   UNIT_TEST(test_build_layout),
	   UNIT_TEST(test_build_encrypted_placeholders),
	   UNIT_TEST(test_short_nonce_padding),
	   UNIT_TEST(test_build_too_small),
	   UNIT_TEST(test_reply_ok),
	   UNIT_TEST(test_reply_errors),
	   UNIT_TEST(test_reply_nak_kod),
	   UNIT_TEST(test_reply_plain))
