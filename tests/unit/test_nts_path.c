/* unit tests for the whole NTS path, once per AEAD: the KE request a
 * client builds (common/ke_record), the KE service's answer
 * (nts-ke/ke_handler) with a fake TLS exporter, the client's reading of it
 * and its key export, an NTP request with one of those cookies and a nonce
 * of the AEAD's length (common/nts_request), the responder's reply
 * (ntpd/responder) and the client's check of it; then the NAKs.  It runs
 * for every AEAD this build supports and for the test-only AEAD of
 * tests/unit/aead_testalg.h, whose 12-byte nonces stand in for AEAD 30
 * (AES-128-GCM-SIV) where nettle has no GCM-SIV. */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/cookie.h"
#include "common/keyset.h"
#include "common/ke_record.h"
#include "common/ntp_ef.h"
#include "common/nts_request.h"
#include "ntpd/clock.h"
#include "ntpd/responder.h"
#include "nts-ke/ke_handler.h"
#include "tests/unit/aead_testalg.h"
#include "unit.h"

#define NOW 1700000000
#define TX_TS 0xe5f1a2b3c4d5e6f7ULL
#define RX_TS 0xe5f1a2b400000001ULL

static struct keyset *ks;
static struct nonce_gen nonces;
static struct cookie_keys keys_scratch;
static struct responder resp;
static struct clock_state clk;

/* The TLS exporter both ends share, as a function of the whole context:
 * a different AEAD id or direction gives different keys. */
static int fake_export(void *arg, const uint8_t context[KE_EXPORT_CONTEXT_LEN],
		       uint8_t *out, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(context[0] ^ context[1] * 3 ^ context[2] * 5 ^
				   context[3] * 7 ^ context[4] * 0x80 ^ i * 11);
	return 0;
}

static int setup(void)
{
	ks = keyset_new();
	if (!ks || !keyset_generate(ks, NOW - 7200) || nonce_gen_init(&nonces) < 0 ||
	    responder_init(&resp, 3600) < 0)
		return -1;
	memset(&clk, 0, sizeof(clk));
	clk.leap = NTP_LEAP_NONE;
	clk.stratum = 2;
	clk.precision = -24;
	return 0;
}

static int teardown(void)
{
	responder_wipe(&resp);
	nonce_gen_wipe(&nonces);
	keyset_free(ks);
	return 0;
}

/* What the client holds after NTS-KE. */
struct session {
	const struct aead_alg *alg;
	struct ke_reply reply;
	struct aead_ctx c2s, s2c;
};

/* NTS-KE: the client offers only `id`, the service offers it too. */
static void key_exchange(uint16_t id, struct session *s)
{
	uint8_t req[256], out[KE_RESPONSE_MAX], c2s[AEAD_MAX_KEY_LEN], s2c[AEAD_MAX_KEY_LEN];
	uint8_t ctx[KE_EXPORT_CONTEXT_LEN];
	struct ke_handler_params p;
	struct ke_request parse;
	struct buf_writer rw, w;
	uint16_t export_id;

	memset(s, 0, sizeof(*s));
	s->alg = aead_by_id(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->alg);
	buf_writer_init(&rw, req, sizeof(req));
	CU_ASSERT_TRUE_FATAL(ke_request_build(&rw, &id, 1));
	memset(&p, 0, sizeof(p));
	p.keys = ks;
	p.now = NOW;
	p.propagation_s = 3600;
	p.ntp_port = -1;
	p.nonces = &nonces;
	p.keys_scratch = &keys_scratch;
	p.export_keys = fake_export;
	p.aeads = &id;
	p.n_aeads = 1;
	buf_writer_init(&w, out, sizeof(out));
	ke_request_init(&parse);
	CU_ASSERT_EQUAL_FATAL(ke_handler_process(&p, &parse, req, rw.off, false, &w, NULL),
			      KE_OUT_COOKIES);
	CU_ASSERT_EQUAL_FATAL(ke_reply_parse(out, w.off, &s->reply), KE_REPLY_OK);
	CU_ASSERT_TRUE_FATAL(s->reply.has_aead);
	CU_ASSERT_EQUAL_FATAL(s->reply.aead, id);
	CU_ASSERT_EQUAL(s->reply.n_cookies, KE_HANDLER_COOKIES);
	CU_ASSERT_EQUAL(s->reply.cookie_lens[0], cookie_len(id));
	/* AEAD 30: asked for with the compliant-context record, echoed. */
	CU_ASSERT_EQUAL(s->reply.compliant_128gcm, id == AEAD_AES_128_GCM_SIV);
	export_id = ke_export_client_aead(id, s->reply.compliant_128gcm);
	CU_ASSERT_EQUAL(export_id, id);
	ke_export_context(KE_PROTO_NTPV4, export_id, KE_EXPORT_C2S, ctx);
	fake_export(NULL, ctx, c2s, s->alg->key_len);
	ke_export_context(KE_PROTO_NTPV4, export_id, KE_EXPORT_S2C, ctx);
	fake_export(NULL, ctx, s2c, s->alg->key_len);
	CU_ASSERT_EQUAL_FATAL(aead_set_key(&s->c2s, id, c2s), 0);
	CU_ASSERT_EQUAL_FATAL(aead_set_key(&s->s2c, id, s2c), 0);
}

