/* aead: AES-SIV-CMAC (RFC 5297) over nettle, as NTS uses it: the nonce is
 * the last S2V input after one associated-data component, and the output
 * is the tag followed by the ciphertext. */
#include "build_config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <nettle/aes.h>
#include <nettle/siv-cmac.h>
#ifdef HAVE_GCM_SIV
#include <nettle/siv-gcm.h>
#endif

#include "aead.h"
#include "buf.h"

/* Longest nonce we accept for SIV-CMAC: far above the 16 bytes NTS clients
 * send, and it bounds the work a peer can ask of us. */
#define AEAD_SIV_NONCE_MAX 255
#define AEAD_GCM_SIV_NONCE_LEN 12
/* The SIV nonces we make: 16 bytes, the RFC 8915 minimum that needs no
 * extra padding in an authenticator. */
#define AEAD_SIV_NONCE_LEN 16

_Static_assert(AEAD_SIV_NONCE_LEN <= AEAD_NONCE_LEN && AEAD_GCM_SIV_NONCE_LEN <= AEAD_NONCE_LEN,
	       "AEAD_NONCE_LEN bounds every nonce we make");

static const struct aead_alg aead_algs[] = {
	{ AEAD_AES_SIV_CMAC_256, "AEAD_AES_SIV_CMAC_256", AEAD_PRIM_SIV_CMAC_256,
	  SIV_CMAC_AES128_KEY_SIZE, AEAD_SIV_NONCE_LEN, SIV_MIN_NONCE_SIZE, AEAD_SIV_NONCE_MAX },
	{ AEAD_AES_SIV_CMAC_512, "AEAD_AES_SIV_CMAC_512", AEAD_PRIM_SIV_CMAC_512,
	  SIV_CMAC_AES256_KEY_SIZE, AEAD_SIV_NONCE_LEN, SIV_MIN_NONCE_SIZE, AEAD_SIV_NONCE_MAX },
#ifdef HAVE_GCM_SIV
	{ AEAD_AES_128_GCM_SIV, "AEAD_AES_128_GCM_SIV", AEAD_PRIM_GCM_SIV_128, AES128_KEY_SIZE,
	  AEAD_GCM_SIV_NONCE_LEN, AEAD_GCM_SIV_NONCE_LEN, AEAD_GCM_SIV_NONCE_LEN },
#endif
};

static const uint16_t aead_ids[] = {
	AEAD_AES_SIV_CMAC_256,
	AEAD_AES_SIV_CMAC_512,
#ifdef HAVE_GCM_SIV
	AEAD_AES_128_GCM_SIV,
#endif
};

const struct aead_alg *aead_by_id(uint16_t id)
{
	for (size_t i = 0; i < sizeof(aead_algs) / sizeof(aead_algs[0]); i++)
		if (aead_algs[i].id == id)
			return &aead_algs[i];
	return id >= AEAD_PRIVATE_MIN ? aead_private_by_id(id) : NULL;
}

/* Every AEAD id this code knows of, supported by this build or not. */
static const struct {
	uint16_t id;
	const char *name;
	size_t key_len;
} aead_iana[] = {
	{ AEAD_AES_SIV_CMAC_256, "AEAD_AES_SIV_CMAC_256", 32 },
	{ AEAD_AES_SIV_CMAC_384, "AEAD_AES_SIV_CMAC_384", 48 },
	{ AEAD_AES_SIV_CMAC_512, "AEAD_AES_SIV_CMAC_512", 64 },
	{ AEAD_AES_128_GCM_SIV, "AEAD_AES_128_GCM_SIV", 16 },
};

#define N_AEAD_IANA (sizeof(aead_iana) / sizeof(aead_iana[0]))

const char *aead_iana_name(uint16_t id)
{
	for (size_t i = 0; i < N_AEAD_IANA; i++)
		if (aead_iana[i].id == id)
			return aead_iana[i].name;
	return NULL;
}

int aead_iana_id(const char *name)
{
	for (size_t i = 0; i < N_AEAD_IANA; i++)
		if (strcasecmp(aead_iana[i].name, name) == 0)
			return aead_iana[i].id;
	return -1;
}

size_t aead_key_len(uint16_t id)
{
	for (size_t i = 0; i < N_AEAD_IANA; i++)
		if (aead_iana[i].id == id)
			return aead_iana[i].key_len;
	return 0;
}

const uint16_t *aead_supported(size_t *n)
{
	*n = sizeof(aead_ids) / sizeof(aead_ids[0]);
	return aead_ids;
}

