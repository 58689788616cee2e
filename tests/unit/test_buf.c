/* unit tests for buf: the bounded reader and writer. */
#include "build_config.h"

#include <string.h>

#include "common/buf.h"
#include "unit.h"

static const uint8_t seq[16] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xf0,
};

static void test_get_big_endian(void)
{
	struct buf_reader r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_EQUAL(buf_remaining(&r), 16);
	CU_ASSERT_TRUE(buf_get_u8(&r, &u8));
	CU_ASSERT_EQUAL(u8, 0x01);
	CU_ASSERT_TRUE(buf_get_u16(&r, &u16));
	CU_ASSERT_EQUAL(u16, 0x0203);
	CU_ASSERT_TRUE(buf_get_u32(&r, &u32));
	CU_ASSERT_EQUAL(u32, 0x04050607);
	CU_ASSERT_TRUE(buf_get_u64(&r, &u64));
	CU_ASSERT_EQUAL(u64, 0x08090a0b0c0d0e0fULL);
	CU_ASSERT_EQUAL(buf_remaining(&r), 1);
	CU_ASSERT_TRUE(buf_get_u8(&r, &u8));
	CU_ASSERT_EQUAL(u8, 0xf0);
	CU_ASSERT_EQUAL(buf_remaining(&r), 0);
	CU_ASSERT_FALSE(r.err);
}

static void test_high_bit_values(void)
{
	static const uint8_t ff[8] = { 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8 };
	struct buf_reader r;
	uint16_t u16;
	uint32_t u32;

	/* Sign extension would show up here. */
	buf_reader_init(&r, ff, sizeof(ff));
	CU_ASSERT_TRUE(buf_get_u16(&r, &u16));
	CU_ASSERT_EQUAL(u16, 0xfffe);
	CU_ASSERT_TRUE(buf_get_u32(&r, &u32));
	CU_ASSERT_EQUAL(u32, 0xfdfcfbfaU);
	CU_ASSERT_EQUAL(buf_load_u64(ff), 0xfffefdfcfbfaf9f8ULL);
}

static void test_read_exactly_at_end(void)
{
	struct buf_reader r;
	uint32_t u32;
	uint8_t out[16];
	const uint8_t *span;

	/* A read that ends exactly at the end succeeds... */
	buf_reader_init(&r, seq, 4);
	CU_ASSERT_TRUE(buf_get_u32(&r, &u32));
	CU_ASSERT_EQUAL(u32, 0x01020304);
	CU_ASSERT_FALSE(r.err);
	/* ...and a zero-length read at the end too. */
	CU_ASSERT_TRUE(buf_get_bytes(&r, out, 0));
	CU_ASSERT_TRUE(buf_skip(&r, 0));
	CU_ASSERT_FALSE(r.err);

	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_TRUE(buf_get_bytes(&r, out, 16));
	CU_ASSERT_EQUAL(memcmp(out, seq, 16), 0);
	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_TRUE(buf_skip(&r, 15));
	CU_ASSERT_TRUE(buf_get_span(&r, 1, &span));
	CU_ASSERT_PTR_EQUAL(span, seq + 15);
	CU_ASSERT_EQUAL(buf_remaining(&r), 0);
}

static void test_short_reads_fail_at_every_length(void)
{
	uint8_t out[16];

	/* Each width, on every span one byte too short. */
	for (size_t width = 1; width <= 8; width *= 2) {
		for (size_t len = 0; len < width; len++) {
			struct buf_reader r;
			bool ok = false;
			uint8_t u8;
			uint16_t u16;
			uint32_t u32;
			uint64_t u64;

			buf_reader_init(&r, seq, len);
			switch (width) {
			case 1:
				ok = buf_get_u8(&r, &u8);
				break;
			case 2:
				ok = buf_get_u16(&r, &u16);
				break;
			case 4:
				ok = buf_get_u32(&r, &u32);
				break;
			case 8:
				ok = buf_get_u64(&r, &u64);
				break;
			}
			CU_ASSERT_FALSE(ok);
			CU_ASSERT_TRUE(r.err);
			/* A failed read consumes nothing. */
			CU_ASSERT_EQUAL(r.off, 0);
		}
	}
	for (size_t len = 0; len < 16; len++) {
		struct buf_reader r;

		buf_reader_init(&r, seq, len);
		CU_ASSERT_FALSE(buf_get_bytes(&r, out, len + 1));
		CU_ASSERT_TRUE(r.err);
	}
}

