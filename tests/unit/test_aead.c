/* unit tests for aead: RFC 5297 known answers (through OpenSSL, see below),
 * a randomized cross-check of nettle against OpenSSL's independent AES-SIV,
 * and tamper detection. */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/aead.h"
#include "unit.h"

#define MAX_AD 4

struct ad_list {
	const uint8_t *p[MAX_AD];
	size_t len[MAX_AD];
	size_t n;
};

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		unsigned v;

		if (*s == ' ') {
			s++;
			continue;
		}
		CU_ASSERT_FATAL(n < cap);
		CU_ASSERT_FATAL(sscanf(s, "%2x", &v) == 1);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* Fill with a cheap deterministic generator: reproducible failures. */
static uint64_t prng_state = 0x9e3779b97f4a7c15u;

static uint64_t prng(void)
{
	prng_state ^= prng_state << 13;
	prng_state ^= prng_state >> 7;
	prng_state ^= prng_state << 17;
	return prng_state;
}

static void prng_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)prng();
}

/* OpenSSL's AES-SIV: the S2V inputs are every AD component in order, then
 * the plaintext.  Output tag || ciphertext like ours.  0 or -1. */
static int ossl_siv_seal(size_t key_len, const uint8_t *key, const struct ad_list *ads,
			 const uint8_t *pt, size_t pt_len, uint8_t *out)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, key_len == 32 ? "AES-128-SIV" :
					 "AES-256-SIV", NULL);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l, ret = -1;

	if (!c || !x || !EVP_EncryptInit_ex2(x, c, key, NULL, NULL))
		goto out;
	for (size_t i = 0; i < ads->n; i++)
		if (!EVP_EncryptUpdate(x, NULL, &l, ads->p[i], (int)ads->len[i]))
			goto out;
	l = 0;
	if (pt_len && !EVP_EncryptUpdate(x, out + AEAD_TAG_LEN, &l, pt, (int)pt_len))
		goto out;
	if ((size_t)l != pt_len)
		goto out;
	if (!EVP_EncryptFinal_ex(x, out + AEAD_TAG_LEN + l, &l) || l != 0)
		goto out;
	if (!EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, out))
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
	return ret;
}

/* RFC 5297 A.1 (deterministic: one AD, no nonce) and A.2 (two AD
 * components and a nonce).  nettle's message API always has exactly one AD
 * component plus a non-empty nonce, so neither vector fits it; they pin
 * OpenSSL's SIV (our reference) to the RFC, and test_siv_cross_openssl then
 * ties nettle to OpenSSL in the one-AD-plus-nonce shape NTS uses. */
static void test_rfc5297_vectors_openssl(void)
{
	uint8_t key[64], ad1[64], ad2[64], nonce[32], pt[64], want[96], got[96];
	size_t key_len, ad1_len, ad2_len, nonce_len, pt_len, want_len;
	struct ad_list ads;

	key_len = unhex("fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0"
			"f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff", key, sizeof(key));
	ad1_len = unhex("10111213 14151617 18191a1b 1c1d1e1f"
			"20212223 24252627", ad1, sizeof(ad1));
	pt_len = unhex("11223344 55667788 99aabbcc ddee", pt, sizeof(pt));
	want_len = unhex("85632d07 c6e8f37f 950acd32 0a2ecc93"
			 "40c02b96 90c4dc04 daef7f6a fe5c", want, sizeof(want));
	ads = (struct ad_list){ { ad1 }, { ad1_len }, 1 };
	CU_ASSERT_EQUAL_FATAL(want_len, pt_len + AEAD_TAG_LEN);
	CU_ASSERT_EQUAL_FATAL(ossl_siv_seal(key_len, key, &ads, pt, pt_len, got), 0);
	CU_ASSERT_EQUAL(memcmp(got, want, want_len), 0);

	key_len = unhex("7f7e7d7c 7b7a7978 77767574 73727170"
			"40414243 44454647 48494a4b 4c4d4e4f", key, sizeof(key));
	ad1_len = unhex("00112233 44556677 8899aabb ccddeeff"
			"deaddada deaddada ffeeddcc bbaa9988"
			"77665544 33221100", ad1, sizeof(ad1));
	ad2_len = unhex("10203040 50607080 90a0", ad2, sizeof(ad2));
	nonce_len = unhex("09f91102 9d74e35b d84156c5 635688c0", nonce, sizeof(nonce));
	pt_len = unhex("74686973 20697320 736f6d65 20706c61"
		       "696e7465 78742074 6f20656e 63727970"
		       "74207573 696e6720 5349562d 414553", pt, sizeof(pt));
	want_len = unhex("7bdb6e3b 432667eb 06f4d14b ff2fbd0f"
			 "cb900f2f ddbe4043 26601965 c889bf17"
			 "dba77ceb 094fa663 b7a3f748 ba8af829"
			 "ea64ad54 4a272e9c 485b62a3 fd5c0d", want, sizeof(want));
	ads = (struct ad_list){ { ad1, ad2, nonce }, { ad1_len, ad2_len, nonce_len }, 3 };
	CU_ASSERT_EQUAL_FATAL(want_len, pt_len + AEAD_TAG_LEN);
	CU_ASSERT_EQUAL_FATAL(ossl_siv_seal(key_len, key, &ads, pt, pt_len, got), 0);
	CU_ASSERT_EQUAL(memcmp(got, want, want_len), 0);
}

