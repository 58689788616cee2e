/* unit tests for ntpd/xdp_frame: crafted IPv4 and IPv6 frames (with and
 * without an 802.1Q tag) parse to the right addresses, ports and payload;
 * replies have swapped headers, right lengths and checksums that a
 * separate implementation here verifies; every malformed case is refused
 * with its own reason. */
#include "build_config.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/netaddr.h"
#include "ntpd/xdp_frame.h"
#include "unit.h"

#define FRAME_MAX 1600

static const uint8_t mac_dst[6] = { 0x02, 0, 0, 0, 0, 0x01 };	/* the server */
static const uint8_t mac_src[6] = { 0x02, 0, 0, 0, 0, 0x02 };	/* the client */

/* RFC 1071 the slow way, independent of the code under test: 16-bit
 * words added with the end-around carry at each step. */
static uint16_t ref_sum(const uint8_t *p, size_t n, uint16_t acc)
{
	for (size_t i = 0; i < n; i += 2) {
		uint32_t w = (uint32_t)p[i] * 256 + (i + 1 < n ? p[i + 1] : 0);
		uint32_t s = acc + w;

		acc = (uint16_t)(s > 0xffff ? s - 0xffff : s);
	}
	return acc;
}

/* The UDP checksum of the segment at udp (ulen bytes, its checksum field
 * as it is) over the pseudo-header: 0xffff when it verifies. */
static uint16_t ref_udp_verify(int family, const uint8_t *src, const uint8_t *dst,
			       const uint8_t *udp, size_t ulen)
{
	uint8_t ph[40];
	size_t alen = family == AF_INET ? 4 : 16, n;

	memcpy(ph, src, alen);
	memcpy(ph + alen, dst, alen);
	n = 2 * alen;
	/* zero, protocol, 16-bit length (IPv4); 32-bit length, 3 zeros, next
	 * header (IPv6): the same sum */
	if (family == AF_INET) {
		ph[n++] = 0;
		ph[n++] = 17;
		ph[n++] = (uint8_t)(ulen >> 8);
		ph[n++] = (uint8_t)ulen;
	} else {
		ph[n++] = 0;
		ph[n++] = 0;
		ph[n++] = (uint8_t)(ulen >> 8);
		ph[n++] = (uint8_t)ulen;
		ph[n++] = 0;
		ph[n++] = 0;
		ph[n++] = 0;
		ph[n++] = 17;
	}
	return ref_sum(udp, ulen, ref_sum(ph, n, 0));
}

struct spec {
	int family;
	bool vlan;
	const char *src, *dst;
	uint16_t sport, dport;
	size_t payload_len;
	bool no_udp_csum;	/* IPv4 only: checksum 0 */
};

/* Where the layers of a built frame are. */
struct built {
	size_t len, l3, l4, payload;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A frame as a client's kernel would send it, checksums by ref_sum. */
static struct built build(uint8_t *f, const struct spec *s)
{
	struct built b = { 0, 0, 0, 0 };
	size_t o = 12, ulen = 8 + s->payload_len;
	uint8_t *ip, *udp;
	uint16_t c;

