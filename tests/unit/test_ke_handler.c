/* unit tests for ke_handler: NTS-KE request bytes -> response bytes
 * (RFC 8915 section 4, ../shared/NTS-NOTES.md), with a fake exporter. */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/aead.h"
#include "common/cookie.h"
#include "common/keyset.h"
#include "nts-ke/ke_handler.h"
#include "unit.h"

#define NOW 1700000000
#define KEY_OLD 0x11111111u
#define KEY_NEW 0x22222222u

static struct keyset *keys;
static const char *const example_org[] = { "ntp.example.org" };
static struct nonce_gen nonces;
static struct cookie_keys keys_scratch;
static unsigned n_exports;
static uint8_t last_context[2][KE_EXPORT_CONTEXT_LEN];
static size_t last_len;
static bool fail_export;
static const uint8_t *last_out;	/* where the last keys were exported to */

/* Deterministic key material derived from the context, so a test can
 * recompute what the cookie must carry. */
static void fake_material(const uint8_t context[KE_EXPORT_CONTEXT_LEN], uint8_t *out,
			  size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(context[3] * 7 + context[4] * 0x80 + i);
}

static int fake_export(void *arg, const uint8_t context[KE_EXPORT_CONTEXT_LEN],
		       uint8_t *out, size_t len)
{
	CU_ASSERT_PTR_EQUAL(arg, &n_exports);
	if (fail_export)
		return -1;
	if (n_exports < 2)
		memcpy(last_context[n_exports], context, KE_EXPORT_CONTEXT_LEN);
	n_exports++;
	last_len = len;
	last_out = out;
	fake_material(context, out, len);
	return 0;
}

static int suite_init(void)
{
	uint8_t secret[32];

	keys = keyset_new();
	if (!keys || nonce_gen_init(&nonces) < 0)
		return -1;
	memset(secret, 0xa5, sizeof(secret));
	if (keyset_add(keys, KEY_OLD, NOW - 86400, AEAD_AES_SIV_CMAC_256, secret, 32) < 0)
		return -1;
	memset(secret, 0x5a, sizeof(secret));
	if (keyset_add(keys, KEY_NEW, NOW - 60, AEAD_AES_SIV_CMAC_256, secret, 32) < 0)
		return -1;
	return 0;
}

static int suite_cleanup(void)
{
	keyset_free(keys);
	nonce_gen_wipe(&nonces);
	return 0;
}

static void params(struct ke_handler_params *p)
{
	memset(p, 0, sizeof(*p));
	p->keys = keys;
	p->now = NOW;
	p->propagation_s = 3600;
	p->ntp_port = -1;
	p->nonces = &nonces;
	p->keys_scratch = &keys_scratch;
	p->export_keys = fake_export;
	p->export_arg = &n_exports;
	n_exports = 0;
	fail_export = false;
	memset(last_context, 0, sizeof(last_context));
}

/* Request builder: raw records. */
struct req {
	uint8_t b[20000];
	struct buf_writer w;
};

static void req_init(struct req *r)
{
	buf_writer_init(&r->w, r->b, sizeof(r->b));
}

static void req_ids(struct req *r, bool critical, uint16_t type, const uint16_t *ids, size_t n)
{
	uint8_t body[64];

	for (size_t i = 0; i < n; i++)
		buf_store_u16(body + 2 * i, ids[i]);
	ke_record_put(&r->w, critical, type, body, 2 * n);
}

static void req_ntpv4(struct req *r, const uint16_t *aeads, size_t n)
{
	uint16_t proto = KE_PROTO_NTPV4;

	req_ids(r, true, KE_REC_NEXT_PROTO, &proto, 1);
	req_ids(r, true, KE_REC_AEAD, aeads, n);
}

static void req_end(struct req *r)
{
	ke_record_put(&r->w, true, KE_REC_END, NULL, 0);
}

struct resp {
	uint8_t b[KE_RESPONSE_MAX];
	size_t len;
	enum ke_outcome out;
	enum ke_request_status st;
};

static void run(const struct ke_handler_params *p, struct req *r, bool final, struct resp *o)
{
	struct ke_request parse;
	struct buf_writer w;

	CU_ASSERT_FALSE_FATAL(r->w.err);
	buf_writer_init(&w, o->b, sizeof(o->b));
	ke_request_init(&parse);
	o->out = ke_handler_process(p, &parse, r->b, r->w.off, final, &w, &o->st);
	CU_ASSERT_FALSE(w.err);
	o->len = w.off;
}

static const uint8_t error_bytes[3][10] = {
	{ 0x80, 0x02, 0x00, 0x02, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00 },
	{ 0x80, 0x02, 0x00, 0x02, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00 },
	{ 0x80, 0x02, 0x00, 0x02, 0x00, 0x02, 0x80, 0x00, 0x00, 0x00 },
};

