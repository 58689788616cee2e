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

/* RFC 5116 section 6: ids 32768-65535 are for private use.  No peer
 * negotiates them; the product knows none (see aead_private_by_id). */
#define AEAD_PRIVATE_MIN 32768

/* The primitive an algorithm runs: what aead_set_key, aead_seal and
 * aead_open dispatch on (an id only names a descriptor). */
enum aead_prim {
	AEAD_PRIM_SIV_CMAC_256 = 1,	/* nettle siv_cmac_aes128 (32-byte key) */
	AEAD_PRIM_SIV_CMAC_512,		/* nettle siv_cmac_aes256 (64-byte key) */
	AEAD_PRIM_GCM_SIV_128,		/* nettle siv_gcm_aes128; only with HAVE_GCM_SIV */
};

#define AEAD_MAX_KEY_LEN 64
#define AEAD_TAG_LEN 16
/* A bound for nonce buffers: the longest nonce any algorithm's nonce_len
 * asks us to make (SIV takes any non-empty nonce, GCM-SIV exactly 12).
 * Never a nonce length itself: that is struct aead_alg's nonce_len. */
#define AEAD_NONCE_LEN 16

struct aead_alg {
	uint16_t id;
	const char *name;	/* IANA name, e.g. "AEAD_AES_SIV_CMAC_256" */
	enum aead_prim prim;
	size_t key_len;
	size_t nonce_len;		/* the nonces we make for it */
	size_t nonce_min, nonce_max;	/* accepted nonce lengths */
};

/* NULL when the id is not supported by this build. */
const struct aead_alg *aead_by_id(uint16_t id);
/* An algorithm under a private-use id (>= AEAD_PRIVATE_MIN), or NULL.
 * common/aead_private.c, alone in its file, returns NULL for every id:
 * the product has none.  The unit-test runner links its own definition
 * (tests/unit/aead_testalg.c) ahead of the library, so the linker never
 * takes aead_private.o from libntscommon.a there and a test-only
 * descriptor becomes reachable by id there and nowhere else. */
const struct aead_alg *aead_private_by_id(uint16_t id);
/* The IANA name of an AEAD id this code knows of (15, 16, 17, 30), whether
 * or not this build supports it; NULL for any other id. */
const char *aead_iana_name(uint16_t id);
/* The id of an IANA name (case does not matter), or -1. */
int aead_iana_id(const char *name);
/* The key length the IANA registry gives an AEAD id, whether or not this
 * build supports it (what a client exports for it); 0 for an unknown id. */
size_t aead_key_len(uint16_t id);
/* Supported ids in our order of preference (strongest last is fine: the
 * client's order wins in NTS-KE); n set to the count. */
const uint16_t *aead_supported(size_t *n);
/* Whether the NTS-KE service offers id when ke-aead does not say:
 * every supported AEAD but 30 (doc/ntsd.conf.5, ke-aead). */
bool aead_ke_default(uint16_t id);

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