static void test_huge_lengths(void)
{
	struct buf_reader r;
	const uint8_t *span = NULL;
	struct buf_reader sub;

	/* off + n would wrap; n > len - off does not. */
	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_TRUE(buf_skip(&r, 4));
	CU_ASSERT_FALSE(buf_skip(&r, SIZE_MAX));
	CU_ASSERT_TRUE(r.err);
	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_TRUE(buf_skip(&r, 1));
	CU_ASSERT_FALSE(buf_get_span(&r, SIZE_MAX, &span));
	CU_ASSERT_PTR_NULL(span);
	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_TRUE(buf_skip(&r, 8));
	CU_ASSERT_FALSE(buf_get_sub(&r, SIZE_MAX - 7, &sub));
	CU_ASSERT_EQUAL(r.off, 8);
	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_FALSE(buf_get_span(&r, 0xffff, &span));
}

static void test_sticky_error(void)
{
	struct buf_reader r;
	uint8_t u8 = 0x55;
	uint16_t u16 = 0x5555;
	uint64_t u64;
	const uint8_t *span;
	struct buf_reader sub;

	buf_reader_init(&r, seq, 4);
	CU_ASSERT_FALSE(buf_get_u64(&r, &u64));
	CU_ASSERT_TRUE(r.err);
	/* Bytes remain, but every later read fails and leaves outputs alone. */
	CU_ASSERT_EQUAL(buf_remaining(&r), 4);
	CU_ASSERT_FALSE(buf_get_u8(&r, &u8));
	CU_ASSERT_EQUAL(u8, 0x55);
	CU_ASSERT_FALSE(buf_get_u16(&r, &u16));
	CU_ASSERT_EQUAL(u16, 0x5555);
	CU_ASSERT_FALSE(buf_skip(&r, 0));
	CU_ASSERT_FALSE(buf_get_span(&r, 0, &span));
	CU_ASSERT_FALSE(buf_get_sub(&r, 1, &sub));
	CU_ASSERT_FALSE(buf_peek_u16(&r, 0, &u16));
	CU_ASSERT_TRUE(r.err);
}

static void test_sub_reader_bounded(void)
{
	struct buf_reader r, body, inner;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;

	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_TRUE(buf_skip(&r, 2));
	CU_ASSERT_TRUE(buf_get_sub(&r, 3, &body));
	/* The parent skipped the body. */
	CU_ASSERT_EQUAL(r.off, 5);
	CU_ASSERT_TRUE(buf_get_u8(&r, &u8));
	CU_ASSERT_EQUAL(u8, 0x06);

	/* The body holds 03 04 05 and nothing after it. */
	CU_ASSERT_EQUAL(buf_remaining(&body), 3);
	CU_ASSERT_FALSE(buf_get_u32(&body, &u32));
	CU_ASSERT_TRUE(body.err);
	/* Its error stays in the body; the parent is fine. */
	CU_ASSERT_FALSE(r.err);

	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_TRUE(buf_skip(&r, 2));
	CU_ASSERT_TRUE(buf_get_sub(&r, 3, &body));
	CU_ASSERT_TRUE(buf_get_u16(&body, &u16));
	CU_ASSERT_EQUAL(u16, 0x0304);
	CU_ASSERT_FALSE(buf_peek_u16(&body, 0, &u16));
	CU_ASSERT_FALSE(body.err);
	CU_ASSERT_TRUE(buf_get_sub(&body, 1, &inner));
	CU_ASSERT_TRUE(buf_get_u8(&inner, &u8));
	CU_ASSERT_EQUAL(u8, 0x05);
	CU_ASSERT_FALSE(buf_get_u8(&inner, &u8));
	CU_ASSERT_EQUAL(buf_remaining(&body), 0);

	/* A body longer than what is left fails, and the sub-reader is empty. */
	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_TRUE(buf_skip(&r, 10));
	CU_ASSERT_FALSE(buf_get_sub(&r, 7, &body));
	CU_ASSERT_TRUE(r.err);
	CU_ASSERT_EQUAL(buf_remaining(&body), 0);
	CU_ASSERT_TRUE(body.err);
	CU_ASSERT_FALSE(buf_get_u8(&body, &u8));

	/* Zero-length body at the end is fine. */
	buf_reader_init(&r, seq, sizeof(seq));
	CU_ASSERT_TRUE(buf_skip(&r, 16));
	CU_ASSERT_TRUE(buf_get_sub(&r, 0, &body));
	CU_ASSERT_EQUAL(buf_remaining(&body), 0);
	CU_ASSERT_FALSE(body.err);
}