	memset(f, 0, FRAME_MAX);
	memcpy(f, mac_dst, 6);
	memcpy(f + 6, mac_src, 6);
	if (s->vlan) {
		put16(f + o, 0x8100);
		put16(f + o + 2, 42);
		o += 4;
	}
	put16(f + o, s->family == AF_INET ? 0x0800 : 0x86dd);
	o += 2;
	b.l3 = o;
	ip = f + o;
	if (s->family == AF_INET) {
		ip[0] = 0x45;
		ip[1] = 0xb8;	/* a DSCP the reply does not copy */
		put16(ip + 2, (uint16_t)(20 + ulen));
		put16(ip + 4, 0x1234);
		put16(ip + 6, 0x4000);
		ip[8] = 7;
		ip[9] = 17;
		inet_pton(AF_INET, s->src, ip + 12);
		inet_pton(AF_INET, s->dst, ip + 16);
		put16(ip + 10, (uint16_t)~ref_sum(ip, 20, 0));
		o += 20;
	} else {
		ip[0] = 0x6a;	/* traffic class and flow label set */
		ip[1] = 0x12;
		ip[2] = 0x34;
		ip[3] = 0x56;
		put16(ip + 4, (uint16_t)ulen);
		ip[6] = 17;
		ip[7] = 3;
		inet_pton(AF_INET6, s->src, ip + 8);
		inet_pton(AF_INET6, s->dst, ip + 24);
		o += 40;
	}
	b.l4 = o;
	udp = f + o;
	put16(udp, s->sport);
	put16(udp + 2, s->dport);
	put16(udp + 4, (uint16_t)ulen);
	for (size_t i = 0; i < s->payload_len; i++)
		udp[8 + i] = (uint8_t)(i * 7 + 1);
	if (!s->no_udp_csum) {
		size_t alen = s->family == AF_INET ? 4 : 16, a = s->family == AF_INET ? 12 : 8;

		c = (uint16_t)~ref_udp_verify(s->family, ip + a, ip + a + alen, udp, ulen);
		put16(udp + 6, c == 0 ? 0xffff : c);
	}
	b.payload = o + 8;
	b.len = o + ulen;
	return b;
}

static const struct spec v4 = { AF_INET, false, "10.0.0.2", "10.0.0.1", 40000, 123, 200, false };
static const struct spec v6 = { AF_INET6, false, "fd00::2", "fd00::1", 40001, 123, 228, false };
static const struct spec v6_vlan = { AF_INET6, true, "fd00::2", "fd00::1", 40001, 123, 100, false };

static void check_addr(const struct netaddr *a, int family, const char *host, uint16_t port)
{
	char buf[NETADDR_STRLEN];

	CU_ASSERT_EQUAL(netaddr_family(a), family);
	CU_ASSERT_STRING_EQUAL(netaddr_host_str(a, buf, sizeof(buf)), host);
	CU_ASSERT_EQUAL(netaddr_port(a), port);
}

static void parse_ok(const struct spec *s)
{
	uint8_t f[FRAME_MAX];
	struct xdp_frame_info fi;
	struct built b = build(f, s);

	CU_ASSERT_EQUAL_FATAL(xdp_frame_parse(f, b.len, &fi), XDP_FRAME_OK);
	CU_ASSERT_EQUAL(fi.family, s->family);
	check_addr(&fi.src, s->family, s->src, s->sport);
	check_addr(&fi.dst, s->family, s->dst, s->dport);
	CU_ASSERT_EQUAL(fi.l3_off, b.l3);
	CU_ASSERT_EQUAL(fi.l4_off, b.l4);
	CU_ASSERT_EQUAL(fi.payload_off, b.payload);
	CU_ASSERT_EQUAL(fi.payload_len, s->payload_len);
}

static void test_parse_ipv4(void)
{
	struct spec s = v4;

	parse_ok(&s);
	s.vlan = true;
	parse_ok(&s);
	s.no_udp_csum = true;	/* IPv4 may go without a UDP checksum */
	parse_ok(&s);
	s.payload_len = 0;
	parse_ok(&s);
}

static void test_parse_ipv6(void)
{
	parse_ok(&v6);
	parse_ok(&v6_vlan);
}

/* A known header (RFC 1071-style example widely used): checksum 0xb861. */
static void test_ipv4_checksum_known(void)
{
	static const uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
				       0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
				       0xc0, 0xa8, 0x00, 0xc7 };
	uint8_t f[FRAME_MAX];
	struct xdp_frame_info fi;
	struct spec s = v4;
	struct built b;

	s.payload_len = 0x73 - 28;
	s.src = "192.168.0.1";
	s.dst = "192.168.0.199";
	b = build(f, &s);
	memcpy(f + b.l3, h, 20);
	CU_ASSERT_EQUAL(ref_sum(h, 20, 0), 0xffff);
	CU_ASSERT_EQUAL(xdp_frame_parse(f, b.len, &fi), XDP_FRAME_OK);
	f[b.l3 + 11] ^= 1;
	CU_ASSERT_EQUAL(xdp_frame_parse(f, b.len, &fi), XDP_FRAME_ERR_IPV4_CHECKSUM);
}

