/* aead_testalg: the unit runner's aead_private_by_id (see
 * common/aead_private.c): the one test-only descriptor of
 * tests/unit/aead_testalg.h. */
#include "build_config.h"

#include <nettle/siv-cmac.h>

#include "common/aead.h"
#include "tests/unit/aead_testalg.h"

static const struct aead_alg test_siv_nonce12 = {
	AEAD_TEST_SIV_NONCE12, "TEST_AES_SIV_CMAC_256_NONCE_12", AEAD_PRIM_SIV_CMAC_256,
	SIV_CMAC_AES128_KEY_SIZE, AEAD_TEST_NONCE_LEN, AEAD_TEST_NONCE_LEN, AEAD_TEST_NONCE_LEN,
};

const struct aead_alg *aead_private_by_id(uint16_t id)
{
	return id == AEAD_TEST_SIV_NONCE12 ? &test_siv_nonce12 : NULL;
}
