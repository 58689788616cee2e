/* unit tests for ntp_ef: extension field walker and builder. */
#include "build_config.h"

#include <string.h>

#include "common/ntp_ef.h"
#include "unit.h"

/* Unique Identifier (32-byte body), then a cookie (8-byte body). */
static const uint8_t two_fields[] = {
	0x01, 0x04, 0x00, 0x24,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x02, 0x04, 0x00, 0x0c,
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
};

static void test_walk_valid(void)
{
	struct ntp_ef_iter it;
	struct ntp_ef ef;

	ntp_ef_iter_init(&it, two_fields, sizeof(two_fields));
	CU_ASSERT_EQUAL_FATAL(ntp_ef_next(&it, &ef), NTP_EF_OK);
	CU_ASSERT_EQUAL(ef.type, NTP_EF_UNIQUE_ID);
	CU_ASSERT_EQUAL(ef.offset, 0);
	CU_ASSERT_EQUAL(ef.len, 36);
	CU_ASSERT_EQUAL(ef.body_len, 32);
	CU_ASSERT_PTR_EQUAL(ef.body, two_fields + 4);
	CU_ASSERT_EQUAL_FATAL(ntp_ef_next(&it, &ef), NTP_EF_OK);
	CU_ASSERT_EQUAL(ef.type, NTP_EF_NTS_COOKIE);
	CU_ASSERT_EQUAL(ef.offset, 36);
	CU_ASSERT_EQUAL(ef.len, 12);
	CU_ASSERT_EQUAL(ef.body_len, 8);
	CU_ASSERT_PTR_EQUAL(ef.body, two_fields + 40);
	CU_ASSERT_EQUAL(ef.body[0], 0xc0);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_END);
	/* END stays END. */
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_END);
}

static void test_walk_empty(void)
{
	struct ntp_ef_iter it;
	struct ntp_ef ef;

	ntp_ef_iter_init(&it, NULL, 0);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_END);
	ntp_ef_iter_init(&it, two_fields, 0);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_END);
}

static void test_header_only_field(void)
{
	static const uint8_t f[] = { 0x03, 0x04, 0x00, 0x04 };
	struct ntp_ef_iter it;
	struct ntp_ef ef;

	ntp_ef_iter_init(&it, f, sizeof(f));
	CU_ASSERT_EQUAL_FATAL(ntp_ef_next(&it, &ef), NTP_EF_OK);
	CU_ASSERT_EQUAL(ef.type, NTP_EF_NTS_COOKIE_PLACEHOLDER);
	CU_ASSERT_EQUAL(ef.len, 4);
	CU_ASSERT_EQUAL(ef.body_len, 0);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_END);
}

/* Every prefix of a valid walk that cuts a field is "truncated"; the
 * fields before the cut are still returned intact. */
static void test_truncated_at_every_byte(void)
{
	for (size_t len = 1; len < sizeof(two_fields); len++) {
		struct ntp_ef_iter it;
		struct ntp_ef ef;
		enum ntp_ef_status st;
		unsigned ok = 0;

		ntp_ef_iter_init(&it, two_fields, len);
		while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_OK) {
			CU_ASSERT_TRUE(ef.offset + ef.len <= len);
			ok++;
		}
		if (len == 36) {
			CU_ASSERT_EQUAL(st, NTP_EF_END);
			CU_ASSERT_EQUAL(ok, 1);
		} else {
			CU_ASSERT_EQUAL(st, NTP_EF_ERR_TRUNCATED);
			CU_ASSERT_EQUAL(ok, len > 36 ? 1u : 0u);
		}
	}
}

static void test_bad_lengths(void)
{
	static const uint16_t bad[] = { 0, 1, 2, 3, 5, 6, 7, 9, 13, 0xffff, 0xfffd };
	uint8_t pkt[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ntp_ef_iter it;
		struct ntp_ef ef;

		memset(pkt, 0, sizeof(pkt));
		buf_store_u16(pkt, NTP_EF_NTS_COOKIE);
		buf_store_u16(pkt + 2, bad[i]);
		ntp_ef_iter_init(&it, pkt, sizeof(pkt));
		CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_ERR_LENGTH);
		/* Errors repeat: the walker does not move past a bad field. */
		CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_ERR_LENGTH);
	}
}

static void test_oversized_lengths(void)
{
	static const uint16_t big[] = { 20, 24, 0x100, 0xfffc };
	uint8_t pkt[16];

	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		struct ntp_ef_iter it;
		struct ntp_ef ef;

		memset(pkt, 0, sizeof(pkt));
		buf_store_u16(pkt, NTP_EF_NTS_AUTH);
		buf_store_u16(pkt + 2, big[i]);
		ntp_ef_iter_init(&it, pkt, sizeof(pkt));
		CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_ERR_TRUNCATED);
		CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_ERR_TRUNCATED);
	}
}

