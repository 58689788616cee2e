/* fuzz target: the NTS-KE request handler (nts-ke/ke_handler) on arbitrary
 * bytes, with a fake exporter.  Every call either asks for more bytes
 * (and then, called as final, answers Error 1) or writes one well-formed
 * response that ends with End of Message. */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/keyset.h"
#include "common/ke_record.h"
#include "nts-ke/ke_handler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		if (end)
			abort();	/* a record after End of Message */
		if (rec.type == KE_REC_END)
			end = true;
	}
	if (!end || buf_remaining(&r) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ke_handler_params p;
	uint8_t out[KE_RESPONSE_MAX];
	struct buf_writer w;
	enum ke_outcome o;

	if (!keys) {
		uint8_t secret[32] = { 1, 2, 3 };

		keys = keyset_new();
		if (!keys || keyset_add(keys, 7, 0, AEAD_AES_SIV_CMAC_256, secret, 32) < 0 ||
		    nonce_gen_init(&nonces) < 0)
			abort();
	}
	memset(&p, 0, sizeof(p));
	p.keys = keys;
	p.now = 1000000;
	p.propagation_s = 3600;
	p.ntp_server = size > 0 && (data[0] & 1) ? "ntp.example.org" : NULL;
	p.ntp_port = size > 0 && (data[0] & 2) ? 4123 : -1;
	p.nonces = &nonces;
	p.export_keys = fake_export;
	for (int final = 0; final < 2; final++) {
		buf_writer_init(&w, out, sizeof(out));
		o = ke_handler_process(&p, data, size, final, &w, NULL);
		if (w.err)
			abort();
		if (o == KE_OUT_INCOMPLETE) {
			if (final || w.off != 0)
				abort();
			continue;
		}
		check_response(out, w.off);
		if (o == KE_OUT_ERROR_INTERNAL)
			abort();	/* keys and room are there: never Error 2 */
		break;
	}
	return 0;
}
