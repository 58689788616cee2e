/* cookie: seal the session keys under a master key; open under any key of
 * the set.  Layout in cookie.h and doc/cookie-format.md. */
#include "build_config.h"

#include <stdint.h>
#include <string.h>

#include "aead.h"
#include "buf.h"
#include "cookie.h"
#include "keyset.h"

#define COOKIE_ID_LEN 4
/* version, reserved, AEAD id */
#define COOKIE_PT_HDR_LEN 4
#define COOKIE_OVERHEAD (COOKIE_ID_LEN + COOKIE_NONCE_LEN + AEAD_TAG_LEN + COOKIE_PT_HDR_LEN)
#define COOKIE_PT_MAX (COOKIE_PT_HDR_LEN + 2 * AEAD_MAX_KEY_LEN)

const char *cookie_status_str(enum cookie_status s)
{
	switch (s) {
	case COOKIE_OK:
		return "ok";
	case COOKIE_ERR_LENGTH:
		return "length";
	case COOKIE_ERR_UNKNOWN_KEY:
		return "unknown-key";
	case COOKIE_ERR_AUTH:
		return "auth";
	case COOKIE_ERR_VERSION:
		return "version";
	case COOKIE_ERR_AEAD:
		return "aead";
	}
	return "unknown";
}

size_t cookie_len(uint16_t aead)
{
	const struct aead_alg *alg = aead_by_id(aead);

	if (!alg)
		return 0;
	return COOKIE_OVERHEAD + 2 * alg->key_len;
}

bool cookie_len_valid(size_t len)
{
	size_t n;
	const uint16_t *ids = aead_supported(&n);

	for (size_t i = 0; i < n; i++)
		if (cookie_len(ids[i]) == len)
			return true;
	return false;
}

size_t cookie_seal(const struct master_key *key, const struct cookie_keys *keys,
		   const uint8_t nonce[COOKIE_NONCE_LEN], uint8_t *out, size_t cap)
{
	const struct aead_alg *alg = aead_by_id(keys->aead);
	uint8_t pt[COOKIE_PT_MAX];
	struct buf_writer w;
	size_t len, pt_len;
	uint8_t *sealed;

	if (!alg || keys->key_len != alg->key_len || !key->ctx.alg)
		return 0;
	len = cookie_len(keys->aead);
	if (len > cap || len > COOKIE_MAX_LEN)
		return 0;

	buf_writer_init(&w, pt, sizeof(pt));
	buf_put_u8(&w, COOKIE_VERSION);
	buf_put_u8(&w, 0);
	buf_put_u16(&w, keys->aead);
	buf_put_bytes(&w, keys->c2s, keys->key_len);
	buf_put_bytes(&w, keys->s2c, keys->key_len);
	pt_len = w.off;

	buf_writer_init(&w, out, cap);
	buf_put_u32(&w, key->id);
	buf_put_bytes(&w, nonce, COOKIE_NONCE_LEN);
	if (!buf_reserve(&w, pt_len + AEAD_TAG_LEN, &sealed) || w.err ||
	    aead_seal(&key->ctx, nonce, COOKIE_NONCE_LEN, out, COOKIE_ID_LEN,
		      pt, pt_len, sealed) < 0)
		len = 0;
	buf_wipe(pt, sizeof(pt));
	return len;
}

enum cookie_status cookie_open(const struct keyset *ks, const uint8_t *cookie,
			       size_t len, struct cookie_keys *out)
{
	const struct master_key *key;
	const struct aead_alg *alg;
	uint8_t pt[COOKIE_PT_MAX];
	const uint8_t *id_bytes, *nonce, *sealed;
	struct buf_reader r, p;
	enum cookie_status st;
	uint8_t version, reserved;
	uint16_t aead;
	uint32_t id;
	size_t sealed_len, pt_len;

	buf_wipe(out, sizeof(*out));
	if (!cookie_len_valid(len))
		return COOKIE_ERR_LENGTH;

	buf_reader_init(&r, cookie, len);
	buf_get_span(&r, COOKIE_ID_LEN, &id_bytes);
	buf_get_span(&r, COOKIE_NONCE_LEN, &nonce);
	sealed_len = buf_remaining(&r);
	if (!buf_get_span(&r, sealed_len, &sealed) ||
	    sealed_len < AEAD_TAG_LEN + COOKIE_PT_HDR_LEN ||
	    sealed_len - AEAD_TAG_LEN > sizeof(pt))
		return COOKIE_ERR_LENGTH;
	id = buf_load_u32(id_bytes);

	key = keyset_find(ks, id);
	if (!key)
		return COOKIE_ERR_UNKNOWN_KEY;
	pt_len = sealed_len - AEAD_TAG_LEN;
	if (aead_open(&key->ctx, nonce, COOKIE_NONCE_LEN, id_bytes, COOKIE_ID_LEN,
		      sealed, sealed_len, pt) < 0)
		return COOKIE_ERR_AUTH;

	buf_reader_init(&p, pt, pt_len);
	buf_get_u8(&p, &version);
	buf_get_u8(&p, &reserved);
	buf_get_u16(&p, &aead);
	if (version != COOKIE_VERSION || reserved != 0) {
		st = COOKIE_ERR_VERSION;
		goto out;
	}
	alg = aead_by_id(aead);
	if (!alg) {
		st = COOKIE_ERR_AEAD;
		goto out;
	}
	if (cookie_len(aead) != len) {
		st = COOKIE_ERR_LENGTH;
		goto out;
	}
	out->aead = aead;
	out->key_len = alg->key_len;
	buf_get_bytes(&p, out->c2s, alg->key_len);
	buf_get_bytes(&p, out->s2c, alg->key_len);
	st = p.err || buf_remaining(&p) != 0 ? COOKIE_ERR_LENGTH : COOKIE_OK;
out:
	buf_wipe(pt, sizeof(pt));
	if (st != COOKIE_OK)
		buf_wipe(out, sizeof(*out));
	return st;
}

void cookie_keys_wipe(struct cookie_keys *k)
{
	if (k)
		buf_wipe(k, sizeof(*k));
}
