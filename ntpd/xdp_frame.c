/* xdp_frame: parse an AF_XDP request frame, turn it into its reply. */
#include "build_config.h"

#include <string.h>
#include <sys/socket.h>

#include "common/buf.h"
#include "ntpd/xdp_frame.h"

#define ETH_ADDR_LEN 6
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define VLAN_TCI_LEN 2		/* after the tag's ethertype */
#define IPV4_HEADER_LEN 20	/* without options: the only kind we take */
#define IPV4_FRAG_MASK 0x3fff	/* MF and the fragment offset */
#define IPV4_DF 0x4000
#define IPV4_SRC_OFFSET 12	/* source then destination, 4 bytes each */
#define IPV6_HEADER_LEN 40
#define IPV6_SRC_OFFSET 8	/* source then destination, 16 bytes each */
#define IPV6_NEXT_FRAGMENT 44
#define IP_PROTO_UDP 17
#define UDP_HEADER_LEN 8
#define UDP_CSUM_OFFSET 6

/* The one's complement sum of n bytes (big-endian 16-bit words, an odd
 * last byte padded with zero) added to acc, not yet folded. */
static uint64_t sum16(const uint8_t *p, size_t n, uint64_t acc)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* The sum a UDP checksum covers: the pseudo-header (addresses, protocol,
 * length: the same words for both families) and ulen bytes of UDP. */
static uint64_t udp_sum(const uint8_t *ip, int family, const uint8_t *udp, size_t ulen)
{
	uint64_t acc = IP_PROTO_UDP + ulen;

	if (family == AF_INET)
		acc = sum16(ip + IPV4_SRC_OFFSET, 8, acc);
	else
		acc = sum16(ip + IPV6_SRC_OFFSET, 32, acc);
	return sum16(udp, ulen, acc);
}

/* Past the MACs and at most one 802.1Q tag: the IP version announced. */
static enum xdp_frame_status read_ethernet(struct buf_reader *r, int *family)
{
	uint16_t type;

	if (!buf_skip(r, 2 * ETH_ADDR_LEN) || !buf_get_u16(r, &type))
		return XDP_FRAME_ERR_ETH_SHORT;
	if (type == ETHERTYPE_VLAN && (!buf_skip(r, VLAN_TCI_LEN) || !buf_get_u16(r, &type)))
		return XDP_FRAME_ERR_ETH_SHORT;
	if (type == ETHERTYPE_IPV4)
		*family = AF_INET;
	else if (type == ETHERTYPE_IPV6)
		*family = AF_INET6;
	else
		return XDP_FRAME_ERR_ETHERTYPE;
	return XDP_FRAME_OK;
}

/* A host address of fi's family at a, port 0 for now. */
static void set_host(struct netaddr *n, int family, const uint8_t *a)
{
	if (family == AF_INET) {
		n->u.in4.sin_family = AF_INET;
		memcpy(&n->u.in4.sin_addr, a, 4);
		n->len = sizeof(n->u.in4);
	} else {
		n->u.in6.sin6_family = AF_INET6;
		memcpy(&n->u.in6.sin6_addr, a, 16);
		n->len = sizeof(n->u.in6);
	}
}

/* The source address at a, the destination right after it. */
static void set_hosts(struct xdp_frame_info *fi, const uint8_t *a)
{
	set_host(&fi->src, fi->family, a);
	set_host(&fi->dst, fi->family, a + (fi->family == AF_INET ? 4 : 16));
}

/* The IPv4 header at r; ip becomes the reader of its payload. */
static enum xdp_frame_status read_ipv4(struct buf_reader *r, struct buf_reader *ip,
				       struct xdp_frame_info *fi)
{
	const uint8_t *h;
	uint16_t total;

