/* decimal: unsigned decimal numbers, digits only, bounded. */
#include "build_config.h"

#include <string.h>

#include "common/decimal.h"

bool decimal_parse(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint64_t digit = (uint64_t)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9')
			return false;
		if (digit > max || v > (max - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

bool decimal_parse_str(const char *s, uint64_t max, uint64_t *out)
{
	return decimal_parse(s, strlen(s), max, out);
}
