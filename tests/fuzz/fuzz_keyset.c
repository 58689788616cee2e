/* fuzz target: keyset_parse on arbitrary text.  Whatever parses must
 * format and parse back to the same keys. */
#include "build_config.h"

#include <string.h>

#include "common/keyset.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyset_error err;
	struct keyset *ks, *back;
	size_t len;
	char *text;

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
		/* Sorted by creation time, then id. */
		if (i > 0) {
			const struct master_key *p = keyset_key_at(ks, i - 1);

			check(p->created < a->created ||
			      (p->created == a->created && p->id < a->id));
		}
	}
	keyset_text_free(text, len);
	keyset_free(back);
	keyset_free(ks);
	return 0;
}