bool aead_ke_default(uint16_t id)
{
	size_t n;
	const uint16_t *ids = aead_supported(&n);

	/* 30 waits for an end-to-end test with a real client (ke-aead). */
	if (id == AEAD_AES_128_GCM_SIV)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int aead_set_key(struct aead_ctx *ctx, uint16_t id, const uint8_t *key)
{
	const struct aead_alg *alg = aead_by_id(id);

	memset(ctx, 0, sizeof(*ctx));
	if (!alg)
		return -1;
	switch (alg->prim) {
	case AEAD_PRIM_SIV_CMAC_256:
		siv_cmac_aes128_set_key(&ctx->u.siv256, key);
		break;
	case AEAD_PRIM_SIV_CMAC_512:
		siv_cmac_aes256_set_key(&ctx->u.siv512, key);
		break;
#ifdef HAVE_GCM_SIV
	case AEAD_PRIM_GCM_SIV_128:
		memcpy(ctx->u.gcm_siv_key, key, sizeof(ctx->u.gcm_siv_key));
		break;
#endif
	default:
		return -1;
	}
	ctx->alg = alg;
	return 0;
}

static bool aead_nonce_ok(const struct aead_alg *alg, size_t nonce_len)
{
	return nonce_len >= alg->nonce_min && nonce_len <= alg->nonce_max;
}

int aead_seal(const struct aead_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
	      const uint8_t *ad, size_t ad_len, const uint8_t *pt, size_t pt_len,
	      uint8_t *out)
{
	if (!ctx->alg || !aead_nonce_ok(ctx->alg, nonce_len) ||
	    pt_len > SIZE_MAX - AEAD_TAG_LEN)
		return -1;
	switch (ctx->alg->prim) {
	case AEAD_PRIM_SIV_CMAC_256:
		siv_cmac_aes128_encrypt_message(&ctx->u.siv256, nonce_len, nonce,
						ad_len, ad, pt_len + AEAD_TAG_LEN,
						out, pt);
		return 0;
	case AEAD_PRIM_SIV_CMAC_512:
		siv_cmac_aes256_encrypt_message(&ctx->u.siv512, nonce_len, nonce,
						ad_len, ad, pt_len + AEAD_TAG_LEN,
						out, pt);
		return 0;
#ifdef HAVE_GCM_SIV
	case AEAD_PRIM_GCM_SIV_128: {
		struct aes128_ctx aes;

		/* RFC 8452 puts the tag after the ciphertext; NTS keeps that. */
		aes128_set_encrypt_key(&aes, ctx->u.gcm_siv_key);
		siv_gcm_aes128_encrypt_message(&aes, nonce_len, nonce, ad_len, ad,
					       pt_len + AEAD_TAG_LEN, out, pt);
		buf_wipe(&aes, sizeof(aes));
		return 0;
	}
#endif
	default:
		return -1;
	}
}

int aead_open(const struct aead_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
	      const uint8_t *ad, size_t ad_len, const uint8_t *ct, size_t ct_len,
	      uint8_t *out)
{
	size_t pt_len;
	int ok = 0;

	if (ct_len < AEAD_TAG_LEN)
		return -1;
	pt_len = ct_len - AEAD_TAG_LEN;
	if (!ctx->alg || !aead_nonce_ok(ctx->alg, nonce_len))
		goto out;
	switch (ctx->alg->prim) {
	case AEAD_PRIM_SIV_CMAC_256:
		ok = siv_cmac_aes128_decrypt_message(&ctx->u.siv256, nonce_len, nonce,
						     ad_len, ad, pt_len, out, ct);
		break;
	case AEAD_PRIM_SIV_CMAC_512:
		ok = siv_cmac_aes256_decrypt_message(&ctx->u.siv512, nonce_len, nonce,
						     ad_len, ad, pt_len, out, ct);
		break;
#ifdef HAVE_GCM_SIV
	case AEAD_PRIM_GCM_SIV_128: {
		struct aes128_ctx aes;

		aes128_set_encrypt_key(&aes, ctx->u.gcm_siv_key);
		ok = siv_gcm_aes128_decrypt_message(&aes, nonce_len, nonce, ad_len, ad,
						    pt_len, out, ct);
		buf_wipe(&aes, sizeof(aes));
		break;
	}
#endif
	default:
		break;
	}
out:
	if (!ok) {
		/* nettle decrypts before it checks the tag: never leave
		 * unauthenticated plaintext behind. */
		if (pt_len)
			buf_wipe(out, pt_len);
		return -1;
	}
	return 0;
}

void aead_ctx_wipe(struct aead_ctx *ctx)
{
	if (ctx)
		buf_wipe(ctx, sizeof(*ctx));
}
