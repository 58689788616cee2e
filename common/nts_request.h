/* nts_request: the client side of NTS-protected NTP (RFC 8915 section 5):
 * build an authenticated client request and check a server's reply.  Pure:
 * the caller supplies the random unique identifier, the nonce, the time and
 * the scheduled C2S / S2C keys.  Used by the tests, ntsctl probe and the
 * benchmark load generator.  The pieces (header, authenticator) are public
 * so tests can assemble malformed variants field by field. */
#ifndef NTSD_NTS_REQUEST_H
#define NTSD_NTS_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aead.h"
#include "buf.h"
#include "ntp_packet.h"

/* Length of the unique identifiers we generate (the RFC's minimum). */
#define NTS_UID_LEN 32
/* Largest NTP packet the client and the responder handle. */
#define NTS_MAX_PACKET 2048
/* Cookies kept from one reply (the RFC's clients hold 8). */
#define NTS_REPLY_MAX_COOKIES 16

/* KoD kiss codes as refid values. */
#define NTP_KISS_NTSN 0x4e54534eU	/* "NTSN": NTS NAK */
#define NTP_KISS_RATE 0x52415445U	/* "RATE" */

struct nts_request {
	uint8_t version;		/* 4 for NTS */
	uint64_t tx_ts;			/* transmit timestamp, NTP format */
	const uint8_t *uid;		/* >= NTS_UID_LEN random bytes */
	size_t uid_len;
	const uint8_t *cookie;
	size_t cookie_len;
	unsigned placeholders;		/* in the clear, before the authenticator */
	unsigned enc_placeholders;	/* inside the encrypted part */
	const struct aead_ctx *c2s;	/* scheduled C2S key */
	const uint8_t *nonce;
	size_t nonce_len;
};

/* Whole request into out: header, Unique Identifier, Cookie, placeholders,
 * Authenticator.  Returns the length, 0 if cap is too small or sealing
 * fails. */
size_t nts_request_build(const struct nts_request *rq, uint8_t *out, size_t cap);
/* A plain (unauthenticated) 48-byte client request. */
size_t nts_request_build_plain(uint8_t version, uint64_t tx_ts, uint8_t *out, size_t cap);

/* Pieces.  A header with the given version and mode, a transmit timestamp
 * and everything else zero. */
bool nts_request_put_header(struct buf_writer *w, uint8_t version, uint8_t mode,
			    uint64_t tx_ts);
/* Additional padding RFC 8915 section 5.6 requires after the ciphertext of
 * a client authenticator whose nonce is nonce_len bytes long. */
size_t nts_auth_required_padding(const struct aead_alg *alg, size_t nonce_len);
/* Append an NTS Authenticator and Encrypted Extension Fields field: the
 * associated data is everything already in w (w->p[0..w->off)); pt holds
 * formatted extension fields to encrypt (may be empty); exactly `padding`
 * zero bytes (a multiple of 4) of additional padding follow the
 * ciphertext. */
bool nts_auth_put(struct buf_writer *w, const struct aead_ctx *ctx,
		  const uint8_t *nonce, size_t nonce_len,
		  const uint8_t *pt, size_t pt_len, size_t padding);

enum nts_reply_status {
	NTS_REPLY_OK = 0,
	NTS_REPLY_NAK,			/* KoD NTSN echoing our unique identifier */
	NTS_REPLY_KOD,			/* another kiss code (hdr.refid), e.g. RATE */
	NTS_REPLY_ERR_SHORT,		/* shorter than a header */
	NTS_REPLY_ERR_MODE,		/* not mode 4 */
	NTS_REPLY_ERR_ORIGIN,		/* origin timestamp is not our transmit time */
	NTS_REPLY_ERR_FIELDS,		/* malformed extension fields */
	NTS_REPLY_ERR_UID,		/* unique identifier missing, repeated or not ours */
	NTS_REPLY_ERR_AUTH_MISSING,	/* no authenticator, or it is not the last field */
	NTS_REPLY_ERR_AUTH,		/* authenticator malformed or does not verify */
	NTS_REPLY_ERR_COOKIES,		/* malformed plaintext or no cookie in it */
	NTS_REPLY_STATUS_COUNT
};

struct nts_reply {
	struct ntp_header hdr;
	size_t n_cookies;
	const uint8_t *cookie[NTS_REPLY_MAX_COOKIES];	/* point into plain[] */
	size_t cookie_len[NTS_REPLY_MAX_COOKIES];
	size_t len;			/* of the reply packet */
	uint8_t plain[NTS_MAX_PACKET];	/* decrypted extension fields */
};

/* Check a reply to the request sent at tx_ts.  With s2c NULL (a plain
 * request) only the header is checked.  Otherwise: mode 4, origin ==
 * tx_ts, exactly one Unique Identifier equal to uid before the
 * authenticator, the authenticator last and valid under s2c, and at least
 * one cookie inside it (copied pointers land in out->plain).  A KoD NTSN
 * with our uid is NTS_REPLY_NAK. */
enum nts_reply_status nts_reply_parse(const uint8_t *pkt, size_t len, uint64_t tx_ts,
				      const uint8_t *uid, size_t uid_len,
				      const struct aead_ctx *s2c, struct nts_reply *out);
const char *nts_reply_status_str(enum nts_reply_status s);

#endif
