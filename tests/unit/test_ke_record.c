/* unit tests for ke_record: the record codec, every request rule of
 * NTS-NOTES.md, and the response / error builders byte for byte. */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ke_record.h"
#include "unit.h"

#define C KE_REC_CRITICAL

/* A raw record: `word` is the whole first 16 bits (critical bit + type), so
 * tests can build records the codec would refuse to write. */
static void raw(struct buf_writer *w, uint16_t word, const void *body, size_t len)
{
	buf_put_u16(w, word);
	buf_put_u16(w, (uint16_t)len);
	buf_put_bytes(w, body, len);
}

static const uint8_t proto_ntpv4[] = { 0x00, 0x00 };
static const uint8_t aead_15_17[] = { 0x00, 0x0f, 0x00, 0x11 };
static const uint8_t port_123[] = { 0x00, 0x7b };

/* Room for a request at the session's size cap. */
struct req {
	uint8_t b[16384];
	struct buf_writer w;
};

static void req_begin(struct req *q)
{
	buf_writer_init(&q->w, q->b, sizeof(q->b));
}

static void req_next_proto(struct req *q)
{
	raw(&q->w, C | KE_REC_NEXT_PROTO, proto_ntpv4, sizeof(proto_ntpv4));
}

static void req_aead(struct req *q)
{
	raw(&q->w, C | KE_REC_AEAD, aead_15_17, sizeof(aead_15_17));
}

static void req_end(struct req *q)
{
	raw(&q->w, C | KE_REC_END, NULL, 0);
}

/* NextProto(0) + AEAD(15, 17) + End. */
static void req_minimal(struct req *q)
{
	req_begin(q);
	req_next_proto(q);
	req_aead(q);
	req_end(q);
}

static enum ke_request_status parse(struct req *q, struct ke_request *out)
{
	CU_ASSERT_FATAL(!q->w.err);
	return ke_request_parse(q->b, q->w.off, out);
}

/* Parse a request made of the minimal one plus one extra record before End. */
static enum ke_request_status parse_with(uint16_t word, const void *body, size_t len,
					 struct ke_request *out)
{
	struct req q;

	req_begin(&q);
	req_next_proto(&q);
	req_aead(&q);
	raw(&q.w, word, body, len);
	req_end(&q);
	return parse(&q, out);
}

static void test_record_next(void)
{
	static const uint8_t in[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00,	/* critical Next Protocol [0] */
		0x40, 0x10, 0x00, 0x00,			/* type 0x4010, empty */
		0x80, 0x00, 0x00, 0x00,			/* critical End */
	};
	struct buf_reader r;
	struct ke_record rec;

	buf_reader_init(&r, in, sizeof(in));
	CU_ASSERT_EQUAL_FATAL(ke_record_next(&r, &rec), KE_RECORD_OK);
	CU_ASSERT_TRUE(rec.critical);
	CU_ASSERT_EQUAL(rec.type, KE_REC_NEXT_PROTO);
	CU_ASSERT_EQUAL(rec.body_len, 2);
	CU_ASSERT_PTR_EQUAL(rec.body, in + 4);
	CU_ASSERT_EQUAL_FATAL(ke_record_next(&r, &rec), KE_RECORD_OK);
	CU_ASSERT_FALSE(rec.critical);
	CU_ASSERT_EQUAL(rec.type, 0x4010);
	CU_ASSERT_EQUAL(rec.body_len, 0);
	CU_ASSERT_EQUAL_FATAL(ke_record_next(&r, &rec), KE_RECORD_OK);
	CU_ASSERT_TRUE(rec.critical);
	CU_ASSERT_EQUAL(rec.type, KE_REC_END);
	CU_ASSERT_EQUAL(ke_record_next(&r, &rec), KE_RECORD_END_OF_DATA);
	CU_ASSERT_EQUAL(r.off, sizeof(in));
}

static void test_record_next_truncated(void)
{
	static const uint8_t in[] = { 0x00, 0x05, 0x00, 0x03, 0xaa, 0xbb, 0xcc };
	struct buf_reader r;
	struct ke_record rec;

	for (size_t n = 1; n < sizeof(in); n++) {
		buf_reader_init(&r, in, n);
		CU_ASSERT_EQUAL(ke_record_next(&r, &rec), KE_RECORD_TRUNCATED);
		/* A partial record leaves the reader where it was. */
		CU_ASSERT_EQUAL(r.off, 0);
		CU_ASSERT_FALSE(r.err);
	}
	buf_reader_init(&r, in, 0);
	CU_ASSERT_EQUAL(ke_record_next(&r, &rec), KE_RECORD_END_OF_DATA);
}

static void test_record_next_ffff(void)
{
	size_t n = KE_REC_HEADER_LEN + 0xffff;
	uint8_t *in = calloc(1, n);
	struct buf_reader r;
	struct ke_record rec;

	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	in[0] = 0x12;
	in[1] = 0x34;
	in[2] = 0xff;
	in[3] = 0xff;
	buf_reader_init(&r, in, n - 1);
	CU_ASSERT_EQUAL(ke_record_next(&r, &rec), KE_RECORD_TRUNCATED);
	buf_reader_init(&r, in, n);
	CU_ASSERT_EQUAL_FATAL(ke_record_next(&r, &rec), KE_RECORD_OK);
	CU_ASSERT_EQUAL(rec.type, 0x1234);
	CU_ASSERT_FALSE(rec.critical);
	CU_ASSERT_EQUAL(rec.body_len, 0xffff);
	CU_ASSERT_EQUAL(ke_record_next(&r, &rec), KE_RECORD_END_OF_DATA);
	free(in);
}

static void test_record_put(void)
{
	static const uint8_t want[] = {
		0x80, 0x04, 0x00, 0x02, 0x00, 0x0f,
		0x00, 0x05, 0x00, 0x03, 0x01, 0x02, 0x03,
		0x80, 0x00, 0x00, 0x00,
	};
	static const uint8_t cookie[] = { 1, 2, 3 };
	static const uint8_t aead[] = { 0x00, 0x0f };
	uint8_t out[64];
	struct buf_writer w;

	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE(ke_record_put(&w, true, KE_REC_AEAD, aead, 2));
	CU_ASSERT_TRUE(ke_record_put(&w, false, KE_REC_NEW_COOKIE, cookie, 3));
	CU_ASSERT_TRUE(ke_record_put(&w, true, KE_REC_END, NULL, 0));
	CU_ASSERT_EQUAL_FATAL(w.off, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);

	/* Not encodable: a type using the critical bit, a body over 0xFFFF. */
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_FALSE(ke_record_put(&w, false, 0x8001, NULL, 0));
	CU_ASSERT_TRUE(w.err);
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_FALSE(ke_record_put(&w, false, 1, out, 0x10000));
	CU_ASSERT_TRUE(w.err);

	/* Too little room. */
	for (size_t cap = 0; cap < 6; cap++) {
		buf_writer_init(&w, out, cap);
		CU_ASSERT_FALSE(ke_record_put(&w, true, KE_REC_AEAD, aead, 2));
	}
	buf_writer_init(&w, out, 6);
	CU_ASSERT_TRUE(ke_record_put(&w, true, KE_REC_AEAD, aead, 2));
}