	if (!buf_get_span(r, IPV4_HEADER_LEN, &h))
		return XDP_FRAME_ERR_IP_SHORT;
	if (h[0] >> 4 != 4)
		return XDP_FRAME_ERR_IP_VERSION;
	if ((h[0] & 0x0f) * 4 < IPV4_HEADER_LEN)
		return XDP_FRAME_ERR_IPV4_IHL;
	if ((h[0] & 0x0f) * 4 > IPV4_HEADER_LEN)
		return XDP_FRAME_ERR_IPV4_OPTIONS;
	if (fold(sum16(h, IPV4_HEADER_LEN, 0)) != 0xffff)
		return XDP_FRAME_ERR_IPV4_CHECKSUM;
	total = buf_load_u16(h + 2);
	if (total < IPV4_HEADER_LEN || !buf_get_sub(r, total - IPV4_HEADER_LEN, ip))
		return XDP_FRAME_ERR_IP_LENGTH;
	if (buf_load_u16(h + 6) & IPV4_FRAG_MASK)
		return XDP_FRAME_ERR_FRAGMENT;
	if (h[9] != IP_PROTO_UDP)
		return XDP_FRAME_ERR_NOT_UDP;
	set_hosts(fi, h + IPV4_SRC_OFFSET);
	return XDP_FRAME_OK;
}

/* The IPv6 header at r, UDP next; ip becomes the reader of its payload. */
static enum xdp_frame_status read_ipv6(struct buf_reader *r, struct buf_reader *ip,
				       struct xdp_frame_info *fi)
{
	const uint8_t *h;

	if (!buf_get_span(r, IPV6_HEADER_LEN, &h))
		return XDP_FRAME_ERR_IP_SHORT;
	if (h[0] >> 4 != 6)
		return XDP_FRAME_ERR_IP_VERSION;
	if (!buf_get_sub(r, buf_load_u16(h + 4), ip))
		return XDP_FRAME_ERR_IP_LENGTH;
	if (h[6] == IPV6_NEXT_FRAGMENT)
		return XDP_FRAME_ERR_FRAGMENT;
	if (h[6] != IP_PROTO_UDP)
		return XDP_FRAME_ERR_NOT_UDP;
	set_hosts(fi, h + IPV6_SRC_OFFSET);
	return XDP_FRAME_OK;
}

/* The UDP header at ip (the IP payload): ports, payload, checksum. */
static enum xdp_frame_status read_udp(struct buf_reader *ip, const uint8_t *frame,
				      struct xdp_frame_info *fi)
{
	const uint8_t *u;
	uint16_t ulen, csum;

	if (!buf_get_span(ip, UDP_HEADER_LEN, &u))
		return XDP_FRAME_ERR_UDP_SHORT;
	ulen = buf_load_u16(u + 4);
	/* Bytes past the UDP length inside the IP payload are ignored, as
	 * the kernel ignores them. */
	if (ulen < UDP_HEADER_LEN || !buf_skip(ip, ulen - UDP_HEADER_LEN))
		return XDP_FRAME_ERR_UDP_LENGTH;
	csum = buf_load_u16(u + UDP_CSUM_OFFSET);
	if (csum == 0 ? fi->family == AF_INET6
		      : fold(udp_sum(frame + fi->l3_off, fi->family, u, ulen)) != 0xffff)
		return XDP_FRAME_ERR_UDP_CHECKSUM;
	netaddr_set_port(&fi->src, buf_load_u16(u));
	netaddr_set_port(&fi->dst, buf_load_u16(u + 2));
	fi->payload_off = fi->l4_off + UDP_HEADER_LEN;
	fi->payload_len = ulen - UDP_HEADER_LEN;
	return XDP_FRAME_OK;
}

enum xdp_frame_status xdp_frame_parse(const uint8_t *frame, size_t len,
				      struct xdp_frame_info *out)
{
	struct buf_reader r, ip;
	enum xdp_frame_status st;

