/* unit tests for ntp_packet: header codec, timestamps and eras. */
#include "build_config.h"

#include <math.h>
#include <string.h>

#include "common/ntp_packet.h"
#include "unit.h"

/* Unix times, checked against `date -u -d ... +%s`. */
#define T_2020 1577836800LL	/* 2020-01-01T00:00:00Z, NTP era 0 */
#define T_ROLLOVER 2085978496LL	/* 2036-02-07T06:28:16Z, NTP era 1 begins */
#define T_2040 2208988800LL	/* 2040-01-01T00:00:00Z, NTP era 1 */
#define T_2100 4102444800LL	/* 2100-01-01T00:00:00Z, NTP era 1 */

/* A client request as chrony sends it: LI 0, VN 4, mode 3. */
static const uint8_t header_bytes[NTP_HEADER_LEN] = {
	0x23, 0x02, 0x0a, 0xe9,			/* LI VN mode, stratum 2, poll 10, precision -23 */
	0x00, 0x01, 0x80, 0x00,			/* root delay 1.5 s */
	0x00, 0x00, 0x40, 0x00,			/* root dispersion 0.25 s */
	0x7f, 0x7f, 0x01, 0x00,			/* refid 127.127.1.0 */
	0xe1, 0xb6, 0x5f, 0x80, 0x00, 0x00, 0x00, 0x00,	/* ref 2020-01-01 */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,	/* origin */
	0x07, 0x54, 0xfd, 0x00, 0x80, 0x00, 0x00, 0x00,	/* rx 2040-01-01 + 0.5 s */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* tx */
};

static void fill_header(struct ntp_header *h)
{
	memset(h, 0, sizeof(*h));
	h->leap = NTP_LEAP_NONE;
	h->version = 4;
	h->mode = NTP_MODE_CLIENT;
	h->stratum = 2;
	h->poll = 10;
	h->precision = -23;
	h->root_delay = 0x00018000;
	h->root_dispersion = 0x00004000;
	h->refid = 0x7f7f0100;
	h->ref_ts = 0xe1b65f8000000000ULL;
	h->origin_ts = 0x0102030405060708ULL;
	h->rx_ts = 0x0754fd0080000000ULL;
	h->tx_ts = 0xffffffffffffffffULL;
}

static void test_header_encode_known_bytes(void)
{
	struct ntp_header h;
	uint8_t out[NTP_HEADER_LEN + 4];
	struct buf_writer w;

	fill_header(&h);
	memset(out, 0xee, sizeof(out));
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(ntp_header_encode(&w, &h));
	CU_ASSERT_EQUAL(w.off, NTP_HEADER_LEN);
	CU_ASSERT_EQUAL(memcmp(out, header_bytes, NTP_HEADER_LEN), 0);
	CU_ASSERT_EQUAL(out[NTP_HEADER_LEN], 0xee);
}

static void test_header_first_byte(void)
{
	struct ntp_header h;
	uint8_t out[NTP_HEADER_LEN];
	struct buf_writer w;

	fill_header(&h);
	h.leap = NTP_LEAP_UNSYNC;
	h.mode = NTP_MODE_SERVER;
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(ntp_header_encode(&w, &h));
	CU_ASSERT_EQUAL(out[0], 0xe4);
	/* Out-of-range fields are masked, not smeared into neighbours. */
	h.leap = 0xff;
	h.version = 0xff;
	h.mode = 0;
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(ntp_header_encode(&w, &h));
	CU_ASSERT_EQUAL(out[0], 0xf8);
}

static void test_header_decode_known_bytes(void)
{
	struct ntp_header h;
	struct buf_reader r;

	buf_reader_init(&r, header_bytes, sizeof(header_bytes));
	CU_ASSERT_TRUE(ntp_header_decode(&r, &h));
	CU_ASSERT_EQUAL(buf_remaining(&r), 0);
	CU_ASSERT_EQUAL(h.leap, NTP_LEAP_NONE);
	CU_ASSERT_EQUAL(h.version, 4);
	CU_ASSERT_EQUAL(h.mode, NTP_MODE_CLIENT);
	CU_ASSERT_EQUAL(h.stratum, 2);
	CU_ASSERT_EQUAL(h.poll, 10);
	CU_ASSERT_EQUAL(h.precision, -23);
	CU_ASSERT_EQUAL(h.root_delay, 0x00018000);
	CU_ASSERT_EQUAL(h.root_dispersion, 0x00004000);
	CU_ASSERT_EQUAL(h.refid, 0x7f7f0100);
	CU_ASSERT_EQUAL(h.ref_ts, 0xe1b65f8000000000ULL);
	CU_ASSERT_EQUAL(h.origin_ts, 0x0102030405060708ULL);
	CU_ASSERT_EQUAL(h.rx_ts, 0x0754fd0080000000ULL);
	CU_ASSERT_EQUAL(h.tx_ts, 0xffffffffffffffffULL);
}

