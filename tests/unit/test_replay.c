/* unit tests for bench/replay: the requests ntsbench's replay mode builds
 * once, and the cheap header check and the full check of replies. */
#include "build_config.h"

#include <string.h>

#include "bench/replay.h"
#include "common/buf.h"
#include "common/ntp_ef.h"
#include "common/ntp_packet.h"
#include "common/nts_request.h"
#include "unit.h"

#define SALT 0x5a17c0deu
#define N_REQ 10

static struct replay_session sess[2];

static int setup(void)
{
	size_t s, i, c;

	memset(sess, 0, sizeof(sess));
	for (s = 0; s < 2; s++) {
		sess[s].aead = AEAD_AES_SIV_CMAC_256;
		for (i = 0; i < 32; i++) {
			sess[s].c2s[i] = (uint8_t)(s * 64 + i);
			sess[s].s2c[i] = (uint8_t)(0xa0 + s * 16 + i);
		}
		sess[s].n_cookies = 3;
		for (c = 0; c < 3; c++) {
			sess[s].cookie_len[c] = 100;
			memset(sess[s].cookie[c], (int)(s * 16 + c + 1), 100);
		}
	}
	return 0;
}

/* A reply header to request i: mode 4, stratum 2, origin its transmit time. */
static size_t reply_to(size_t i, uint8_t *pkt, size_t len)
{
	memset(pkt, 0, len);
	pkt[0] = 0x24;
	pkt[1] = 2;
	buf_store_u64(pkt + 24, (uint64_t)(i + 1) << 32 | SALT);
	return len;
}

static void test_requests(void)
{
	struct replay_set *rs = replay_set_new(sess, 2, N_REQ, SALT, false);
	struct ntp_header h;
	struct buf_reader r;
	const uint8_t *p, *q;
	size_t i, len, qlen;

	CU_ASSERT_FATAL(rs != NULL);
	CU_ASSERT_EQUAL(replay_set_count(rs), N_REQ);
	for (i = 0; i < N_REQ; i++) {
		p = replay_set_packet(rs, i, &len);
		buf_reader_init(&r, p, len);
		CU_ASSERT_TRUE(ntp_header_decode(&r, &h));
		CU_ASSERT_EQUAL(h.mode, NTP_MODE_CLIENT);
		CU_ASSERT_EQUAL(h.tx_ts, (uint64_t)(i + 1) << 32 | SALT);
		/* header + UID + cookie + authenticator, no placeholders */
		CU_ASSERT_TRUE(len > NTP_HEADER_LEN + 36 + 104 && len < 512);
		/* Each its own Unique Identifier (the field's body at 52). */
		if (i > 0) {
			q = replay_set_packet(rs, i - 1, &qlen);
			CU_ASSERT_NOT_EQUAL(memcmp(p + 52, q + 52, NTS_UID_LEN), 0);
		}
	}
	replay_set_free(rs);
}

static void test_bad_arguments(void)
{
	struct replay_session none = sess[0];

	CU_ASSERT_PTR_NULL(replay_set_new(sess, 0, N_REQ, SALT, false));
	CU_ASSERT_PTR_NULL(replay_set_new(sess, 2, 0, SALT, false));
	none.n_cookies = 0;
	CU_ASSERT_PTR_NULL(replay_set_new(&none, 1, N_REQ, SALT, false));
	none = sess[0];
	none.aead = 0xffff;
	CU_ASSERT_PTR_NULL(replay_set_new(&none, 1, N_REQ, SALT, false));
	/* plain needs no session */
	replay_set_free(replay_set_new(NULL, 0, N_REQ, SALT, true));
	replay_set_free(NULL);
}

