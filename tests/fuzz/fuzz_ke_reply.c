/* fuzz target: ke_reply_parse, the client's NTS-KE response parser, on
 * arbitrary bytes.  Besides not crashing, checks what clients rely on:
 * counts and lengths in bounds, the server name a bounded printable
 * string, and a response cut one byte short of an accepted one only
 * incomplete. */
#include "build_config.h"

#include <string.h>

#include "common/ke_record.h"
#include "tests/fuzz/fuzz_check.h"

static void check_reply(const struct ke_reply *r)
{
	check(r->n_cookies <= KE_REPLY_MAX_COOKIES && r->n_cookies <= r->n_cookies_seen);
	for (size_t i = 0; i < r->n_cookies; i++)
		check(r->cookie_lens[i] > 0 && r->cookie_lens[i] <= KE_MAX_COOKIE_LEN);
	if (r->has_server) {
		size_t n = strnlen(r->server, sizeof(r->server));

		check(n > 0 && n <= KE_MAX_SERVER_LEN);
		for (size_t i = 0; i < n; i++)
			check(r->server[i] >= 0x21 && r->server[i] <= 0x7e);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ke_reply r, prefix;
	enum ke_reply_status st;
	char why[128];

	st = ke_reply_parse(data, size, &r);
	check((unsigned)st < KE_REPLY_STATUS_COUNT);
	check(strcmp(ke_reply_status_str(st), "unknown") != 0);
	check_reply(&r);
	if (st != KE_REPLY_OK)
		return 0;
	check(ke_reply_unusable(&r, why, sizeof(why)) != NULL ||
	      (r.has_aead && r.n_cookies > 0 && r.protocol == KE_PROTO_NTPV4));
	check(ke_reply_parse(data, size - 1, &prefix) == KE_REPLY_INCOMPLETE);
	return 0;
}