static void test_header_round_trip(void)
{
	struct ntp_header h, back;
	uint8_t out[NTP_HEADER_LEN];
	struct buf_writer w;
	struct buf_reader r;

	fill_header(&h);
	h.leap = NTP_LEAP_DELETE;
	h.mode = NTP_MODE_BROADCAST;
	h.poll = -6;
	h.precision = 127;
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(ntp_header_encode(&w, &h));
	buf_reader_init(&r, out, w.off);
	CU_ASSERT_TRUE(ntp_header_decode(&r, &back));
	CU_ASSERT_EQUAL(back.leap, NTP_LEAP_DELETE);
	CU_ASSERT_EQUAL(back.version, h.version);
	CU_ASSERT_EQUAL(back.mode, NTP_MODE_BROADCAST);
	CU_ASSERT_EQUAL(back.stratum, h.stratum);
	CU_ASSERT_EQUAL(back.poll, -6);
	CU_ASSERT_EQUAL(back.precision, 127);
	CU_ASSERT_EQUAL(back.root_delay, h.root_delay);
	CU_ASSERT_EQUAL(back.root_dispersion, h.root_dispersion);
	CU_ASSERT_EQUAL(back.refid, h.refid);
	CU_ASSERT_EQUAL(back.ref_ts, h.ref_ts);
	CU_ASSERT_EQUAL(back.origin_ts, h.origin_ts);
	CU_ASSERT_EQUAL(back.rx_ts, h.rx_ts);
	CU_ASSERT_EQUAL(back.tx_ts, h.tx_ts);
}

static void test_header_decode_truncated(void)
{
	struct ntp_header h;

	for (size_t len = 0; len < NTP_HEADER_LEN; len++) {
		struct buf_reader r;

		buf_reader_init(&r, header_bytes, len);
		CU_ASSERT_FALSE(ntp_header_decode(&r, &h));
		CU_ASSERT_TRUE(r.err);
		CU_ASSERT_EQUAL(r.off, 0);
	}
}

static void test_header_decode_leaves_rest(void)
{
	uint8_t pkt[NTP_HEADER_LEN + 4];
	struct ntp_header h;
	struct buf_reader r;
	uint32_t u32;

	memcpy(pkt, header_bytes, NTP_HEADER_LEN);
	buf_store_u32(pkt + NTP_HEADER_LEN, 0x01040024);
	buf_reader_init(&r, pkt, sizeof(pkt));
	CU_ASSERT_TRUE(ntp_header_decode(&r, &h));
	CU_ASSERT_EQUAL(buf_remaining(&r), 4);
	CU_ASSERT_TRUE(buf_get_u32(&r, &u32));
	CU_ASSERT_EQUAL(u32, 0x01040024);
}

static void test_header_encode_no_room(void)
{
	struct ntp_header h;
	uint8_t out[NTP_HEADER_LEN];
	struct buf_writer w;

	fill_header(&h);
	memset(out, 0xee, sizeof(out));
	buf_writer_init(&w, out, NTP_HEADER_LEN - 1);
	CU_ASSERT_FALSE(ntp_header_encode(&w, &h));
	CU_ASSERT_TRUE(w.err);
	CU_ASSERT_EQUAL(w.off, 0);
	CU_ASSERT_EQUAL(out[0], 0xee);
}

