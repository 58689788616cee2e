/* fuzz target: keyset_parse on arbitrary text.  A refusal names the
 * file.  Whatever parses holds 1 to KEYSET_MAX_KEYS keys sorted by
 * creation time (keys of the same second keep the file's order, as
 * doc/key-file.md says), formats and parses back to the same keys in the
 * same order, and formats again to the same bytes. */
#include "build_config.h"

#include <string.h>

#include "common/keyset.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyset_error err;
	struct keyset *ks, *back;
	size_t len, again_len;
	char *text, *again;

	ks = keyset_parse((const char *)data, size, "fuzz", &err);
	if (!ks) {
		/* Every refusal says where and why. */
		check(strncmp(err.msg, "fuzz", 4) == 0 && memchr(err.msg, '\0', sizeof(err.msg)));
		return 0;
	}
	check(keyset_count(ks) > 0 && keyset_count(ks) <= KEYSET_MAX_KEYS);
	text = keyset_format(ks, &len);
	check(text != NULL);
	back = keyset_parse(text, len, "formatted", &err);
	check(back != NULL && keyset_count(back) == keyset_count(ks));
	for (size_t i = 0; i < keyset_count(ks); i++) {
		const struct master_key *a = keyset_key_at(ks, i), *b = keyset_key_at(back, i);

		check(a->id == b->id && a->created == b->created && a->alg == b->alg);
		check(a->secret_len == b->secret_len &&
		      memcmp(a->secret, b->secret, a->secret_len) == 0);
		check(keyset_find(back, a->id) == b);
		/* Sorted by creation time; within a second the file's order
		 * (not the ids'), which the comparison above shows survives
		 * formatting. */
		check(i == 0 || keyset_key_at(ks, i - 1)->created <= a->created);
	}
	again = keyset_format(back, &again_len);
	check(again != NULL && again_len == len && memcmp(again, text, len) == 0);
	keyset_text_free(again, again_len);
	keyset_text_free(text, len);
	keyset_free(back);
	keyset_free(ks);
	return 0;
}