/* One AD and a nonce, the NTS shape: nettle and OpenSSL must agree, and
 * nettle must open what it sealed. */
static void cross_check(uint16_t id, int rounds)
{
	const struct aead_alg *alg = aead_by_id(id);
	uint8_t key[AEAD_MAX_KEY_LEN], nonce[64], ad[300], pt[300];
	uint8_t ours[300 + AEAD_TAG_LEN], theirs[300 + AEAD_TAG_LEN], back[300];
	struct aead_ctx ctx;
	int mismatches = 0, failures = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(alg);
	for (int i = 0; i < rounds; i++) {
		size_t nonce_len = 1 + prng() % sizeof(nonce);
		size_t ad_len = 1 + prng() % sizeof(ad);
		/* OpenSSL 3.0's SIV cannot seal an empty plaintext (its final
		 * step fails); test_bad_lengths covers that case for us. */
		size_t pt_len = 1 + prng() % (sizeof(pt) - 1);
		struct ad_list ads = { { ad, nonce }, { ad_len, nonce_len }, 2 };

		/* Sizes NTS actually uses, often. */
		if (i % 4 == 0) {
			nonce_len = 16;
			pt_len = 2 * alg->key_len + 4;
			ads.len[1] = nonce_len;
		}
		prng_fill(key, alg->key_len);
		prng_fill(nonce, nonce_len);
		prng_fill(ad, ad_len);
		prng_fill(pt, pt_len);
		CU_ASSERT_EQUAL_FATAL(aead_set_key(&ctx, id, key), 0);
		CU_ASSERT_EQUAL_FATAL(aead_seal(&ctx, nonce, nonce_len, ad, ad_len,
						pt, pt_len, ours), 0);
		CU_ASSERT_EQUAL_FATAL(ossl_siv_seal(alg->key_len, key, &ads, pt, pt_len,
						    theirs), 0);
		if (memcmp(ours, theirs, pt_len + AEAD_TAG_LEN) != 0)
			mismatches++;
		if (aead_open(&ctx, nonce, nonce_len, ad, ad_len, ours,
			      pt_len + AEAD_TAG_LEN, back) != 0 ||
		    memcmp(back, pt, pt_len) != 0)
			failures++;
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	CU_ASSERT_EQUAL(failures, 0);
	aead_ctx_wipe(&ctx);
}

static void test_siv_cross_openssl_15(void)
{
	cross_check(AEAD_AES_SIV_CMAC_256, 250);
}

static void test_siv_cross_openssl_17(void)
{
	cross_check(AEAD_AES_SIV_CMAC_512, 250);
}

/* Flip every bit of tag and ciphertext: every one must fail, and the
 * output must be wiped. */
static void bitflips(uint16_t id)
{
	const struct aead_alg *alg = aead_by_id(id);
	uint8_t key[AEAD_MAX_KEY_LEN], nonce[16], ad[20], pt[68];
	uint8_t ct[sizeof(pt) + AEAD_TAG_LEN], out[sizeof(pt)], zero[sizeof(pt)] = { 0 };
	struct aead_ctx ctx;
	int accepted = 0, unwiped = 0;

	prng_fill(key, alg->key_len);
	prng_fill(nonce, sizeof(nonce));
	prng_fill(ad, sizeof(ad));
	prng_fill(pt, sizeof(pt));
	CU_ASSERT_EQUAL_FATAL(aead_set_key(&ctx, id, key), 0);
	CU_ASSERT_EQUAL_FATAL(aead_seal(&ctx, nonce, sizeof(nonce), ad, sizeof(ad),
					pt, sizeof(pt), ct), 0);
	CU_ASSERT_EQUAL(aead_open(&ctx, nonce, sizeof(nonce), ad, sizeof(ad), ct,
				  sizeof(ct), out), 0);
	CU_ASSERT_EQUAL(memcmp(out, pt, sizeof(pt)), 0);
	for (size_t bit = 0; bit < 8 * sizeof(ct); bit++) {
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(out, 0xaa, sizeof(out));
		if (aead_open(&ctx, nonce, sizeof(nonce), ad, sizeof(ad), ct,
			      sizeof(ct), out) == 0)
			accepted++;
		else if (memcmp(out, zero, sizeof(out)) != 0)
			unwiped++;
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CU_ASSERT_EQUAL(accepted, 0);
	CU_ASSERT_EQUAL(unwiped, 0);
	/* A flipped bit of the nonce or AD fails too. */
	nonce[3] ^= 1;
	CU_ASSERT_EQUAL(aead_open(&ctx, nonce, sizeof(nonce), ad, sizeof(ad), ct,
				  sizeof(ct), out), -1);
	nonce[3] ^= 1;
	ad[19] ^= 0x80;
	CU_ASSERT_EQUAL(aead_open(&ctx, nonce, sizeof(nonce), ad, sizeof(ad), ct,
				  sizeof(ct), out), -1);
	ad[19] ^= 0x80;
	CU_ASSERT_EQUAL(aead_open(&ctx, nonce, sizeof(nonce), ad, sizeof(ad), ct,
				  sizeof(ct), out), 0);
	aead_ctx_wipe(&ctx);
}

static void test_bitflips_15(void)
{
	bitflips(AEAD_AES_SIV_CMAC_256);
}

static void test_bitflips_17(void)
{
	bitflips(AEAD_AES_SIV_CMAC_512);
}

static void test_algorithms(void)
{
	const struct aead_alg *a;
	const uint16_t *ids;
	size_t n;
	uint8_t key[AEAD_MAX_KEY_LEN] = { 0 };
	struct aead_ctx ctx;

	a = aead_by_id(AEAD_AES_SIV_CMAC_256);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->key_len, 32);
	CU_ASSERT_STRING_EQUAL(a->name, "AEAD_AES_SIV_CMAC_256");
	CU_ASSERT(a->nonce_min == 1 && a->nonce_max >= 16);
	a = aead_by_id(AEAD_AES_SIV_CMAC_512);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->key_len, 64);
	CU_ASSERT_STRING_EQUAL(a->name, "AEAD_AES_SIV_CMAC_512");
	CU_ASSERT_PTR_NULL(aead_by_id(AEAD_AES_SIV_CMAC_384));
	CU_ASSERT_EQUAL(a->nonce_len, AEAD_NONCE_LEN);
	/* Key lengths from the IANA registry, supported or not. */
	CU_ASSERT_EQUAL(aead_key_len(AEAD_AES_SIV_CMAC_256), 32);
	CU_ASSERT_EQUAL(aead_key_len(AEAD_AES_SIV_CMAC_384), 48);
	CU_ASSERT_EQUAL(aead_key_len(AEAD_AES_SIV_CMAC_512), 64);
	CU_ASSERT_EQUAL(aead_key_len(AEAD_AES_128_GCM_SIV), 16);
	CU_ASSERT_EQUAL(aead_key_len(0), 0);
	CU_ASSERT_EQUAL(aead_key_len(31), 0);
	CU_ASSERT_PTR_NULL(aead_by_id(0));
	CU_ASSERT_PTR_NULL(aead_by_id(0xffff));
	CU_ASSERT_EQUAL(aead_set_key(&ctx, AEAD_AES_SIV_CMAC_384, key), -1);
	CU_ASSERT_PTR_NULL(ctx.alg);

	ids = aead_supported(&n);
#ifdef HAVE_GCM_SIV
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_PTR_NOT_NULL(aead_by_id(AEAD_AES_128_GCM_SIV));
#else
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_PTR_NULL(aead_by_id(AEAD_AES_128_GCM_SIV));
#endif
	CU_ASSERT_EQUAL(ids[0], AEAD_AES_SIV_CMAC_256);
	CU_ASSERT_EQUAL(ids[1], AEAD_AES_SIV_CMAC_512);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_PTR_NOT_NULL(aead_by_id(ids[i]));
}