static void test_request_minimal(void)
{
	struct req q;
	struct ke_request r;

	req_minimal(&q);
	CU_ASSERT_EQUAL_FATAL(parse(&q, &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(r.protocols.n, 1);
	CU_ASSERT_EQUAL(ke_id_at(&r.protocols, 0), KE_PROTO_NTPV4);
	CU_ASSERT_EQUAL_FATAL(r.aeads.n, 2);
	CU_ASSERT_EQUAL(ke_id_at(&r.aeads, 0), 15);
	CU_ASSERT_EQUAL(ke_id_at(&r.aeads, 1), 17);
	CU_ASSERT_FALSE(r.has_server);
	CU_ASSERT_FALSE(r.has_port);
	CU_ASSERT_EQUAL(r.len, q.w.off);
	CU_ASSERT_EQUAL(r.len, 6 + 8 + 4);
}

static void test_request_hand_bytes(void)
{
	/* Written out by hand from RFC 8915 section 4: critical bit, type,
	 * length excluding the header. */
	static const uint8_t in[] = {
		0x80, 0x01, 0x00, 0x04, 0x00, 0x00, 0x80, 0x02,	/* NextProto 0, 0x8002 */
		0x00, 0x04, 0x00, 0x04, 0x00, 0x11, 0x00, 0x0f,	/* AEAD 17, 15 */
		0x80, 0x06, 0x00, 0x03, '1', '.', '2',		/* critical Server */
		0x00, 0x07, 0x00, 0x02, 0x10, 0x01,		/* Port 4097 */
		0x80, 0x00, 0x00, 0x00,				/* End */
	};
	struct ke_request r;

	CU_ASSERT_EQUAL_FATAL(ke_request_parse(in, sizeof(in), &r), KE_REQ_OK);
	CU_ASSERT_EQUAL_FATAL(r.protocols.n, 2);
	CU_ASSERT_EQUAL(ke_id_at(&r.protocols, 0), 0);
	CU_ASSERT_EQUAL(ke_id_at(&r.protocols, 1), 0x8002);
	CU_ASSERT_EQUAL_FATAL(r.aeads.n, 2);
	CU_ASSERT_EQUAL(ke_id_at(&r.aeads, 0), 17);
	CU_ASSERT_EQUAL(ke_id_at(&r.aeads, 1), 15);
	CU_ASSERT_TRUE(r.has_server);
	CU_ASSERT_STRING_EQUAL(r.server, "1.2");
	CU_ASSERT_TRUE(r.has_port);
	CU_ASSERT_EQUAL(r.port, 4097);
	CU_ASSERT_EQUAL(r.len, sizeof(in));
}

static void test_request_every_prefix_incomplete(void)
{
	struct req q;
	struct ke_request r;
	static const char host[] = "ntp.example.net";

	req_begin(&q);
	raw(&q.w, 0x1234, "xyz", 3);	/* unknown, not critical */
	req_next_proto(&q);
	raw(&q.w, C | KE_REC_SERVER, host, strlen(host));
	req_aead(&q);
	raw(&q.w, KE_REC_PORT, port_123, 2);
	req_end(&q);
	CU_ASSERT_FATAL(!q.w.err);
	for (size_t n = 0; n < q.w.off; n++)
		CU_ASSERT_EQUAL(ke_request_parse(q.b, n, &r), KE_REQ_INCOMPLETE);
	CU_ASSERT_EQUAL(ke_request_parse(q.b, q.w.off, &r), KE_REQ_OK);
	CU_ASSERT_STRING_EQUAL(r.server, host);
	CU_ASSERT_EQUAL(r.port, 123);
	CU_ASSERT_EQUAL(ke_request_parse(NULL, 0, &r), KE_REQ_INCOMPLETE);
}

static void test_request_orders(void)
{
	/* Every order of the four records before End is the same request. */
	static const int perms[24][4] = {
		{0,1,2,3},{0,1,3,2},{0,2,1,3},{0,2,3,1},{0,3,1,2},{0,3,2,1},
		{1,0,2,3},{1,0,3,2},{1,2,0,3},{1,2,3,0},{1,3,0,2},{1,3,2,0},
		{2,0,1,3},{2,0,3,1},{2,1,0,3},{2,1,3,0},{2,3,0,1},{2,3,1,0},
		{3,0,1,2},{3,0,2,1},{3,1,0,2},{3,1,2,0},{3,2,0,1},{3,2,1,0},
	};

	for (size_t i = 0; i < 24; i++) {
		struct req q;
		struct ke_request r;

		req_begin(&q);
		for (size_t j = 0; j < 4; j++) {
			switch (perms[i][j]) {
			case 0:
				req_next_proto(&q);
				break;
			case 1:
				req_aead(&q);
				break;
			case 2:
				raw(&q.w, KE_REC_SERVER, "::1", 3);
				break;
			case 3:
				raw(&q.w, C | KE_REC_PORT, port_123, 2);
				break;
			}
		}
		req_end(&q);
		CU_ASSERT_EQUAL_FATAL(parse(&q, &r), KE_REQ_OK);
		CU_ASSERT_EQUAL(r.protocols.n, 1);
		CU_ASSERT_EQUAL(r.aeads.n, 2);
		CU_ASSERT_STRING_EQUAL(r.server, "::1");
		CU_ASSERT_EQUAL(r.port, 123);
	}
}

static void test_request_unknown_noncritical_ignored(void)
{
	struct ke_request r;
	uint8_t body[300];

	memset(body, 0xee, sizeof(body));
	CU_ASSERT_EQUAL(parse_with(0x0008, NULL, 0, &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(parse_with(0x4000, body, 1, &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(parse_with(0x7fff, body, sizeof(body), &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(r.aeads.n, 2);
}

static void test_request_unknown_critical(void)
{
	struct req q;
	struct ke_request r;

	CU_ASSERT_EQUAL(parse_with(C | 0x0008, NULL, 0, &r), KE_REQ_UNRECOGNIZED_CRITICAL);
	CU_ASSERT_EQUAL(parse_with(C | 0x7fff, "ab", 2, &r), KE_REQ_UNRECOGNIZED_CRITICAL);
	/* Reported at once, before End of Message arrives. */
	req_begin(&q);
	req_next_proto(&q);
	raw(&q.w, C | 0x1234, NULL, 0);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_UNRECOGNIZED_CRITICAL);
	CU_ASSERT_EQUAL(ke_request_error_code(KE_REQ_UNRECOGNIZED_CRITICAL),
			KE_ERROR_UNRECOGNIZED_CRITICAL);
}

static void test_request_not_critical(void)
{
	struct req q;
	struct ke_request r;

	req_begin(&q);
	req_next_proto(&q);
	req_aead(&q);
	raw(&q.w, KE_REC_END, NULL, 0);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_NOT_CRITICAL);

	req_begin(&q);
	raw(&q.w, KE_REC_NEXT_PROTO, proto_ntpv4, 2);
	req_aead(&q);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_NOT_CRITICAL);
}

static void test_request_next_proto_rules(void)
{
	struct req q;
	struct ke_request r;
	static const uint8_t odd[] = { 0, 0, 0 };
	static const uint8_t other[] = { 0x80, 0x01 };

	/* Missing. */
	req_begin(&q);
	req_aead(&q);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_NO_NEXT_PROTO);
	req_begin(&q);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_NO_NEXT_PROTO);
	/* Duplicate, also when the second one is not critical. */
	CU_ASSERT_EQUAL(parse_with(C | KE_REC_NEXT_PROTO, proto_ntpv4, 2, &r),
			KE_REQ_DUP_NEXT_PROTO);
	CU_ASSERT_EQUAL(parse_with(KE_REC_NEXT_PROTO, proto_ntpv4, 2, &r),
			KE_REQ_DUP_NEXT_PROTO);
	/* Empty, odd. */
	req_begin(&q);
	raw(&q.w, C | KE_REC_NEXT_PROTO, NULL, 0);
	req_aead(&q);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_BAD_NEXT_PROTO);
	req_begin(&q);
	raw(&q.w, C | KE_REC_NEXT_PROTO, odd, 3);
	req_aead(&q);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_BAD_NEXT_PROTO);
	req_begin(&q);
	raw(&q.w, C | KE_REC_NEXT_PROTO, odd, 1);
	req_aead(&q);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_BAD_NEXT_PROTO);
	/* Not NTPv4: the AEAD record is not required. */
	req_begin(&q);
	raw(&q.w, C | KE_REC_NEXT_PROTO, other, 2);
	req_end(&q);
	CU_ASSERT_EQUAL_FATAL(parse(&q, &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(r.protocols.n, 1);
	CU_ASSERT_EQUAL(ke_id_at(&r.protocols, 0), 0x8001);
	CU_ASSERT_EQUAL(r.aeads.n, 0);
}

static void test_request_aead_rules(void)
{
	struct req q;
	struct ke_request r;
	static const uint8_t odd[] = { 0, 15, 0 };

	/* NTPv4 offered, no AEAD record. */
	req_begin(&q);
	req_next_proto(&q);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_NO_AEAD);
	/* Duplicate. */
	CU_ASSERT_EQUAL(parse_with(C | KE_REC_AEAD, aead_15_17, 4, &r), KE_REQ_DUP_AEAD);
	CU_ASSERT_EQUAL(parse_with(KE_REC_AEAD, aead_15_17, 2, &r), KE_REQ_DUP_AEAD);
	/* Empty, odd. */
	req_begin(&q);
	req_next_proto(&q);
	raw(&q.w, C | KE_REC_AEAD, NULL, 0);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_BAD_AEAD);
	req_begin(&q);
	req_next_proto(&q);
	raw(&q.w, KE_REC_AEAD, odd, 3);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_BAD_AEAD);
	/* Critical or not, both accepted. */
	req_begin(&q);
	req_next_proto(&q);
	raw(&q.w, KE_REC_AEAD, odd, 2);
	req_end(&q);
	CU_ASSERT_EQUAL_FATAL(parse(&q, &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(r.aeads.n, 1);
	CU_ASSERT_EQUAL(ke_id_at(&r.aeads, 0), 15);
	req_minimal(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_OK);
}

static void test_request_forbidden(void)
{
	struct ke_request r;
	static const uint8_t code[] = { 0, 1 };
	uint8_t cookie[64];

	memset(cookie, 0x5a, sizeof(cookie));
	CU_ASSERT_EQUAL(parse_with(C | KE_REC_ERROR, code, 2, &r), KE_REQ_FORBIDDEN_RECORD);
	CU_ASSERT_EQUAL(parse_with(KE_REC_ERROR, code, 2, &r), KE_REQ_FORBIDDEN_RECORD);
	CU_ASSERT_EQUAL(parse_with(C | KE_REC_WARNING, code, 2, &r), KE_REQ_FORBIDDEN_RECORD);
	CU_ASSERT_EQUAL(parse_with(KE_REC_WARNING, code, 2, &r), KE_REQ_FORBIDDEN_RECORD);
	CU_ASSERT_EQUAL(parse_with(KE_REC_NEW_COOKIE, cookie, 64, &r), KE_REQ_FORBIDDEN_RECORD);
	CU_ASSERT_EQUAL(parse_with(C | KE_REC_NEW_COOKIE, cookie, 64, &r),
			KE_REQ_FORBIDDEN_RECORD);
	CU_ASSERT_EQUAL(ke_request_error_code(KE_REQ_FORBIDDEN_RECORD), KE_ERROR_BAD_REQUEST);
}

static void test_request_server(void)
{
	struct req q;
	struct ke_request r;
	char name[KE_MAX_SERVER_LEN + 2];

	CU_ASSERT_EQUAL_FATAL(parse_with(C | KE_REC_SERVER, "192.0.2.1", 9, &r), KE_REQ_OK);
	CU_ASSERT_TRUE(r.has_server);
	CU_ASSERT_STRING_EQUAL(r.server, "192.0.2.1");
	CU_ASSERT_EQUAL_FATAL(parse_with(KE_REC_SERVER, "2001:db8::1", 11, &r), KE_REQ_OK);
	CU_ASSERT_STRING_EQUAL(r.server, "2001:db8::1");

	memset(name, 'a', sizeof(name));
	CU_ASSERT_EQUAL_FATAL(parse_with(KE_REC_SERVER, name, KE_MAX_SERVER_LEN, &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(strlen(r.server), KE_MAX_SERVER_LEN);
	CU_ASSERT_EQUAL(parse_with(KE_REC_SERVER, name, KE_MAX_SERVER_LEN + 1, &r),
			KE_REQ_BAD_SERVER);
	CU_ASSERT_EQUAL(parse_with(KE_REC_SERVER, NULL, 0, &r), KE_REQ_BAD_SERVER);
	CU_ASSERT_EQUAL(parse_with(KE_REC_SERVER, "a b", 3, &r), KE_REQ_BAD_SERVER);
	CU_ASSERT_EQUAL(parse_with(KE_REC_SERVER, "a\0b", 3, &r), KE_REQ_BAD_SERVER);
	CU_ASSERT_EQUAL(parse_with(KE_REC_SERVER, "a\nb", 3, &r), KE_REQ_BAD_SERVER);
	CU_ASSERT_EQUAL(parse_with(KE_REC_SERVER, "a\x7f", 2, &r), KE_REQ_BAD_SERVER);
	CU_ASSERT_EQUAL(parse_with(KE_REC_SERVER, "\xc3\xa9", 2, &r), KE_REQ_BAD_SERVER);

	/* At most one. */
	req_begin(&q);
	req_next_proto(&q);
	raw(&q.w, KE_REC_SERVER, "a", 1);
	raw(&q.w, KE_REC_SERVER, "b", 1);
	req_aead(&q);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_BAD_SERVER);
}

static void test_request_port(void)
{
	struct req q;
	struct ke_request r;
	static const uint8_t three[] = { 0, 1, 2 };

	CU_ASSERT_EQUAL_FATAL(parse_with(C | KE_REC_PORT, port_123, 2, &r), KE_REQ_OK);
	CU_ASSERT_TRUE(r.has_port);
	CU_ASSERT_EQUAL(r.port, 123);
	CU_ASSERT_EQUAL_FATAL(parse_with(KE_REC_PORT, "\xff\xff", 2, &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(r.port, 65535);
	CU_ASSERT_EQUAL(parse_with(KE_REC_PORT, NULL, 0, &r), KE_REQ_BAD_PORT);
	CU_ASSERT_EQUAL(parse_with(KE_REC_PORT, three, 1, &r), KE_REQ_BAD_PORT);
	CU_ASSERT_EQUAL(parse_with(KE_REC_PORT, three, 3, &r), KE_REQ_BAD_PORT);

	req_begin(&q);
	req_next_proto(&q);
	raw(&q.w, KE_REC_PORT, port_123, 2);
	req_aead(&q);
	raw(&q.w, C | KE_REC_PORT, port_123, 2);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_BAD_PORT);
}

static void test_request_end_rules(void)
{
	struct req q;
	struct ke_request r;

	/* End with a body. */
	req_begin(&q);
	req_next_proto(&q);
	req_aead(&q);
	raw(&q.w, C | KE_REC_END, "\0\0", 2);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_BAD_END);

	/* Anything after End, even one byte or a whole record. */
	req_minimal(&q);
	buf_put_u8(&q.w, 0);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_TRAILING_DATA);
	req_minimal(&q);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_TRAILING_DATA);
}