static void assert_error(const struct resp *o, unsigned code)
{
	CU_ASSERT_EQUAL(o->len, 10);
	if (o->len == 10)
		CU_ASSERT_EQUAL(memcmp(o->b, error_bytes[code], 10), 0);
}

/* Walk a successful response; returns the cookie count, checks layout. */
struct parsed {
	int proto;		/* -1: empty */
	int aead;		/* -1: empty */
	size_t n_cookies;
	const uint8_t *cookies[16];
	size_t cookie_lens[16];
	const char *server;
	size_t server_len;
	int port;
	bool end_last;
	unsigned order_errors;
};

static void parse(const struct resp *o, struct parsed *pr)
{
	struct buf_reader r;
	struct ke_record rec;
	unsigned idx = 0;

	memset(pr, 0, sizeof(*pr));
	pr->proto = pr->aead = pr->port = -2;
	buf_reader_init(&r, o->b, o->len);
	while (ke_record_next(&r, &rec) == KE_RECORD_OK) {
		switch (rec.type) {
		case KE_REC_NEXT_PROTO:
			CU_ASSERT_TRUE(rec.critical);
			if (idx != 0)
				pr->order_errors++;
			pr->proto = rec.body_len == 2 ? buf_load_u16(rec.body) :
				    rec.body_len == 0 ? -1 : -3;
			break;
		case KE_REC_AEAD:
			if (idx != 1)
				pr->order_errors++;
			pr->aead = rec.body_len == 2 ? buf_load_u16(rec.body) :
				   rec.body_len == 0 ? -1 : -3;
			break;
		case KE_REC_NEW_COOKIE:
			CU_ASSERT_FALSE(rec.critical);
			if (pr->n_cookies < 16) {
				pr->cookies[pr->n_cookies] = rec.body;
				pr->cookie_lens[pr->n_cookies] = rec.body_len;
			}
			pr->n_cookies++;
			break;
		case KE_REC_SERVER:
			pr->server = (const char *)rec.body;
			pr->server_len = rec.body_len;
			break;
		case KE_REC_PORT:
			CU_ASSERT_EQUAL(rec.body_len, 2);
			pr->port = buf_load_u16(rec.body);
			break;
		case KE_REC_END:
			CU_ASSERT_TRUE(rec.critical);
			CU_ASSERT_EQUAL(rec.body_len, 0);
			pr->end_last = buf_remaining(&r) == 0;
			break;
		default:
			pr->order_errors++;
			break;
		}
		idx++;
	}
	CU_ASSERT_EQUAL(buf_remaining(&r), 0);
}

