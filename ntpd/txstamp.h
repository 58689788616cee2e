/* txstamp: which reply a transmit timestamp from the error queue is for.
 *
 * With SO_TIMESTAMPING, the kernel loops each timestamped datagram back
 * on the socket's error queue: the packet as it left (an Ethernet header,
 * possibly an 802.1Q tag, or none on links without one; IPv4 or IPv6;
 * UDP; our NTP reply, perhaps cut short by the buffer) with the
 * timestamp in a control message.  txstamp_parse finds the client (the
 * IP destination) and the reply's receive timestamp, which key the
 * interleaved-mode entry (ntpd/xleave.h).  Pure: no I/O, every read
 * bounded (common/buf); the kernel writes these bytes, but they are
 * parsed like anything from the network. */
#ifndef NTSD_TXSTAMP_H
#define NTSD_TXSTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a looped-back packet was not one of our replies. */
enum txstamp_status {
	TXSTAMP_OK = 0,
	TXSTAMP_ERR_NO_IP,	/* neither Ethernet + IP nor bare IP */
	TXSTAMP_ERR_NOT_UDP,	/* an IP packet but not UDP (or IPv6 extension headers) */
	TXSTAMP_ERR_SHORT,	/* UDP payload shorter than an NTP header */
	TXSTAMP_ERR_NOT_REPLY,	/* not an NTP server-mode packet */
};

struct txstamp_reply {
	uint8_t client[16];	/* the destination, as netaddr_host_bytes makes it */
	uint64_t rx, tx;	/* the reply's receive and transmit timestamps */
};

enum txstamp_status txstamp_parse(const uint8_t *data, size_t len, struct txstamp_reply *out);
const char *txstamp_status_str(enum txstamp_status s);

#endif
