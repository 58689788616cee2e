/* ntp_ef: walk and build NTP extension fields (RFC 7822, RFC 8915 5.6). */
#include "build_config.h"

#include <string.h>

#include "ntp_ef.h"

/* Largest field length that is a multiple of 4 and fits the u16 length. */
#define NTP_EF_MAX_LEN 0xfffcU

void ntp_ef_iter_init(struct ntp_ef_iter *it, const uint8_t *p, size_t len)
{
	buf_reader_init(&it->r, p, len);
	it->count = 0;
}

/* On error the iterator does not move, so every later call returns the
 * same status: a caller cannot walk past a bad field by retrying. */
enum ntp_ef_status ntp_ef_next(struct ntp_ef_iter *it, struct ntp_ef *out)
{
	size_t rem = buf_remaining(&it->r);
	uint16_t type, len;
	size_t offset;
	const uint8_t *body;

	if (it->r.err)
		return NTP_EF_ERR_TRUNCATED;
	if (rem == 0)
		return NTP_EF_END;
	if (it->count >= NTP_EF_MAX_FIELDS)
		return NTP_EF_ERR_TOO_MANY;
	if (!buf_peek_u16(&it->r, 0, &type) || !buf_peek_u16(&it->r, 2, &len))
		return NTP_EF_ERR_TRUNCATED;
	if (len < NTP_EF_HEADER_LEN || len % 4 != 0)
		return NTP_EF_ERR_LENGTH;
	if (len > rem)
		return NTP_EF_ERR_TRUNCATED;
	offset = it->r.off;
	if (!buf_skip(&it->r, NTP_EF_HEADER_LEN) ||
	    !buf_get_span(&it->r, len - NTP_EF_HEADER_LEN, &body))
		return NTP_EF_ERR_TRUNCATED;	/* unreachable: checked above */
	it->count++;
	out->type = type;
	out->body = body;
	out->body_len = len - NTP_EF_HEADER_LEN;
	out->offset = offset;
	out->len = len;
	return NTP_EF_OK;
}

const char *ntp_ef_status_str(enum ntp_ef_status s)
{
	switch (s) {
	case NTP_EF_OK:
		return "ok";
	case NTP_EF_END:
		return "end";
	case NTP_EF_ERR_TRUNCATED:
		return "truncated";
	case NTP_EF_ERR_LENGTH:
		return "bad-length";
	case NTP_EF_ERR_TOO_MANY:
		return "too-many-fields";
	}
	return "unknown";
}

size_t ntp_ef_pad4(size_t n)
{
	/* Saturate rather than wrap to a small number. */
	if (n > SIZE_MAX - 3)
		return SIZE_MAX & ~(size_t)3;
	return (n + 3) & ~(size_t)3;
}

bool ntp_ef_put_header(struct buf_writer *w, uint16_t type, size_t len)
{
	uint8_t *p;

	if (len > NTP_EF_MAX_LEN - NTP_EF_HEADER_LEN) {
		w->err = true;
		return false;
	}
	if (!buf_reserve(w, NTP_EF_HEADER_LEN, &p))
		return false;
	buf_store_u16(p, type);
	buf_store_u16(p + 2, (uint16_t)(ntp_ef_pad4(len) + NTP_EF_HEADER_LEN));
	return true;
}

bool ntp_ef_put(struct buf_writer *w, uint16_t type, const void *body, size_t len)
{
	size_t padded;
	uint8_t *p;

	if (len > NTP_EF_MAX_LEN - NTP_EF_HEADER_LEN) {
		w->err = true;
		return false;
	}
	padded = ntp_ef_pad4(len);
	/* One reservation: a field that does not fit writes nothing. */
	if (!buf_reserve(w, NTP_EF_HEADER_LEN + padded, &p))
		return false;
	buf_store_u16(p, type);
	buf_store_u16(p + 2, (uint16_t)(padded + NTP_EF_HEADER_LEN));
	if (len > 0)
		memmove(p + NTP_EF_HEADER_LEN, body, len);
	memset(p + NTP_EF_HEADER_LEN + len, 0, padded - len);
	return true;
}
