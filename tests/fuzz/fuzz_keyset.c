/* fuzz target: keyset_parse on arbitrary text.  Whatever parses must
 * format and parse back to the same keys. */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/keyset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyset_error err;
	struct keyset *ks, *back;
	size_t len;
	char *text;

	ks = keyset_parse((const char *)data, size, "fuzz", &err);
	if (!ks) {
		/* Every refusal says where and why. */
		if (strncmp(err.msg, "fuzz", 4) != 0 || !memchr(err.msg, '\0', sizeof(err.msg)))
			abort();
		return 0;
	}
	if (keyset_count(ks) == 0 || keyset_count(ks) > KEYSET_MAX_KEYS)
		abort();
	text = keyset_format(ks, &len);
	if (!text)
		abort();
	back = keyset_parse(text, len, "formatted", &err);
	if (!back || keyset_count(back) != keyset_count(ks))
		abort();
	for (size_t i = 0; i < keyset_count(ks); i++) {
		const struct master_key *a = keyset_key_at(ks, i), *b = keyset_key_at(back, i);

		if (a->id != b->id || a->created != b->created || a->alg != b->alg ||
		    a->secret_len != b->secret_len ||
		    memcmp(a->secret, b->secret, a->secret_len) != 0 ||
		    keyset_find(back, a->id) != b)
			abort();
		/* Sorted by creation time, then id. */
		if (i > 0) {
			const struct master_key *p = keyset_key_at(ks, i - 1);

			if (p->created > a->created ||
			    (p->created == a->created && p->id >= a->id))
				abort();
		}
	}
	keyset_text_free(text, len);
	keyset_free(back);
	keyset_free(ks);
	return 0;
}
