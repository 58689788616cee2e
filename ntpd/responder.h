/* responder: the pure NTP responder (RFC 5905 server mode, RFC 8915
 * section 5).  One request in, one reply out or a named reason to drop;
 * no sockets, no allocation, no locks.  The rules are in doc/responder.md.
 *
 * A worker owns one struct responder (its nonce generator and scratch
 * space) and calls responder_handle() per packet.  The reply is never
 * longer than the request: the output capacity is capped at the
 * request's length before anything is written. */
#ifndef NTSD_RESPONDER_H
#define NTSD_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/aead.h"
#include "common/cookie.h"
#include "common/keyset.h"
#include "common/nts_request.h"
#include "common/rng.h"
#include "ntpd/clock.h"

/* Requests longer than this are dropped (NTP_CNT_DROP_TOO_LONG). */
#define RESPONDER_MAX_PACKET NTS_MAX_PACKET
/* Fresh cookies in one reply, at most (the RFC's clients want <= 8). */
#define RESPONDER_MAX_COOKIES 8
/* Minimum Unique Identifier length from a client (RFC 8915 5.3). */
#define RESPONDER_MIN_UID_LEN 32

/* Every outcome of a request, each a counter.  Outcomes below
 * NTP_CNT_FIRST_DROP send a reply. */
enum ntp_counter {
	NTP_CNT_PLAIN_REPLY = 0,	/* plain NTP reply */
	NTP_CNT_NTS_REPLY,		/* authenticated NTS reply */
	NTP_CNT_NAK_COOKIE_LENGTH,	/* NTS NAK: cookie has a wrong length */
	NTP_CNT_NAK_COOKIE_KEY,		/* NTS NAK: cookie's master key unknown (rotated out) */
	NTP_CNT_NAK_COOKIE_AUTH,	/* NTS NAK: cookie tag check failed */
	NTP_CNT_NAK_COOKIE_OTHER,	/* NTS NAK: cookie version or AEAD unsupported */
	NTP_CNT_NAK_AUTH,		/* NTS NAK: request authenticator does not verify */
	NTP_CNT_NAK_AUTH_MALFORMED,	/* NTS NAK: nonce/ciphertext lengths do not fit */
	NTP_CNT_NAK_AUTH_PADDING,	/* NTS NAK: short nonce without the required padding */
	NTP_CNT_RATE_KOD,		/* rate limited: KoD RATE sent */
	NTP_CNT_FIRST_DROP,
	NTP_CNT_RATE_DROP = NTP_CNT_FIRST_DROP,	/* rate limited: dropped */
	NTP_CNT_DROP_DENIED,		/* ntp-allow / ntp-deny (counted by ntp_service) */
	NTP_CNT_DROP_SHORT,		/* shorter than the 48-byte header */
	NTP_CNT_DROP_TOO_LONG,		/* longer than RESPONDER_MAX_PACKET */
	NTP_CNT_DROP_VERSION,		/* version 0 or above 4 */
	NTP_CNT_DROP_MODE,		/* not mode 3 (client) */
	NTP_CNT_DROP_EF_MALFORMED,	/* extension fields truncated, bad length, too many */
	NTP_CNT_DROP_UID_MISSING,	/* NTS request without a Unique Identifier */
	NTP_CNT_DROP_UID_DUPLICATE,	/* more than one Unique Identifier */
	NTP_CNT_DROP_UID_SHORT,		/* Unique Identifier below 32 bytes */
	NTP_CNT_DROP_COOKIE_MISSING,	/* NTS request without a cookie */
	NTP_CNT_DROP_COOKIE_DUPLICATE,	/* more than one cookie */
	NTP_CNT_DROP_AUTH_MISSING,	/* NTS request without an authenticator */
	NTP_CNT_DROP_AUTH_DUPLICATE,	/* more than one authenticator */
	NTP_CNT_DROP_PLAINTEXT,		/* decrypted extension fields malformed */
	NTP_CNT_DROP_NO_KEYS,		/* NTS request but no keyset loaded */
	NTP_CNT_DROP_INTERNAL,		/* our failure (sealing, no room for one cookie) */
	NTP_CNT_DROP_TRUNCATED,		/* the datagram did not fit the receive buffer */
	NTP_CNT_SEND_ERROR,		/* reply built but sendmmsg failed */
	NTP_CNT_COUNT
};