/* Every cookie opens with the keyset to the keys the exporter produced. */
static void check_cookies(const struct parsed *pr, uint16_t aead, uint32_t key_id)
{
	const struct aead_alg *alg = aead_by_id(aead);
	uint8_t ctx[KE_EXPORT_CONTEXT_LEN], c2s[64], s2c[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(alg);
	ke_export_context(KE_PROTO_NTPV4, aead, KE_EXPORT_C2S, ctx);
	fake_material(ctx, c2s, alg->key_len);
	ke_export_context(KE_PROTO_NTPV4, aead, KE_EXPORT_S2C, ctx);
	fake_material(ctx, s2c, alg->key_len);
	for (size_t i = 0; i < pr->n_cookies && i < 16; i++) {
		struct cookie_keys got;

		CU_ASSERT_EQUAL(pr->cookie_lens[i], cookie_len(aead));
		CU_ASSERT_EQUAL(pr->cookie_lens[i] % 4, 0);
		CU_ASSERT_TRUE(pr->cookie_lens[i] <= 256);
		CU_ASSERT_EQUAL(buf_load_u32(pr->cookies[i]), key_id);
		CU_ASSERT_EQUAL_FATAL(cookie_open(keys, pr->cookies[i], pr->cookie_lens[i], &got),
				      COOKIE_OK);
		CU_ASSERT_EQUAL(got.aead, aead);
		CU_ASSERT_EQUAL(got.key_len, alg->key_len);
		CU_ASSERT_EQUAL(memcmp(got.c2s, c2s, alg->key_len), 0);
		CU_ASSERT_EQUAL(memcmp(got.s2c, s2c, alg->key_len), 0);
		cookie_keys_wipe(&got);
		for (size_t j = 0; j < i; j++)
			CU_ASSERT_NOT_EQUAL(memcmp(pr->cookies[i], pr->cookies[j],
						   pr->cookie_lens[i]), 0);
	}
}

static void test_export_context(void)
{
	static const uint8_t c15[2][5] = { { 0, 0, 0, 15, 0 }, { 0, 0, 0, 15, 1 } };
	static const uint8_t c17[2][5] = { { 0, 0, 0, 17, 0 }, { 0, 0, 0, 17, 1 } };
	uint8_t out[5];

	ke_export_context(KE_PROTO_NTPV4, 15, KE_EXPORT_C2S, out);
	CU_ASSERT_EQUAL(memcmp(out, c15[0], 5), 0);
	ke_export_context(KE_PROTO_NTPV4, 15, KE_EXPORT_S2C, out);
	CU_ASSERT_EQUAL(memcmp(out, c15[1], 5), 0);
	ke_export_context(KE_PROTO_NTPV4, 17, KE_EXPORT_C2S, out);
	CU_ASSERT_EQUAL(memcmp(out, c17[0], 5), 0);
	ke_export_context(KE_PROTO_NTPV4, 17, KE_EXPORT_S2C, out);
	CU_ASSERT_EQUAL(memcmp(out, c17[1], 5), 0);
	ke_export_context(0x1234, 0xabcd, 1, out);
	CU_ASSERT_EQUAL(memcmp(out, "\x12\x34\xab\xcd\x01", 5), 0);
}

static void test_basic_aead15(void)
{
	static const uint16_t aeads[] = { 15 };
	static const uint8_t head[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00,	/* Next Protocol: NTPv4 */
		0x80, 0x04, 0x00, 0x02, 0x00, 0x0f,	/* AEAD: 15 */
		0x00, 0x05, 0x00, 0x68,			/* New Cookie, 104 bytes */
	};
	struct ke_handler_params p;
	struct parsed pr;
	struct resp o;
	struct req r;

	params(&p);
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_COOKIES);
	CU_ASSERT_EQUAL(o.st, KE_REQ_OK);
	CU_ASSERT_EQUAL(memcmp(o.b, head, sizeof(head)), 0);
	/* 12 + 8 * (4 + 104) + 4 (End), nothing else */
	CU_ASSERT_EQUAL(o.len, 12 + 8 * 108 + 4);
	CU_ASSERT_EQUAL(memcmp(o.b + o.len - 4, "\x80\x00\x00\x00", 4), 0);
	parse(&o, &pr);
	CU_ASSERT_EQUAL(pr.proto, 0);
	CU_ASSERT_EQUAL(pr.aead, 15);
	CU_ASSERT_EQUAL(pr.n_cookies, KE_HANDLER_COOKIES);
	CU_ASSERT_PTR_NULL(pr.server);
	CU_ASSERT_EQUAL(pr.port, -2);
	CU_ASSERT_TRUE(pr.end_last);
	CU_ASSERT_EQUAL(pr.order_errors, 0);
	/* the exporter: both directions, the negotiated AEAD, its key length */
	CU_ASSERT_EQUAL(n_exports, 2);
	CU_ASSERT_EQUAL(memcmp(last_context[0], "\x00\x00\x00\x0f\x00", 5), 0);
	CU_ASSERT_EQUAL(memcmp(last_context[1], "\x00\x00\x00\x0f\x01", 5), 0);
	CU_ASSERT_EQUAL(last_len, 32);
	/* the session keys are exported into the thread's scratch (secmem in
	 * the daemon: tests/unit/test_ke_session.c), nowhere else */
	CU_ASSERT_TRUE(last_out >= (const uint8_t *)&keys_scratch &&
		       last_out + last_len <= (const uint8_t *)(&keys_scratch + 1));
	/* sealed with the newest key old enough to have propagated */
	check_cookies(&pr, 15, KEY_OLD);
}

static void test_sealing_key_choice(void)
{
	static const uint16_t aeads[] = { 15 };
	struct ke_handler_params p;
	struct parsed pr;
	struct resp o;
	struct req r;

	params(&p);
	p.propagation_s = 30;	/* KEY_NEW (60 s old) has propagated */
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_COOKIES);
	parse(&o, &pr);
	CU_ASSERT_EQUAL(pr.n_cookies, 8);
	check_cookies(&pr, 15, KEY_NEW);
}

static void test_client_order(void)
{
	static const uint16_t a17_15[] = { 17, 15 };
	static const uint16_t a15_17[] = { 15, 17 };
	static const uint16_t a16_99_17[] = { 16, 99, 17 };
	struct ke_handler_params p;
	struct parsed pr;
	struct resp o;
	struct req r;

	params(&p);
	req_init(&r);
	req_ntpv4(&r, a17_15, 2);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_COOKIES);
	parse(&o, &pr);
	CU_ASSERT_EQUAL(pr.aead, 17);
	CU_ASSERT_EQUAL(pr.n_cookies, 8);
	CU_ASSERT_EQUAL(last_len, 64);
	CU_ASSERT_EQUAL(memcmp(last_context[0], "\x00\x00\x00\x11\x00", 5), 0);
	CU_ASSERT_EQUAL(memcmp(last_context[1], "\x00\x00\x00\x11\x01", 5), 0);
	check_cookies(&pr, 17, KEY_OLD);

	params(&p);
	req_init(&r);
	req_ntpv4(&r, a15_17, 2);
	req_end(&r);
	run(&p, &r, false, &o);
	parse(&o, &pr);
	CU_ASSERT_EQUAL(pr.aead, 15);

	/* unsupported ones skipped, never one the client did not offer */
	params(&p);
	req_init(&r);
	req_ntpv4(&r, a16_99_17, 3);
	req_end(&r);
	run(&p, &r, false, &o);
	parse(&o, &pr);
	CU_ASSERT_EQUAL(pr.aead, 17);
	check_cookies(&pr, 17, KEY_OLD);
}

