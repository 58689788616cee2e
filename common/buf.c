/* buf: bounded reader and writer over a byte span. */
#include "build_config.h"

#include <string.h>

#include "buf.h"

/* Every read goes through here: checks `n > len - off` (off <= len always
 * holds, so this cannot wrap), and fails for good once err is set. */
static const uint8_t *reader_take(struct buf_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint8_t *writer_take(struct buf_writer *w, size_t n)
{
	uint8_t *p;

	if (w->err || n > w->cap - w->off) {
		w->err = true;
		return NULL;
	}
	p = w->p + w->off;
	w->off += n;
	return p;
}

void buf_reader_init(struct buf_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
	r->err = false;
}

size_t buf_remaining(const struct buf_reader *r)
{
	return r->len - r->off;
}

bool buf_get_u8(struct buf_reader *r, uint8_t *out)
{
	const uint8_t *p = reader_take(r, 1);

	if (!p)
		return false;
	*out = p[0];
	return true;
}

bool buf_get_u16(struct buf_reader *r, uint16_t *out)
{
	const uint8_t *p = reader_take(r, 2);

	if (!p)
		return false;
	*out = buf_load_u16(p);
	return true;
}

bool buf_get_u32(struct buf_reader *r, uint32_t *out)
{
	const uint8_t *p = reader_take(r, 4);

	if (!p)
		return false;
	*out = buf_load_u32(p);
	return true;
}

bool buf_get_u64(struct buf_reader *r, uint64_t *out)
{
	const uint8_t *p = reader_take(r, 8);

	if (!p)
		return false;
	*out = buf_load_u64(p);
	return true;
}

bool buf_get_bytes(struct buf_reader *r, void *out, size_t n)
{
	const uint8_t *p = reader_take(r, n);

	if (!p)
		return false;
	if (n > 0)
		memcpy(out, p, n);
	return true;
}

bool buf_get_span(struct buf_reader *r, size_t n, const uint8_t **out)
{
	const uint8_t *p = reader_take(r, n);

	if (!p)
		return false;
	*out = p;
	return true;
}

bool buf_get_sub(struct buf_reader *r, size_t n, struct buf_reader *body)
{
	const uint8_t *p = reader_take(r, n);

	if (!p) {
		/* A failed sub-reader is empty and already failed, so a caller
		 * that ignores the return value still reads nothing. */
		buf_reader_init(body, NULL, 0);
		body->err = true;
		return false;
	}
	body->p = p;
	body->len = n;
	body->off = 0;
	body->err = false;
	return true;
}

bool buf_skip(struct buf_reader *r, size_t n)
{
	return reader_take(r, n) != NULL;
}

bool buf_peek_u16(const struct buf_reader *r, size_t at, uint16_t *out)
{
	size_t rem = r->len - r->off;

	if (r->err || at > rem || 2 > rem - at)
		return false;
	*out = buf_load_u16(r->p + r->off + at);
	return true;
}

void buf_writer_init(struct buf_writer *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = p ? cap : 0;
	w->off = 0;
	w->err = false;
}

size_t buf_writer_room(const struct buf_writer *w)
{
	return w->cap - w->off;
}

bool buf_put_u8(struct buf_writer *w, uint8_t v)
{
	uint8_t *p = writer_take(w, 1);

	if (!p)
		return false;
	p[0] = v;
	return true;
}

bool buf_put_u16(struct buf_writer *w, uint16_t v)
{
	uint8_t *p = writer_take(w, 2);

	if (!p)
		return false;
	buf_store_u16(p, v);
	return true;
}

bool buf_put_u32(struct buf_writer *w, uint32_t v)
{
	uint8_t *p = writer_take(w, 4);

	if (!p)
		return false;
	buf_store_u32(p, v);
	return true;
}

bool buf_put_u64(struct buf_writer *w, uint64_t v)
{
	uint8_t *p = writer_take(w, 8);

	if (!p)
		return false;
	buf_store_u64(p, v);
	return true;
}

bool buf_put_bytes(struct buf_writer *w, const void *src, size_t n)
{
	uint8_t *p = writer_take(w, n);

	if (!p)
		return false;
	if (n > 0)
		memmove(p, src, n);
	return true;
}

bool buf_put_zeros(struct buf_writer *w, size_t n)
{
	uint8_t *p = writer_take(w, n);

	if (!p)
		return false;
	if (n > 0)
		memset(p, 0, n);
	return true;
}

bool buf_reserve(struct buf_writer *w, size_t n, uint8_t **out)
{
	uint8_t *p = writer_take(w, n);

	if (!p)
		return false;
	*out = p;
	return true;
}

bool buf_patch_u16(struct buf_writer *w, size_t at, uint16_t v)
{
	/* Only bytes already written may be patched. */
	if (w->err || at > w->off || 2 > w->off - at) {
		w->err = true;
		return false;
	}
	buf_store_u16(w->p + at, v);
	return true;
}

uint16_t buf_load_u16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

uint32_t buf_load_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

uint64_t buf_load_u64(const uint8_t *p)
{
	return (uint64_t)buf_load_u32(p) << 32 | buf_load_u32(p + 4);
}

void buf_store_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void buf_store_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void buf_store_u64(uint8_t *p, uint64_t v)
{
	buf_store_u32(p, (uint32_t)(v >> 32));
	buf_store_u32(p + 4, (uint32_t)v);
}

bool buf_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;

	/* No early exit: the time taken depends on n only. */
	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

void buf_wipe(void *p, size_t n)
{
	if (!p || n == 0)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	{
		volatile uint8_t *v = p;

		while (n--)
			*v++ = 0;
	}
#endif
}
