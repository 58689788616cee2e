/* ke_record: NTS-KE protocol facts (RFC 8915 section 4) both sides use:
 * the port, the ALPN name and the key exporter's label and context; the
 * record codec; the request builder and parser; the response builder and
 * parser.  Pure. */
#ifndef NTSD_KE_RECORD_H
#define NTSD_KE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum ke_rec_type {
	KE_REC_END = 0,
	KE_REC_NEXT_PROTO = 1,
	KE_REC_ERROR = 2,
	KE_REC_WARNING = 3,
	KE_REC_AEAD = 4,
	KE_REC_NEW_COOKIE = 5,
	KE_REC_SERVER = 6,
	KE_REC_PORT = 7,
	/* Compliant AES-128-GCM-SIV Exporter Context (IANA, from chrony
	 * 4.6.1): empty, not critical.  A client offering AEAD 30 sends it to
	 * say it derives AEAD 30 keys with 30 in the exporter context, as
	 * RFC 8915 says (chrony 4.4-4.6 put 15 there); a server that picks
	 * AEAD 30 for such a client echoes it.  doc/responder.md. */
	KE_REC_COMPLIANT_128GCM = 1024,
};

/* Section 4: the well-known port and the ALPN protocol name (also in the
 * wire form SSL_CTX_set_alpn_protos takes: one length byte, the name). */
#define KE_DEFAULT_PORT 4460
#define KE_ALPN "ntske/1"
#define KE_ALPN_LEN (sizeof(KE_ALPN) - 1)
#define KE_ALPN_WIRE "\x07" KE_ALPN
#define KE_ALPN_WIRE_LEN (sizeof(KE_ALPN_WIRE) - 1)

/* Section 5.1: the exporter label (no NUL) and its 5-byte context. */
#define KE_EXPORTER_LABEL "EXPORTER-network-time-security"
#define KE_EXPORTER_LABEL_LEN (sizeof(KE_EXPORTER_LABEL) - 1)
#define KE_EXPORT_CONTEXT_LEN 5
#define KE_EXPORT_C2S 0
#define KE_EXPORT_S2C 1

#define KE_REC_CRITICAL 0x8000
#define KE_REC_HEADER_LEN 4
#define KE_PROTO_NTPV4 0

enum ke_error_code {
	KE_ERROR_UNRECOGNIZED_CRITICAL = 0,
	KE_ERROR_BAD_REQUEST = 1,
	KE_ERROR_INTERNAL = 2,
};

/* The exporter context: protocol (2, BE) || AEAD (2, BE) || direction. */
void ke_export_context(uint16_t protocol, uint16_t aead, uint8_t direction,
		       uint8_t out[KE_EXPORT_CONTEXT_LEN]);
/* The AEAD id a client puts into the exporter context for the AEAD the
 * server chose: the AEAD itself, except 30 from a server that did not
 * echo KE_REC_COMPLIANT_128GCM, which (like chrony 4.6.1) is taken to be
 * a chrony 4.4-4.6 server deriving its keys with 15. */
uint16_t ke_export_client_aead(uint16_t aead, bool compliant_128gcm);

/* Bounds: a request has no limit of its own on records or list lengths
 * (RFC 8915 section 4 wants at least 1024 octets accepted, whatever they
 * carry); the session's size cap bounds it.  A response is read with at
 * most KE_MAX_RECORDS records. */
#define KE_MAX_SERVER_LEN 255
#define KE_MAX_RECORDS 64
#define KE_MAX_AEADS 16		/* ids a client offers (ke_request_build) */

struct ke_record {
	bool critical;
	uint16_t type;		/* without the critical bit */
	const uint8_t *body;	/* points into the parsed span */
	uint16_t body_len;
};

enum ke_record_status {
	KE_RECORD_OK = 0,
	KE_RECORD_END_OF_DATA,	/* no bytes left */
	KE_RECORD_TRUNCATED,	/* a partial header or body: need more bytes */
};

/* Read one record from r. */
enum ke_record_status ke_record_next(struct buf_reader *r, struct ke_record *out);
/* Append a record. */
bool ke_record_put(struct buf_writer *w, bool critical, uint16_t type,
		   const void *body, size_t len);

/* True once the records in p[0..len) reach an End of Message record:
 * a client has read the whole response. */
bool ke_records_complete(const uint8_t *p, size_t len);