static void test_no_common_aead(void)
{
	static const uint16_t aeads[] = { 1, 2, 16, 0x8000 };
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00,	/* Next Protocol: NTPv4 */
		0x80, 0x04, 0x00, 0x00,			/* AEAD: empty */
		0x80, 0x00, 0x00, 0x00,			/* End */
	};
	struct ke_handler_params p;
	struct resp o;
	struct req r;

	params(&p);
	p.ntp_servers = example_org;
	p.n_ntp_servers = 1;
	p.ntp_port = 123;
	req_init(&r);
	req_ntpv4(&r, aeads, 4);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_NO_COMMON);
	CU_ASSERT_EQUAL(o.len, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(o.b, want, sizeof(want)), 0);
	/* no cookies, so no keys were exported */
	CU_ASSERT_EQUAL(n_exports, 0);
}

static void test_no_common_protocol(void)
{
	static const uint16_t protos[] = { 0x7fff, 5 };
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00,			/* Next Protocol: empty */
		0x80, 0x04, 0x00, 0x00,			/* AEAD: empty */
		0x80, 0x00, 0x00, 0x00,
	};
	struct ke_handler_params p;
	struct resp o;
	struct req r;

	params(&p);
	req_init(&r);
	req_ids(&r, true, KE_REC_NEXT_PROTO, protos, 2);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_NO_COMMON);
	CU_ASSERT_EQUAL(o.len, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(o.b, want, sizeof(want)), 0);
	CU_ASSERT_EQUAL(n_exports, 0);
}

static void test_ntpv4_among_others(void)
{
	static const uint16_t protos[] = { 0x7fff, KE_PROTO_NTPV4 };
	static const uint16_t aeads[] = { 15 };
	struct ke_handler_params p;
	struct parsed pr;
	struct resp o;
	struct req r;

	params(&p);
	req_init(&r);
	req_ids(&r, true, KE_REC_NEXT_PROTO, protos, 2);
	req_ids(&r, false, KE_REC_AEAD, aeads, 1);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_COOKIES);
	parse(&o, &pr);
	CU_ASSERT_EQUAL(pr.proto, 0);
	CU_ASSERT_EQUAL(pr.aead, 15);
	CU_ASSERT_EQUAL(pr.n_cookies, 8);
}

static void test_unknown_critical(void)
{
	static const uint16_t aeads[] = { 15 };
	struct ke_handler_params p;
	struct resp o;
	struct req r;

	params(&p);
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	ke_record_put(&r.w, true, 0x4321, "xy", 2);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_UNRECOGNIZED);
	CU_ASSERT_EQUAL(o.st, KE_REQ_UNRECOGNIZED_CRITICAL);
	assert_error(&o, 0);
	CU_ASSERT_EQUAL(n_exports, 0);

	/* reported at once, before End of Message arrives */
	params(&p);
	req_init(&r);
	ke_record_put(&r.w, true, 0x4321, NULL, 0);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_UNRECOGNIZED);
	assert_error(&o, 0);
}

static void test_unknown_noncritical_ignored(void)
{
	static const uint16_t aeads[] = { 15 };
	struct ke_handler_params p;
	struct parsed pr;
	struct resp o;
	struct req r;

	params(&p);
	req_init(&r);
	ke_record_put(&r.w, false, 0x4321, "abcd", 4);
	req_ntpv4(&r, aeads, 1);
	ke_record_put(&r.w, false, 0x1234, NULL, 0);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_COOKIES);
	parse(&o, &pr);
	CU_ASSERT_EQUAL(pr.n_cookies, 8);
	CU_ASSERT_EQUAL(pr.order_errors, 0);
	check_cookies(&pr, 15, KEY_OLD);
}

static void test_missing_end(void)
{
	static const uint16_t aeads[] = { 15 };
	struct ke_handler_params p;
	struct resp o;
	struct req r;

	params(&p);
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	/* more may come: nothing written yet */
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_INCOMPLETE);
	CU_ASSERT_EQUAL(o.len, 0);
	/* peer closed, deadline or size limit: Error 1 */
	run(&p, &r, true, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_BAD_REQUEST);
	assert_error(&o, 1);

	/* an empty request is incomplete as well */
	params(&p);
	req_init(&r);
	run(&p, &r, true, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_BAD_REQUEST);
	assert_error(&o, 1);

	/* a truncated record */
	params(&p);
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	req_end(&r);
	r.w.off -= 1;
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_INCOMPLETE);
	run(&p, &r, true, &o);
	assert_error(&o, 1);
}

