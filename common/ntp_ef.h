/* ntp_ef: NTP extension fields (RFC 7822) and the NTS field types
 * (RFC 8915 section 5.6).  Walk and build; pure. */
#ifndef NTSD_NTP_EF_H
#define NTSD_NTP_EF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum ntp_ef_type {
	NTP_EF_UNIQUE_ID = 0x0104,
	NTP_EF_NTS_COOKIE = 0x0204,
	NTP_EF_NTS_COOKIE_PLACEHOLDER = 0x0304,
	NTP_EF_NTS_AUTH = 0x0404,
};

#define NTP_EF_HEADER_LEN 4
/* More fields than this in one packet is a malformed packet. */
#define NTP_EF_MAX_FIELDS 32

/* One field; `body` points into the walked span (zero-copy). */
struct ntp_ef {
	uint16_t type;
	const uint8_t *body;
	size_t body_len;	/* field length minus the 4-byte header, padding included */
	size_t offset;		/* of the field's first byte, from the start of the walked span */
	size_t len;		/* whole field, header included */
};

enum ntp_ef_status {
	NTP_EF_OK = 0,		/* *out holds the next field */
	NTP_EF_END,		/* no bytes left */
	NTP_EF_ERR_TRUNCATED,	/* fewer than 4 bytes left, or length past the end */
	NTP_EF_ERR_LENGTH,	/* length < 4 or not a multiple of 4 */
	NTP_EF_ERR_TOO_MANY,	/* more than NTP_EF_MAX_FIELDS */
};

struct ntp_ef_iter {
	struct buf_reader r;
	unsigned count;
};

/* Walk the span p[0..len) (the bytes after the 48-byte header, or the
 * plaintext of an NTS authenticator).  Offsets are relative to p. */
void ntp_ef_iter_init(struct ntp_ef_iter *it, const uint8_t *p, size_t len);
enum ntp_ef_status ntp_ef_next(struct ntp_ef_iter *it, struct ntp_ef *out);
const char *ntp_ef_status_str(enum ntp_ef_status s);

/* Append a field whose body is `len` bytes, zero-padded to a multiple of 4. */
bool ntp_ef_put(struct buf_writer *w, uint16_t type, const void *body, size_t len);
/* Append a field header for a body of `len` bytes (padded length written);
 * the caller fills the body with buf_reserve/buf_put and the padding. */
bool ntp_ef_put_header(struct buf_writer *w, uint16_t type, size_t len);
/* Round up to a multiple of 4. */
size_t ntp_ef_pad4(size_t n);

#endif
