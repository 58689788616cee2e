/* ke_handler: the pure part of NTS-KE (RFC 8915 section 4): request bytes
 * in, response bytes out.  No sockets, no TLS session: the TLS exporter is
 * a callback, so unit tests and the fuzz target supply their own. */
#ifndef NTSD_KE_HANDLER_H
#define NTSD_KE_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/cookie.h"
#include "common/ke_record.h"
#include "common/keyset.h"
#include "common/rng.h"

/* Cookies handed out per successful request (the RFC's SHOULD). */
#define KE_HANDLER_COOKIES 8
/* Largest response ke_handler_process writes: 8 cookies of at most 256
 * bytes, a Server record of at most 255, the fixed records. */
#define KE_RESPONSE_MAX 4096

/* Fill out[0..len) with keying material for the 5-byte context.  0 or -1. */
typedef int ke_export_fn(void *arg, const uint8_t context[KE_EXPORT_CONTEXT_LEN],
			 uint8_t *out, size_t len);

enum ke_outcome {
	KE_OUT_INCOMPLETE = 0,		/* no End of Message yet: read more */
	KE_OUT_COOKIES,			/* NTPv4 and an AEAD negotiated, cookies sent */
	KE_OUT_NO_COMMON,		/* no common protocol or AEAD: empty record, no cookies */
	KE_OUT_ERROR_UNRECOGNIZED,	/* Error 0 sent */
	KE_OUT_ERROR_BAD_REQUEST,	/* Error 1 sent */
	KE_OUT_ERROR_INTERNAL,		/* Error 2 sent */
};

struct ke_handler_params {
	const struct keyset *keys;	/* NULL: Error 2 */
	int64_t now;			/* Unix seconds, picks the sealing key */
	int64_t propagation_s;
	/* The NTP servers that take our cookies, which a Server Negotiation
	 * record may name (ke-ntp-server); none: no such record, clients
	 * use the KE server's address. */
	const char *const *ntp_servers;
	size_t n_ntp_servers;
	int family;			/* the session's: AF_INET, AF_INET6 (or 0) */
	int ntp_port;			/* -1: no Port Negotiation record */
	const uint16_t *aeads;		/* the AEADs offered (ke-aead), as a set; */
	size_t n_aeads;			/* NULL: aead_ke_default */
	struct nonce_gen *nonces;	/* the calling thread's */
	/* The calling thread's room for the session keys, allocated once
	 * with secmem_alloc (out of core dumps); wiped before
	 * ke_handler_process returns.  NULL: Error 2. */
	struct cookie_keys *keys_scratch;
	ke_export_fn *export_keys;
	void *export_arg;
};

const char *ke_outcome_str(enum ke_outcome o);

/* Handle the request bytes received so far (all of them, from the start;
 * parse carries the parser's progress between calls: ke_request_init it
 * for each new request).  `final`: no more bytes will come (peer closed,
 * deadline, size limit), so an incomplete request is a bad request.  The response is appended to w
 * (give it KE_RESPONSE_MAX bytes); nothing is written for
 * KE_OUT_INCOMPLETE.  *status (may be NULL) gets the parser's verdict.
 * Session keys are wiped before returning. */
enum ke_outcome ke_handler_process(const struct ke_handler_params *p,
				   struct ke_request *parse, const uint8_t *req, size_t len,
				   bool final,
				   struct buf_writer *w, enum ke_request_status *status);

/* Append Error(code) + End of Message; the outcome it stands for. */
enum ke_outcome ke_handler_error(struct buf_writer *w, enum ke_error_code code);

#endif
