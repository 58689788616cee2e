/* unit tests for rng: the CSPRNG fills what it is asked to, and nonce
 * generators give distinct, counter-driven, unlinkable nonces. */
#include "build_config.h"

#include <string.h>

#include <nettle/aes.h>

#include "common/buf.h"
#include "common/rng.h"
#include "unit.h"

static void test_rng_bytes(void)
{
	uint8_t a[64], b[64], big[100000];
	size_t zeros = 0;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CU_ASSERT_EQUAL(rng_bytes(a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(rng_bytes(b, sizeof(b)), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, sizeof(a)), 0);
	CU_ASSERT_EQUAL(rng_bytes(a, 0), 0);
	/* A large request is filled to the end, not left short. */
	memset(big, 0, sizeof(big));
	CU_ASSERT_EQUAL(rng_bytes(big, sizeof(big)), 0);
	for (size_t i = sizeof(big) - 1000; i < sizeof(big); i++)
		zeros += big[i] == 0;
	CU_ASSERT(zeros < 30);	/* expected about 4 */
}

static void test_nonce_distinct(void)
{
	static uint8_t seen[2000][16];
	struct nonce_gen g, h;
	uint8_t other[16];
	int dups = 0;

	CU_ASSERT_EQUAL_FATAL(nonce_gen_init(&g), 0);
	CU_ASSERT_EQUAL_FATAL(nonce_gen_init(&h), 0);
	CU_ASSERT_EQUAL(g.counter, 0);
	for (size_t i = 0; i < 2000; i++) {
		nonce_gen_next(&g, seen[i]);
		CU_ASSERT_EQUAL(g.counter, i + 1);
	}
	for (size_t i = 0; i < 2000; i++)
		for (size_t j = i + 1; j < 2000; j++)
			dups += memcmp(seen[i], seen[j], 16) == 0;
	CU_ASSERT_EQUAL(dups, 0);
	/* Two generators do not share a sequence. */
	nonce_gen_next(&h, other);
	CU_ASSERT_NOT_EQUAL(memcmp(other, seen[0], 16), 0);
	/* Consecutive nonces do not share the visible prefix or show the
	 * counter: they differ in many bit positions. */
	{
		int diff = 0;

		for (size_t i = 0; i < 16; i++)
			diff += __builtin_popcount(seen[0][i] ^ seen[1][i]);
		CU_ASSERT(diff > 20);
		CU_ASSERT_NOT_EQUAL(memcmp(seen[0], g.prefix, sizeof(g.prefix)), 0);
	}
	nonce_gen_wipe(&g);
	nonce_gen_wipe(&h);
}

/* The nonce is exactly AES-128(prefix || counter) under the generator's
 * key: decrypting it gives back the prefix and the counter. */
static void test_nonce_structure(void)
{
	struct nonce_gen g;
	struct aes128_ctx dec;
	uint8_t key[16], n[16], plain[16];

	CU_ASSERT_EQUAL_FATAL(nonce_gen_init(&g), 0);
	/* Install a known key so the test can invert the permutation. */
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	aes128_set_encrypt_key(&g.aes, key);
	aes128_set_decrypt_key(&dec, key);
	g.counter = 41;
	nonce_gen_next(&g, n);
	CU_ASSERT_EQUAL(g.counter, 42);
	aes128_decrypt(&dec, 16, plain, n);
	CU_ASSERT_EQUAL(memcmp(plain, g.prefix, 8), 0);
	CU_ASSERT_EQUAL(buf_load_u64(plain + 8), 41);
	nonce_gen_next(&g, n);
	aes128_decrypt(&dec, 16, plain, n);
	CU_ASSERT_EQUAL(buf_load_u64(plain + 8), 42);
	nonce_gen_wipe(&g);
	CU_ASSERT_EQUAL(g.counter, 0);
}

UNIT_SUITE(rng, NULL, NULL,
	   UNIT_TEST(test_rng_bytes),
	   UNIT_TEST(test_nonce_distinct),
	   UNIT_TEST(test_nonce_structure))