static void test_peek(void)
{
	struct buf_reader r;
	uint16_t u16 = 0;

	buf_reader_init(&r, seq, 5);
	CU_ASSERT_TRUE(buf_skip(&r, 1));
	CU_ASSERT_TRUE(buf_peek_u16(&r, 0, &u16));
	CU_ASSERT_EQUAL(u16, 0x0203);
	CU_ASSERT_TRUE(buf_peek_u16(&r, 2, &u16));
	CU_ASSERT_EQUAL(u16, 0x0405);
	/* Peeking past the end fails without setting err. */
	CU_ASSERT_FALSE(buf_peek_u16(&r, 3, &u16));
	CU_ASSERT_FALSE(buf_peek_u16(&r, 4, &u16));
	CU_ASSERT_FALSE(buf_peek_u16(&r, SIZE_MAX, &u16));
	CU_ASSERT_FALSE(buf_peek_u16(&r, SIZE_MAX - 1, &u16));
	CU_ASSERT_FALSE(r.err);
	/* Nothing consumed. */
	CU_ASSERT_EQUAL(r.off, 1);
}

static void test_empty_reader(void)
{
	struct buf_reader r;
	uint8_t u8;

	buf_reader_init(&r, NULL, 0);
	CU_ASSERT_EQUAL(buf_remaining(&r), 0);
	CU_ASSERT_FALSE(buf_get_u8(&r, &u8));
	CU_ASSERT_TRUE(r.err);
}

static void test_writer(void)
{
	static const uint8_t want[] = {
		0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x99, 0x98, 0x00, 0x00, 0x00, 0x77,
	};
	uint8_t out[sizeof(want)];
	const uint8_t raw[2] = { 0x99, 0x98 };
	struct buf_writer w;
	uint8_t *res;

	memset(out, 0xee, sizeof(out));
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL(buf_writer_room(&w), sizeof(out));
	CU_ASSERT_TRUE(buf_put_u8(&w, 0xab));
	CU_ASSERT_TRUE(buf_put_u16(&w, 0x1234));
	CU_ASSERT_TRUE(buf_put_u32(&w, 0xdeadbeef));
	CU_ASSERT_TRUE(buf_put_u64(&w, 0x0102030405060708ULL));
	CU_ASSERT_TRUE(buf_put_bytes(&w, raw, 2));
	CU_ASSERT_TRUE(buf_put_zeros(&w, 3));
	CU_ASSERT_TRUE(buf_reserve(&w, 1, &res));
	CU_ASSERT_PTR_EQUAL(res, out + 20);
	*res = 0x77;
	CU_ASSERT_EQUAL(w.off, sizeof(want));
	CU_ASSERT_EQUAL(buf_writer_room(&w), 0);
	CU_ASSERT_FALSE(w.err);
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
	/* Zero-length puts at the end are fine. */
	CU_ASSERT_TRUE(buf_put_bytes(&w, NULL, 0));
	CU_ASSERT_TRUE(buf_put_zeros(&w, 0));
	CU_ASSERT_FALSE(w.err);
}

static void test_writer_overflow(void)
{
	uint8_t out[8];
	struct buf_writer w;
	uint8_t *res = NULL;

	for (size_t cap = 0; cap < 8; cap++) {
		memset(out, 0xee, sizeof(out));
		buf_writer_init(&w, out, cap);
		CU_ASSERT_FALSE(buf_put_u64(&w, 0x0102030405060708ULL));
		CU_ASSERT_TRUE(w.err);
		CU_ASSERT_EQUAL(w.off, 0);
		/* Nothing was written, not even a prefix. */
		CU_ASSERT_EQUAL(out[0], 0xee);
		/* Sticky: a write that would fit fails too. */
		CU_ASSERT_FALSE(buf_put_u8(&w, 1));
		CU_ASSERT_EQUAL(w.off, 0);
	}
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(buf_put_u32(&w, 1));
	CU_ASSERT_FALSE(buf_put_u16(&w, 2) && buf_put_u32(&w, 3));
	CU_ASSERT_TRUE(w.err);
	CU_ASSERT_EQUAL(w.off, 6);

	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(buf_put_u8(&w, 1));
	CU_ASSERT_FALSE(buf_reserve(&w, SIZE_MAX, &res));
	CU_ASSERT_PTR_NULL(res);
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_FALSE(buf_put_zeros(&w, 9));
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_FALSE(buf_put_bytes(&w, out, 9));
	CU_ASSERT_TRUE(w.err);
}