const char *ntp_counter_name(enum ntp_counter c);
static inline bool ntp_counter_is_reply(enum ntp_counter c)
{
	return c < NTP_CNT_FIRST_DROP;
}
/* An NTS NAK (RFC 8915 section 5.7): the cookie did not open, or it did
 * and the request did not authenticate. */
static inline bool ntp_counter_is_nak(enum ntp_counter c)
{
	return c >= NTP_CNT_NAK_COOKIE_LENGTH && c <= NTP_CNT_NAK_AUTH_PADDING;
}

/* One worker's responder state. */
/* A worker's scratch for one request's secrets: the session keys its
 * cookie carries and the plaintext.  Lives in secmem (out of core dumps);
 * the keys are wiped after each request, everything when freed. */
struct responder_secrets {
	struct cookie_keys ck;		/* what the request's cookie opened to */
	struct aead_ctx c2s, s2c;	/* the current request's session keys */
	uint8_t plain[RESPONDER_MAX_PACKET];	/* request / reply plaintext */
};

struct responder {
	struct nonce_gen nonces;
	int64_t key_propagation;	/* for keyset_sealing_key() */
	struct responder_secrets *s;	/* secmem */
};

struct responder_request {
	const uint8_t *pkt;
	size_t len;
	uint64_t rx_ts;			/* kernel receive time, NTP format */
	int64_t now;			/* Unix seconds: picks the sealing key */
	const struct clock_state *clock;
	const struct keyset *keys;	/* NULL: none loaded, NTS requests dropped */
	bool rate_kod;			/* the rate limiter said KoD: answer RATE only */
	int8_t rate_poll;		/* poll exponent advertised in a RATE KoD */
	/* Called once, right before the reply is sealed, for the transmit
	 * timestamp (NTP format), which the authenticator covers. */
	uint64_t (*tx_time)(void *arg);
	void *tx_arg;
	/* Interleaved mode (RFC 9769, ntpd/xleave.h): when not 0, the time
	 * our previous reply to this client left (found by the request's
	 * origin).  A time reply then carries it as its transmit timestamp
	 * and the request's receive field as its origin; KoDs and NAKs stay
	 * basic.  tx_time is called either way. */
	uint64_t xleave_tx;
};

/* How many fresh cookies an NTS reply carries and how much Additional
 * Padding fills it: the one place that keeps a reply within its request.
 * The reply has at most cap bytes (the request's length, or less), echoes
 * a uid_len-byte Unique Identifier and is sealed with a nonce_len-byte
 * nonce; it wants 1 + placeholders cookies of cookie_len bytes, at most
 * RESPONDER_MAX_COOKIES, and gets as many of those as fit.  *padding is
 * what is left of cap, rounded down to a multiple of 4.  Returns the
 * cookie count; 0 (and *padding 0) when not one fits or cookie_len is 0. */
unsigned responder_reply_size(size_t cap, size_t uid_len, size_t nonce_len,
			      size_t cookie_len, unsigned placeholders, size_t *padding);
/* 0 or -1 (no randomness for the nonce generator, no memory for the
 * secrets' scratch). */
int responder_init(struct responder *r, int64_t key_propagation);
/* Wipe and free everything (the scratch included). */
void responder_wipe(struct responder *r);
/* Wipe the session keys of the request just answered (responder_handle
 * does this after each NTS request). */
void responder_wipe_keys(struct responder *r);
/* In every reply the receive timestamp has its lowest bit set and the
 * transmit timestamp has it clear, so that an interleaved request (origin
 * = one of our receive timestamps) is told from a basic one (origin = our
 * transmit timestamp) by one bit, as chrony does (2^-32 s). */
#define RESPONDER_RX_MARK UINT64_C(1)
/* Offsets of a reply's receive and transmit timestamps. */
#define RESPONDER_RX_OFFSET 32
#define RESPONDER_TX_OFFSET 40
/* Handle one request.  On a reply outcome (ntp_counter_is_reply) the reply
 * is in out[0..*out_len) with *out_len <= min(cap, rq->len); otherwise
 * *out_len is 0 and the return value says why. */
enum ntp_counter responder_handle(struct responder *r, const struct responder_request *rq,
				  uint8_t *out, size_t cap, size_t *out_len);

#endif
