/* fuzz target: pem_check, the structure check tls_ctx runs on the
 * certificate and private key files before OpenSSL reads them, on
 * arbitrary bytes.  Besides not crashing: the reason fits, the line named
 * is within the text, and an accepted text's line is a BEGIN line whose
 * block, cut off right after it, is refused as cut short at that line. */
#include "build_config.h"

#include <string.h>

#include "common/pem.h"
#include "tests/fuzz/fuzz_check.h"

/* Where line n (from 1) of text starts; size when there is none. */
static size_t line_start(const char *text, size_t size, unsigned n)
{
	size_t off = 0;

	while (--n > 0) {
		const char *nl = memchr(text + off, '\n', size - off);

		if (!nl)
			return size;
		off = (size_t)(nl - text) + 1;
	}
	return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char why[PEM_WHY_MAX];
	unsigned line = 0, lines = 1, again = 0;
	size_t off, cut;
	const char *nl;
	int rc;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	memset(why, 'x', sizeof(why));
	rc = pem_check(text, size, &line, why);
	if (rc != 0) {
		check(rc == -1);
		check(line <= lines);
		check(memchr(why, '\0', sizeof(why)) && why[0] != '\0');
		return 0;
	}
	off = line_start(text, size, line);
	check(line != 0 && off < size && strncmp(text + off, "-----BEGIN ", 11) == 0);
	nl = memchr(text + off, '\n', size - off);
	cut = nl ? (size_t)(nl - text) + 1 : size;
	check(pem_check(text, cut, &again, why) == -1 && again == line);
	return 0;
}