/* Build the reply of s with a payload of reply_len bytes and check every
 * header field and both checksums independently. */
static void reply_ok(const struct spec *s, size_t reply_len)
{
	uint8_t f[FRAME_MAX], req[FRAME_MAX];
	struct xdp_frame_info fi, back;
	struct built b = build(f, s);
	uint8_t *ip, *udp;
	size_t alen = s->family == AF_INET ? 4 : 16, a = s->family == AF_INET ? 12 : 8;
	size_t n;

	memcpy(req, f, FRAME_MAX);
	CU_ASSERT_EQUAL_FATAL(xdp_frame_parse(f, b.len, &fi), XDP_FRAME_OK);
	memset(f + fi.payload_off, 0xa5, reply_len);
	n = xdp_frame_reply(f, &fi, reply_len);
	CU_ASSERT_EQUAL(n, b.payload + reply_len);
	ip = f + b.l3;
	udp = f + b.l4;
	CU_ASSERT(memcmp(f, mac_src, 6) == 0);
	CU_ASSERT(memcmp(f + 6, mac_dst, 6) == 0);
	CU_ASSERT(memcmp(f + 12, req + 12, b.l3 - 12) == 0);	/* ethertype, tag */
	CU_ASSERT(memcmp(ip + a, req + b.l3 + a + alen, alen) == 0);
	CU_ASSERT(memcmp(ip + a + alen, req + b.l3 + a, alen) == 0);
	if (s->family == AF_INET) {
		CU_ASSERT_EQUAL(ip[0], 0x45);
		CU_ASSERT_EQUAL(ip[1], 0);
		CU_ASSERT_EQUAL(ip[2] * 256 + ip[3], 20 + 8 + reply_len);
		CU_ASSERT_EQUAL(ip[6] * 256 + ip[7], 0x4000);
		CU_ASSERT_EQUAL(ip[8], 64);
		CU_ASSERT_EQUAL(ip[9], 17);
		CU_ASSERT_EQUAL(ref_sum(ip, 20, 0), 0xffff);
	} else {
		CU_ASSERT_EQUAL(ip[0], 0x60);
		CU_ASSERT_EQUAL(ip[1] | ip[2] | ip[3], 0);
		CU_ASSERT_EQUAL(ip[4] * 256 + ip[5], 8 + reply_len);
		CU_ASSERT_EQUAL(ip[6], 17);
		CU_ASSERT_EQUAL(ip[7], 64);
	}
	CU_ASSERT_EQUAL(udp[0] * 256 + udp[1], s->dport);
	CU_ASSERT_EQUAL(udp[2] * 256 + udp[3], s->sport);
	CU_ASSERT_EQUAL(udp[4] * 256 + udp[5], 8 + reply_len);
	CU_ASSERT(udp[6] != 0 || udp[7] != 0);	/* always computed */
	CU_ASSERT_EQUAL(ref_udp_verify(s->family, ip + a, ip + a + alen, udp, 8 + reply_len),
			0xffff);
	/* The reply parses, the other way round. */
	CU_ASSERT_EQUAL_FATAL(xdp_frame_parse(f, n, &back), XDP_FRAME_OK);
	check_addr(&back.src, s->family, s->dst, s->dport);
	check_addr(&back.dst, s->family, s->src, s->sport);
	CU_ASSERT_EQUAL(back.payload_len, reply_len);
}

static void test_reply_ipv4(void)
{
	struct spec s = v4;

	reply_ok(&s, s.payload_len);
	reply_ok(&s, 48);
	reply_ok(&s, 0);
	reply_ok(&s, 47);	/* odd: the checksum pads */
	s.vlan = true;
	s.no_udp_csum = true;
	reply_ok(&s, 100);
}

static void test_reply_ipv6(void)
{
	reply_ok(&v6, v6.payload_len);
	reply_ok(&v6, 48);
	reply_ok(&v6, 51);
	reply_ok(&v6_vlan, 100);
}

