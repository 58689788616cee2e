/* aead_private: AEAD descriptors under private-use ids (RFC 5116 section
 * 6).  The product has none.
 *
 * This function is alone in its file on purpose: libntscommon.a holds it
 * as one member, so a program that defines aead_private_by_id itself
 * (only tests/unit/unit_tests does, in tests/unit/aead_testalg.c) never
 * pulls this member in, and the product binaries, which do not, always
 * get this one.  Add nothing else here: a second symbol would make the
 * linker take this member into the unit runner and fail on the
 * duplicate definition. */
#include "build_config.h"

#include "common/aead.h"

const struct aead_alg *aead_private_by_id(uint16_t id)
{
	(void)id;
	return NULL;
}