static void test_patch_u16(void)
{
	uint8_t out[8];
	struct buf_writer w;

	memset(out, 0, sizeof(out));
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(buf_put_u16(&w, 0));
	CU_ASSERT_TRUE(buf_put_u16(&w, 0));
	CU_ASSERT_TRUE(buf_patch_u16(&w, 0, 0xbeef));
	CU_ASSERT_TRUE(buf_patch_u16(&w, 2, 0x1234));
	CU_ASSERT_EQUAL(out[0], 0xbe);
	CU_ASSERT_EQUAL(out[1], 0xef);
	CU_ASSERT_EQUAL(out[2], 0x12);
	CU_ASSERT_EQUAL(out[3], 0x34);
	CU_ASSERT_EQUAL(w.off, 4);
	CU_ASSERT_FALSE(w.err);

	/* Straddling the end of what was written, past it, or wrapping. */
	CU_ASSERT_FALSE(buf_patch_u16(&w, 3, 0xffff));
	CU_ASSERT_TRUE(w.err);
	CU_ASSERT_EQUAL(out[4], 0);
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(buf_put_u16(&w, 0));
	CU_ASSERT_FALSE(buf_patch_u16(&w, 4, 1));
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(buf_put_u16(&w, 0));
	CU_ASSERT_FALSE(buf_patch_u16(&w, SIZE_MAX, 1));
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_FALSE(buf_patch_u16(&w, 0, 1));
	CU_ASSERT_TRUE(w.err);
}

static void test_load_store(void)
{
	uint8_t b[8];

	buf_store_u16(b, 0xa1b2);
	CU_ASSERT_EQUAL(b[0], 0xa1);
	CU_ASSERT_EQUAL(b[1], 0xb2);
	CU_ASSERT_EQUAL(buf_load_u16(b), 0xa1b2);
	buf_store_u32(b, 0x8c7d6e5fU);
	CU_ASSERT_EQUAL(b[0], 0x8c);
	CU_ASSERT_EQUAL(b[3], 0x5f);
	CU_ASSERT_EQUAL(buf_load_u32(b), 0x8c7d6e5fU);
	buf_store_u64(b, 0xf1e2d3c4b5a69788ULL);
	CU_ASSERT_EQUAL(b[0], 0xf1);
	CU_ASSERT_EQUAL(b[7], 0x88);
	CU_ASSERT_EQUAL(buf_load_u64(b), 0xf1e2d3c4b5a69788ULL);
}

static void test_ct_equal(void)
{
	uint8_t a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	CU_ASSERT_TRUE(buf_ct_equal(a, b, sizeof(a)));
	CU_ASSERT_TRUE(buf_ct_equal(a, b, 0));
	for (size_t i = 0; i < sizeof(a); i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			CU_ASSERT_FALSE(buf_ct_equal(a, b, sizeof(a)));
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	CU_ASSERT_TRUE(buf_ct_equal(a, b, sizeof(a)));
}

static void test_wipe(void)
{
	uint8_t secret[24], zero[24];

	memset(secret, 0xa5, sizeof(secret));
	memset(zero, 0, sizeof(zero));
	buf_wipe(secret, sizeof(secret));
	CU_ASSERT_EQUAL(memcmp(secret, zero, sizeof(zero)), 0);
	buf_wipe(NULL, 0);
	memset(secret, 0xa5, sizeof(secret));
	buf_wipe(secret + 4, 8);
	CU_ASSERT_EQUAL(secret[3], 0xa5);
	CU_ASSERT_EQUAL(secret[4], 0);
	CU_ASSERT_EQUAL(secret[11], 0);
	CU_ASSERT_EQUAL(secret[12], 0xa5);
}

UNIT_SUITE(buf, NULL, NULL,
	UNIT_TEST(test_get_big_endian),
	UNIT_TEST(test_high_bit_values),
	UNIT_TEST(test_read_exactly_at_end),
	UNIT_TEST(test_short_reads_fail_at_every_length),
	UNIT_TEST(test_huge_lengths),
	UNIT_TEST(test_sticky_error),
	UNIT_TEST(test_sub_reader_bounded),
	UNIT_TEST(test_peek),
	UNIT_TEST(test_empty_reader),
	UNIT_TEST(test_writer),
	UNIT_TEST(test_writer_overflow),
	UNIT_TEST(test_patch_u16),
	UNIT_TEST(test_load_store),
	UNIT_TEST(test_ct_equal),
	UNIT_TEST(test_wipe))