static void test_ts_from_timespec(void)
{
	struct timespec ts;

	ts.tv_sec = 0;
	ts.tv_nsec = 0;
	CU_ASSERT_EQUAL(ntp_ts_from_timespec(&ts), (uint64_t)NTP_UNIX_OFFSET << 32);
	ts.tv_sec = T_2020;
	ts.tv_nsec = 500000000;
	CU_ASSERT_EQUAL(ntp_ts_from_timespec(&ts), 0xe1b65f8080000000ULL);
	/* Past the rollover the seconds wrap into era 1. */
	ts.tv_sec = T_ROLLOVER;
	ts.tv_nsec = 0;
	CU_ASSERT_EQUAL(ntp_ts_from_timespec(&ts), 0);
	ts.tv_sec = T_ROLLOVER - 1;
	ts.tv_nsec = 999999999;
	CU_ASSERT_EQUAL(ntp_ts_from_timespec(&ts) >> 32, 0xffffffffULL);
	ts.tv_sec = T_2040;
	ts.tv_nsec = 500000000;
	CU_ASSERT_EQUAL(ntp_ts_from_timespec(&ts), 0x0754fd0080000000ULL);
	/* 123456789 ns = 530242871.6 / 2^32 s: rounded up. */
	ts.tv_sec = T_2020;
	ts.tv_nsec = 123456789;
	CU_ASSERT_EQUAL(ntp_ts_from_timespec(&ts) & 0xffffffffULL, 530242872);
	ts.tv_nsec = 999999999;
	CU_ASSERT_EQUAL(ntp_ts_from_timespec(&ts) & 0xffffffffULL, 0xfffffffcULL);
}

static void test_ts_to_timespec_eras(void)
{
	struct timespec ts;

	/* 2040 read near 2040, from 2024 and from 2100. */
	ntp_ts_to_timespec(0x0754fd0080000000ULL, T_2040, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, T_2040);
	CU_ASSERT_EQUAL(ts.tv_nsec, 500000000);
	ntp_ts_to_timespec(0x0754fd0080000000ULL, 1704067200 /* 2024 */, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, T_2040);
	ntp_ts_to_timespec(0x0754fd0000000000ULL, T_2100, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, T_2040);
	/* The same bits seen from 1970 are 1903: era 0, before Unix time. */
	ntp_ts_to_timespec(0x0754fd0000000000ULL, 0, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, T_2040 - 4294967296LL);

	/* 2020 read from 2040 (pivot past the rollover) stays in era 0. */
	ntp_ts_to_timespec(0xe1b65f8000000000ULL, T_2040, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, T_2020);
	ntp_ts_to_timespec(0xe1b65f8000000000ULL, T_2020, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, T_2020);
	/* ...but from 2100 it is 2156, in era 1. */
	ntp_ts_to_timespec(0xe1b65f8000000000ULL, T_2100, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, T_2020 + 4294967296LL);

	/* Around the rollover itself. */
	ntp_ts_to_timespec(0, T_ROLLOVER - 10, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, T_ROLLOVER);
	ntp_ts_to_timespec(0xffffffff00000000ULL, T_ROLLOVER + 10, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, T_ROLLOVER - 1);
}

static void test_ts_pivot_window(void)
{
	struct timespec ts;
	const time_t pivot = T_2020;
	struct timespec at = { 0, 0 };

	/* 2^31 - 1 s after the pivot is after; 2^31 s after is before. */
	at.tv_sec = pivot + 2147483647LL;
	ntp_ts_to_timespec(ntp_ts_from_timespec(&at), pivot, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, at.tv_sec);
	at.tv_sec = pivot - 2147483648LL;
	ntp_ts_to_timespec(ntp_ts_from_timespec(&at), pivot, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, at.tv_sec);
	at.tv_sec = pivot + 2147483648LL;
	ntp_ts_to_timespec(ntp_ts_from_timespec(&at), pivot, &ts);
	CU_ASSERT_EQUAL(ts.tv_sec, pivot - 2147483648LL);
}

static void test_ts_round_trip(void)
{
	static const long long secs[] = {
		0, 1, T_2020, T_ROLLOVER - 1, T_ROLLOVER, T_2040, T_2100,
	};
	static const long nsecs[] = {
		0, 1, 2, 3, 499999999, 500000000, 500000001, 999999998, 999999999,
	};

	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		for (size_t j = 0; j < sizeof(nsecs) / sizeof(nsecs[0]); j++) {
			struct timespec in = { (time_t)secs[i], nsecs[j] }, out;

			ntp_ts_to_timespec(ntp_ts_from_timespec(&in), in.tv_sec, &out);
			CU_ASSERT_EQUAL(out.tv_sec, in.tv_sec);
			CU_ASSERT_EQUAL(out.tv_nsec, in.tv_nsec);
		}
	}
	/* Every nanosecond of a stretch, so rounding cannot drift. */
	for (long n = 0; n < 100000; n += 7) {
		struct timespec in = { (time_t)T_2040, n }, out;

		ntp_ts_to_timespec(ntp_ts_from_timespec(&in), T_2040, &out);
		CU_ASSERT_EQUAL_FATAL(out.tv_nsec, n);
	}
}

