/* Unit tests for proxy_v2: good PROXY and LOCAL headers for both
 * families, TLVs, headers that arrive in pieces, and every way a header
 * can be malformed. */
#include "build_config.h"

#include <string.h>

#include "common/buf.h"
#include "common/proxy_v2.h"
#include "unit.h"

static const uint8_t sig[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
};

/* A header into out: signature, version/command byte, family byte, the
 * block length (block_len, which may lie) and the block's first
 * `have` bytes of `block`.  Its size. */
static size_t header(uint8_t *out, uint8_t ver_cmd, uint8_t fam, uint16_t block_len,
		     const uint8_t *block, size_t have)
{
	memcpy(out, sig, sizeof(sig));
	out[12] = ver_cmd;
	out[13] = fam;
	buf_store_u16(out + 14, block_len);
	if (have)
		memcpy(out + 16, block, have);
	return 16 + have;
}

/* TCP over IPv4: 192.0.2.7:40000 -> 198.51.100.1:4460. */
static const uint8_t v4_block[12] = {
	192, 0, 2, 7, 198, 51, 100, 1, 0x9C, 0x40, 0x11, 0x6C,
};

/* TCP over IPv6: 2001:db8::7 port 40000 -> 2001:db8::1 port 4460. */
static const uint8_t v6_block[36] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x9C, 0x40, 0x11, 0x6C,
};

static enum proxy_v2_status parse(const uint8_t *p, size_t n, struct proxy_v2_header *h,
				  size_t *need)
{
	memset(h, 0xA5, sizeof(*h));
	return proxy_v2_parse(p, n, h, need);
}

static void test_ipv4(void)
{
	uint8_t b[64];
	size_t n = header(b, 0x21, 0x11, sizeof(v4_block), v4_block, sizeof(v4_block)), need = 0;
	struct proxy_v2_header h;
	char s[NETADDR_STRLEN];

	CU_ASSERT_EQUAL(parse(b, n, &h, &need), PROXY_V2_OK);
	CU_ASSERT_EQUAL(h.len, 28);
	CU_ASSERT_EQUAL(need, 28);
	CU_ASSERT_FALSE(h.local);
	CU_ASSERT_EQUAL(h.n_tlv, 0);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&h.src, s, sizeof(s)), "192.0.2.7:40000");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&h.dst, s, sizeof(s)), "198.51.100.1:4460");
	/* Bytes past the header (the ClientHello) are not its business. */
	b[n] = 0x16;
	CU_ASSERT_EQUAL(parse(b, n + 1, &h, NULL), PROXY_V2_OK);
	CU_ASSERT_EQUAL(h.len, 28);
}

static void test_ipv6(void)
{
	uint8_t b[64];
	size_t n = header(b, 0x21, 0x21, sizeof(v6_block), v6_block, sizeof(v6_block));
	struct proxy_v2_header h;
	char s[NETADDR_STRLEN];

	CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_OK);
	CU_ASSERT_EQUAL(h.len, 52);
	CU_ASSERT_EQUAL(netaddr_family(&h.src), AF_INET6);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&h.src, s, sizeof(s)), "[2001:db8::7]:40000");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&h.dst, s, sizeof(s)), "[2001:db8::1]:4460");
}

/* LOCAL: the block is discarded whatever it holds, family included. */
static void test_local(void)
{
	uint8_t b[64];
	struct proxy_v2_header h;
	size_t n;

	n = header(b, 0x20, 0x00, 0, NULL, 0);
	CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_OK);
	CU_ASSERT_TRUE(h.local);
	CU_ASSERT_EQUAL(h.len, 16);
	CU_ASSERT_EQUAL(h.src.len, 0);
	n = header(b, 0x20, 0x31, 5, (const uint8_t *)"\x01\x02\x03\x04\x05", 5);
	CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_OK);
	CU_ASSERT_TRUE(h.local);
	CU_ASSERT_EQUAL(h.len, 21);
}

/* TLVs after the addresses are walked and skipped; one that runs past
 * the block, or a stray byte too short to be one, is refused. */
