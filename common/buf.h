/* buf: bounded reader and writer over a byte span.
 *
 * Every parse of untrusted bytes (packets, KE records, key and config files)
 * goes through struct buf_reader.  Reads check `n > len - off` themselves
 * (never `off + n > len`), decode big-endian with shifts, and set a sticky
 * error flag: after one failed read every later read fails too, so a parser
 * may check once at the end.  The writer mirrors the reader.
 */
#ifndef NTSD_BUF_H
#define NTSD_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf_reader {
	const uint8_t *p;
	size_t len, off;
	bool err;
};

struct buf_writer {
	uint8_t *p;
	size_t cap, off;
	bool err;
};

/* Reader.  `p` is borrowed: it must outlive the reader. */
void buf_reader_init(struct buf_reader *r, const void *p, size_t len);
size_t buf_remaining(const struct buf_reader *r);
bool buf_get_u8(struct buf_reader *r, uint8_t *out);
bool buf_get_u16(struct buf_reader *r, uint16_t *out);	/* big-endian */
bool buf_get_u32(struct buf_reader *r, uint32_t *out);	/* big-endian */
bool buf_get_u64(struct buf_reader *r, uint64_t *out);	/* big-endian */
bool buf_get_bytes(struct buf_reader *r, void *out, size_t n);	/* copies n */
/* Zero-copy: *out points into the reader's span, n bytes long. */
bool buf_get_span(struct buf_reader *r, size_t n, const uint8_t **out);
/* The next n bytes become `body`, a reader of their own; r skips them. */
bool buf_get_sub(struct buf_reader *r, size_t n, struct buf_reader *body);
bool buf_skip(struct buf_reader *r, size_t n);
/* Peek without consuming; fails (without setting err) past the end. */
bool buf_peek_u16(const struct buf_reader *r, size_t at, uint16_t *out);

/* Writer.  `p` is borrowed. */
void buf_writer_init(struct buf_writer *w, void *p, size_t cap);
size_t buf_writer_room(const struct buf_writer *w);
bool buf_put_u8(struct buf_writer *w, uint8_t v);
bool buf_put_u16(struct buf_writer *w, uint16_t v);
bool buf_put_u32(struct buf_writer *w, uint32_t v);
bool buf_put_u64(struct buf_writer *w, uint64_t v);
bool buf_put_bytes(struct buf_writer *w, const void *src, size_t n);
bool buf_put_zeros(struct buf_writer *w, size_t n);
/* Reserve n bytes to be filled in place: *out points at them. */
bool buf_reserve(struct buf_writer *w, size_t n, uint8_t **out);
/* Overwrite a u16 already written at offset `at` (e.g. a length). */
bool buf_patch_u16(struct buf_writer *w, size_t at, uint16_t v);

/* Plain big-endian helpers for fixed-layout structures already bounded. */
uint16_t buf_load_u16(const uint8_t *p);
uint32_t buf_load_u32(const uint8_t *p);
uint64_t buf_load_u64(const uint8_t *p);
void buf_store_u16(uint8_t *p, uint16_t v);
void buf_store_u32(uint8_t *p, uint32_t v);
void buf_store_u64(uint8_t *p, uint64_t v);

/* Constant-time comparison of n bytes: true when equal. */
bool buf_ct_equal(const void *a, const void *b, size_t n);
/* Wipe secrets in a way the compiler cannot drop. */
void buf_wipe(void *p, size_t n);

#endif