static void expect_bad_request(struct req *r, enum ke_request_status st)
{
	struct ke_handler_params p;
	struct resp o;

	params(&p);
	run(&p, r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_BAD_REQUEST);
	CU_ASSERT_EQUAL(o.st, st);
	assert_error(&o, 1);
	CU_ASSERT_EQUAL(n_exports, 0);
}

static void test_bad_requests(void)
{
	static const uint16_t aeads[] = { 15 };
	static const uint16_t proto = KE_PROTO_NTPV4;
	uint8_t code[2] = { 0, 0 };
	struct req r;

	/* duplicate Next Protocol */
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	req_ids(&r, true, KE_REC_NEXT_PROTO, &proto, 1);
	req_end(&r);
	expect_bad_request(&r, KE_REQ_DUP_NEXT_PROTO);

	/* duplicate AEAD */
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	req_ids(&r, true, KE_REC_AEAD, aeads, 1);
	req_end(&r);
	expect_bad_request(&r, KE_REQ_DUP_AEAD);

	/* Error, Warning, New Cookie in a request */
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	ke_record_put(&r.w, true, KE_REC_ERROR, code, 2);
	req_end(&r);
	expect_bad_request(&r, KE_REQ_FORBIDDEN_RECORD);
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	ke_record_put(&r.w, true, KE_REC_WARNING, code, 2);
	req_end(&r);
	expect_bad_request(&r, KE_REQ_FORBIDDEN_RECORD);
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	ke_record_put(&r.w, false, KE_REC_NEW_COOKIE, "cookie..", 8);
	req_end(&r);
	expect_bad_request(&r, KE_REQ_FORBIDDEN_RECORD);

	/* no Next Protocol */
	req_init(&r);
	req_ids(&r, true, KE_REC_AEAD, aeads, 1);
	req_end(&r);
	expect_bad_request(&r, KE_REQ_NO_NEXT_PROTO);

	/* NTPv4 without an AEAD record, and with an empty one */
	req_init(&r);
	req_ids(&r, true, KE_REC_NEXT_PROTO, &proto, 1);
	req_end(&r);
	expect_bad_request(&r, KE_REQ_NO_AEAD);
	req_init(&r);
	req_ids(&r, true, KE_REC_NEXT_PROTO, &proto, 1);
	req_ids(&r, true, KE_REC_AEAD, aeads, 0);
	req_end(&r);
	expect_bad_request(&r, KE_REQ_BAD_AEAD);

	/* End of Message without the critical bit */
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	ke_record_put(&r.w, false, KE_REC_END, NULL, 0);
	expect_bad_request(&r, KE_REQ_NOT_CRITICAL);

	/* bytes after End of Message */
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	req_end(&r);
	req_end(&r);
	expect_bad_request(&r, KE_REQ_TRAILING_DATA);
}