static void test_tlvs(void)
{
	uint8_t block[64], b[96];
	struct proxy_v2_header h;
	size_t n, k = sizeof(v4_block);

	memcpy(block, v4_block, k);
	/* PP2_TYPE_AUTHORITY "ntp", a NOOP of 0 bytes, AWS's 0xEA of 4 */
	memcpy(block + k, "\x02\x00\x03ntp\x04\x00\x00\xEA\x00\x04vpce", 3 + 3 + 3 + 3 + 4);
	k += 16;
	n = header(b, 0x21, 0x11, (uint16_t)k, block, k);
	CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_OK);
	CU_ASSERT_EQUAL(h.n_tlv, 3);
	CU_ASSERT_EQUAL(h.len, 16 + k);
	/* The last TLV claims 5 bytes where 4 are left in the block. */
	block[k - 5] = 5;
	n = header(b, 0x21, 0x11, (uint16_t)k, block, k);
	CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_BAD_TLV);
	/* Two bytes after the addresses: not even a TLV header. */
	n = header(b, 0x21, 0x11, 14, block, 14);
	CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_BAD_TLV);
	/* A TLV length of 0xFFFF in a short block. */
	memcpy(block + 12, "\x05\xFF\xFF", 3);
	n = header(b, 0x21, 0x11, 15, block, 15);
	CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_BAD_TLV);
}

static void test_bad_signature(void)
{
	uint8_t b[64];
	struct proxy_v2_header h;
	size_t n = header(b, 0x21, 0x11, 12, v4_block, 12);
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00 };

	for (size_t i = 0; i < sizeof(sig); i++) {
		b[i] ^= 0x40;
		CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_BAD_SIGNATURE);
		/* Known at the first wrong byte, however little has come. */
		CU_ASSERT_EQUAL(parse(b, i + 1, &h, NULL), PROXY_V2_BAD_SIGNATURE);
		b[i] ^= 0x40;
	}
	/* No header at all: a TLS ClientHello, a version 1 header. */
	CU_ASSERT_EQUAL(parse(hello, sizeof(hello), &h, NULL), PROXY_V2_BAD_SIGNATURE);
	CU_ASSERT_EQUAL(parse((const uint8_t *)"PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\n", 39,
			      &h, NULL), PROXY_V2_BAD_SIGNATURE);
}

static void test_bad_version(void)
{
	uint8_t b[64];
	struct proxy_v2_header h;
	static const uint8_t versions[] = { 0x01, 0x11, 0x31, 0xF1, 0x00 };

	for (size_t i = 0; i < sizeof(versions); i++) {
		size_t n = header(b, versions[i], 0x11, 12, v4_block, 12);

		CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_BAD_VERSION);
		/* Known as soon as the byte is in. */
		CU_ASSERT_EQUAL(parse(b, 13, &h, NULL), PROXY_V2_BAD_VERSION);
	}
}

static void test_bad_command(void)
{
	uint8_t b[64];
	struct proxy_v2_header h;

	for (uint8_t cmd = 2; cmd < 16; cmd++) {
		size_t n = header(b, (uint8_t)(0x20 | cmd), 0x11, 12, v4_block, 12);

		CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_BAD_COMMAND);
	}
}

/* PROXY takes TCP over IPv4 or IPv6 only: not UNSPEC, UDP or UNIX. */
static void test_bad_family(void)
{
	uint8_t b[256] = { 0 }, block[216] = { 0 };
	struct proxy_v2_header h;
	static const uint8_t fams[] = { 0x00, 0x01, 0x10, 0x12, 0x20, 0x22, 0x31, 0x32, 0x41,
					0x13, 0xFF };

	for (size_t i = 0; i < sizeof(fams); i++) {
		size_t n = header(b, 0x21, fams[i], sizeof(block), block, sizeof(block));

		CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_BAD_FAMILY);
		CU_ASSERT_EQUAL(parse(b, 14, &h, NULL), PROXY_V2_BAD_FAMILY);
	}
}

/* The length field says more than has arrived: wait, and say how much. */
static void test_length_beyond_buffer(void)
{
	uint8_t b[64];
	struct proxy_v2_header h;
	size_t need = 0, n = header(b, 0x21, 0x21, sizeof(v6_block), v6_block, sizeof(v6_block));

	for (size_t have = 0; have < n; have++) {
		need = 0;
		CU_ASSERT_EQUAL(parse(b, have, &h, &need), PROXY_V2_INCOMPLETE);
		CU_ASSERT_EQUAL(need, have < 16 ? 16 : n);
	}
	CU_ASSERT_EQUAL(parse(b, n, &h, &need), PROXY_V2_OK);
	/* A header said to be longer than what follows it stays incomplete. */
	header(b, 0x21, 0x11, 40, v4_block, sizeof(v4_block));
	CU_ASSERT_EQUAL(parse(b, 28, &h, &need), PROXY_V2_INCOMPLETE);
	CU_ASSERT_EQUAL(need, 56);
}

