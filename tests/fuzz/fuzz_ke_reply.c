/* fuzz target: ke_reply_parse, the client's NTS-KE response parser, on
 * arbitrary bytes.  Besides not crashing, checks what clients rely on:
 * counts and lengths in bounds, the server name a bounded printable
 * string, and a response cut one byte short of an accepted one only
 * incomplete. */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/ke_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const struct ke_reply *r)
{
	if (r->n_cookies > KE_REPLY_MAX_COOKIES || r->n_cookies > r->n_cookies_seen)
		abort();
	for (size_t i = 0; i < r->n_cookies; i++)
		if (r->cookie_lens[i] == 0 || r->cookie_lens[i] > KE_MAX_COOKIE_LEN)
			abort();
	if (r->has_server) {
		size_t n = strnlen(r->server, sizeof(r->server));

		if (n == 0 || n > KE_MAX_SERVER_LEN)
			abort();
		for (size_t i = 0; i < n; i++)
			if (r->server[i] < 0x21 || r->server[i] > 0x7e)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ke_reply r, prefix;
	enum ke_reply_status st;
	char why[128];

	st = ke_reply_parse(data, size, &r);
	if ((unsigned)st >= KE_REPLY_STATUS_COUNT)
		abort();
	if (strcmp(ke_reply_status_str(st), "unknown") == 0)
		abort();
	check_reply(&r);
	if (st != KE_REPLY_OK)
		return 0;
	if (ke_reply_unusable(&r, why, sizeof(why)) == NULL &&
	    (!r.has_aead || r.n_cookies == 0 || r.protocol != KE_PROTO_NTPV4))
		abort();
	if (ke_reply_parse(data, size - 1, &prefix) != KE_REPLY_INCOMPLETE)
		abort();
	return 0;
}