	memset(out, 0, sizeof(*out));
	buf_reader_init(&r, frame, len);
	st = read_ethernet(&r, &out->family);
	if (st != XDP_FRAME_OK)
		return st;
	out->l3_off = r.off;
	st = out->family == AF_INET ? read_ipv4(&r, &ip, out) : read_ipv6(&r, &ip, out);
	if (st != XDP_FRAME_OK)
		return st;
	out->l4_off = out->l3_off + (out->family == AF_INET ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
	return read_udp(&ip, frame, out);
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[16];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

/* A fresh IPv4 header for the reply: no options, DF, TOS 0, as the
 * kernel writes for the socket path's replies. */
static void reply_ipv4(uint8_t *h, size_t ulen)
{
	h[0] = 0x45;
	h[1] = 0;
	buf_store_u16(h + 2, (uint16_t)(IPV4_HEADER_LEN + ulen));
	buf_store_u16(h + 4, 0);	/* the ID of an atomic datagram (RFC 6864) */
	buf_store_u16(h + 6, IPV4_DF);
	h[8] = XDP_FRAME_HOP_LIMIT;
	h[9] = IP_PROTO_UDP;
	buf_store_u16(h + 10, 0);
	swap_bytes(h + IPV4_SRC_OFFSET, h + IPV4_SRC_OFFSET + 4, 4);
	buf_store_u16(h + 10, (uint16_t)~fold(sum16(h, IPV4_HEADER_LEN, 0)));
}

static void reply_ipv6(uint8_t *h, size_t ulen)
{
	buf_store_u32(h, 6u << 28);	/* traffic class and flow label 0 */
	buf_store_u16(h + 4, (uint16_t)ulen);
	h[6] = IP_PROTO_UDP;
	h[7] = XDP_FRAME_HOP_LIMIT;
	swap_bytes(h + IPV6_SRC_OFFSET, h + IPV6_SRC_OFFSET + 16, 16);
}

size_t xdp_frame_reply(uint8_t *frame, const struct xdp_frame_info *fi, size_t payload_len)
{
	uint8_t *ip = frame + fi->l3_off, *udp = frame + fi->l4_off;
	size_t ulen = UDP_HEADER_LEN + payload_len;
	uint16_t csum;

	if (payload_len > fi->payload_len)
		return 0;	/* the caller broke its promise: send nothing */
	swap_bytes(frame, frame + ETH_ADDR_LEN, ETH_ADDR_LEN);
	if (fi->family == AF_INET)
		reply_ipv4(ip, ulen);
	else
		reply_ipv6(ip, ulen);
	swap_bytes(udp, udp + 2, 2);
	buf_store_u16(udp + 4, (uint16_t)ulen);
	buf_store_u16(udp + UDP_CSUM_OFFSET, 0);
	csum = (uint16_t)~fold(udp_sum(ip, fi->family, udp, ulen));
	/* 0 means "no checksum" (and is not allowed in IPv6): send its
	 * other representation. */
	buf_store_u16(udp + UDP_CSUM_OFFSET, csum == 0 ? 0xffff : csum);
	return fi->l4_off + ulen;
}

static const char *const status_names[XDP_FRAME_STATUS_COUNT] = {
	[XDP_FRAME_OK] = "ok",
	[XDP_FRAME_ERR_ETH_SHORT] = "eth_short",
	[XDP_FRAME_ERR_ETHERTYPE] = "ethertype",
	[XDP_FRAME_ERR_IP_SHORT] = "ip_short",
	[XDP_FRAME_ERR_IP_VERSION] = "ip_version",
	[XDP_FRAME_ERR_IPV4_IHL] = "ipv4_ihl",
	[XDP_FRAME_ERR_IPV4_OPTIONS] = "ipv4_options",
	[XDP_FRAME_ERR_IPV4_CHECKSUM] = "ipv4_checksum",
	[XDP_FRAME_ERR_IP_LENGTH] = "ip_length",
	[XDP_FRAME_ERR_FRAGMENT] = "fragment",
	[XDP_FRAME_ERR_NOT_UDP] = "not_udp",
	[XDP_FRAME_ERR_UDP_SHORT] = "udp_short",
	[XDP_FRAME_ERR_UDP_LENGTH] = "udp_length",
	[XDP_FRAME_ERR_UDP_CHECKSUM] = "udp_checksum",
};

const char *xdp_frame_status_name(enum xdp_frame_status s)
{
	return (unsigned)s < XDP_FRAME_STATUS_COUNT ? status_names[s] : "unknown";
}
