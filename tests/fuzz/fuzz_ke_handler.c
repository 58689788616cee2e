/* fuzz target: the NTS-KE request handler (nts-ke/ke_handler) on arbitrary
 * bytes, with a fake exporter.  Every call either asks for more bytes
 * (and then, called as final, answers Error 1) or writes one response
 * within KE_RESPONSE_MAX that a client's parser (ke_reply_parse) reads
 * whole, End of Message last, and that says what the outcome says: an
 * error code, no common algorithm, or NTPv4 with an AEAD of the
 * request's, KE_HANDLER_COOKIES cookies of that AEAD's length that open
 * to the exported keys, and the server and port configured.  Fed in
 * pieces, it reaches the verdict a parse of the same bytes at once
 * reaches. */
#include "build_config.h"

#include <string.h>
#include <sys/socket.h>

#include "common/aead.h"
#include "common/cookie.h"
#include "common/keyset.h"
#include "common/ke_record.h"
#include "nts-ke/ke_handler.h"
#include "tests/fuzz/fuzz_check.h"

static struct keyset *keys;
static struct nonce_gen nonces;
static struct cookie_keys keys_scratch;

static int fake_export(void *arg, const uint8_t context[KE_EXPORT_CONTEXT_LEN],
		       uint8_t *out, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(context[3] + context[4] + i);
	return 0;
}

static const char *const servers[] = { "192.0.2.1", "2001:db8::1", "ntp.example.org" };

/* A cookie of the response opens under our keys to the keys exported
 * for its AEAD. */
static void check_cookie(const uint8_t *c, size_t len, uint16_t aead)
{
	uint8_t ctx[KE_EXPORT_CONTEXT_LEN], c2s[AEAD_MAX_KEY_LEN], s2c[AEAD_MAX_KEY_LEN];
	struct cookie_keys k;

	check(len == cookie_len(aead));
	check(cookie_open(keys, c, len, &k) == COOKIE_OK);
	check(k.aead == aead && k.key_len <= sizeof(c2s));
	ke_export_context(KE_PROTO_NTPV4, aead, KE_EXPORT_C2S, ctx);
	fake_export(NULL, ctx, c2s, k.key_len);
	ke_export_context(KE_PROTO_NTPV4, aead, KE_EXPORT_S2C, ctx);
	fake_export(NULL, ctx, s2c, k.key_len);
	check(memcmp(k.c2s, c2s, k.key_len) == 0 && memcmp(k.s2c, s2c, k.key_len) == 0);
	cookie_keys_wipe(&k);
}

/* What a server name in a response may be: one of ours, or the client's
 * own hint as it wrote it when that names one of ours. */
static bool ours(const struct ke_handler_params *p, const struct ke_request *req,
		 const char *name)
{
	bool hint = req->has_server && strcmp(name, req->server) == 0;

	for (size_t i = 0; i < p->n_ntp_servers; i++)
		if (strcmp(name, p->ntp_servers[i]) == 0 ||
		    (hint && ke_server_name_equal(name, p->ntp_servers[i])))
			return true;
	return false;
}

/* The response as a client reads it says what the outcome o says. */
static void check_response(const struct ke_handler_params *p, const struct ke_request *req,
			   enum ke_outcome o, const uint8_t *out, size_t len)
{
	static struct ke_reply r;

	check(len > 0 && len <= KE_RESPONSE_MAX);
	check(ke_reply_parse(out, len, &r) == KE_REPLY_OK);	/* End last, nothing after */
	check(!r.has_warning);
	if (o == KE_OUT_ERROR_UNRECOGNIZED || o == KE_OUT_ERROR_BAD_REQUEST) {
		check(r.has_error && r.n_cookies_seen == 0);
		check(r.error_code == (o == KE_OUT_ERROR_BAD_REQUEST ? KE_ERROR_BAD_REQUEST :
								      KE_ERROR_UNRECOGNIZED_CRITICAL));
		return;
	}
	check(!r.has_error);
	if (o == KE_OUT_NO_COMMON) {
		check(r.n_cookies_seen == 0 && !(r.has_protocol && r.has_aead));
		return;
	}
	check(o == KE_OUT_COOKIES);
	check(r.has_protocol && r.protocol == KE_PROTO_NTPV4);
	check(r.has_aead && ke_id_list_has(&req->aeads, r.aead));
	check(r.compliant_128gcm == (r.aead == AEAD_AES_128_GCM_SIV && req->compliant_128gcm));
	check(r.n_cookies_seen == KE_HANDLER_COOKIES && r.n_cookies == KE_HANDLER_COOKIES);
	for (size_t i = 0; i < r.n_cookies; i++)
		check_cookie(r.cookies[i], r.cookie_lens[i], r.aead);
	check(r.has_port == (p->ntp_port >= 0) && (!r.has_port || r.port == p->ntp_port));
	check(r.has_server == (p->n_ntp_servers > 0) && (!r.has_server || ours(p, req, r.server)));
}

/* Feed data in pieces of `step` bytes, as a session would, the last
 * piece as final; the parser's verdict must be the one a parse of the
 * bytes fed so far reaches at once. */
static void feed(const struct ke_handler_params *p, const uint8_t *data, size_t size,
		 size_t step)
{
	uint8_t out[KE_RESPONSE_MAX];
	struct ke_request parse, whole;
	enum ke_request_status st;
	struct buf_writer w;
	enum ke_outcome o = KE_OUT_INCOMPLETE;
	size_t have = 0;

	ke_request_init(&parse);
	for (;;) {
		bool final = have == size;

		buf_writer_init(&w, out, sizeof(out));
		o = ke_handler_process(p, &parse, data, have, final, &w, &st);
		check(!w.err);
		if (o != KE_OUT_INCOMPLETE)
			break;
		check(!final && w.off == 0);
		have = size - have < step ? size : have + step;
	}
	check(o != KE_OUT_ERROR_INTERNAL);	/* keys and room are there: never Error 2 */
	check_response(p, &parse, o, out, w.off);
	/* The verdict a parse of the same bytes at once reaches. */
	check(st == ke_request_parse(data, have, &whole));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ke_handler_params p;

	if (!keys) {
		uint8_t secret[32] = { 1, 2, 3 };

		keys = keyset_new();
		check(keys != NULL);
		check(keyset_add(keys, 7, 0, AEAD_AES_SIV_CMAC_256, secret, 32) == 0);
		check(nonce_gen_init(&nonces) == 0);
	}
	memset(&p, 0, sizeof(p));
	p.keys = keys;
	p.now = 1000000;
	p.propagation_s = 3600;
	p.ntp_servers = servers;
	p.n_ntp_servers = size > 0 ? (data[0] & 3) : 0;
	p.family = size > 0 && (data[0] & 4) ? AF_INET6 : AF_INET;
	p.ntp_port = size > 0 && (data[0] & 8) ? 4123 : -1;
	p.nonces = &nonces;
	p.keys_scratch = &keys_scratch;
	p.export_keys = fake_export;
	feed(&p, data, size, size);
	feed(&p, data, size, size > 1 ? 1u + data[1] % 32u : 1);
	return 0;
}