/* A reply whose checksum sums to 0 is sent as 0xffff: search payloads
 * until one does. */
static void test_reply_checksum_zero(void)
{
	uint8_t f[FRAME_MAX];
	struct xdp_frame_info fi;
	struct spec s = v6;
	bool seen = false;

	s.payload_len = 48;
	for (unsigned v = 0; v < 0x10000 && !seen; v++) {
		build(f, &s);
		CU_ASSERT_EQUAL_FATAL(xdp_frame_parse(f, 14 + 40 + 8 + 48, &fi), XDP_FRAME_OK);
		memset(f + fi.payload_off, 0, 48);
		put16(f + fi.payload_off, (uint16_t)v);
		xdp_frame_reply(f, &fi, 48);
		if (f[fi.l4_off + 6] == 0xff && f[fi.l4_off + 7] == 0xff)
			seen = true;
		CU_ASSERT(f[fi.l4_off + 6] != 0 || f[fi.l4_off + 7] != 0);
	}
	CU_ASSERT(seen);
}

static void test_reply_longer_refused(void)
{
	uint8_t f[FRAME_MAX];
	struct xdp_frame_info fi;
	struct built b = build(f, &v4);

	CU_ASSERT_EQUAL_FATAL(xdp_frame_parse(f, b.len, &fi), XDP_FRAME_OK);
	CU_ASSERT_EQUAL(xdp_frame_reply(f, &fi, v4.payload_len + 1), 0);
}

/* Ethernet padding after the IP packet, and IP bytes after the UDP
 * length, are ignored. */
static void test_trailing_bytes(void)
{
	uint8_t f[FRAME_MAX];
	struct xdp_frame_info fi;
	struct spec s = v4;
	struct built b;

	s.payload_len = 4;
	b = build(f, &s);
	CU_ASSERT_EQUAL(xdp_frame_parse(f, 60, &fi), XDP_FRAME_OK);
	CU_ASSERT_EQUAL(fi.payload_len, 4);
	/* IPv6 payload length 8 more than the UDP length (the checksum covers
	 * the UDP length only) */
	b = build(f, &v6);
	put16(f + b.l3 + 4, (uint16_t)(8 + v6.payload_len + 8));
	CU_ASSERT_EQUAL(xdp_frame_parse(f, b.len + 8, &fi), XDP_FRAME_OK);
	CU_ASSERT_EQUAL(fi.payload_len, v6.payload_len);
}

/* One malformed frame: built from s, changed by edit, cut to len (0:
 * as built), refused with want. */
static void refused(const struct spec *s, void (*edit)(uint8_t *, const struct built *),
		    size_t len, enum xdp_frame_status want)
{
	uint8_t f[FRAME_MAX];
	struct xdp_frame_info fi;
	struct built b = build(f, s);

	if (edit)
		edit(f, &b);
	CU_ASSERT_EQUAL(xdp_frame_parse(f, len ? len : b.len, &fi), want);
}

/* Rewrite the IPv4 header checksum after an edit, so only the edit counts. */
static void fix_ipv4(uint8_t *f, const struct built *b)
{
	put16(f + b->l3 + 10, 0);
	put16(f + b->l3 + 10, (uint16_t)~ref_sum(f + b->l3, 20, 0));
}

