/* xdp_frame: the Ethernet frames of the AF_XDP path (ntpd/xdp_worker.h).
 *
 * xdp_frame_parse reads a received frame (Ethernet, at most one 802.1Q
 * tag, IPv4 without options or fragments or IPv6 without extension
 * headers, UDP) through common/buf and gives the addresses, ports and the
 * UDP payload; every refusal is a named reason.  xdp_frame_reply turns
 * the same frame into its reply in place once the reply payload has been
 * written over the request's: MACs, addresses and ports swapped, lengths,
 * the IPv4 header checksum and the UDP checksum (both families) set.
 * Pure: no I/O, no allocation.  Nothing here is built only with XDP. */
#ifndef NTSD_XDP_FRAME_H
#define NTSD_XDP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/netaddr.h"

/* Why a frame is not a UDP datagram we answer. */
enum xdp_frame_status {
	XDP_FRAME_OK = 0,
	XDP_FRAME_ERR_ETH_SHORT,	/* shorter than an Ethernet header (and its tag) */
	XDP_FRAME_ERR_ETHERTYPE,	/* neither IPv4 nor IPv6, after at most one tag */
	XDP_FRAME_ERR_IP_SHORT,		/* shorter than the IP header */
	XDP_FRAME_ERR_IP_VERSION,	/* the version field disagrees with the ethertype */
	XDP_FRAME_ERR_IPV4_IHL,		/* header length below 20 bytes */
	XDP_FRAME_ERR_IPV4_OPTIONS,	/* IPv4 options: the kernel's job, not ours */
	XDP_FRAME_ERR_IPV4_CHECKSUM,	/* the IPv4 header checksum does not verify */
	XDP_FRAME_ERR_IP_LENGTH,	/* IP length below its header or past the frame */
	XDP_FRAME_ERR_FRAGMENT,		/* an IPv4 fragment (MF or an offset) */
	XDP_FRAME_ERR_NOT_UDP,		/* not UDP (IPv6: or an extension header first) */
	XDP_FRAME_ERR_UDP_SHORT,	/* the IP payload is shorter than a UDP header */
	XDP_FRAME_ERR_UDP_LENGTH,	/* UDP length below 8 or past the IP payload */
	XDP_FRAME_ERR_UDP_CHECKSUM,	/* the UDP checksum does not verify (IPv6: or is 0) */
	XDP_FRAME_STATUS_COUNT
};

/* A parsed request frame: where its parts are and who sent it where. */
struct xdp_frame_info {
	int family;			/* AF_INET or AF_INET6 */
	struct netaddr src, dst;	/* the sender and the address it sent to, with ports */
	size_t l3_off;			/* the IP header */
	size_t l4_off;			/* the UDP header */
	size_t payload_off;		/* the UDP payload (the NTP request) */
	size_t payload_len;
};

/* Ethernet + tag + IPv6 + UDP: the most a reply's headers take. */
#define XDP_FRAME_MAX_HEADERS (14 + 4 + 40 + 8)
/* The hop limit (TTL) of every reply. */
#define XDP_FRAME_HOP_LIMIT 64

enum xdp_frame_status xdp_frame_parse(const uint8_t *frame, size_t len,
				      struct xdp_frame_info *out);
/* The request frame fi was parsed from becomes its reply: payload_len
 * bytes (at most fi->payload_len) already written at fi->payload_off.
 * Returns the reply frame's length. */
size_t xdp_frame_reply(uint8_t *frame, const struct xdp_frame_info *fi, size_t payload_len);
/* The metric label of a status ("eth_short", ...). */
const char *xdp_frame_status_name(enum xdp_frame_status s);

#endif
