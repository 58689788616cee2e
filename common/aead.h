/* aead: the AEAD algorithms NTS uses, by IANA id, over nettle.
 * A context holds a scheduled key; seal/open take it const, so one
 * context may be shared read-only by many threads. */
#ifndef NTSD_AEAD_H
#define NTSD_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/siv-cmac.h>

/* struct aead_ctx's layout depends on HAVE_GCM_SIV: every includer must
 * see the same answer. */
#include "build_config.h"

enum aead_id {
	AEAD_AES_SIV_CMAC_256 = 15,	/* 32-byte key, mandatory in NTS */
	AEAD_AES_SIV_CMAC_384 = 16,	/* 48-byte key: not supported (no nettle API) */
	AEAD_AES_SIV_CMAC_512 = 17,	/* 64-byte key */
	AEAD_AES_128_GCM_SIV = 30,	/* 16-byte key; only with HAVE_GCM_SIV */
};

#define AEAD_MAX_KEY_LEN 64
#define AEAD_TAG_LEN 16
/* The longest nonce we generate (SIV takes any non-empty nonce; GCM-SIV
 * exactly 12): see struct aead_alg's nonce_len. */
#define AEAD_NONCE_LEN 16

struct aead_alg {
	uint16_t id;
	const char *name;	/* IANA name, e.g. "AEAD_AES_SIV_CMAC_256" */
	size_t key_len;
	size_t nonce_len;		/* the nonces we make for it */
	size_t nonce_min, nonce_max;	/* accepted nonce lengths */
};

/* NULL when the id is not supported by this build. */
const struct aead_alg *aead_by_id(uint16_t id);
/* The key length the IANA registry gives an AEAD id, whether or not this
 * build supports it (what a client exports for it); 0 for an unknown id. */
size_t aead_key_len(uint16_t id);
/* Supported ids in our order of preference (strongest last is fine: the
 * client's order wins in NTS-KE); n set to the count. */
const uint16_t *aead_supported(size_t *n);

struct aead_ctx {
	const struct aead_alg *alg;
	union {
		struct siv_cmac_aes128_ctx siv256;	/* AEAD 15 */
		struct siv_cmac_aes256_ctx siv512;	/* AEAD 17 */
#ifdef HAVE_GCM_SIV
		uint8_t gcm_siv_key[16];	/* AEAD 30 */
#endif
	} u;
};

/* Schedule key (alg->key_len bytes).  -1 when the id is unsupported. */
int aead_set_key(struct aead_ctx *ctx, uint16_t id, const uint8_t *key);
/* out must hold pt_len + AEAD_TAG_LEN bytes (tag first, as RFC 5297).
 * -1 on a nonce length outside the algorithm's range. */
int aead_seal(const struct aead_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
	      const uint8_t *ad, size_t ad_len, const uint8_t *pt, size_t pt_len,
	      uint8_t *out);
/* out must hold ct_len - AEAD_TAG_LEN bytes.  -1 on a bad tag, a ct_len
 * below the tag size or a bad nonce length; out is then wiped. */
int aead_open(const struct aead_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
	      const uint8_t *ad, size_t ad_len, const uint8_t *ct, size_t ct_len,
	      uint8_t *out);
void aead_ctx_wipe(struct aead_ctx *ctx);

#endif
