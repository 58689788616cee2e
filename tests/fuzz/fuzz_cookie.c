/* fuzz target: cookie_open on arbitrary bytes against a fixed keyset.
 * Random bytes must never open (only a genuine cookie, which re-seals to
 * the same bytes, may); a genuine cookie sealed from the input must open
 * to the same keys, and any change to it must not. */
#include "build_config.h"

#include <string.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/cookie.h"
#include "common/keyset.h"
#include "tests/fuzz/fuzz_check.h"

static struct keyset *fuzz_keys(void)
{
	static struct keyset *ks;
	uint8_t secret[64];

	if (ks)
		return ks;
	ks = keyset_new();
	check(ks != NULL);
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 13 + 5);
	/* Ids easy to hit: the fuzzer finds them and reaches the AEAD. */
	check(keyset_add(ks, 0x00000001, 100, AEAD_AES_SIV_CMAC_256, secret, 32) == 0);
	check(keyset_add(ks, 0x41414141, 200, AEAD_AES_SIV_CMAC_512, secret, 64) == 0);
	return ks;
}

/* The input as a cookie. */
static void open_raw(const struct keyset *ks, const uint8_t *data, size_t size)
{
	struct cookie_keys k;
	enum cookie_status st = cookie_open(ks, data, size, &k);
	uint8_t again[COOKIE_MAX_LEN];

	if (st != COOKIE_OK) {
		check(k.aead == 0 && k.key_len == 0 && cookie_status_str(st)[0] != 'o');
		return;
	}
	/* Only a real cookie opens: sealing its contents again under its key
	 * and nonce (SIV is deterministic) gives back the input. */
	check(size == cookie_len(k.aead));
	check(cookie_seal(keyset_find(ks, buf_load_u32(data)), &k, data + 4, again,
			  sizeof(again)) == size);
	check(memcmp(again, data, size) == 0);
	cookie_keys_wipe(&k);
}

/* The input as material for a genuine cookie, then as a mutation of it. */
static void seal_mutate(const struct keyset *ks, const uint8_t *data, size_t size)
{
	struct buf_reader r;
	struct cookie_keys k = { 0 }, got;
	uint8_t sel, nonce[16], c[COOKIE_MAX_LEN];
	const uint8_t *mask;
	size_t len, n;

	buf_reader_init(&r, data, size);
	buf_get_u8(&r, &sel);
	buf_get_bytes(&r, nonce, sizeof(nonce));
	k.aead = sel & 1 ? AEAD_AES_SIV_CMAC_512 : AEAD_AES_SIV_CMAC_256;
	k.key_len = aead_by_id(k.aead)->key_len;
	buf_get_bytes(&r, k.c2s, k.key_len);
	buf_get_bytes(&r, k.s2c, k.key_len);
	if (r.err)
		return;
	len = cookie_seal(keyset_key_at(ks, (sel >> 1) & 1), &k, nonce, c, sizeof(c));
	check(len == cookie_len(k.aead));
	check(cookie_open(ks, c, len, &got) == COOKIE_OK);
	check(got.aead == k.aead && got.key_len == k.key_len);
	check(memcmp(got.c2s, k.c2s, k.key_len) == 0 && memcmp(got.s2c, k.s2c, k.key_len) == 0);
	n = buf_remaining(&r);
	if (n > len)
		n = len;
	if (!buf_get_span(&r, n, &mask))
		return;
	for (size_t i = 0; i < n; i++)
		c[i] ^= mask[i];
	if (cookie_open(ks, c, len, &got) == COOKIE_OK) {
		for (size_t i = 0; i < n; i++)
			check(mask[i] == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct keyset *ks = fuzz_keys();

	open_raw(ks, data, size);
	if (size > 0 && data[0] == 0xc5)
		seal_mutate(ks, data + 1, size - 1);
	return 0;
}