/* A list of 16-bit ids as a request carried it (Next Protocol, AEAD):
 * n ids in network order at p, which points into the request bytes. */
struct ke_id_list {
	const uint8_t *p;
	size_t n;
};

/* The i-th id (i < l->n). */
uint16_t ke_id_at(const struct ke_id_list *l, size_t i);
bool ke_id_list_has(const struct ke_id_list *l, uint16_t id);

/* What a request asked for, and how far parsing has got. */
struct ke_request {
	struct ke_id_list protocols;	/* n == 0: no Next Protocol record yet */
	struct ke_id_list aeads;	/* in the client's order of preference */
	bool has_server;
	char server[KE_MAX_SERVER_LEN + 1];	/* NUL-terminated request */
	bool has_port;
	uint16_t port;
	bool compliant_128gcm;	/* a KE_REC_COMPLIANT_128GCM record came */
	size_t len;		/* bytes the request used, End of Message included */
	/* Progress: the offset of the first record not yet read, and where
	 * the id lists' bodies start (0: not seen). */
	size_t parsed;
	size_t protocols_off, aeads_off;
};

/* A client's request: NTPv4, the AEADs in order of preference (at most
 * KE_MAX_AEADS are written), KE_REC_COMPLIANT_128GCM when they include 30,
 * End of Message.  False when w is too small. */
bool ke_request_build(struct buf_writer *w, const uint16_t *aeads, size_t n_aeads);

/* Outcome of parsing a request; every reject has a name, a counter and a
 * KE error code (ke_request_error_code). */
enum ke_request_status {
	KE_REQ_OK = 0,
	KE_REQ_INCOMPLETE,		/* no End of Message yet: read more */
	KE_REQ_UNRECOGNIZED_CRITICAL,	/* unknown type with the critical bit -> Error 0 */
	KE_REQ_NOT_CRITICAL,		/* End / Next Protocol / Error / Warning without the critical bit */
	KE_REQ_NO_NEXT_PROTO,
	KE_REQ_DUP_NEXT_PROTO,
	KE_REQ_BAD_NEXT_PROTO,		/* empty or odd length */
	KE_REQ_NO_AEAD,			/* NTPv4 offered but no AEAD record */
	KE_REQ_DUP_AEAD,
	KE_REQ_BAD_AEAD,		/* empty or odd length */
	KE_REQ_FORBIDDEN_RECORD,	/* Error, Warning or New Cookie in a request */
	KE_REQ_BAD_SERVER,		/* empty, too long, duplicate or not printable */
	KE_REQ_BAD_PORT,		/* length != 2 or duplicate */
	KE_REQ_BAD_END,			/* End of Message with a body */
	KE_REQ_TRAILING_DATA,		/* bytes after End of Message */
	KE_REQ_BAD_COMPLIANT_128GCM,	/* KE_REC_COMPLIANT_128GCM with a body */
	KE_REQ_STATUS_COUNT
};

const char *ke_request_status_str(enum ke_request_status s);
/* The error code to send for a reject (KE_ERROR_BAD_REQUEST for most). */
enum ke_error_code ke_request_error_code(enum ke_request_status s);
/* Start parsing a new request. */
void ke_request_init(struct ke_request *req);
/* Parse the bytes received so far: p[0..len) is the whole request from its
 * start (the buffer may have moved since the last call, len only grows).
 * Each call reads only the records the last one did not, so a request
 * that arrives a byte at a time costs linear time.  KE_REQ_INCOMPLETE
 * means the records so far are fine but End of Message has not arrived;
 * an error is reported as soon as its record is complete.  After any other
 * status, ke_request_init before parsing another request.  The id lists
 * point into p. */
enum ke_request_status ke_request_continue(const uint8_t *p, size_t len,
					   struct ke_request *req);
/* ke_request_init and ke_request_continue: a whole message at once. */
enum ke_request_status ke_request_parse(const uint8_t *p, size_t len,
					struct ke_request *req);

/* What a Server Negotiation body names (section 4.1.7): an IPv4 address
 * in dotted decimal, an IPv6 address in RFC 4291 text without a zone, or
 * a domain name (labels of 1 to 63 letters, digits and inner hyphens, an
 * A-label for an internationalized one; at most 253 octets, one final dot
 * allowed; the last label not all digits). */