static void test_bad_lengths(void)
{
	uint8_t key[32] = { 1 }, nonce[300] = { 2 }, pt[4] = { 3 };
	uint8_t ct[sizeof(pt) + AEAD_TAG_LEN], out[sizeof(pt)];
	struct aead_ctx ctx;

	CU_ASSERT_EQUAL_FATAL(aead_set_key(&ctx, AEAD_AES_SIV_CMAC_256, key), 0);
	CU_ASSERT_EQUAL(aead_seal(&ctx, nonce, 0, NULL, 0, pt, sizeof(pt), ct), -1);
	CU_ASSERT_EQUAL(aead_seal(&ctx, nonce, ctx.alg->nonce_max + 1, NULL, 0, pt,
				  sizeof(pt), ct), -1);
	CU_ASSERT_EQUAL(aead_seal(&ctx, nonce, ctx.alg->nonce_max, NULL, 0, pt,
				  sizeof(pt), ct), 0);
	CU_ASSERT_EQUAL(aead_open(&ctx, nonce, ctx.alg->nonce_max, NULL, 0, ct,
				  sizeof(ct), out), 0);
	CU_ASSERT_EQUAL(memcmp(out, pt, sizeof(pt)), 0);
	CU_ASSERT_EQUAL(aead_open(&ctx, nonce, 0, NULL, 0, ct, sizeof(ct), out), -1);
	/* Shorter than a tag. */
	for (size_t n = 0; n < AEAD_TAG_LEN; n++)
		CU_ASSERT_EQUAL(aead_open(&ctx, nonce, 16, NULL, 0, ct, n, out), -1);
	/* Empty plaintext: the tag alone authenticates nonce and AD. */
	CU_ASSERT_EQUAL(aead_seal(&ctx, nonce, 16, pt, 4, NULL, 0, ct), 0);
	CU_ASSERT_EQUAL(aead_open(&ctx, nonce, 16, pt, 4, ct, AEAD_TAG_LEN, out), 0);
	CU_ASSERT_EQUAL(aead_open(&ctx, nonce, 16, pt, 3, ct, AEAD_TAG_LEN, out), -1);
	aead_ctx_wipe(&ctx);
	CU_ASSERT_PTR_NULL(ctx.alg);
	CU_ASSERT_EQUAL(aead_seal(&ctx, nonce, 16, NULL, 0, pt, sizeof(pt), ct), -1);
}

UNIT_SUITE(aead, NULL, NULL,
	   UNIT_TEST(test_algorithms),
	   UNIT_TEST(test_rfc5297_vectors_openssl),
	   UNIT_TEST(test_siv_cross_openssl_15),
	   UNIT_TEST(test_siv_cross_openssl_17),
	   UNIT_TEST(test_bitflips_15),
	   UNIT_TEST(test_bitflips_17),
	   UNIT_TEST(test_bad_lengths))