static void test_max_length_field(void)
{
	static uint8_t pkt[0xfffc + 4];
	struct ntp_ef_iter it;
	struct ntp_ef ef;

	memset(pkt, 0, sizeof(pkt));
	buf_store_u16(pkt, 0x7777);
	buf_store_u16(pkt + 2, 0xfffc);
	ntp_ef_iter_init(&it, pkt, 0xfffc);
	CU_ASSERT_EQUAL_FATAL(ntp_ef_next(&it, &ef), NTP_EF_OK);
	CU_ASSERT_EQUAL(ef.len, 0xfffc);
	CU_ASSERT_EQUAL(ef.body_len, 0xfff8);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_END);
	/* One byte short. */
	ntp_ef_iter_init(&it, pkt, 0xfffb);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_ERR_TRUNCATED);
	/* Trailing bytes after the field are a truncated header. */
	ntp_ef_iter_init(&it, pkt, 0xfffc + 3);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_OK);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_ERR_TRUNCATED);
}

static void test_error_after_good_field(void)
{
	uint8_t pkt[sizeof(two_fields) + 4];
	struct ntp_ef_iter it;
	struct ntp_ef ef;

	memcpy(pkt, two_fields, sizeof(two_fields));
	buf_store_u16(pkt + sizeof(two_fields), NTP_EF_NTS_AUTH);
	buf_store_u16(pkt + sizeof(two_fields) + 2, 2);
	ntp_ef_iter_init(&it, pkt, sizeof(pkt));
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_OK);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_OK);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_ERR_LENGTH);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_ERR_LENGTH);
}

static void test_too_many_fields(void)
{
	uint8_t pkt[(NTP_EF_MAX_FIELDS + 1) * 4];
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	unsigned n = 0;
	enum ntp_ef_status st;

	for (size_t i = 0; i < NTP_EF_MAX_FIELDS + 1; i++) {
		buf_store_u16(pkt + 4 * i, 0x1234);
		buf_store_u16(pkt + 4 * i + 2, 4);
	}
	/* Exactly the maximum is fine. */
	ntp_ef_iter_init(&it, pkt, NTP_EF_MAX_FIELDS * 4);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_OK)
		n++;
	CU_ASSERT_EQUAL(st, NTP_EF_END);
	CU_ASSERT_EQUAL(n, NTP_EF_MAX_FIELDS);
	/* One more is not. */
	n = 0;
	ntp_ef_iter_init(&it, pkt, sizeof(pkt));
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_OK)
		n++;
	CU_ASSERT_EQUAL(st, NTP_EF_ERR_TOO_MANY);
	CU_ASSERT_EQUAL(n, NTP_EF_MAX_FIELDS);
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_ERR_TOO_MANY);
}

static void test_status_str(void)
{
	CU_ASSERT_STRING_EQUAL(ntp_ef_status_str(NTP_EF_OK), "ok");
	CU_ASSERT_STRING_EQUAL(ntp_ef_status_str(NTP_EF_END), "end");
	CU_ASSERT_STRING_EQUAL(ntp_ef_status_str(NTP_EF_ERR_TRUNCATED), "truncated");
	CU_ASSERT_STRING_EQUAL(ntp_ef_status_str(NTP_EF_ERR_LENGTH), "bad-length");
	CU_ASSERT_STRING_EQUAL(ntp_ef_status_str(NTP_EF_ERR_TOO_MANY), "too-many-fields");
	CU_ASSERT_STRING_EQUAL(ntp_ef_status_str((enum ntp_ef_status)99), "unknown");
}

static void test_pad4(void)
{
	CU_ASSERT_EQUAL(ntp_ef_pad4(0), 0);
	CU_ASSERT_EQUAL(ntp_ef_pad4(1), 4);
	CU_ASSERT_EQUAL(ntp_ef_pad4(3), 4);
	CU_ASSERT_EQUAL(ntp_ef_pad4(4), 4);
	CU_ASSERT_EQUAL(ntp_ef_pad4(5), 8);
	CU_ASSERT_EQUAL(ntp_ef_pad4(0xfff9), 0xfffc);
	CU_ASSERT_TRUE(ntp_ef_pad4(SIZE_MAX) >= SIZE_MAX - 3);
}

static void test_put_known_bytes(void)
{
	static const uint8_t body[5] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4 };
	static const uint8_t want[] = {
		0x02, 0x04, 0x00, 0x0c, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0x00, 0x00, 0x00,
		0x03, 0x04, 0x00, 0x04,
		0x01, 0x04, 0x00, 0x08, 0xa0, 0xa1, 0xa2, 0xa3,
	};
	uint8_t out[64];
	struct buf_writer w;

	memset(out, 0xee, sizeof(out));
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(ntp_ef_put(&w, NTP_EF_NTS_COOKIE, body, 5));
	CU_ASSERT_TRUE(ntp_ef_put(&w, NTP_EF_NTS_COOKIE_PLACEHOLDER, NULL, 0));
	CU_ASSERT_TRUE(ntp_ef_put(&w, NTP_EF_UNIQUE_ID, body, 4));
	CU_ASSERT_EQUAL(w.off, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
	CU_ASSERT_FALSE(w.err);
}