/* An NTP request as a client sends it: the cookie, a nonce of the AEAD's
 * length, one placeholder. */
static size_t ntp_request(const struct session *s, const uint8_t *cookie, size_t cookie_n,
			  const struct aead_ctx *c2s, const uint8_t *uid, uint8_t *pkt)
{
	uint8_t nonce[AEAD_NONCE_LEN];
	struct nts_request rq;

	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0xc0 + i);
	memset(&rq, 0, sizeof(rq));
	rq.version = 4;
	rq.tx_ts = TX_TS;
	rq.uid = uid;
	rq.uid_len = NTS_UID_LEN;
	rq.cookie = cookie;
	rq.cookie_len = cookie_n;
	rq.placeholders = 1;
	rq.c2s = c2s;
	rq.nonce = nonce;
	rq.nonce_len = s->alg->nonce_len;
	return nts_request_build(&rq, pkt, NTS_MAX_PACKET);
}

static enum ntp_counter respond(const uint8_t *pkt, size_t len, uint8_t *out, size_t *out_len)
{
	struct responder_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.pkt = pkt;
	rq.len = len;
	rq.rx_ts = RX_TS;
	rq.now = NOW;
	rq.clock = &clk;
	rq.keys = ks;
	return responder_handle(&resp, &rq, out, NTS_MAX_PACKET, out_len);
}

/* One authenticated round: the reply verifies under S2C, its nonce has
 * the AEAD's length, its cookies carry the session's AEAD. */
static void round_ok(const struct session *s, const uint8_t *cookie, size_t cookie_n,
		     struct nts_reply *rep)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET], uid[NTS_UID_LEN];
	struct cookie_keys k;
	size_t len, out_len;

	memset(uid, 0x5a, sizeof(uid));
	len = ntp_request(s, cookie, cookie_n, &s->c2s, uid, pkt);
	CU_ASSERT_NOT_EQUAL_FATAL(len, 0);
	CU_ASSERT_EQUAL_FATAL(respond(pkt, len, out, &out_len), NTP_CNT_NTS_REPLY);
	CU_ASSERT_TRUE(out_len <= len);
	/* header, Unique Identifier, authenticator: its nonce length */
	CU_ASSERT_EQUAL(buf_load_u16(out + NTP_HEADER_LEN + 4 + NTS_UID_LEN), NTP_EF_NTS_AUTH);
	CU_ASSERT_EQUAL(buf_load_u16(out + NTP_HEADER_LEN + 4 + NTS_UID_LEN + 4),
			s->alg->nonce_len);
	CU_ASSERT_EQUAL_FATAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s->s2c,
					      rep), NTS_REPLY_OK);
	CU_ASSERT_EQUAL_FATAL(rep->n_cookies, 2);
	for (size_t i = 0; i < rep->n_cookies; i++) {
		CU_ASSERT_EQUAL(rep->cookie_len[i], cookie_n);
		CU_ASSERT_EQUAL_FATAL(cookie_open(ks, rep->cookie[i], rep->cookie_len[i], &k),
				      COOKIE_OK);
		CU_ASSERT_EQUAL(k.aead, s->alg->id);
		cookie_keys_wipe(&k);
	}
}