/* Section 4: any well-formed request is accepted, however many records
 * or ids it carries; the session's size cap is the only bound. */
static void test_request_no_count_limits(void)
{
	uint8_t ids[2 * 500];
	struct req q;
	struct ke_request r;

	/* 66 records: Next Protocol, AEAD, 63 unknown, End. */
	req_begin(&q);
	req_next_proto(&q);
	req_aead(&q);
	for (size_t i = 0; i < 63; i++)
		raw(&q.w, 0x0100, NULL, 0);
	req_end(&q);
	CU_ASSERT_EQUAL(q.w.off, 270);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_OK);
	/* 17 AEADs, the one we know last. */
	for (size_t i = 0; i < 17; i++)
		buf_store_u16(ids + 2 * i, (uint16_t)(i == 16 ? 15 : 0x8000 + i));
	req_begin(&q);
	req_next_proto(&q);
	raw(&q.w, C | KE_REC_AEAD, ids, 2 * 17);
	req_end(&q);
	CU_ASSERT_EQUAL_FATAL(parse(&q, &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(r.aeads.n, 17);
	CU_ASSERT_EQUAL(ke_id_at(&r.aeads, 16), 15);
	/* 500 protocols, NTPv4 last; 1000 bytes of AEAD ids. */
	for (size_t i = 0; i < 500; i++)
		buf_store_u16(ids + 2 * i, (uint16_t)(i == 499 ? KE_PROTO_NTPV4 : 0x8000 + i));
	req_begin(&q);
	raw(&q.w, C | KE_REC_NEXT_PROTO, ids, sizeof(ids));
	raw(&q.w, C | KE_REC_AEAD, ids, sizeof(ids));
	req_end(&q);
	CU_ASSERT_EQUAL_FATAL(parse(&q, &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(r.protocols.n, 500);
	CU_ASSERT_TRUE(ke_id_list_has(&r.protocols, KE_PROTO_NTPV4));
	CU_ASSERT_EQUAL(r.aeads.n, 500);
	/* 4000 records, near the size cap. */
	req_begin(&q);
	for (size_t i = 0; i < 3997; i++)
		raw(&q.w, 0x0100, NULL, 0);
	req_next_proto(&q);
	req_aead(&q);
	req_end(&q);
	CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_OK);
}

/* A small deterministic generator for the mixed requests below. */
static uint32_t mix_next(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* A well-formed request of about `size` bytes: Next Protocol, AEAD,
 * Server and Port once each and unknown non-critical records of random
 * lengths, in a random order, End last. */
static void mixed_request(struct req *q, size_t size, uint32_t *s)
{
	static const uint8_t host[] = "ntp.example.net";
	bool proto = false, aead = false, server = false, port = false;
	uint8_t body[300];

	memset(body, 0x41, sizeof(body));
	req_begin(q);
	while (q->w.off + 4 < size || !proto || !aead) {
		switch (mix_next(s) % 6) {
		case 0:
			if (!proto)
				req_next_proto(q);
			proto = true;
			break;
		case 1:
			if (!aead)
				req_aead(q);
			aead = true;
			break;
		case 2:
			if (!server)
				raw(&q->w, (mix_next(s) & 1 ? C : 0) | KE_REC_SERVER, host,
				    sizeof(host) - 1);
			server = true;
			break;
		case 3:
			if (!port)
				raw(&q->w, KE_REC_PORT, port_123, 2);
			port = true;
			break;
		default:
			raw(&q->w, (uint16_t)(0x0100 + mix_next(s) % 0x3f00), body,
			    mix_next(s) % sizeof(body));
			break;
		}
	}
	req_end(q);
}

static void test_request_any_mix(void)
{
	uint32_t seed = 8915;
	struct req q;
	struct ke_request r;

	for (int i = 0; i < 300; i++) {
		size_t size = i < 200 ? 16 + (size_t)i * 5 : 1024 + (size_t)(i - 200) * 140;

		mixed_request(&q, size, &seed);
		CU_ASSERT_FATAL(!q.w.err);
		CU_ASSERT_EQUAL(parse(&q, &r), KE_REQ_OK);
		CU_ASSERT_EQUAL(r.len, q.w.off);
	}
}

/* ke_request_continue reads only what the last call did not: records
 * already read may change (as if the buffer moved) without effect, the
 * verdict matches a parse of the whole, and an error is reported when its
 * record is complete, not at End of Message. */
static void test_request_continue(void)
{
	uint32_t seed = 4460;
	struct req q;
	struct ke_request r, whole;
	size_t first;

	for (int i = 0; i < 20; i++) {
		mixed_request(&q, 100 + (size_t)i * 50, &seed);
		CU_ASSERT_EQUAL_FATAL(ke_request_parse(q.b, q.w.off, &whole), KE_REQ_OK);
		ke_request_init(&r);
		for (size_t n = 0; n < q.w.off; n++)
			CU_ASSERT_EQUAL_FATAL(ke_request_continue(q.b, n, &r), KE_REQ_INCOMPLETE);
		CU_ASSERT_EQUAL_FATAL(ke_request_continue(q.b, q.w.off, &r), KE_REQ_OK);
		CU_ASSERT_EQUAL(r.len, whole.len);
		CU_ASSERT_EQUAL(r.protocols.p, whole.protocols.p);
		CU_ASSERT_EQUAL(r.aeads.n, whole.aeads.n);
		CU_ASSERT_STRING_EQUAL(r.server, whole.server);
	}
	/* An unknown record read once is not read again. */
	req_begin(&q);
	raw(&q.w, 0x0100, "abc", 3);
	first = q.w.off;
	req_next_proto(&q);
	req_aead(&q);
	req_end(&q);
	ke_request_init(&r);
	CU_ASSERT_EQUAL(ke_request_continue(q.b, first, &r), KE_REQ_INCOMPLETE);
	CU_ASSERT_EQUAL(r.parsed, first);
	q.b[0] = 0x80 | 0x40;	/* now an unknown critical record */
	CU_ASSERT_EQUAL(ke_request_continue(q.b, q.w.off, &r), KE_REQ_OK);
	/* An error is reported as soon as its record is complete. */
	ke_request_init(&r);
	CU_ASSERT_EQUAL(ke_request_continue(q.b, first, &r), KE_REQ_UNRECOGNIZED_CRITICAL);
}

static void test_request_length_ffff(void)
{
	size_t cap = 32 + 0xffff;
	uint8_t *b = calloc(1, cap);
	struct buf_writer w;
	struct ke_request r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* An unknown non-critical record of 0xFFFF bytes is skipped whole. */
	buf_writer_init(&w, b, cap);
	raw(&w, C | KE_REC_NEXT_PROTO, proto_ntpv4, 2);
	buf_put_u16(&w, 0x2222);
	buf_put_u16(&w, 0xffff);
	buf_put_zeros(&w, 0xffff);
	raw(&w, C | KE_REC_AEAD, aead_15_17, 4);
	raw(&w, C | KE_REC_END, NULL, 0);
	CU_ASSERT_FATAL(!w.err);
	CU_ASSERT_EQUAL(ke_request_parse(b, w.off, &r), KE_REQ_OK);
	CU_ASSERT_EQUAL(r.len, w.off);
	/* The length claims more than arrived: wait for it. */
	CU_ASSERT_EQUAL(ke_request_parse(b, 6 + 4 + 100, &r), KE_REQ_INCOMPLETE);

	/* 0xFFFF bytes of Next Protocol: odd; 0xFFFE of AEAD ids: taken
	 * (the session's size cap bounds a request, not the parser). */
	buf_writer_init(&w, b, cap);
	buf_put_u16(&w, C | KE_REC_NEXT_PROTO);
	buf_put_u16(&w, 0xffff);
	buf_put_zeros(&w, 0xffff);
	CU_ASSERT_EQUAL(ke_request_parse(b, w.off, &r), KE_REQ_BAD_NEXT_PROTO);
	buf_writer_init(&w, b, cap);
	buf_put_u16(&w, C | KE_REC_AEAD);
	buf_put_u16(&w, 0xfffe);
	buf_put_zeros(&w, 0xfffe);
	CU_ASSERT_EQUAL(ke_request_parse(b, w.off, &r), KE_REQ_INCOMPLETE);
	CU_ASSERT_EQUAL(r.aeads.n, 0x7fff);
	buf_writer_init(&w, b, cap);
	buf_put_u16(&w, KE_REC_SERVER);
	buf_put_u16(&w, 0xffff);
	buf_put_zeros(&w, 0xffff);
	CU_ASSERT_EQUAL(ke_request_parse(b, w.off, &r), KE_REQ_BAD_SERVER);
	free(b);
}

static void test_request_status_names(void)
{
	CU_ASSERT_STRING_EQUAL(ke_request_status_str(KE_REQ_OK), "ok");
	CU_ASSERT_STRING_EQUAL(ke_request_status_str(KE_REQ_INCOMPLETE), "incomplete");
	CU_ASSERT_STRING_EQUAL(ke_request_status_str(KE_REQ_UNRECOGNIZED_CRITICAL),
			       "unrecognized_critical");
	CU_ASSERT_STRING_EQUAL(ke_request_status_str(KE_REQ_DUP_NEXT_PROTO), "dup_next_proto");
	CU_ASSERT_STRING_EQUAL(ke_request_status_str(KE_REQ_TRAILING_DATA), "trailing_data");
	CU_ASSERT_STRING_EQUAL(ke_request_status_str(KE_REQ_STATUS_COUNT), "unknown");
	/* Every status has its own name (they become counter names). */
	for (int i = 0; i < KE_REQ_STATUS_COUNT; i++) {
		const char *a = ke_request_status_str((enum ke_request_status)i);

		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		CU_ASSERT_TRUE(strlen(a) > 0);
		CU_ASSERT_STRING_NOT_EQUAL(a, "unknown");
		for (int j = 0; j < i; j++)
			CU_ASSERT_STRING_NOT_EQUAL(a, ke_request_status_str((enum ke_request_status)j));
	}
}

static void test_request_error_codes(void)
{
	for (int i = 0; i < KE_REQ_STATUS_COUNT; i++) {
		enum ke_error_code want = i == KE_REQ_UNRECOGNIZED_CRITICAL ?
			KE_ERROR_UNRECOGNIZED_CRITICAL : KE_ERROR_BAD_REQUEST;

		CU_ASSERT_EQUAL(ke_request_error_code((enum ke_request_status)i), want);
	}
}

static void test_response_full(void)
{
	static const uint8_t c1[] = { 0xc1, 0xc1, 0xc1, 0xc1 };
	static const uint8_t c2[] = { 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2 };
	const uint8_t *const cookies[] = { c1, c2 };
	const size_t lens[] = { sizeof(c1), sizeof(c2) };
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00,		/* Next Protocol: NTPv4 */
		0x80, 0x04, 0x00, 0x02, 0x00, 0x0f,		/* AEAD: 15 */
		0x00, 0x05, 0x00, 0x04, 0xc1, 0xc1, 0xc1, 0xc1,	/* New Cookie */
		0x00, 0x05, 0x00, 0x08, 0xc2, 0xc2, 0xc2, 0xc2,
		0xc2, 0xc2, 0xc2, 0xc2,				/* New Cookie */
		0x80, 0x06, 0x00, 0x09, '1', '9', '2', '.', '0', '.', '2', '.', '7',
		0x80, 0x07, 0x00, 0x02, 0x01, 0x23,		/* Port 291 */
		0x80, 0x00, 0x00, 0x00,				/* End */
	};
	struct ke_response resp = {
		.has_protocol = true, .protocol = KE_PROTO_NTPV4,
		.has_aead = true, .aead = 15,
		.cookies = cookies, .cookie_lens = lens, .n_cookies = 2,
		.server = "192.0.2.7", .has_port = true, .port = 0x123,
	};
	uint8_t out[256];
	struct buf_writer w;

	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE_FATAL(ke_response_build(&w, &resp));
	CU_ASSERT_EQUAL_FATAL(w.off, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);

	/* Every smaller buffer fails cleanly. */
	for (size_t cap = 0; cap < sizeof(want); cap++) {
		buf_writer_init(&w, out, cap);
		CU_ASSERT_FALSE(ke_response_build(&w, &resp));
	}
}

static void test_response_empty(void)
{
	/* No overlap: empty Next Protocol and AEAD records, no cookies. */
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00,
		0x80, 0x04, 0x00, 0x00,
		0x80, 0x00, 0x00, 0x00,
	};
	struct ke_response resp = { .has_protocol = false, .protocol = 0x1234,
				    .has_aead = false, .aead = 17 };
	uint8_t out[64];
	struct buf_writer w;

	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE_FATAL(ke_response_build(&w, &resp));
	CU_ASSERT_EQUAL_FATAL(w.off, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
}

static void test_response_protocol_only(void)
{
	/* NTPv4 chosen, no common AEAD: AEAD record still present, empty. */
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00,
		0x80, 0x04, 0x00, 0x00,
		0x80, 0x07, 0x00, 0x02, 0x00, 0x7b,
		0x80, 0x00, 0x00, 0x00,
	};
	struct ke_response resp = { .has_protocol = true, .protocol = 0,
				    .has_port = true, .port = 123 };
	uint8_t out[64];
	struct buf_writer w;

	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE_FATAL(ke_response_build(&w, &resp));
	CU_ASSERT_EQUAL_FATAL(w.off, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
}

static void test_error_build(void)
{
	static const uint8_t want0[] = { 0x80, 0x02, 0x00, 0x02, 0x00, 0x00,
					 0x80, 0x00, 0x00, 0x00 };
	static const uint8_t want1[] = { 0x80, 0x02, 0x00, 0x02, 0x00, 0x01,
					 0x80, 0x00, 0x00, 0x00 };
	static const uint8_t want2[] = { 0x80, 0x02, 0x00, 0x02, 0x00, 0x02,
					 0x80, 0x00, 0x00, 0x00 };
	uint8_t out[16];
	struct buf_writer w;

	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE_FATAL(ke_error_build(&w, KE_ERROR_UNRECOGNIZED_CRITICAL));
	CU_ASSERT_EQUAL_FATAL(w.off, 10);
	CU_ASSERT_EQUAL(memcmp(out, want0, 10), 0);
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE_FATAL(ke_error_build(&w, KE_ERROR_BAD_REQUEST));
	CU_ASSERT_EQUAL(memcmp(out, want1, 10), 0);
	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE_FATAL(ke_error_build(&w, KE_ERROR_INTERNAL));
	CU_ASSERT_EQUAL(memcmp(out, want2, 10), 0);
	buf_writer_init(&w, out, 9);
	CU_ASSERT_FALSE(ke_error_build(&w, KE_ERROR_BAD_REQUEST));
}

static void test_response_round_trip(void)
{
	/* What we build, our own record walker reads back. */
	static const uint8_t ck[] = { 9, 9, 9, 9 };
	const uint8_t *const cookies[] = { ck, ck, ck };
	const size_t lens[] = { 4, 4, 4 };
	struct ke_response resp = {
		.has_protocol = true, .protocol = 0, .has_aead = true, .aead = 17,
		.cookies = cookies, .cookie_lens = lens, .n_cookies = 3,
		.server = "ntp.example.org",
	};
	uint8_t out[256];
	struct buf_writer w;
	struct buf_reader r;
	struct ke_record rec;
	size_t n = 0, n_cookies = 0;

	buf_writer_init(&w, out, sizeof(out));
	CU_ASSERT_TRUE_FATAL(ke_response_build(&w, &resp));
	buf_reader_init(&r, out, w.off);
	while (ke_record_next(&r, &rec) == KE_RECORD_OK) {
		n++;
		if (rec.type == KE_REC_NEW_COOKIE) {
			n_cookies++;
			CU_ASSERT_FALSE(rec.critical);
		} else {
			CU_ASSERT_TRUE(rec.critical);
		}
		if (rec.type == KE_REC_SERVER) {
			CU_ASSERT_EQUAL(rec.body_len, strlen(resp.server));
			CU_ASSERT_EQUAL(memcmp(rec.body, resp.server, rec.body_len), 0);
		}
		CU_ASSERT_NOT_EQUAL(rec.type, KE_REC_PORT);
	}
	CU_ASSERT_EQUAL(r.off, w.off);
	CU_ASSERT_EQUAL(n_cookies, 3);
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_EQUAL(rec.type, KE_REC_END);
}

/* A client has the whole response once an End of Message record is in. */
static void test_records_complete(void)
{
	static const uint8_t resp[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00,	/* Next Protocol: NTPv4 */
		0x80, 0x00, 0x00, 0x00,			/* End of Message */
	};

	CU_ASSERT_TRUE(ke_records_complete(resp, sizeof(resp)));
	for (size_t n = 0; n < sizeof(resp); n++)
		CU_ASSERT_FALSE(ke_records_complete(resp, n));
	/* An End of Message type inside a body does not count. */
	CU_ASSERT_FALSE(ke_records_complete(resp, 6));
}

/* ---- the client side: request builder, response parser ---- */

static void test_request_build(void)
{
	static const uint16_t aeads[] = { 17, 15 };
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00,		/* Next Protocol: NTPv4 */
		0x80, 0x04, 0x00, 0x04, 0x00, 0x11, 0x00, 0x0f,	/* AEAD: 17, 15 */
		0x80, 0x00, 0x00, 0x00,				/* End of Message */
	};
	uint16_t many[KE_MAX_AEADS + 4];
	uint8_t b[256];
	struct buf_writer w;
	struct ke_request req;

	buf_writer_init(&w, b, sizeof(b));
	CU_ASSERT_TRUE_FATAL(ke_request_build(&w, aeads, 2));
	CU_ASSERT_EQUAL_FATAL(w.off, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(b, want, sizeof(want)), 0);
	CU_ASSERT_EQUAL(ke_request_parse(b, w.off, &req), KE_REQ_OK);
	/* More AEADs than a request may carry: the first KE_MAX_AEADS go. */
	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		many[i] = (uint16_t)(i + 1);
	buf_writer_init(&w, b, sizeof(b));
	CU_ASSERT_TRUE_FATAL(ke_request_build(&w, many, sizeof(many) / sizeof(many[0])));
	CU_ASSERT_EQUAL_FATAL(ke_request_parse(b, w.off, &req), KE_REQ_OK);
	CU_ASSERT_EQUAL(req.aeads.n, KE_MAX_AEADS);
	CU_ASSERT_EQUAL(ke_id_at(&req.aeads, KE_MAX_AEADS - 1), KE_MAX_AEADS);
	/* Too small a buffer says so. */
	buf_writer_init(&w, b, sizeof(want) - 1);
	CU_ASSERT_FALSE(ke_request_build(&w, aeads, 2));
}

/* A response as ntsd builds it: 2 cookies, optional Server and Port. */
static size_t good_reply(uint8_t *b, size_t cap, const char *server, int port)
{
	static const uint8_t c1[] = { 1, 2, 3, 4 };
	static const uint8_t c2[] = { 5, 6, 7, 8, 9, 10, 11, 12 };
	const uint8_t *const cookies[] = { c1, c2 };
	const size_t lens[] = { sizeof(c1), sizeof(c2) };
	struct ke_response resp = {
		.has_protocol = true, .protocol = KE_PROTO_NTPV4,
		.has_aead = true, .aead = 15,
		.cookies = cookies, .cookie_lens = lens, .n_cookies = 2,
		.server = server, .has_port = port >= 0, .port = (uint16_t)(port < 0 ? 0 : port),
	};
	struct buf_writer w;

	buf_writer_init(&w, b, cap);
	CU_ASSERT_TRUE_FATAL(ke_response_build(&w, &resp));
	return w.off;
}

static void test_reply_round_trip(void)
{
	uint8_t b[512];
	size_t n = good_reply(b, sizeof(b), "ntp.example.org", 10123);
	struct ke_reply r;
	char why[128];

	CU_ASSERT_EQUAL_FATAL(ke_reply_parse(b, n, &r), KE_REPLY_OK);
	CU_ASSERT_TRUE(r.has_protocol);
	CU_ASSERT_EQUAL(r.protocol, KE_PROTO_NTPV4);
	CU_ASSERT_TRUE(r.has_aead);
	CU_ASSERT_EQUAL(r.aead, 15);
	CU_ASSERT_FALSE(r.has_error);
	CU_ASSERT_FALSE(r.has_warning);
	CU_ASSERT_EQUAL_FATAL(r.n_cookies, 2);
	CU_ASSERT_EQUAL(r.n_cookies_seen, 2);
	CU_ASSERT_EQUAL(r.cookie_lens[0], 4);
	CU_ASSERT_EQUAL(r.cookie_lens[1], 8);
	CU_ASSERT_EQUAL(r.cookies[0][3], 4);
	CU_ASSERT_EQUAL(r.cookies[1][7], 12);
	CU_ASSERT_TRUE(r.has_server);
	CU_ASSERT_STRING_EQUAL(r.server, "ntp.example.org");
	CU_ASSERT_TRUE(r.has_port);
	CU_ASSERT_EQUAL(r.port, 10123);
	CU_ASSERT_PTR_NULL(ke_reply_unusable(&r, why, sizeof(why)));

	n = good_reply(b, sizeof(b), NULL, -1);
	CU_ASSERT_EQUAL_FATAL(ke_reply_parse(b, n, &r), KE_REPLY_OK);
	CU_ASSERT_FALSE(r.has_server);
	CU_ASSERT_FALSE(r.has_port);
	/* Every proper prefix lacks its End of Message. */
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(ke_reply_parse(b, i, &r), KE_REPLY_INCOMPLETE);
}

/* One record, then a good tail (NTPv4, AEAD 15, one cookie, End). */
struct bad_reply {
	const char *what;
	uint16_t word;			/* first record: critical bit + type */
	uint8_t body[KE_MAX_COOKIE_LEN + 2];
	size_t len;
	enum ke_reply_status want;
};

static void reply_tail(struct buf_writer *w)
{
	static const uint8_t cookie[] = { 0xcc, 0xcc, 0xcc, 0xcc };

	raw(w, C | KE_REC_NEXT_PROTO, proto_ntpv4, sizeof(proto_ntpv4));
	raw(w, C | KE_REC_AEAD, (const uint8_t[]){ 0x00, 0x0f }, 2);
	raw(w, KE_REC_NEW_COOKIE, cookie, sizeof(cookie));
	raw(w, C | KE_REC_END, NULL, 0);
}

static void test_reply_malformed(void)
{
	static const struct bad_reply cases[] = {
		{ "unknown critical", C | 0x4000, { 0 }, 0, KE_REPLY_UNRECOGNIZED_CRITICAL },
		{ "unknown, not critical", 0x4000, { 1, 2 }, 2, KE_REPLY_OK },
		{ "Next Protocol of 3 bytes", C | KE_REC_NEXT_PROTO, { 0, 0, 0 }, 3,
		  KE_REPLY_BAD_NEXT_PROTO },
		{ "two protocols chosen", C | KE_REC_NEXT_PROTO, { 0, 0, 0, 1 }, 4,
		  KE_REPLY_BAD_NEXT_PROTO },
		{ "AEAD of 1 byte", C | KE_REC_AEAD, { 15 }, 1, KE_REPLY_BAD_AEAD },
		{ "Error of 1 byte", C | KE_REC_ERROR, { 1 }, 1, KE_REPLY_BAD_ERROR },
		{ "Warning of 3 bytes", C | KE_REC_WARNING, { 0, 0, 1 }, 3, KE_REPLY_BAD_WARNING },
		{ "empty cookie", KE_REC_NEW_COOKIE, { 0 }, 0, KE_REPLY_BAD_COOKIE },
		{ "cookie too long", KE_REC_NEW_COOKIE, { 0 }, KE_MAX_COOKIE_LEN + 1,
		  KE_REPLY_BAD_COOKIE },
		{ "empty server", C | KE_REC_SERVER, { 0 }, 0, KE_REPLY_BAD_SERVER },
		{ "server with a space", C | KE_REC_SERVER, { 'a', ' ', 'b' }, 3,
		  KE_REPLY_BAD_SERVER },
		{ "port of 1 byte", C | KE_REC_PORT, { 1 }, 1, KE_REPLY_BAD_PORT },
		{ "End with a body", C | KE_REC_END, { 0 }, 1, KE_REPLY_BAD_END },
	};
	uint8_t b[1024];
	struct buf_writer w;
	struct ke_reply r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_reply *c = &cases[i];
		enum ke_reply_status got;

		buf_writer_init(&w, b, sizeof(b));
		raw(&w, c->word, c->body, c->len);
		reply_tail(&w);
		CU_ASSERT_FALSE_FATAL(w.err);
		got = ke_reply_parse(b, w.off, &r);
		if (got != c->want)
			fprintf(stderr, "reply case '%s': %s, want %s\n", c->what,
				ke_reply_status_str(got), ke_reply_status_str(c->want));
		CU_ASSERT_EQUAL(got, c->want);
	}
}