static void test_classify(void)
{
	struct replay_set *rs = replay_set_new(sess, 2, N_REQ, SALT, false);
	uint8_t pkt[NTS_MAX_PACKET];
	size_t k = 99, len;

	CU_ASSERT_FATAL(rs != NULL);
	replay_set_packet(rs, 3, &len);
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, reply_to(3, pkt, len), &k), REPLAY_REPLY);
	CU_ASSERT_EQUAL(k, 3);
	/* Malformed or not ours. */
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, 0, &k), REPLAY_STRAY);
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, NTP_HEADER_LEN - 1, &k), REPLAY_STRAY);
	reply_to(3, pkt, len);
	pkt[0] = 0x23;		/* mode 3 */
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, len, &k), REPLAY_STRAY);
	reply_to(3, pkt, len);
	buf_store_u64(pkt + 24, (uint64_t)4 << 32 | (SALT ^ 1));	/* another salt */
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, len, &k), REPLAY_STRAY);
	buf_store_u64(pkt + 24, SALT);					/* index 0 - 1 */
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, len, &k), REPLAY_STRAY);
	buf_store_u64(pkt + 24, (uint64_t)(N_REQ + 1) << 32 | SALT);	/* past the end */
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, len, &k), REPLAY_STRAY);
	buf_store_u64(pkt + 24, 0xffffffffULL << 32 | SALT);
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, len, &k), REPLAY_STRAY);
	/* Longer than the request: amplifying. */
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, reply_to(3, pkt, len + 4), &k), REPLAY_OVERSIZE);
	/* Kisses. */
	reply_to(3, pkt, len);
	pkt[1] = 0;
	buf_store_u32(pkt + 12, NTP_KISS_NTSN);
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, len, &k), REPLAY_NAK);
	buf_store_u32(pkt + 12, NTP_KISS_RATE);
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, len, &k), REPLAY_KOD);
	replay_set_free(rs);
}

/* A header that passes the cheap check is still no valid NTS reply. */
static void test_verify_rejects(void)
{
	struct replay_set *rs = replay_set_new(sess, 2, N_REQ, SALT, false);
	static struct nts_reply scratch;
	uint8_t pkt[NTS_MAX_PACKET];
	const uint8_t *req;
	size_t len, k = 0;

	CU_ASSERT_FATAL(rs != NULL);
	req = replay_set_packet(rs, 5, &len);
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, reply_to(5, pkt, len), &k), REPLAY_REPLY);
	CU_ASSERT_NOT_EQUAL(replay_verify(rs, k, pkt, len, &scratch), NTS_REPLY_OK);
	/* The request itself echoed back with mode 4: its authenticator is
	 * under C2S, not S2C, and holds no cookie. */
	memcpy(pkt, req, len);
	pkt[0] = 0x24;
	pkt[1] = 2;
	buf_store_u64(pkt + 24, (uint64_t)6 << 32 | SALT);
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, len, &k), REPLAY_REPLY);
	CU_ASSERT_EQUAL(k, 5);
	CU_ASSERT_NOT_EQUAL(replay_verify(rs, k, pkt, len, &scratch), NTS_REPLY_OK);
	replay_set_free(rs);
}

static void test_plain(void)
{
	struct replay_set *rs = replay_set_new(NULL, 0, N_REQ, SALT, true);
	static struct nts_reply scratch;
	uint8_t pkt[NTS_MAX_PACKET];
	size_t len, k = 0;

	CU_ASSERT_FATAL(rs != NULL);
	replay_set_packet(rs, 2, &len);
	CU_ASSERT_EQUAL(len, NTP_HEADER_LEN);
	CU_ASSERT_EQUAL(replay_classify(rs, pkt, reply_to(2, pkt, len), &k), REPLAY_REPLY);
	CU_ASSERT_EQUAL(replay_verify(rs, k, pkt, len, &scratch), NTS_REPLY_OK);
	/* An origin that is another request's is not this one's reply. */
	CU_ASSERT_NOT_EQUAL(replay_verify(rs, 1, pkt, len, &scratch), NTS_REPLY_OK);
	replay_set_free(rs);
}

UNIT_SUITE(replay, setup, NULL,
	   UNIT_TEST(test_requests),
	   UNIT_TEST(test_bad_arguments),
	   UNIT_TEST(test_classify),
	   UNIT_TEST(test_verify_rejects),
	   UNIT_TEST(test_plain))
