/* ntp_packet: NTPv4 header (RFC 5905 section 7.3) and NTP time formats. */
#include "build_config.h"

#include "ntp_packet.h"

#define NSEC_PER_SEC 1000000000LL
#define ERA_SECONDS 4294967296LL	/* 2^32: one NTP era */

bool ntp_header_decode(struct buf_reader *r, struct ntp_header *h)
{
	const uint8_t *p;

	/* Take all 48 bytes at once: a short packet consumes nothing. */
	if (!buf_get_span(r, NTP_HEADER_LEN, &p))
		return false;
	h->leap = p[0] >> 6;
	h->version = (p[0] >> 3) & 7;
	h->mode = p[0] & 7;
	h->stratum = p[1];
	h->poll = (int8_t)p[2];
	h->precision = (int8_t)p[3];
	h->root_delay = buf_load_u32(p + 4);
	h->root_dispersion = buf_load_u32(p + 8);
	h->refid = buf_load_u32(p + 12);
	h->ref_ts = buf_load_u64(p + 16);
	h->origin_ts = buf_load_u64(p + 24);
	h->rx_ts = buf_load_u64(p + 32);
	h->tx_ts = buf_load_u64(p + 40);
	return true;
}

bool ntp_header_encode(struct buf_writer *w, const struct ntp_header *h)
{
	uint8_t *p;

	if (!buf_reserve(w, NTP_HEADER_LEN, &p))
		return false;
	p[0] = (uint8_t)((h->leap & 3) << 6 | (h->version & 7) << 3 | (h->mode & 7));
	p[1] = h->stratum;
	p[2] = (uint8_t)h->poll;
	p[3] = (uint8_t)h->precision;
	buf_store_u32(p + 4, h->root_delay);
	buf_store_u32(p + 8, h->root_dispersion);
	buf_store_u32(p + 12, h->refid);
	buf_store_u64(p + 16, h->ref_ts);
	buf_store_u64(p + 24, h->origin_ts);
	buf_store_u64(p + 32, h->rx_ts);
	buf_store_u64(p + 40, h->tx_ts);
	return true;
}

uint64_t ntp_ts_from_timespec(const struct timespec *ts)
{
	int64_t sec = ts->tv_sec;
	int64_t nsec = ts->tv_nsec;
	uint64_t frac;

	sec += nsec / NSEC_PER_SEC;
	nsec %= NSEC_PER_SEC;
	if (nsec < 0) {
		nsec += NSEC_PER_SEC;
		sec--;
	}
	/* Round the fraction up so that ntp_ts_to_timespec, which truncates,
	 * gives back the same nanosecond (2^-32 s is finer than 1 ns). */
	frac = (((uint64_t)nsec << 32) + (uint64_t)NSEC_PER_SEC - 1) / (uint64_t)NSEC_PER_SEC;
	/* Unsigned arithmetic: wraps into the era as the wire format does. */
	return (((uint64_t)sec + NTP_UNIX_OFFSET) & 0xffffffffULL) << 32 | frac;
}

uint64_t ntp_ts_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ntp_ts_from_timespec(&ts);
}

void ntp_ts_to_timespec(uint64_t ntp, time_t pivot, struct timespec *out)
{
	uint32_t sec = (uint32_t)(ntp >> 32);
	uint64_t frac = ntp & 0xffffffffULL;
	uint32_t pivot_ntp = (uint32_t)((uint64_t)pivot + NTP_UNIX_OFFSET);
	int64_t d;

	/* Distance from the pivot modulo one era, taken in [-2^31, 2^31). */
	d = (int64_t)(uint32_t)(sec - pivot_ntp);
	if (d >= ERA_SECONDS / 2)
		d -= ERA_SECONDS;
	out->tv_sec = (time_t)(pivot + d);
	out->tv_nsec = (long)((frac * (uint64_t)NSEC_PER_SEC) >> 32);
}

uint32_t ntp_short_from_double(double seconds)
{
	double v;

	/* !(x > 0) also catches NaN. */
	if (!(seconds > 0))
		return 0;
	v = seconds * 65536.0 + 0.5;
	if (v >= 4294967295.0)
		return 0xffffffffU;
	return (uint32_t)v;
}

double ntp_short_to_double(uint32_t v)
{
	return v / 65536.0;
}

double ntp_ts_diff(uint64_t a, uint64_t b)
{
	uint64_t d = a - b;
	bool neg = d >> 63;
	double r;

	/* Sign and magnitude by hand: converting to int64_t is not portable
	 * for values past INT64_MAX. */
	if (neg)
		d = ~d + 1;
	r = (double)(d >> 32) + (double)(d & 0xffffffffULL) / 4294967296.0;
	return neg ? -r : r;
}