static void test_server_port_records(void)
{
	static const uint16_t aeads[] = { 15 };
	struct ke_handler_params p;
	struct parsed pr;
	struct resp o;
	struct req r;
	size_t at;

	params(&p);
	p.ntp_servers = example_org;
	p.n_ntp_servers = 1;
	p.ntp_port = 10123;
	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	/* a client's critical Server/Port records are hints, accepted */
	ke_record_put(&r.w, true, KE_REC_SERVER, "192.0.2.1", 9);
	ke_record_put(&r.w, true, KE_REC_PORT, "\x00\x7b", 2);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL_FATAL(o.out, KE_OUT_COOKIES);
	parse(&o, &pr);
	CU_ASSERT_EQUAL(pr.n_cookies, 8);
	CU_ASSERT_EQUAL(pr.server_len, strlen("ntp.example.org"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr.server);
	CU_ASSERT_EQUAL(memcmp(pr.server, "ntp.example.org", pr.server_len), 0);
	CU_ASSERT_EQUAL(pr.port, 10123);
	CU_ASSERT_TRUE(pr.end_last);
	/* byte level: Server, Port, End at the tail */
	at = o.len - 4 - 6 - (4 + 15);
	CU_ASSERT_EQUAL(memcmp(o.b + at, "\x80\x06\x00\x0fntp.example.org", 19), 0);
	CU_ASSERT_EQUAL(memcmp(o.b + at + 19, "\x80\x07\x00\x02\x27\x8b\x80\x00\x00\x00", 10), 0);

	/* port alone */
	params(&p);
	p.ntp_port = 4123;
	run(&p, &r, false, &o);
	parse(&o, &pr);
	CU_ASSERT_PTR_NULL(pr.server);
	CU_ASSERT_EQUAL(pr.port, 4123);
}

/* The Server Negotiation record to expect: what choose_server picks. */
static void expect_server(struct ke_handler_params *p, const char *asked, int family,
			  const char *want)
{
	static const uint16_t aeads[] = { 15 };
	struct parsed pr;
	struct resp o;
	struct req r;

	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	if (asked)
		ke_record_put(&r.w, false, KE_REC_SERVER, asked, strlen(asked));
	req_end(&r);
	p->family = family;
	run(p, &r, false, &o);
	CU_ASSERT_EQUAL_FATAL(o.out, KE_OUT_COOKIES);
	parse(&o, &pr);
	if (!want) {
		CU_ASSERT_PTR_NULL(pr.server);
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr.server);
	CU_ASSERT_EQUAL(pr.server_len, strlen(want));
	CU_ASSERT_EQUAL(memcmp(pr.server, want, strlen(want)), 0);
}

/* Section 4.1.7: a valid requested server that is one of ours is echoed
 * as the client wrote it; otherwise one of ours in the session's family. */
static void test_server_negotiation(void)
{
	static const char *const all[] = { "192.0.2.10", "2001:db8::10", "ntp.example.org" };
	static const char *const v6_and_name[] = { "2001:db8::10", "ntp.example.org" };
	static const char *const v6_only[] = { "2001:db8::10" };
	struct ke_handler_params p;

	params(&p);
	p.ntp_servers = all;
	p.n_ntp_servers = 3;
	expect_server(&p, NULL, AF_INET, "192.0.2.10");
	expect_server(&p, NULL, AF_INET6, "2001:db8::10");
	expect_server(&p, "NTP.Example.ORG.", AF_INET, "NTP.Example.ORG.");
	expect_server(&p, "2001:DB8:0::10", AF_INET, "2001:DB8:0::10");
	expect_server(&p, "192.0.2.10", AF_INET6, "192.0.2.10");
	/* Not ours, or not a valid name: ours instead. */
	expect_server(&p, "192.0.2.99", AF_INET6, "2001:db8::10");
	expect_server(&p, "other.example.org", AF_INET, "192.0.2.10");
	expect_server(&p, "192.0.2.300", AF_INET, "192.0.2.10");
	expect_server(&p, "fe80::10%eth0", AF_INET6, "2001:db8::10");
	/* A name fits either family; with nothing in the family, the first. */
	p.ntp_servers = v6_and_name;
	p.n_ntp_servers = 2;
	expect_server(&p, NULL, AF_INET, "ntp.example.org");
	p.ntp_servers = v6_only;
	p.n_ntp_servers = 1;
	expect_server(&p, NULL, AF_INET, "2001:db8::10");
	/* None configured: no record, whatever the client asked. */
	p.n_ntp_servers = 0;
	expect_server(&p, "ntp.example.org", AF_INET, NULL);
}

/* Section 4: the first AEAD we know, however long the client's list. */
static void test_long_aead_list(void)
{
	uint16_t aeads[30];
	struct ke_handler_params p;
	struct parsed pr;
	struct resp o;
	struct req r;

	for (size_t i = 0; i < 30; i++)
		aeads[i] = (uint16_t)(0x8000 + i);
	aeads[29] = AEAD_AES_SIV_CMAC_256;
	params(&p);
	req_init(&r);
	req_ntpv4(&r, aeads, 30);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL_FATAL(o.out, KE_OUT_COOKIES);
	parse(&o, &pr);
	CU_ASSERT_EQUAL(pr.aead, AEAD_AES_SIV_CMAC_256);
	CU_ASSERT_EQUAL(pr.n_cookies, 8);
}

/* Fed a byte at a time with one parser state, the handler answers once,
 * when End of Message arrives. */
static void test_incremental_request(void)
{
	static const uint16_t aeads[] = { 17, 15 };
	static uint8_t pad[600];
	struct ke_handler_params p;
	struct ke_request parse_state;
	struct buf_writer w;
	struct resp o;
	struct req r;

	req_init(&r);
	ke_record_put(&r.w, false, 0x2000, pad, sizeof(pad));
	req_ntpv4(&r, aeads, 2);
	ke_record_put(&r.w, false, KE_REC_PORT, "\x00\x7b", 2);
	req_end(&r);
	params(&p);
	ke_request_init(&parse_state);
	for (size_t n = 0; n < r.w.off; n++) {
		buf_writer_init(&w, o.b, sizeof(o.b));
		CU_ASSERT_EQUAL_FATAL(ke_handler_process(&p, &parse_state, r.b, n, false, &w,
							 &o.st), KE_OUT_INCOMPLETE);
		CU_ASSERT_EQUAL(w.off, 0);
	}
	buf_writer_init(&w, o.b, sizeof(o.b));
	o.out = ke_handler_process(&p, &parse_state, r.b, r.w.off, false, &w, &o.st);
	CU_ASSERT_EQUAL(o.out, KE_OUT_COOKIES);
	CU_ASSERT_EQUAL(o.st, KE_REQ_OK);
}

/* A request for NTPv4 with AEAD 15, ended. */
static void req_basic(struct req *r)
{
	static const uint16_t aeads[] = { 15 };

	req_init(r);
	req_ntpv4(r, aeads, 1);
	req_end(r);
}

static void test_internal_errors(void)
{
	struct ke_handler_params p;
	struct keyset *empty = keyset_new();
	struct resp o;
	struct req r;

	req_basic(&r);

	params(&p);
	p.keys = NULL;
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_INTERNAL);
	assert_error(&o, 2);

	params(&p);
	p.keys = empty;
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_INTERNAL);
	assert_error(&o, 2);

	params(&p);
	fail_export = true;
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_INTERNAL);
	assert_error(&o, 2);

	/* no room for the session keys */
	params(&p);
	p.keys_scratch = NULL;
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_INTERNAL);
	assert_error(&o, 2);
	keyset_free(empty);
}

