/* cookie: seal and open NTS cookies (RFC 8915 section 6) under the master
 * keys.  Layout, version 1 (doc/cookie-format.md):
 *
 *   key id (4, clear) | nonce (16, clear) | SIV(tag 16 || ciphertext)
 *   plaintext = version (1) = 1 | reserved (1) = 0 | AEAD id (2) | C2S | S2C
 *   associated data = the 4-byte key id
 *
 * 104 bytes for AEAD 15, 168 for AEAD 17: multiples of 4, at most 256 as
 * chrony requires. */
#ifndef NTSD_COOKIE_H
#define NTSD_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "common/aead.h"
#include "common/keyset.h"
#include "common/rng.h"

#define COOKIE_VERSION 1
#define COOKIE_MAX_LEN 256
/* The clear nonce of a sealed cookie: one nonce_gen nonce. */
#define COOKIE_NONCE_LEN NONCE_GEN_LEN

/* The session keys a cookie carries. */
struct cookie_keys {
	uint16_t aead;
	size_t key_len;
	uint8_t c2s[AEAD_MAX_KEY_LEN];
	uint8_t s2c[AEAD_MAX_KEY_LEN];
};

enum cookie_status {
	COOKIE_OK = 0,
	COOKIE_ERR_LENGTH,	/* too short, too long, or not the size its AEAD implies */
	COOKIE_ERR_UNKNOWN_KEY,	/* key id not in the set */
	COOKIE_ERR_AUTH,	/* tag check failed: tampered or wrong key */
	COOKIE_ERR_VERSION,	/* unknown layout version */
	COOKIE_ERR_AEAD,	/* the AEAD id inside is not supported */
};

const char *cookie_status_str(enum cookie_status s);
/* Length of a cookie carrying keys for this AEAD; 0 if unsupported. */
size_t cookie_len(uint16_t aead);
/* Any length some supported AEAD gives: checked before any crypto. */
bool cookie_len_valid(size_t len);
/* Seal keys under `key` with a 16-byte nonce into out (cap bytes).
 * Returns the cookie length or 0 on error (cap too small, bad AEAD). */
size_t cookie_seal(const struct master_key *key, const struct cookie_keys *keys,
		   const uint8_t nonce[COOKIE_NONCE_LEN], uint8_t *out, size_t cap);
/* Open with any key of the set.  On success *out holds the keys (caller
 * wipes them when done); on failure *out is wiped. */
enum cookie_status cookie_open(const struct keyset *ks, const uint8_t *cookie,
			       size_t len, struct cookie_keys *out);
void cookie_keys_wipe(struct cookie_keys *k);

#endif
