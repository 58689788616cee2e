/* fuzz target: an NTP packet as a 48-byte header and extension fields.
 * The header decodes and encodes back to the same 48 bytes.  Every field
 * the walker returns lies inside the input, the fields tile the span with
 * no gap or overlap, the walk ends in a named status that repeats, and
 * the fields walked, written back with ntp_ef_put, give the same bytes. */
#include "build_config.h"

#include <string.h>

#include "common/ntp_ef.h"
#include "common/ntp_packet.h"
#include "tests/fuzz/fuzz_check.h"

static void walk(const uint8_t *p, size_t len)
{
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	enum ntp_ef_status st;
	size_t next = 0;
	unsigned n = 0;

	ntp_ef_iter_init(&it, p, len);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_OK) {
		check(ef.offset == next);
		check(ef.len >= NTP_EF_HEADER_LEN && ef.len % 4 == 0);
		check(ef.len <= len && ef.offset <= len - ef.len);
		check(ef.body_len == ef.len - NTP_EF_HEADER_LEN);
		check(ef.body == p + ef.offset + NTP_EF_HEADER_LEN);
		check(ef.type == buf_load_u16(p + ef.offset));
		check(buf_load_u16(p + ef.offset + 2) == ef.len);
		next = ef.offset + ef.len;
		check(++n <= NTP_EF_MAX_FIELDS);
	}
	check(st == NTP_EF_END || st == NTP_EF_ERR_TRUNCATED ||
	      st == NTP_EF_ERR_LENGTH || st == NTP_EF_ERR_TOO_MANY);
	check(strlen(ntp_ef_status_str(st)) > 0);
	check((st == NTP_EF_END) == (next == len));
	check(st != NTP_EF_ERR_TOO_MANY || n == NTP_EF_MAX_FIELDS);
	/* A finished walk stays finished. */
	check(ntp_ef_next(&it, &ef) == st);
}

/* Rebuilding the fields walked gives back the same bytes. */
static void rebuild(const uint8_t *p, size_t len)
{
	static uint8_t out[0x10000 + 64];
	struct buf_writer w;
	struct ntp_ef_iter it;
	struct ntp_ef ef;

	if (len > sizeof(out))
		return;
	buf_writer_init(&w, out, sizeof(out));
	ntp_ef_iter_init(&it, p, len);
	while (ntp_ef_next(&it, &ef) == NTP_EF_OK)
		check(ntp_ef_put(&w, ef.type, ef.body, ef.body_len));
	check(!w.err);
	check(memcmp(out, p, w.off) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf_reader r;
	struct ntp_header h;
	const uint8_t *rest;
	size_t rest_len;

	buf_reader_init(&r, data, size);
	if (!ntp_header_decode(&r, &h)) {
		check(size < NTP_HEADER_LEN && r.err);
		return 0;
	}
	check(r.off == NTP_HEADER_LEN);
	check(h.leap <= 3 && h.version <= 7 && h.mode <= 7);
	{
		uint8_t again[NTP_HEADER_LEN];
		struct buf_writer w;

		buf_writer_init(&w, again, sizeof(again));
		check(ntp_header_encode(&w, &h) && w.off == NTP_HEADER_LEN);
		check(memcmp(again, data, NTP_HEADER_LEN) == 0);
	}
	rest_len = buf_remaining(&r);
	check(buf_get_span(&r, rest_len, &rest));
	check(rest == data + NTP_HEADER_LEN);
	walk(rest, rest_len);
	rebuild(rest, rest_len);
	return 0;
}