/* The thread's scratch held the exported session keys and is zero again
 * when the handler returns: after cookies, and after a failure midway. */
static void test_session_keys_wiped(void)
{
	static const struct cookie_keys zero;
	struct ke_handler_params p;
	struct resp o;
	struct req r;

	req_basic(&r);
	params(&p);
	memset(&keys_scratch, 0xa5, sizeof(keys_scratch));
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_COOKIES);
	CU_ASSERT_EQUAL(n_exports, 2);
	CU_ASSERT_EQUAL(memcmp(&keys_scratch, &zero, sizeof(zero)), 0);

	params(&p);
	fail_export = true;
	memset(&keys_scratch, 0xa5, sizeof(keys_scratch));
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_INTERNAL);
	CU_ASSERT_EQUAL(memcmp(&keys_scratch, &zero, sizeof(zero)), 0);
}

static void test_small_output_buffer(void)
{
	static const uint16_t aeads[] = { 15 };
	struct ke_handler_params p;
	uint8_t small[100];
	struct buf_writer w;
	struct ke_request parse;
	enum ke_outcome out;
	struct req r;

	req_init(&r);
	req_ntpv4(&r, aeads, 1);
	req_end(&r);
	params(&p);
	buf_writer_init(&w, small, sizeof(small));
	ke_request_init(&parse);
	out = ke_handler_process(&p, &parse, r.b, r.w.off, false, &w, NULL);
	/* the full response cannot fit: Error 2 instead, nothing else */
	CU_ASSERT_EQUAL(out, KE_OUT_ERROR_INTERNAL);
	CU_ASSERT_FALSE(w.err);
	CU_ASSERT_EQUAL(w.off, 10);
	CU_ASSERT_EQUAL(memcmp(small, error_bytes[2], 10), 0);
}

static void test_large_request_accepted(void)
{
	static const uint16_t aeads[] = { 15 };
	static uint8_t pad[3000];
	struct ke_handler_params p;
	struct parsed pr;
	struct resp o;
	struct req r;

	/* Section 4: at least 1024 bytes must be accepted. */
	req_init(&r);
	ke_record_put(&r.w, false, 0x2000, pad, sizeof(pad));
	req_ntpv4(&r, aeads, 1);
	req_end(&r);
	CU_ASSERT_TRUE(r.w.off > 1024);
	params(&p);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_COOKIES);
	parse(&o, &pr);
	CU_ASSERT_EQUAL(pr.n_cookies, 8);
}

/* One request for the compliant-context combinations: the client's AEAD
 * list, with or without KE_REC_COMPLIANT_128GCM; what the server chose,
 * whether it echoed the record, the id in the exporter context. */
static void compliant_case(const uint16_t *set, size_t n_set, const uint16_t *offer,
			   size_t n_offer, bool record, uint16_t want_aead, bool want_echo)
{
	struct ke_handler_params p;
	struct ke_reply reply;
	struct req r;
	struct resp o;

	params(&p);
	p.aeads = set;
	p.n_aeads = n_set;
	req_init(&r);
	req_ntpv4(&r, offer, n_offer);
	if (record)
		ke_record_put(&r.w, false, KE_REC_COMPLIANT_128GCM, NULL, 0);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL_FATAL(o.out, KE_OUT_COOKIES);
	CU_ASSERT_EQUAL_FATAL(ke_reply_parse(o.b, o.len, &reply), KE_REPLY_OK);
	CU_ASSERT_EQUAL(reply.aead, want_aead);
	CU_ASSERT_EQUAL(reply.compliant_128gcm, want_echo);
	/* RFC 8915 5.1: the context carries the negotiated AEAD, always */
	CU_ASSERT_EQUAL(buf_load_u16(last_context[0] + 2), want_aead);
	CU_ASSERT_EQUAL(buf_load_u16(last_context[1] + 2), want_aead);
	/* and our client, which sends the record whenever it offers 30,
	 * derives the same keys from the reply */
	if (record)
		CU_ASSERT_EQUAL(ke_export_client_aead(reply.aead, reply.compliant_128gcm),
				want_aead);
}

/* AEAD 30 and chrony's compliant-context record (type 1024): every
 * combination of record present / absent and AEAD 30 / 15. */
