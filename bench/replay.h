/* replay: ntsbench's replay mode without its sockets.  A set of NTS
 * requests built once from a few NTS-KE sessions (keys and cookies), so
 * the generator only sends ready bytes; a cheap check that files each
 * reply by its header alone, and the full check (AEAD open, Unique
 * Identifier) for the replies the caller samples.
 *
 * Request i carries the transmit timestamp (i + 1) << 32 | salt, its own
 * random Unique Identifier, cookie (i / sessions) % n of session
 * i % sessions, no placeholders.  Sent again it is the same bytes: the
 * server sees the same cookie, identifier and timestamp several times,
 * which RFC 8915 allows and ntsd and chronyd both answer (neither keeps a
 * replay cache; a client that cared would notice, a server need not). */
#ifndef NTSD_BENCH_REPLAY_H
#define NTSD_BENCH_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/aead.h"
#include "common/ke_record.h"
#include "common/nts_request.h"

/* Keys and cookies from one NTS-KE exchange. */
struct replay_session {
	uint16_t aead;
	uint8_t c2s[AEAD_MAX_KEY_LEN], s2c[AEAD_MAX_KEY_LEN];
	size_t n_cookies;
	uint8_t cookie[KE_REPLY_MAX_COOKIES][KE_MAX_COOKIE_LEN];
	size_t cookie_len[KE_REPLY_MAX_COOKIES];
};

/* How the cheap check files a reply. */
enum replay_class {
	REPLAY_REPLY = 0,	/* mode 4, not a KoD, answers one of our requests */
	REPLAY_NAK,		/* KoD NTSN */
	REPLAY_KOD,		/* another kiss code */
	REPLAY_STRAY,		/* short, not mode 4, or an origin that is none of ours */
	REPLAY_OVERSIZE,	/* longer than the request it answers: amplifying */
};

struct replay_set;

/* n_requests requests over the sessions (copied; each needs a cookie);
 * plain: 48-byte plain NTPv4 requests instead (the sessions are then
 * unused and may be none).  NULL on a bad argument, an unsupported AEAD
 * or no memory. */
struct replay_set *replay_set_new(const struct replay_session *sessions, size_t n_sessions,
				  size_t n_requests, uint32_t salt, bool plain);
/* Wipes the keys. */
void replay_set_free(struct replay_set *rs);
size_t replay_set_count(const struct replay_set *rs);
/* Request i's bytes (owned by the set). */
const uint8_t *replay_set_packet(const struct replay_set *rs, size_t i, size_t *len);

/* The header alone: *index is the request a REPLAY_REPLY, NAK, KOD or
 * OVERSIZE reply answers. */
enum replay_class replay_classify(const struct replay_set *rs, const uint8_t *pkt, size_t len,
				  size_t *index);
/* Everything nts_reply_parse checks for a reply to request index (plain:
 * the header only); scratch receives the parsed reply. */
enum nts_reply_status replay_verify(const struct replay_set *rs, size_t index, const uint8_t *pkt,
				    size_t len, struct nts_reply *scratch);

#endif
