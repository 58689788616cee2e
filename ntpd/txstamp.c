/* txstamp: find our NTP reply in a packet looped back with its timestamp. */
#include "build_config.h"

#include <string.h>

#include "common/buf.h"
#include "common/ntp_packet.h"
#include "ntpd/txstamp.h"

#define ETH_ADDRS_LEN 12	/* destination and source MAC */
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define VLAN_TAG_LEN 2		/* after its ethertype: the tag control field */
#define IPV4_MIN_HEADER 20
#define IPV4_DST_OFFSET 16
#define IPV6_HEADER_LEN 40
#define IPV6_NEXT_OFFSET 6
#define IPV6_DST_OFFSET 24
#define IPPROTO_UDP_NUM 17
#define UDP_HEADER_LEN 8
#define RX_TS_OFFSET 32
#define TX_TS_OFFSET 40

/* The IPv4 header at r: the destination into client (IPv4-mapped), r
 * left at the UDP header. */
static enum txstamp_status skip_ipv4(struct buf_reader *r, uint8_t client[16])
{
	const uint8_t *h;
	size_t hlen;

	if (!buf_get_span(r, IPV4_MIN_HEADER, &h) || h[0] >> 4 != 4)
		return TXSTAMP_ERR_NO_IP;
	hlen = (size_t)(h[0] & 0x0f) * 4;
	if (hlen < IPV4_MIN_HEADER || !buf_skip(r, hlen - IPV4_MIN_HEADER))
		return TXSTAMP_ERR_NO_IP;
	if (h[9] != IPPROTO_UDP_NUM)
		return TXSTAMP_ERR_NOT_UDP;
	memset(client, 0, 10);
	client[10] = client[11] = 0xff;
	memcpy(client + 12, h + IPV4_DST_OFFSET, 4);
	return TXSTAMP_OK;
}

static enum txstamp_status skip_ipv6(struct buf_reader *r, uint8_t client[16])
{
	const uint8_t *h;

	if (!buf_get_span(r, IPV6_HEADER_LEN, &h) || h[0] >> 4 != 6)
		return TXSTAMP_ERR_NO_IP;
	if (h[IPV6_NEXT_OFFSET] != IPPROTO_UDP_NUM)
		return TXSTAMP_ERR_NOT_UDP;
	memcpy(client, h + IPV6_DST_OFFSET, 16);
	return TXSTAMP_OK;
}

/* An IP packet of the given version (4 or 6) at r. */
static enum txstamp_status skip_ip(struct buf_reader *r, unsigned version, uint8_t client[16])
{
	if (version == 4)
		return skip_ipv4(r, client);
	if (version == 6)
		return skip_ipv6(r, client);
	return TXSTAMP_ERR_NO_IP;
}

/* An Ethernet header (and one 802.1Q tag) at r: the IP version it
 * announces, 0 if none. */
static unsigned skip_ethernet(struct buf_reader *r)
{
	uint16_t type;

	if (!buf_skip(r, ETH_ADDRS_LEN) || !buf_get_u16(r, &type))
		return 0;
	if (type == ETHERTYPE_VLAN && (!buf_skip(r, VLAN_TAG_LEN) || !buf_get_u16(r, &type)))
		return 0;
	return type == ETHERTYPE_IPV4 ? 4 : type == ETHERTYPE_IPV6 ? 6 : 0;
}

/* The UDP datagram at r: its NTP payload, which must be a server reply
 * (possibly cut short after the header). */
static enum txstamp_status read_reply(struct buf_reader *r, struct txstamp_reply *out)
{
	uint16_t ulen;
	const uint8_t *ntp;

	if (!buf_skip(r, 4) || !buf_get_u16(r, &ulen) || !buf_skip(r, 2) ||
	    ulen < UDP_HEADER_LEN + NTP_HEADER_LEN || !buf_get_span(r, NTP_HEADER_LEN, &ntp))
		return TXSTAMP_ERR_SHORT;
	if ((ntp[0] & 7) != NTP_MODE_SERVER)
		return TXSTAMP_ERR_NOT_REPLY;
	out->rx = buf_load_u64(ntp + RX_TS_OFFSET);
	out->tx = buf_load_u64(ntp + TX_TS_OFFSET);
	return TXSTAMP_OK;
}

enum txstamp_status txstamp_parse(const uint8_t *data, size_t len, struct txstamp_reply *out)
{
	struct buf_reader r;
	enum txstamp_status st;
	unsigned v;

	memset(out, 0, sizeof(*out));
	buf_reader_init(&r, data, len);
	v = skip_ethernet(&r);
	st = v != 0 ? skip_ip(&r, v, out->client) : TXSTAMP_ERR_NO_IP;
	if (st == TXSTAMP_ERR_NO_IP) {
		/* A link without a link-layer header (tun, WireGuard): bare IP. */
		buf_reader_init(&r, data, len);
		st = len > 0 ? skip_ip(&r, data[0] >> 4, out->client) : TXSTAMP_ERR_NO_IP;
	}
	if (st != TXSTAMP_OK)
		return st;
	return read_reply(&r, out);
}

const char *txstamp_status_str(enum txstamp_status s)
{
	switch (s) {
	case TXSTAMP_OK:
		return "ok";
	case TXSTAMP_ERR_NO_IP:
		return "no IP header";
	case TXSTAMP_ERR_NOT_UDP:
		return "not UDP";
	case TXSTAMP_ERR_SHORT:
		return "shorter than an NTP header";
	case TXSTAMP_ERR_NOT_REPLY:
		return "not an NTP reply";
	}
	return "unknown";
}