static void test_put_header(void)
{
	static const uint8_t want[] = {
		0x04, 0x04, 0x00, 0x18, 0x00, 0x10, 0x00, 0x0e,
	};
	uint8_t out[16];
	struct buf_writer w;

	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(ntp_ef_put_header(&w, NTP_EF_NTS_AUTH, 17));
	CU_ASSERT_TRUE(buf_put_u16(&w, 16));
	CU_ASSERT_TRUE(buf_put_u16(&w, 14));
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
	CU_ASSERT_FALSE(w.err);
}

static void test_put_limits(void)
{
	static uint8_t big[0x10000], src[0x10000];
	struct buf_writer w;
	uint8_t *out = big;

	/* The largest body whose padded field fits the u16 length. */
	buf_writer_init(&w, big, sizeof(big));
	CU_ASSERT_TRUE(ntp_ef_put(&w, 0x7777, src, 0xfff8));
	CU_ASSERT_EQUAL(buf_load_u16(out + 2), 0xfffc);
	CU_ASSERT_EQUAL(w.off, 0xfffc);
	buf_writer_init(&w, big, sizeof(big));
	CU_ASSERT_FALSE(ntp_ef_put(&w, 0x7777, src, 0xfff9));
	CU_ASSERT_TRUE(w.err);
	CU_ASSERT_EQUAL(w.off, 0);
	buf_writer_init(&w, big, sizeof(big));
	CU_ASSERT_FALSE(ntp_ef_put_header(&w, 0x7777, 0xfff9));
	CU_ASSERT_TRUE(w.err);
	buf_writer_init(&w, big, sizeof(big));
	CU_ASSERT_FALSE(ntp_ef_put_header(&w, 0x7777, SIZE_MAX));
	CU_ASSERT_TRUE(w.err);
}

static void test_put_no_room_writes_nothing(void)
{
	static const uint8_t body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t out[12];
	struct buf_writer w;

	for (size_t cap = 0; cap < 12; cap++) {
		memset(out, 0xee, sizeof(out));
		buf_writer_init(&w, out, cap);
		CU_ASSERT_FALSE(ntp_ef_put(&w, NTP_EF_NTS_COOKIE, body, 8));
		CU_ASSERT_TRUE(w.err);
		CU_ASSERT_EQUAL(w.off, 0);
		CU_ASSERT_EQUAL(out[0], 0xee);
	}
	buf_writer_init(&w, out, 3);
	CU_ASSERT_FALSE(ntp_ef_put_header(&w, NTP_EF_NTS_COOKIE, 0));
	CU_ASSERT_TRUE(w.err);
}

static void test_put_then_walk(void)
{
	uint8_t out[256], body[64];
	struct buf_writer w;
	struct ntp_ef_iter it;
	struct ntp_ef ef;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i + 1);
	buf_writer_init(&w, out, sizeof(out));
	for (size_t n = 0; n <= 9; n++)
		CU_ASSERT_TRUE(ntp_ef_put(&w, (uint16_t)(0x100 + n), body, n));
	ntp_ef_iter_init(&it, out, w.off);
	for (size_t n = 0; n <= 9; n++) {
		CU_ASSERT_EQUAL_FATAL(ntp_ef_next(&it, &ef), NTP_EF_OK);
		CU_ASSERT_EQUAL(ef.type, 0x100 + n);
		CU_ASSERT_EQUAL(ef.body_len, ntp_ef_pad4(n));
		CU_ASSERT_EQUAL(memcmp(ef.body, body, n), 0);
		/* Padding is zeros. */
		for (size_t j = n; j < ef.body_len; j++)
			CU_ASSERT_EQUAL(ef.body[j], 0);
	}
	CU_ASSERT_EQUAL(ntp_ef_next(&it, &ef), NTP_EF_END);
}

UNIT_SUITE(ntp_ef, NULL, NULL,
	UNIT_TEST(test_walk_valid),
	UNIT_TEST(test_walk_empty),
	UNIT_TEST(test_header_only_field),
	UNIT_TEST(test_truncated_at_every_byte),
	UNIT_TEST(test_bad_lengths),
	UNIT_TEST(test_oversized_lengths),
	UNIT_TEST(test_max_length_field),
	UNIT_TEST(test_error_after_good_field),
	UNIT_TEST(test_too_many_fields),
	UNIT_TEST(test_status_str),
	UNIT_TEST(test_pad4),
	UNIT_TEST(test_put_known_bytes),
	UNIT_TEST(test_put_header),
	UNIT_TEST(test_put_limits),
	UNIT_TEST(test_put_no_room_writes_nothing),
	UNIT_TEST(test_put_then_walk))
