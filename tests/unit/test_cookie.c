/* unit tests for cookie: round trips for AEAD 15 and 17 under master keys
 * of either algorithm, and every failure reason. */
#include "build_config.h"

#include <string.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/cookie.h"
#include "common/keyset.h"
#include "unit.h"

#define ID_A 0x11111111u	/* master key, AEAD 15 */
#define ID_B 0x22222222u	/* master key, AEAD 17 */

static struct keyset *ks;

static int cookie_suite_init(void)
{
	uint8_t secret[64];

	ks = keyset_new();
	if (!ks)
		return -1;
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(0xa0 + i);
	if (keyset_add(ks, ID_A, 1000, AEAD_AES_SIV_CMAC_256, secret, 32) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(0x30 ^ i);
	if (keyset_add(ks, ID_B, 2000, AEAD_AES_SIV_CMAC_512, secret, 64) < 0)
		return -1;
	return 0;
}

static int cookie_suite_cleanup(void)
{
	keyset_free(ks);
	ks = NULL;
	return 0;
}

static void make_keys(struct cookie_keys *k, uint16_t aead, uint8_t seed)
{
	const struct aead_alg *alg = aead_by_id(aead);

	memset(k, 0, sizeof(*k));
	k->aead = aead;
	k->key_len = alg->key_len;
	for (size_t i = 0; i < k->key_len; i++) {
		k->c2s[i] = (uint8_t)(seed + i);
		k->s2c[i] = (uint8_t)(seed * 3 + 2 * i + 1);
	}
}

static const uint8_t nonce[16] = {
	0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
	0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

/* Test-only sealing of an arbitrary plaintext in the v1 envelope, for
 * contents cookie_seal() refuses to make. */
static size_t reseal(const struct master_key *key, const uint8_t *pt, size_t pt_len,
		     uint8_t *out)
{
	buf_store_u32(out, key->id);
	memcpy(out + 4, nonce, 16);
	CU_ASSERT_EQUAL_FATAL(aead_seal(&key->ctx, nonce, 16, out, 4, pt, pt_len,
					out + 20), 0);
	return 20 + AEAD_TAG_LEN + pt_len;
}

/* Plaintext v1: version, reserved, AEAD id, then n key bytes. */
static size_t make_pt(uint8_t *pt, uint8_t version, uint8_t reserved, uint16_t aead,
		      size_t n)
{
	pt[0] = version;
	pt[1] = reserved;
	buf_store_u16(pt + 2, aead);
	for (size_t i = 0; i < n; i++)
		pt[4 + i] = (uint8_t)(i * 5);
	return 4 + n;
}

static void test_lengths(void)
{
	CU_ASSERT_EQUAL(cookie_len(AEAD_AES_SIV_CMAC_256), 104);
	CU_ASSERT_EQUAL(cookie_len(AEAD_AES_SIV_CMAC_512), 168);
	CU_ASSERT_EQUAL(cookie_len(AEAD_AES_SIV_CMAC_384), 0);
	CU_ASSERT_EQUAL(cookie_len(0), 0);
	CU_ASSERT_EQUAL(cookie_len(AEAD_AES_SIV_CMAC_256) % 4, 0);
	CU_ASSERT_EQUAL(cookie_len(AEAD_AES_SIV_CMAC_512) % 4, 0);
	CU_ASSERT(cookie_len(AEAD_AES_SIV_CMAC_512) <= COOKIE_MAX_LEN);
}

static void round_trip(uint32_t master, uint16_t aead)
{
	const struct master_key *key = keyset_find(ks, master);
	struct cookie_keys k, got;
	uint8_t c[COOKIE_MAX_LEN], c2[COOKIE_MAX_LEN];
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(key);
	make_keys(&k, aead, 7);
	len = cookie_seal(key, &k, nonce, c, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(len, cookie_len(aead));
	CU_ASSERT_EQUAL(buf_load_u32(c), master);
	CU_ASSERT_EQUAL(memcmp(c + 4, nonce, 16), 0);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_OK);
	CU_ASSERT_EQUAL(got.aead, aead);
	CU_ASSERT_EQUAL(got.key_len, k.key_len);
	CU_ASSERT_EQUAL(memcmp(got.c2s, k.c2s, k.key_len), 0);
	CU_ASSERT_EQUAL(memcmp(got.s2c, k.s2c, k.key_len), 0);
	/* The keys are not in the clear. */
	CU_ASSERT_PTR_NULL(memmem(c, len, k.c2s, 8));
	CU_ASSERT_PTR_NULL(memmem(c, len, k.s2c, 8));
	/* The test-only sealer builds the same bytes as the real one, so the
	 * crafted cookies below differ only where they mean to. */
	{
		uint8_t pt[4 + 2 * AEAD_MAX_KEY_LEN];

		pt[0] = COOKIE_VERSION;
		pt[1] = 0;
		buf_store_u16(pt + 2, aead);
		memcpy(pt + 4, k.c2s, k.key_len);
		memcpy(pt + 4 + k.key_len, k.s2c, k.key_len);
		CU_ASSERT_EQUAL(reseal(key, pt, 4 + 2 * k.key_len, c2), len);
		CU_ASSERT_EQUAL(memcmp(c, c2, len), 0);
	}
	cookie_keys_wipe(&got);
	CU_ASSERT_EQUAL(got.aead, 0);
}

static void test_round_trip(void)
{
	round_trip(ID_A, AEAD_AES_SIV_CMAC_256);
	round_trip(ID_A, AEAD_AES_SIV_CMAC_512);
	round_trip(ID_B, AEAD_AES_SIV_CMAC_256);
	round_trip(ID_B, AEAD_AES_SIV_CMAC_512);
}

static void test_seal_errors(void)
{
	const struct master_key *key = keyset_find(ks, ID_A);
	struct cookie_keys k;
	uint8_t c[COOKIE_MAX_LEN];

	make_keys(&k, AEAD_AES_SIV_CMAC_256, 1);
	CU_ASSERT_EQUAL(cookie_seal(key, &k, nonce, c, 103), 0);
	CU_ASSERT_EQUAL(cookie_seal(key, &k, nonce, c, 104), 104);
	k.key_len = 64;
	CU_ASSERT_EQUAL(cookie_seal(key, &k, nonce, c, sizeof(c)), 0);
	k.key_len = 48;
	k.aead = AEAD_AES_SIV_CMAC_384;
	CU_ASSERT_EQUAL(cookie_seal(key, &k, nonce, c, sizeof(c)), 0);
}

static void test_truncated_and_long(void)
{
	struct cookie_keys k, got;
	uint8_t c[COOKIE_MAX_LEN + 8];
	int wrong = 0;

	for (int which = 0; which < 2; which++) {
		uint16_t aead = which ? AEAD_AES_SIV_CMAC_512 : AEAD_AES_SIV_CMAC_256;
		size_t len;

		make_keys(&k, aead, 9);
		len = cookie_seal(keyset_find(ks, ID_A), &k, nonce, c, sizeof(c));
		CU_ASSERT_EQUAL_FATAL(len, cookie_len(aead));
		/* Every truncation is a length error, except one that lands on
		 * another AEAD's size: that one fails authentication. */
		for (size_t l = 0; l < len; l++) {
			enum cookie_status want = cookie_len_valid(l) ? COOKIE_ERR_AUTH :
						  COOKIE_ERR_LENGTH;

			memset(&got, 0x55, sizeof(got));
			if (cookie_open(ks, c, l, &got) != want)
				wrong++;
			if (got.aead != 0 || got.c2s[0] != 0)
				wrong++;
		}
		memset(c + len, 0, sizeof(c) - len);
		for (size_t l = len + 1; l <= sizeof(c); l++) {
			enum cookie_status want = cookie_len_valid(l) ? COOKIE_ERR_AUTH :
						  COOKIE_ERR_LENGTH;

			if (cookie_open(ks, c, l, &got) != want)
				wrong++;
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	/* A NULL pointer with length 0 is just short. */
	CU_ASSERT_EQUAL(cookie_open(ks, NULL, 0, &got), COOKIE_ERR_LENGTH);
}

static void test_unknown_key(void)
{
	struct cookie_keys k, got;
	uint8_t c[COOKIE_MAX_LEN];
	size_t len;
	struct keyset *only_b;

	make_keys(&k, AEAD_AES_SIV_CMAC_256, 3);
	len = cookie_seal(keyset_find(ks, ID_A), &k, nonce, c, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(len, 104);
	/* The key was retired from the set. */
	only_b = keyset_dup(ks);
	CU_ASSERT_PTR_NOT_NULL_FATAL(only_b);
	CU_ASSERT_EQUAL(keyset_remove(only_b, ID_A), 0);
	CU_ASSERT_EQUAL(cookie_open(only_b, c, len, &got), COOKIE_ERR_UNKNOWN_KEY);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_OK);
	keyset_free(only_b);
	/* Every single-bit change of the clear key id names no key here. */
	for (int bit = 0; bit < 32; bit++) {
		c[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_ERR_UNKNOWN_KEY);
		c[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
	/* Moving a cookie to another known id fails authentication: the id
	 * is the associated data. */
	buf_store_u32(c, ID_B);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_ERR_AUTH);
	cookie_keys_wipe(&k);
}

static void test_bit_flips(void)
{
	struct cookie_keys k, got;
	uint8_t c[COOKIE_MAX_LEN];
	int wrong = 0;

	for (int which = 0; which < 2; which++) {
		uint32_t master = which ? ID_B : ID_A;
		size_t len;

		make_keys(&k, AEAD_AES_SIV_CMAC_256, 5);
		len = cookie_seal(keyset_find(ks, master), &k, nonce, c, sizeof(c));
		CU_ASSERT_EQUAL_FATAL(len, 104);
		/* Nonce, tag and ciphertext: every flipped bit fails auth. */
		for (size_t bit = 32; bit < 8 * len; bit++) {
			c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			memset(&got, 0x55, sizeof(got));
			if (cookie_open(ks, c, len, &got) != COOKIE_ERR_AUTH)
				wrong++;
			if (got.aead != 0 || got.key_len != 0 || got.s2c[5] != 0)
				wrong++;
			c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_OK);
	}
	CU_ASSERT_EQUAL(wrong, 0);
}

static void test_crafted_contents(void)
{
	const struct master_key *key = keyset_find(ks, ID_A);
	struct cookie_keys got;
	uint8_t pt[4 + 2 * AEAD_MAX_KEY_LEN], c[COOKIE_MAX_LEN];
	size_t len;

	/* Sanity: a well-formed crafted cookie opens. */
	len = reseal(key, pt, make_pt(pt, 1, 0, AEAD_AES_SIV_CMAC_256, 64), c);
	CU_ASSERT_EQUAL(len, 104);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_OK);
	CU_ASSERT_EQUAL(got.c2s[1], 5);
	CU_ASSERT_EQUAL(got.s2c[0], (uint8_t)(32 * 5));

	/* Unknown layout versions. */
	len = reseal(key, pt, make_pt(pt, 2, 0, AEAD_AES_SIV_CMAC_256, 64), c);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_ERR_VERSION);
	CU_ASSERT_EQUAL(got.aead, 0);
	len = reseal(key, pt, make_pt(pt, 0, 0, AEAD_AES_SIV_CMAC_256, 64), c);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_ERR_VERSION);
	len = reseal(key, pt, make_pt(pt, 1, 1, AEAD_AES_SIV_CMAC_256, 64), c);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_ERR_VERSION);

	/* An AEAD we do not support inside an envelope of a valid size. */
	len = reseal(key, pt, make_pt(pt, 1, 0, AEAD_AES_SIV_CMAC_384, 64), c);
	CU_ASSERT_EQUAL(len, 104);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_ERR_AEAD);
	len = reseal(key, pt, make_pt(pt, 1, 0, 0xffff, 128), c);
	CU_ASSERT_EQUAL(len, 168);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_ERR_AEAD);

	/* Wrong size for its AEAD: 15 inside a 168-byte cookie, 17 inside a
	 * 104-byte one. */
	len = reseal(key, pt, make_pt(pt, 1, 0, AEAD_AES_SIV_CMAC_256, 128), c);
	CU_ASSERT_EQUAL(len, 168);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_ERR_LENGTH);
	len = reseal(key, pt, make_pt(pt, 1, 0, AEAD_AES_SIV_CMAC_512, 64), c);
	CU_ASSERT_EQUAL(len, 104);
	CU_ASSERT_EQUAL(cookie_open(ks, c, len, &got), COOKIE_ERR_LENGTH);
	CU_ASSERT_EQUAL(got.key_len, 0);
}

