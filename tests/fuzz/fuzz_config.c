/* fuzz target: config_parse on arbitrary text, then validate and free.
 * LeakSanitizer (on in fuzzing builds) reports anything not freed; an
 * error must always come with a "NAME:LINE: " message. */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct config_error err;

	config_init(&c);
	if (config_parse(&c, (const char *)data, size, "fuzz", &err) < 0) {
		if (strncmp(err.msg, "fuzz:", 5) != 0)
			abort();
	} else {
		if (c.n_ntp_listen > CONFIG_MAX_LISTEN || c.n_ke_listen > CONFIG_MAX_LISTEN)
			abort();
		if (c.stratum < 1 || c.stratum > 15)
			abort();
		(void)config_validate(&c, "fuzz", &err);
	}
	config_free(&c);
	return 0;
}
