/* fuzz target: config_parse on arbitrary text, then validate and free.
 * LeakSanitizer (on in fuzzing builds) reports anything not freed.  An
 * error always comes as "NAME:LINE: message" with LINE a line of the
 * text; a text that parses parses again to the same configuration (no
 * directive differs), and validation's refusals name the file too. */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "tests/fuzz/fuzz_check.h"

/* "fuzz:LINE: message" with 1 <= LINE <= lines (or "fuzz: message" when
 * line_optional); false otherwise. */
static bool located(const char *msg, size_t lines, bool line_optional)
{
	char *end;
	unsigned long line;

	if (strncmp(msg, "fuzz:", 5) != 0 || !memchr(msg, '\0', sizeof(((struct config_error *)0)->msg)))
		return false;
	if (line_optional && msg[5] == ' ')
		return msg[6] != '\0';
	line = strtoul(msg + 5, &end, 10);
	return end != msg + 5 && line >= 1 && line <= lines && end[0] == ':' && end[1] == ' ' &&
	       end[2] != '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, again;
	struct config_error err;
	const char *names[4];
	size_t lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	config_init(&c);
	if (config_parse(&c, (const char *)data, size, "fuzz", &err) < 0) {
		check(located(err.msg, lines, false));
		config_free(&c);
		return 0;
	}
	check(c.n_ntp_listen <= CONFIG_MAX_LISTEN && c.n_ke_listen <= CONFIG_MAX_LISTEN);
	check(c.stratum >= 1 && c.stratum <= 15);
	check(config_changed(&c, &c, names, 4) == 0);
	config_init(&again);
	check(config_parse(&again, (const char *)data, size, "fuzz", &err) == 0);
	check(config_changed(&c, &again, names, 4) == 0);
	if (config_validate(&c, "fuzz", &err) < 0)
		check(located(err.msg, lines, true));
	config_free(&again);
	config_free(&c);
	return 0;
}