enum ke_name_kind {
	KE_NAME_INVALID = 0,
	KE_NAME_IPV4,
	KE_NAME_IPV6,
	KE_NAME_FQDN,
};

enum ke_name_kind ke_server_name_kind(const char *s);
/* The same server: equal addresses, or domain names equal ignoring case
 * and a final dot.  False when either is invalid. */
bool ke_server_name_equal(const char *a, const char *b);

/* The response to a successful request. */
struct ke_response {
	bool has_protocol;	/* false: empty Next Protocol record */
	uint16_t protocol;
	bool has_aead;		/* false: empty AEAD record */
	uint16_t aead;
	const uint8_t *const *cookies;	/* n_cookies pointers */
	const size_t *cookie_lens;
	size_t n_cookies;
	const char *server;	/* NULL: no Server Negotiation record */
	bool has_port;		/* false: no Port Negotiation record */
	uint16_t port;
	bool compliant_128gcm;	/* send KE_REC_COMPLIANT_128GCM (AEAD 30 only) */
};

/* Append the whole response, End of Message last. */
bool ke_response_build(struct buf_writer *w, const struct ke_response *resp);
/* Append Error(code) then End of Message. */
bool ke_error_build(struct buf_writer *w, enum ke_error_code code);

/* A response as a client reads it. */
#define KE_REPLY_MAX_COOKIES 16
#define KE_MAX_COOKIE_LEN 256
struct ke_reply {
	bool has_protocol;	/* false: empty or no Next Protocol record */
	uint16_t protocol;
	bool has_aead;		/* false: empty or no AEAD record */
	uint16_t aead;
	bool has_error;
	uint16_t error_code;
	bool has_warning;
	uint16_t warning_code;
	bool has_server;
	char server[KE_MAX_SERVER_LEN + 1];
	bool has_port;
	uint16_t port;
	bool compliant_128gcm;	/* a KE_REC_COMPLIANT_128GCM record came */
	size_t n_cookies;	/* stored, at most KE_REPLY_MAX_COOKIES */
	size_t n_cookies_seen;
	uint8_t cookies[KE_REPLY_MAX_COOKIES][KE_MAX_COOKIE_LEN];
	size_t cookie_lens[KE_REPLY_MAX_COOKIES];
};

/* Outcome of parsing a response; what was read before a reject stays in
 * the struct ke_reply (a client may still report an Error record). */
enum ke_reply_status {
	KE_REPLY_OK = 0,
	KE_REPLY_INCOMPLETE,		/* no End of Message */
	KE_REPLY_UNRECOGNIZED_CRITICAL,	/* unknown type with the critical bit */
	KE_REPLY_DUP_NEXT_PROTO,
	KE_REPLY_BAD_NEXT_PROTO,	/* not empty and not one 16-bit id */
	KE_REPLY_DUP_AEAD,
	KE_REPLY_BAD_AEAD,		/* not empty and not one 16-bit id */
	KE_REPLY_BAD_ERROR,		/* body not 2 bytes */
	KE_REPLY_BAD_WARNING,		/* body not 2 bytes */
	KE_REPLY_BAD_COOKIE,		/* empty or longer than KE_MAX_COOKIE_LEN */
	KE_REPLY_BAD_SERVER,		/* empty, too long, duplicate or not printable */
	KE_REPLY_BAD_PORT,		/* length != 2 or duplicate */
	KE_REPLY_BAD_END,		/* End of Message with a body */
	KE_REPLY_TRAILING_DATA,		/* bytes after End of Message */
	KE_REPLY_TOO_MANY,		/* more than KE_MAX_RECORDS records */
	KE_REPLY_BAD_COMPLIANT_128GCM,	/* KE_REC_COMPLIANT_128GCM with a body */
	KE_REPLY_STATUS_COUNT
};

const char *ke_reply_status_str(enum ke_reply_status s);
/* Parse a whole response.  Well-formed is not usable: see
 * ke_reply_unusable. */
enum ke_reply_status ke_reply_parse(const uint8_t *p, size_t len, struct ke_reply *out);
/* NULL when a well-formed reply can be used for NTPv4 (no Error or
 * Warning, NTPv4 and an AEAD chosen, at least one cookie); else why not,
 * written to buf. */
const char *ke_reply_unusable(const struct ke_reply *r, char *buf, size_t len);

#endif