static void test_ts_unnormalised_timespec(void)
{
	struct timespec a = { 100, 1500000000 }, b = { 101, 500000000 };
	struct timespec c = { 100, -1 }, d = { 99, 999999999 };

	CU_ASSERT_EQUAL(ntp_ts_from_timespec(&a), ntp_ts_from_timespec(&b));
	CU_ASSERT_EQUAL(ntp_ts_from_timespec(&c), ntp_ts_from_timespec(&d));
}

static void test_short_format(void)
{
	CU_ASSERT_EQUAL(ntp_short_from_double(0.0), 0);
	CU_ASSERT_EQUAL(ntp_short_from_double(1.5), 0x00018000);
	CU_ASSERT_EQUAL(ntp_short_from_double(0.25), 0x00004000);
	CU_ASSERT_EQUAL(ntp_short_from_double(1.0 / 65536.0), 1);
	CU_ASSERT_EQUAL(ntp_short_from_double(-1.0), 0);
	CU_ASSERT_EQUAL(ntp_short_from_double(NAN), 0);
	CU_ASSERT_EQUAL(ntp_short_from_double(65535.0), 0xffff0000U);
	CU_ASSERT_EQUAL(ntp_short_from_double(65536.0), 0xffffffffU);
	CU_ASSERT_EQUAL(ntp_short_from_double(1e12), 0xffffffffU);
	CU_ASSERT_EQUAL(ntp_short_from_double(INFINITY), 0xffffffffU);
	CU_ASSERT_DOUBLE_EQUAL(ntp_short_to_double(0x00018000), 1.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(ntp_short_to_double(1), 1.0 / 65536.0, 1e-15);
	CU_ASSERT_DOUBLE_EQUAL(ntp_short_to_double(0xffffffffU), 65536.0 - 1.0 / 65536.0, 1e-9);
	CU_ASSERT_EQUAL(ntp_short_from_double(ntp_short_to_double(0x12345678)), 0x12345678);
}

static void test_ts_diff(void)
{
	const uint64_t base = 0xe1b65f8000000000ULL;

	CU_ASSERT_DOUBLE_EQUAL(ntp_ts_diff(base, base), 0.0, 0.0);
	CU_ASSERT_DOUBLE_EQUAL(ntp_ts_diff(base + 0x180000000ULL, base), 1.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(ntp_ts_diff(base, base + 0x180000000ULL), -1.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(ntp_ts_diff(base + 1, base), 1.0 / 4294967296.0, 1e-15);
	CU_ASSERT_DOUBLE_EQUAL(ntp_ts_diff(base, base + 1), -1.0 / 4294967296.0, 1e-15);
	/* Across the 2036 rollover: 2 s apart, not 136 years. */
	CU_ASSERT_DOUBLE_EQUAL(ntp_ts_diff(0x0000000100000000ULL, 0xffffffff00000000ULL), 2.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(ntp_ts_diff(0xffffffff00000000ULL, 0x0000000100000000ULL), -2.0, 1e-12);
	/* Most negative difference. */
	CU_ASSERT_DOUBLE_EQUAL(ntp_ts_diff(0x8000000000000000ULL, 0), -2147483648.0, 1e-6);
	/* 2040 minus 2020 across the rollover, to the second. */
	CU_ASSERT_DOUBLE_EQUAL(ntp_ts_diff(0x0754fd0000000000ULL, 0xe1b65f8000000000ULL),
			       (double)(T_2040 - T_2020), 1e-6);
}

UNIT_SUITE(ntp_packet, NULL, NULL,
	UNIT_TEST(test_header_encode_known_bytes),
	UNIT_TEST(test_header_first_byte),
	UNIT_TEST(test_header_decode_known_bytes),
	UNIT_TEST(test_header_round_trip),
	UNIT_TEST(test_header_decode_truncated),
	UNIT_TEST(test_header_decode_leaves_rest),
	UNIT_TEST(test_header_encode_no_room),
	UNIT_TEST(test_ts_from_timespec),
	UNIT_TEST(test_ts_to_timespec_eras),
	UNIT_TEST(test_ts_pivot_window),
	UNIT_TEST(test_ts_round_trip),
	UNIT_TEST(test_ts_unnormalised_timespec),
	UNIT_TEST(test_short_format),
	UNIT_TEST(test_ts_diff))