static void test_reply_duplicates(void)
{
	uint8_t b[256];
	struct buf_writer w;
	struct ke_reply r;

	buf_writer_init(&w, b, sizeof(b));
	raw(&w, C | KE_REC_NEXT_PROTO, proto_ntpv4, sizeof(proto_ntpv4));
	reply_tail(&w);
	CU_ASSERT_EQUAL(ke_reply_parse(b, w.off, &r), KE_REPLY_DUP_NEXT_PROTO);
	buf_writer_init(&w, b, sizeof(b));
	raw(&w, C | KE_REC_AEAD, NULL, 0);	/* empty: none in common */
	reply_tail(&w);
	CU_ASSERT_EQUAL(ke_reply_parse(b, w.off, &r), KE_REPLY_DUP_AEAD);
	buf_writer_init(&w, b, sizeof(b));
	raw(&w, C | KE_REC_PORT, port_123, sizeof(port_123));
	raw(&w, C | KE_REC_PORT, port_123, sizeof(port_123));
	reply_tail(&w);
	CU_ASSERT_EQUAL(ke_reply_parse(b, w.off, &r), KE_REPLY_BAD_PORT);
	buf_writer_init(&w, b, sizeof(b));
	reply_tail(&w);
	raw(&w, C | KE_REC_END, NULL, 0);
	CU_ASSERT_EQUAL(ke_reply_parse(b, w.off, &r), KE_REPLY_TRAILING_DATA);
	/* What was read before a reject stays: the Error code. */
	buf_writer_init(&w, b, sizeof(b));
	raw(&w, C | KE_REC_ERROR, (const uint8_t[]){ 0, 2 }, 2);
	raw(&w, C | 0x4000, NULL, 0);
	CU_ASSERT_EQUAL(ke_reply_parse(b, w.off, &r), KE_REPLY_UNRECOGNIZED_CRITICAL);
	CU_ASSERT_TRUE(r.has_error);
	CU_ASSERT_EQUAL(r.error_code, 2);
}