/* Over PROXY_V2_MAX_BLOCK: refused from the length field alone. */
static void test_too_long(void)
{
	uint8_t b[64];
	struct proxy_v2_header h;
	size_t need = 0;

	header(b, 0x21, 0x11, PROXY_V2_MAX_BLOCK, v4_block, sizeof(v4_block));
	CU_ASSERT_EQUAL(parse(b, 16, &h, &need), PROXY_V2_INCOMPLETE);
	CU_ASSERT_EQUAL(need, PROXY_V2_MAX);
	header(b, 0x21, 0x11, PROXY_V2_MAX_BLOCK + 1, v4_block, sizeof(v4_block));
	CU_ASSERT_EQUAL(parse(b, 16, &h, &need), PROXY_V2_TOO_LONG);
	header(b, 0x21, 0x11, 0xFFFF, v4_block, sizeof(v4_block));
	CU_ASSERT_EQUAL(parse(b, 28, &h, &need), PROXY_V2_TOO_LONG);
	header(b, 0x20, 0x00, 0xFFFF, NULL, 0);
	CU_ASSERT_EQUAL(parse(b, 16, &h, &need), PROXY_V2_TOO_LONG);
}

/* A block shorter than its family's two addresses and ports. */
static void test_truncated_address(void)
{
	uint8_t b[64];
	struct proxy_v2_header h;

	for (uint16_t len = 0; len < sizeof(v4_block); len++) {
		size_t n = header(b, 0x21, 0x11, len, v4_block, len);

		CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_BAD_ADDRESS);
	}
	for (uint16_t len = 0; len < sizeof(v6_block); len++) {
		size_t n = header(b, 0x21, 0x21, len, v6_block, len);

		CU_ASSERT_EQUAL(parse(b, n, &h, NULL), PROXY_V2_BAD_ADDRESS);
	}
	/* An IPv4 block under the IPv6 family is too short for it. */
	CU_ASSERT_EQUAL(parse(b, header(b, 0x21, 0x21, 12, v4_block, 12), &h, NULL),
			PROXY_V2_BAD_ADDRESS);
}

static void test_looks_like(void)
{
	uint8_t b[64];
	size_t n = header(b, 0x21, 0x11, 12, v4_block, 12);

	CU_ASSERT_TRUE(proxy_v2_looks_like(b, n));
	CU_ASSERT_TRUE(proxy_v2_looks_like(b, 1));
	CU_ASSERT_TRUE(proxy_v2_looks_like((const uint8_t *)"PROXY TCP4 ", 11));
	CU_ASSERT_TRUE(proxy_v2_looks_like((const uint8_t *)"PRO", 3));
	CU_ASSERT_FALSE(proxy_v2_looks_like((const uint8_t *)"\x16\x03\x01", 3));
	CU_ASSERT_FALSE(proxy_v2_looks_like((const uint8_t *)"PROXZ", 5));
	CU_ASSERT_FALSE(proxy_v2_looks_like(b, 0));
	b[11] = 0;
	CU_ASSERT_FALSE(proxy_v2_looks_like(b, n));
	CU_ASSERT_STRING_EQUAL(proxy_v2_status_str(PROXY_V2_BAD_TLV), "bad_tlv");
	CU_ASSERT_STRING_EQUAL(proxy_v2_status_str(PROXY_V2_STATUS_COUNT), "unknown");
}

UNIT_SUITE(proxy_v2, NULL, NULL,
	   UNIT_TEST(test_ipv4),
	   UNIT_TEST(test_ipv6),
	   UNIT_TEST(test_local),
	   UNIT_TEST(test_tlvs),
	   UNIT_TEST(test_bad_signature),
	   UNIT_TEST(test_bad_version),
	   UNIT_TEST(test_bad_command),
	   UNIT_TEST(test_bad_family),
	   UNIT_TEST(test_length_beyond_buffer),
	   UNIT_TEST(test_too_long),
	   UNIT_TEST(test_truncated_address),
	   UNIT_TEST(test_looks_like))
