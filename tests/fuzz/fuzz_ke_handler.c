/* fuzz target: the NTS-KE request handler (nts-ke/ke_handler) on arbitrary
 * bytes, with a fake exporter.  Every call either asks for more bytes
 * (and then, called as final, answers Error 1) or writes one well-formed
 * response that ends with End of Message; fed in pieces, it reaches the
 * verdict a parse of the same bytes at once reaches. */
#include "build_config.h"

#include <string.h>
#include <sys/socket.h>

#include "common/keyset.h"
#include "common/ke_record.h"
#include "nts-ke/ke_handler.h"
#include "tests/fuzz/fuzz_check.h"

static struct keyset *keys;
static struct nonce_gen nonces;

static int fake_export(void *arg, const uint8_t context[KE_EXPORT_CONTEXT_LEN],
		       uint8_t *out, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(context[3] + context[4] + i);
	return 0;
}

/* The response is a sequence of records ending exactly with End. */
static void check_response(const uint8_t *p, size_t len)
{
	struct buf_reader r;
	struct ke_record rec;
	bool end = false;

	buf_reader_init(&r, p, len);
	while (ke_record_next(&r, &rec) == KE_RECORD_OK) {
		check(!end);	/* no record after End of Message */
		if (rec.type == KE_REC_END)
			end = true;
	}
	check(end && buf_remaining(&r) == 0);
}

static const char *const servers[] = { "192.0.2.1", "2001:db8::1", "ntp.example.org" };

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
	check_response(out, w.off);
	check(o != KE_OUT_ERROR_INTERNAL);	/* keys and room are there: never Error 2 */
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
	p.export_keys = fake_export;
	feed(&p, data, size, size);
	feed(&p, data, size, size > 1 ? 1u + data[1] % 32u : 1);
	return 0;
}