static void test_reply_bounds(void)
{
	static const uint8_t cookie[KE_MAX_COOKIE_LEN] = { 7 };
	uint8_t *b = malloc(64 * 1024);
	struct buf_writer w;
	struct ke_reply *r = malloc(sizeof(*r));

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	/* More cookies than kept: all counted, the first ones stored. */
	buf_writer_init(&w, b, 64 * 1024);
	for (int i = 0; i < KE_REPLY_MAX_COOKIES + 4; i++)
		raw(&w, KE_REC_NEW_COOKIE, cookie, sizeof(cookie));
	reply_tail(&w);
	CU_ASSERT_EQUAL_FATAL(ke_reply_parse(b, w.off, r), KE_REPLY_OK);
	CU_ASSERT_EQUAL(r->n_cookies, KE_REPLY_MAX_COOKIES);
	CU_ASSERT_EQUAL(r->n_cookies_seen, KE_REPLY_MAX_COOKIES + 5);
	CU_ASSERT_EQUAL(r->cookie_lens[0], KE_MAX_COOKIE_LEN);
	CU_ASSERT_EQUAL(r->cookies[KE_REPLY_MAX_COOKIES - 1][0], 7);
	/* More records than any response needs. */
	buf_writer_init(&w, b, 64 * 1024);
	for (int i = 0; i < KE_MAX_RECORDS; i++)
		raw(&w, 0x4000, NULL, 0);
	reply_tail(&w);
	CU_ASSERT_EQUAL(ke_reply_parse(b, w.off, r), KE_REPLY_TOO_MANY);
	/* Nothing at all. */
	CU_ASSERT_EQUAL(ke_reply_parse(b, 0, r), KE_REPLY_INCOMPLETE);
	free(r);
	free(b);
}

