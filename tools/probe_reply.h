/* probe_reply: the pure half of `ntsctl probe`'s NTP exchanges: the
 * cookies it holds, and what it makes of a datagram that comes back from
 * a server it does not control.  No I/O (tests/fuzz/fuzz_probe_reply). */
#ifndef NTSD_PROBE_REPLY_H
#define NTSD_PROBE_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/aead.h"
#include "common/cookie.h"
#include "common/nts_request.h"

#define PROBE_COOKIES 8

/* The cookies we hold, oldest first. */
struct cookie_pool {
	uint8_t cookie[PROBE_COOKIES][COOKIE_MAX_LEN];
	size_t len[PROBE_COOKIES];
	size_t n;
};

/* Keep a copy of c (ignored when empty or longer than COOKIE_MAX_LEN);
 * the oldest is dropped when the pool is full. */
void probe_pool_put(struct cookie_pool *p, const uint8_t *c, size_t len);
/* Take the oldest cookie into out (COOKIE_MAX_LEN bytes); false if none. */
bool probe_pool_take(struct cookie_pool *p, uint8_t *out, size_t *len);
/* The master key id a cookie was sealed under: its first 4 bytes, in the
 * clear (doc/cookie-format.md); 0 when shorter. */
uint32_t probe_cookie_key_id(const uint8_t *c, size_t len);

/* One request in flight: what its reply must match. */
struct probe_request {
	uint8_t uid[NTS_UID_LEN];
	uint64_t t1;		/* its transmit timestamp */
	size_t len;
	uint32_t key;		/* master key id of the cookie it carried */
};

enum probe_reply_verdict {
	PROBE_REPLY_GOOD = 0,	/* pr's reply, authentic: its cookies are in the pool */
	PROBE_REPLY_BAD,	/* pr's reply (or a KoD), not usable: why in err */
	PROBE_REPLY_SKIP,	/* not pr's reply (stale or forged): wait for another */
};

/* The datagram pkt[0..n) that came back for pr, checked with s2c (parsed
 * into *reply). */
enum probe_reply_verdict probe_reply_take(const uint8_t *pkt, size_t n,
					  const struct probe_request *pr,
					  const struct aead_ctx *s2c, struct nts_reply *reply,
					  struct cookie_pool *pool, char *err, size_t errlen);

#endif