static void e_arp(uint8_t *f, const struct built *b) { (void)b; put16(f + 12, 0x0806); }
static void e_qinq(uint8_t *f, const struct built *b) { (void)b; put16(f + 16, 0x8100); }
static void e_ver6(uint8_t *f, const struct built *b) { f[b->l3] = 0x65; fix_ipv4(f, b); }
static void e_ver4(uint8_t *f, const struct built *b) { f[b->l3] = 0x45; }
static void e_ihl4(uint8_t *f, const struct built *b) { f[b->l3] = 0x44; fix_ipv4(f, b); }
static void e_ihl6(uint8_t *f, const struct built *b) { f[b->l3] = 0x46; fix_ipv4(f, b); }
static void e_csum(uint8_t *f, const struct built *b) { f[b->l3 + 8] ^= 0x10; }
static void e_total_small(uint8_t *f, const struct built *b)
{
	put16(f + b->l3 + 2, 19);
	fix_ipv4(f, b);
}
static void e_total_big(uint8_t *f, const struct built *b)
{
	put16(f + b->l3 + 2, (uint16_t)(b->len - b->l3 + 1));
	fix_ipv4(f, b);
}
static void e_total_ffff(uint8_t *f, const struct built *b)
{
	put16(f + b->l3 + 2, 0xffff);
	fix_ipv4(f, b);
}
static void e_mf(uint8_t *f, const struct built *b)
{
	put16(f + b->l3 + 6, 0x2000);
	fix_ipv4(f, b);
}
static void e_offset(uint8_t *f, const struct built *b)
{
	put16(f + b->l3 + 6, 0x0001);
	fix_ipv4(f, b);
}
static void e_tcp4(uint8_t *f, const struct built *b) { f[b->l3 + 9] = 6; fix_ipv4(f, b); }
static void e_udp_short4(uint8_t *f, const struct built *b)
{
	put16(f + b->l3 + 2, 20 + 7);
	fix_ipv4(f, b);
}
static void e_ulen7(uint8_t *f, const struct built *b) { put16(f + b->l4 + 4, 7); }
static void e_ulen_big(uint8_t *f, const struct built *b)
{
	put16(f + b->l4 + 4, (uint16_t)(b->len - b->l4 + 1));
}
static void e_ulen_ffff(uint8_t *f, const struct built *b) { put16(f + b->l4 + 4, 0xffff); }
static void e_payload(uint8_t *f, const struct built *b) { f[b->payload + 3] ^= 0x80; }
static void e_csum0(uint8_t *f, const struct built *b) { put16(f + b->l4 + 6, 0); }
static void e_plen_big(uint8_t *f, const struct built *b)
{
	put16(f + b->l3 + 4, (uint16_t)(b->len - b->l3 - 40 + 1));
}
static void e_plen_ffff(uint8_t *f, const struct built *b) { put16(f + b->l3 + 4, 0xffff); }
static void e_plen_small(uint8_t *f, const struct built *b) { put16(f + b->l3 + 4, 7); }
static void e_frag6(uint8_t *f, const struct built *b) { f[b->l3 + 6] = 44; }
static void e_hbh6(uint8_t *f, const struct built *b) { f[b->l3 + 6] = 0; }
static void e_tcp6(uint8_t *f, const struct built *b) { f[b->l3 + 6] = 6; }

static void test_malformed_ethernet(void)
{
	refused(&v4, NULL, 13, XDP_FRAME_ERR_ETH_SHORT);
	refused(&v6_vlan, NULL, 17, XDP_FRAME_ERR_ETH_SHORT);
	refused(&v4, e_arp, 0, XDP_FRAME_ERR_ETHERTYPE);
	refused(&v6_vlan, e_qinq, 0, XDP_FRAME_ERR_ETHERTYPE);	/* one tag only */
}

static void test_malformed_ipv4(void)
{
	refused(&v4, NULL, 14 + 19, XDP_FRAME_ERR_IP_SHORT);
	refused(&v4, e_ver6, 0, XDP_FRAME_ERR_IP_VERSION);
	refused(&v4, e_ihl4, 0, XDP_FRAME_ERR_IPV4_IHL);
	refused(&v4, e_ihl6, 0, XDP_FRAME_ERR_IPV4_OPTIONS);
	refused(&v4, e_csum, 0, XDP_FRAME_ERR_IPV4_CHECKSUM);
	refused(&v4, e_total_small, 0, XDP_FRAME_ERR_IP_LENGTH);
	refused(&v4, e_total_big, 0, XDP_FRAME_ERR_IP_LENGTH);
	refused(&v4, e_total_ffff, 0, XDP_FRAME_ERR_IP_LENGTH);
	refused(&v4, NULL, 14 + 20 + 8 + v4.payload_len - 1, XDP_FRAME_ERR_IP_LENGTH);
	refused(&v4, e_mf, 0, XDP_FRAME_ERR_FRAGMENT);
	refused(&v4, e_offset, 0, XDP_FRAME_ERR_FRAGMENT);
	refused(&v4, e_tcp4, 0, XDP_FRAME_ERR_NOT_UDP);
}