static void test_compliant_128gcm(void)
{
	static const uint16_t gcm_15[] = { 30, 15 }, only_15[] = { 15 }, only_30[] = { 30 };
	static const uint16_t set_all[] = { 15, 17, 30 };
	struct ke_handler_params p;
	struct req r;
	struct resp o;

#ifdef HAVE_GCM_SIV
	/* chrony 4.6.1+: the record, 30 first: 30, echoed */
	compliant_case(set_all, 3, gcm_15, 2, true, 30, true);
	/* chrony 4.4-4.6 (no record, "30 15"): 15, which they derive right */
	compliant_case(set_all, 3, gcm_15, 2, false, 15, false);
	/* a client offering only 30 without the record: 30, RFC keys */
	compliant_case(set_all, 3, only_30, 1, false, 30, false);
	/* the record with 30 in the list but not chosen: no echo */
	compliant_case(only_15, 1, gcm_15, 2, true, 15, false);
	/* the default set never offers 30 */
	compliant_case(NULL, 0, gcm_15, 2, true, 15, false);
#else
	/* 30 unsupported here: 15, never an echo */
	compliant_case(set_all, 3, gcm_15, 2, true, 15, false);
	compliant_case(set_all, 3, gcm_15, 2, false, 15, false);
	(void)only_30;
#endif
	/* the record with 15 only: ignored, 15 */
	compliant_case(set_all, 3, only_15, 1, true, 15, false);
	compliant_case(set_all, 3, only_15, 1, false, 15, false);
	/* with a body: Bad Request, by name */
	params(&p);
	req_init(&r);
	req_ntpv4(&r, gcm_15, 2);
	ke_record_put(&r.w, false, KE_REC_COMPLIANT_128GCM, "x", 1);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_ERROR_BAD_REQUEST);
	CU_ASSERT_EQUAL(o.st, KE_REQ_BAD_COMPLIANT_128GCM);
	assert_error(&o, 1);
}

/* ke-aead is a set: the client's order picks among what it holds. */
static void test_configured_aeads(void)
{
	static const uint16_t c17_15[] = { 17, 15 }, c15_17[] = { 15, 17 };
	static const uint16_t set_15[] = { 15 }, set_17_15[] = { 17, 15 };
	static const uint16_t private_id[] = { 0xff0c };
	struct ke_handler_params p;
	struct req r;
	struct resp o;

	compliant_case(NULL, 0, c17_15, 2, false, 17, false);
	compliant_case(set_15, 1, c17_15, 2, false, 15, false);
	/* the server's order in the set does not matter */
	compliant_case(set_17_15, 2, c15_17, 2, false, 15, false);
	/* an AEAD outside the set: none in common, no cookies */
	params(&p);
	p.aeads = set_15;
	p.n_aeads = 1;
	req_init(&r);
	req_ntpv4(&r, c17_15, 1);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_NO_COMMON);
	/* the default set holds no private-use id, even where one resolves */
	params(&p);
	req_init(&r);
	req_ntpv4(&r, private_id, 1);
	req_end(&r);
	run(&p, &r, false, &o);
	CU_ASSERT_EQUAL(o.out, KE_OUT_NO_COMMON);
}

static void test_outcome_names(void)
{
	CU_ASSERT_STRING_EQUAL(ke_outcome_str(KE_OUT_COOKIES), "cookies");
	CU_ASSERT_STRING_EQUAL(ke_outcome_str(KE_OUT_ERROR_BAD_REQUEST), "error_bad_request");
	CU_ASSERT_STRING_EQUAL(ke_outcome_str((enum ke_outcome)99), "unknown");
}

UNIT_SUITE(ke_handler, suite_init, suite_cleanup,
	   UNIT_TEST(test_export_context),
	   UNIT_TEST(test_basic_aead15),
	   UNIT_TEST(test_sealing_key_choice),
	   UNIT_TEST(test_client_order),
	   UNIT_TEST(test_no_common_aead),
	   UNIT_TEST(test_no_common_protocol),
	   UNIT_TEST(test_ntpv4_among_others),
	   UNIT_TEST(test_unknown_critical),
	   UNIT_TEST(test_unknown_noncritical_ignored),
	   UNIT_TEST(test_missing_end),
	   UNIT_TEST(test_bad_requests),
	   UNIT_TEST(test_server_port_records),
	   UNIT_TEST(test_server_negotiation),
	   UNIT_TEST(test_long_aead_list),
	   UNIT_TEST(test_incremental_request),
	   UNIT_TEST(test_internal_errors),
	   UNIT_TEST(test_session_keys_wiped),
	   UNIT_TEST(test_small_output_buffer),
	   UNIT_TEST(test_large_request_accepted),
	   UNIT_TEST(test_compliant_128gcm),
	   UNIT_TEST(test_configured_aeads),
	   UNIT_TEST(test_outcome_names))