/* A request the server cannot authenticate or whose cookie it cannot
 * open: an NTS NAK the client recognises. */
static void round_nak(const struct session *s, const uint8_t *cookie, size_t cookie_n,
		      const struct aead_ctx *c2s, enum ntp_counter want)
{
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET], uid[NTS_UID_LEN];
	struct nts_reply rep;
	size_t len, out_len;

	memset(uid, 0xa5, sizeof(uid));
	len = ntp_request(s, cookie, cookie_n, c2s, uid, pkt);
	CU_ASSERT_NOT_EQUAL_FATAL(len, 0);
	CU_ASSERT_EQUAL(respond(pkt, len, out, &out_len), want);
	CU_ASSERT_EQUAL(nts_reply_parse(out, out_len, TX_TS, uid, sizeof(uid), &s->s2c, &rep),
			NTS_REPLY_NAK);
}

static void run_path(uint16_t id)
{
	uint8_t bad[KE_MAX_COOKIE_LEN], c2s[AEAD_MAX_KEY_LEN], ctx[KE_EXPORT_CONTEXT_LEN];
	struct nts_reply *rep = malloc(sizeof(*rep));
	struct aead_ctx wrong;
	struct session s;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
	key_exchange(id, &s);
	n = s.reply.cookie_lens[0];
	round_ok(&s, s.reply.cookies[0], n, rep);
	/* a cookie the responder minted works as well as a KE one */
	memcpy(bad, rep->cookie[1], n);
	round_ok(&s, bad, n, rep);
	/* keys exported with another AEAD id in the context (what chrony
	 * 4.4-4.6 did for AEAD 30): the authenticator fails, NAK */
	ke_export_context(KE_PROTO_NTPV4, id == AEAD_AES_SIV_CMAC_256 ? AEAD_AES_SIV_CMAC_512 :
				AEAD_AES_SIV_CMAC_256, KE_EXPORT_C2S, ctx);
	fake_export(NULL, ctx, c2s, s.alg->key_len);
	CU_ASSERT_EQUAL_FATAL(aead_set_key(&wrong, id, c2s), 0);
	round_nak(&s, s.reply.cookies[1], n, &wrong, NTP_CNT_NAK_AUTH);
	/* the S2C key where C2S belongs: NAK */
	round_nak(&s, s.reply.cookies[2], n, &s.s2c, NTP_CNT_NAK_AUTH);
	/* a tampered cookie: NAK */
	memcpy(bad, s.reply.cookies[3], n);
	bad[n - 1] ^= 1;
	round_nak(&s, bad, n, &s.c2s, NTP_CNT_NAK_COOKIE_AUTH);
	aead_ctx_wipe(&s.c2s);
	aead_ctx_wipe(&s.s2c);
	aead_ctx_wipe(&wrong);
	free(rep);
}

static void test_path_every_supported_aead(void)
{
	size_t n;
	const uint16_t *ids = aead_supported(&n);

	CU_ASSERT_TRUE(n >= 2);
	for (size_t i = 0; i < n; i++)
		run_path(ids[i]);
}

static void test_path_12_byte_nonces(void)
{
	const struct aead_alg *alg = aead_by_id(AEAD_TEST_SIV_NONCE12);

	/* the test-only AEAD: present here, never among the supported ones */
	CU_ASSERT_PTR_NOT_NULL_FATAL(alg);
	CU_ASSERT_EQUAL(alg->nonce_len, AEAD_TEST_NONCE_LEN);
	CU_ASSERT_FALSE(aead_ke_default(AEAD_TEST_SIV_NONCE12));
	run_path(AEAD_TEST_SIV_NONCE12);
}

UNIT_SUITE(nts_path, setup, teardown,
	   UNIT_TEST(test_path_every_supported_aead),
	   UNIT_TEST(test_path_12_byte_nonces))