static void test_malformed_ipv6(void)
{
	refused(&v6, NULL, 14 + 39, XDP_FRAME_ERR_IP_SHORT);
	refused(&v6, e_ver4, 0, XDP_FRAME_ERR_IP_VERSION);
	refused(&v6, e_plen_big, 0, XDP_FRAME_ERR_IP_LENGTH);
	refused(&v6, e_plen_ffff, 0, XDP_FRAME_ERR_IP_LENGTH);
	refused(&v6, e_frag6, 0, XDP_FRAME_ERR_FRAGMENT);
	refused(&v6, e_hbh6, 0, XDP_FRAME_ERR_NOT_UDP);	/* an extension header */
	refused(&v6, e_tcp6, 0, XDP_FRAME_ERR_NOT_UDP);
}

static void test_malformed_udp(void)
{
	refused(&v4, e_udp_short4, 0, XDP_FRAME_ERR_UDP_SHORT);
	refused(&v6, e_plen_small, 0, XDP_FRAME_ERR_UDP_SHORT);
	refused(&v4, e_ulen7, 0, XDP_FRAME_ERR_UDP_LENGTH);
	refused(&v4, e_ulen_big, 0, XDP_FRAME_ERR_UDP_LENGTH);
	refused(&v6, e_ulen_ffff, 0, XDP_FRAME_ERR_UDP_LENGTH);
	refused(&v4, e_payload, 0, XDP_FRAME_ERR_UDP_CHECKSUM);
	refused(&v6, e_payload, 0, XDP_FRAME_ERR_UDP_CHECKSUM);
	refused(&v6, e_csum0, 0, XDP_FRAME_ERR_UDP_CHECKSUM);	/* mandatory in IPv6 */
}

/* Every cut of a good frame is refused: nothing reads past len. */
static void test_every_cut_refused(void)
{
	const struct spec *specs[] = { &v4, &v6, &v6_vlan };
	uint8_t f[FRAME_MAX];
	struct xdp_frame_info fi;

	for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		struct built b = build(f, specs[k]);

		for (size_t n = 0; n < b.len; n++)
			CU_ASSERT_NOT_EQUAL(xdp_frame_parse(f, n, &fi), XDP_FRAME_OK);
	}
}

static void test_status_names(void)
{
	for (int i = 0; i < XDP_FRAME_STATUS_COUNT; i++) {
		const char *n = xdp_frame_status_name((enum xdp_frame_status)i);

		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		CU_ASSERT_STRING_NOT_EQUAL(n, "unknown");
		for (int j = 0; j < i; j++)
			CU_ASSERT_STRING_NOT_EQUAL(n, xdp_frame_status_name((enum xdp_frame_status)j));
	}
	CU_ASSERT_STRING_EQUAL(xdp_frame_status_name(XDP_FRAME_STATUS_COUNT), "unknown");
}

UNIT_SUITE(xdp_frame, NULL, NULL,
	   UNIT_TEST(test_parse_ipv4),
	   UNIT_TEST(test_parse_ipv6),
	   UNIT_TEST(test_ipv4_checksum_known),
	   UNIT_TEST(test_reply_ipv4),
	   UNIT_TEST(test_reply_ipv6),
	   UNIT_TEST(test_reply_checksum_zero),
	   UNIT_TEST(test_reply_longer_refused),
	   UNIT_TEST(test_trailing_bytes),
	   UNIT_TEST(test_malformed_ethernet),
	   UNIT_TEST(test_malformed_ipv4),
	   UNIT_TEST(test_malformed_ipv6),
	   UNIT_TEST(test_malformed_udp),
	   UNIT_TEST(test_every_cut_refused),
	   UNIT_TEST(test_status_names));
