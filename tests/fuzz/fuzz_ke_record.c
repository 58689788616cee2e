/* fuzz target: the NTS-KE record layer (common/ke_record) on arbitrary
 * bytes.  The records read, written back with ke_record_put, give the
 * same bytes; the walk stops only at the end of the input or at a cut
 * record; ke_records_complete agrees with the walk.  The first record's
 * body, as a Server Negotiation name, is classified the way inet_pton
 * sees it, and name equality is reflexive and symmetric. */
#include "build_config.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/ke_record.h"
#include "tests/fuzz/fuzz_check.h"

static void walk(const uint8_t *data, size_t size)
{
	static uint8_t out[0x10000 + 64];
	struct buf_reader r;
	struct buf_writer w;
	struct ke_record rec;
	enum ke_record_status st;
	bool end = false;

	buf_reader_init(&r, data, size);
	buf_writer_init(&w, out, sizeof(out));
	while ((st = ke_record_next(&r, &rec)) == KE_RECORD_OK) {
		check(rec.type == (buf_load_u16(data + w.off) & ~KE_REC_CRITICAL));
		check(rec.critical == !!(data[w.off] & 0x80));
		check(rec.body == data + w.off + KE_REC_HEADER_LEN);
		check(ke_record_put(&w, rec.critical, rec.type, rec.body, rec.body_len));
		check(w.off == r.off);
		if (rec.type == KE_REC_END)
			end = true;
	}
	check(!w.err && memcmp(out, data, w.off) == 0);
	check(st == (r.off == size ? KE_RECORD_END_OF_DATA : KE_RECORD_TRUNCATED));
	check(ke_records_complete(data, size) == end);
}

static void names(const uint8_t *data, size_t size)
{
	char a[KE_MAX_SERVER_LEN + 2], b[KE_MAX_SERVER_LEN + 2];
	uint8_t bin[16];
	enum ke_name_kind k;
	size_t n = size < KE_MAX_SERVER_LEN + 1 ? size : KE_MAX_SERVER_LEN + 1, m;

	memcpy(a, data, n);
	a[n] = '\0';
	k = ke_server_name_kind(a);
	check(k == KE_NAME_INVALID || k == KE_NAME_IPV4 || k == KE_NAME_IPV6 ||
	      k == KE_NAME_FQDN);
	if (k == KE_NAME_IPV4)
		check(inet_pton(AF_INET, a, bin) == 1);
	if (k == KE_NAME_IPV6)
		check(inet_pton(AF_INET6, a, bin) == 1);
	if (k == KE_NAME_FQDN)
		check(strlen(a) <= 254 && inet_pton(AF_INET, a, bin) != 1);
	check(ke_server_name_equal(a, a) == (k != KE_NAME_INVALID));
	/* the rest of the input as a second name */
	m = size - n < KE_MAX_SERVER_LEN + 1 ? size - n : KE_MAX_SERVER_LEN + 1;
	memcpy(b, data + n, m);
	b[m] = '\0';
	check(ke_server_name_equal(a, b) == ke_server_name_equal(b, a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	walk(data, size);
	if (size > 0 && data[0] == 'N')
		names(data + 1, size - 1);
	return 0;
}