static void test_reply_unusable(void)
{
	struct ke_reply ok = {
		.has_protocol = true, .protocol = KE_PROTO_NTPV4,
		.has_aead = true, .aead = 15, .n_cookies = 1,
	}, r;
	char why[128];

	CU_ASSERT_PTR_NULL(ke_reply_unusable(&ok, why, sizeof(why)));
	r = ok;
	r.has_error = true;
	r.error_code = 1;
	CU_ASSERT_STRING_EQUAL(ke_reply_unusable(&r, why, sizeof(why)), "server sent Error 1");
	r = ok;
	r.has_warning = true;
	r.warning_code = 7;
	CU_ASSERT_STRING_EQUAL(ke_reply_unusable(&r, why, sizeof(why)), "server sent Warning 7");
	r = ok;
	r.has_protocol = false;
	CU_ASSERT_STRING_EQUAL(ke_reply_unusable(&r, why, sizeof(why)),
			       "server did not accept NTPv4");
	r = ok;
	r.protocol = 1;
	CU_ASSERT_STRING_EQUAL(ke_reply_unusable(&r, why, sizeof(why)),
			       "server did not accept NTPv4");
	r = ok;
	r.has_aead = false;
	CU_ASSERT_STRING_EQUAL(ke_reply_unusable(&r, why, sizeof(why)), "no common AEAD algorithm");
	r = ok;
	r.n_cookies = 0;
	CU_ASSERT_STRING_EQUAL(ke_reply_unusable(&r, why, sizeof(why)),
			       "no cookies in the response");
}

