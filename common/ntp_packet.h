/* ntp_packet: the 48-byte NTPv4 header (RFC 5905 section 7.3) and NTP
 * time formats.  Pure: no I/O. */
#ifndef NTSD_NTP_PACKET_H
#define NTSD_NTP_PACKET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

/* RFC 5905: the NTP port. */
#define NTP_PORT 123
#define NTP_HEADER_LEN 48

enum ntp_leap {
	NTP_LEAP_NONE = 0,
	NTP_LEAP_INSERT = 1,
	NTP_LEAP_DELETE = 2,
	NTP_LEAP_UNSYNC = 3,
};

enum ntp_mode {
	NTP_MODE_RESERVED = 0,
	NTP_MODE_SYMMETRIC_ACTIVE = 1,
	NTP_MODE_SYMMETRIC_PASSIVE = 2,
	NTP_MODE_CLIENT = 3,
	NTP_MODE_SERVER = 4,
	NTP_MODE_BROADCAST = 5,
	NTP_MODE_CONTROL = 6,
	NTP_MODE_PRIVATE = 7,
};

/* Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
#define NTP_UNIX_OFFSET 2208988800UL

struct ntp_header {
	uint8_t leap;		/* 2 bits, enum ntp_leap */
	uint8_t version;	/* 3 bits */
	uint8_t mode;		/* 3 bits, enum ntp_mode */
	uint8_t stratum;
	int8_t poll;
	int8_t precision;
	uint32_t root_delay;		/* NTP short format 16.16 */
	uint32_t root_dispersion;	/* NTP short format 16.16 */
	uint32_t refid;
	uint64_t ref_ts;	/* NTP timestamp format 32.32 */
	uint64_t origin_ts;
	uint64_t rx_ts;
	uint64_t tx_ts;
};

/* Decode the first 48 bytes of r; false (r->err set) if shorter. */
bool ntp_header_decode(struct buf_reader *r, struct ntp_header *h);
/* Append the 48-byte header to w. */
bool ntp_header_encode(struct buf_writer *w, const struct ntp_header *h);

/* struct timespec (Unix time) -> 64-bit NTP timestamp; the era is dropped
 * (wraps in 2036 as the wire format does). */
uint64_t ntp_ts_from_timespec(const struct timespec *ts);
/* The system clock (CLOCK_REALTIME) now, as an NTP timestamp. */
uint64_t ntp_ts_now(void);
/* 64-bit NTP timestamp -> Unix time, choosing the era that puts the result
 * within 68 years of `pivot` (RFC 5905 era handling; pivot = now). */
void ntp_ts_to_timespec(uint64_t ntp, time_t pivot, struct timespec *out);
/* Seconds (>= 0; saturates at 0xffff.ffff) <-> NTP short format 16.16. */
uint32_t ntp_short_from_double(double seconds);
double ntp_short_to_double(uint32_t v);
/* Signed difference a - b of two NTP timestamps in seconds, assuming they
 * are within 68 years of each other. */
double ntp_ts_diff(uint64_t a, uint64_t b);

#endif