static void test_status_names(void)
{
	CU_ASSERT_STRING_EQUAL(cookie_status_str(COOKIE_OK), "ok");
	CU_ASSERT_STRING_EQUAL(cookie_status_str(COOKIE_ERR_LENGTH), "length");
	CU_ASSERT_STRING_EQUAL(cookie_status_str(COOKIE_ERR_UNKNOWN_KEY), "unknown-key");
	CU_ASSERT_STRING_EQUAL(cookie_status_str(COOKIE_ERR_AUTH), "auth");
	CU_ASSERT_STRING_EQUAL(cookie_status_str(COOKIE_ERR_VERSION), "version");
	CU_ASSERT_STRING_EQUAL(cookie_status_str(COOKIE_ERR_AEAD), "aead");
	CU_ASSERT_STRING_EQUAL(cookie_status_str((enum cookie_status)99), "unknown");
}

UNIT_SUITE(cookie, cookie_suite_init, cookie_suite_cleanup,
	   UNIT_TEST(test_lengths),
	   UNIT_TEST(test_round_trip),
	   UNIT_TEST(test_seal_errors),
	   UNIT_TEST(test_truncated_and_long),
	   UNIT_TEST(test_unknown_key),
	   UNIT_TEST(test_bit_flips),
	   UNIT_TEST(test_crafted_contents),
	   UNIT_TEST(test_status_names))