static void test_reply_status_names(void)
{
	CU_ASSERT_STRING_EQUAL(ke_reply_status_str(KE_REPLY_OK), "ok");
	CU_ASSERT_STRING_EQUAL(ke_reply_status_str(KE_REPLY_BAD_COOKIE), "bad_cookie");
	CU_ASSERT_STRING_EQUAL(ke_reply_status_str(KE_REPLY_STATUS_COUNT), "unknown");
	for (int i = 0; i < KE_REPLY_STATUS_COUNT; i++) {
		const char *a = ke_reply_status_str((enum ke_reply_status)i);

		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		CU_ASSERT_STRING_NOT_EQUAL(a, "unknown");
		CU_ASSERT_PTR_NULL(strchr(a, '-'));
		for (int j = 0; j < i; j++)
			CU_ASSERT_STRING_NOT_EQUAL(a, ke_reply_status_str((enum ke_reply_status)j));
	}
}

static void test_export_facts(void)
{
	uint8_t ctx[KE_EXPORT_CONTEXT_LEN];

	/* Section 5.1; the label is sent without its NUL. */
	CU_ASSERT_EQUAL(KE_EXPORTER_LABEL_LEN, 30);
	CU_ASSERT_EQUAL(memcmp(KE_EXPORTER_LABEL, "EXPORTER-network-time-security", 30), 0);
	ke_export_context(KE_PROTO_NTPV4, 0x0f11, KE_EXPORT_S2C, ctx);
	CU_ASSERT_EQUAL(memcmp(ctx, "\x00\x00\x0f\x11\x01", 5), 0);
	CU_ASSERT_EQUAL(KE_ALPN_WIRE_LEN, 8);
	CU_ASSERT_EQUAL(memcmp(KE_ALPN_WIRE, "\x07ntske/1", 8), 0);
	CU_ASSERT_EQUAL(KE_DEFAULT_PORT, 4460);
}

/* KE_REC_COMPLIANT_128GCM (1024): a client offering 30 sends it, empty and
 * not critical; request and response parsers take it, and only empty;
 * a client exports with 15 for a 30 that came without it. */
static void test_compliant_128gcm_record(void)
{
	static const uint16_t with_30[] = { 30, 15 }, without_30[] = { 15, 17 };
	static const uint8_t record[] = { 0x04, 0x00, 0x00, 0x00 };
	uint8_t b[256], body[1] = { 0 };
	struct buf_writer w;
	struct ke_request req;
	struct ke_reply reply;
	struct ke_response resp;

	buf_writer_init(&w, b, sizeof(b));
	CU_ASSERT_TRUE_FATAL(ke_request_build(&w, with_30, 2));
	/* Next Protocol (6), AEAD (8), the record (4), End (4) */
	CU_ASSERT_EQUAL_FATAL(w.off, 22);
	CU_ASSERT_EQUAL(memcmp(b + 14, record, sizeof(record)), 0);
	CU_ASSERT_EQUAL(ke_request_parse(b, w.off, &req), KE_REQ_OK);
	CU_ASSERT_TRUE(req.compliant_128gcm);
	buf_writer_init(&w, b, sizeof(b));
	CU_ASSERT_TRUE_FATAL(ke_request_build(&w, without_30, 2));
	CU_ASSERT_EQUAL(w.off, 18);
	CU_ASSERT_EQUAL(ke_request_parse(b, w.off, &req), KE_REQ_OK);
	CU_ASSERT_FALSE(req.compliant_128gcm);
	/* with a body: refused on both sides */
	buf_writer_init(&w, b, sizeof(b));
	ke_record_put(&w, true, KE_REC_NEXT_PROTO, "\0\0", 2);
	ke_record_put(&w, true, KE_REC_AEAD, "\0\x1e", 2);
	ke_record_put(&w, false, KE_REC_COMPLIANT_128GCM, body, 1);
	ke_record_put(&w, true, KE_REC_END, NULL, 0);
	CU_ASSERT_EQUAL(ke_request_parse(b, w.off, &req), KE_REQ_BAD_COMPLIANT_128GCM);
	CU_ASSERT_EQUAL(ke_request_error_code(KE_REQ_BAD_COMPLIANT_128GCM), KE_ERROR_BAD_REQUEST);
	CU_ASSERT_STRING_EQUAL(ke_request_status_str(KE_REQ_BAD_COMPLIANT_128GCM),
			       "bad_compliant_128gcm");
	CU_ASSERT_EQUAL(ke_reply_parse(b, w.off, &reply), KE_REPLY_BAD_COMPLIANT_128GCM);
	CU_ASSERT_STRING_EQUAL(ke_reply_status_str(KE_REPLY_BAD_COMPLIANT_128GCM),
			       "bad_compliant_128gcm");
	/* the response builder puts it after the AEAD record, when asked */
	memset(&resp, 0, sizeof(resp));
	resp.has_protocol = resp.has_aead = true;
	resp.aead = 30;
	resp.compliant_128gcm = true;
	buf_writer_init(&w, b, sizeof(b));
	CU_ASSERT_TRUE_FATAL(ke_response_build(&w, &resp));
	CU_ASSERT_EQUAL(memcmp(b + 12, record, sizeof(record)), 0);
	CU_ASSERT_EQUAL(ke_reply_parse(b, w.off, &reply), KE_REPLY_OK);
	CU_ASSERT_TRUE(reply.compliant_128gcm);
	resp.compliant_128gcm = false;
	buf_writer_init(&w, b, sizeof(b));
	CU_ASSERT_TRUE_FATAL(ke_response_build(&w, &resp));
	CU_ASSERT_EQUAL(ke_reply_parse(b, w.off, &reply), KE_REPLY_OK);
	CU_ASSERT_FALSE(reply.compliant_128gcm);
	/* the client's exporter context */
	CU_ASSERT_EQUAL(ke_export_client_aead(30, true), 30);
	CU_ASSERT_EQUAL(ke_export_client_aead(30, false), 15);
	CU_ASSERT_EQUAL(ke_export_client_aead(15, false), 15);
	CU_ASSERT_EQUAL(ke_export_client_aead(15, true), 15);
	CU_ASSERT_EQUAL(ke_export_client_aead(17, false), 17);
}

UNIT_SUITE(ke_record, NULL, NULL,
	UNIT_TEST(test_records_complete),
	UNIT_TEST(test_record_next),
	UNIT_TEST(test_record_next_truncated),
	UNIT_TEST(test_record_next_ffff),
	UNIT_TEST(test_record_put),
	UNIT_TEST(test_request_minimal),
	UNIT_TEST(test_request_hand_bytes),
	UNIT_TEST(test_request_every_prefix_incomplete),
	UNIT_TEST(test_request_orders),
	UNIT_TEST(test_request_unknown_noncritical_ignored),
	UNIT_TEST(test_request_unknown_critical),
	UNIT_TEST(test_request_not_critical),
	UNIT_TEST(test_request_next_proto_rules),
	UNIT_TEST(test_request_aead_rules),
	UNIT_TEST(test_request_forbidden),
	UNIT_TEST(test_request_server),
	UNIT_TEST(test_request_port),
	UNIT_TEST(test_request_end_rules),
	UNIT_TEST(test_request_no_count_limits),
	UNIT_TEST(test_request_any_mix),
	UNIT_TEST(test_request_continue),
	UNIT_TEST(test_request_length_ffff),
	UNIT_TEST(test_request_status_names),
	UNIT_TEST(test_request_error_codes),
	UNIT_TEST(test_response_full),
	UNIT_TEST(test_response_empty),
	UNIT_TEST(test_response_protocol_only),
	UNIT_TEST(test_error_build),
	UNIT_TEST(test_response_round_trip),
	UNIT_TEST(test_request_build),
	UNIT_TEST(test_reply_round_trip),
	UNIT_TEST(test_reply_malformed),
	UNIT_TEST(test_reply_duplicates),
	UNIT_TEST(test_reply_bounds),
	UNIT_TEST(test_reply_unusable),
	UNIT_TEST(test_reply_status_names),
	UNIT_TEST(test_export_facts),
	UNIT_TEST(test_compliant_128gcm_record))
