/* ke_record: NTS-KE records (RFC 8915 section 4).  Pure: bytes in, meaning
 * out, and the reverse.  Every reject of a request or a response has a
 * named status. */
#include "build_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aead.h"
#include "ke_record.h"

enum ke_record_status ke_record_next(struct buf_reader *r, struct ke_record *out)
{
	uint16_t word, body_len;
	const uint8_t *body;

	if (r->err)
		return KE_RECORD_TRUNCATED;
	if (buf_remaining(r) == 0)
		return KE_RECORD_END_OF_DATA;
	/* Peek first so a partial record leaves the reader where it was. */
	if (!buf_peek_u16(r, 0, &word) || !buf_peek_u16(r, 2, &body_len))
		return KE_RECORD_TRUNCATED;
	if (body_len > buf_remaining(r) - KE_REC_HEADER_LEN)
		return KE_RECORD_TRUNCATED;
	if (!buf_skip(r, KE_REC_HEADER_LEN) || !buf_get_span(r, body_len, &body))
		return KE_RECORD_TRUNCATED;
	out->critical = (word & KE_REC_CRITICAL) != 0;
	out->type = word & (uint16_t)~KE_REC_CRITICAL;
	out->body = body;
	out->body_len = body_len;
	return KE_RECORD_OK;
}

bool ke_record_put(struct buf_writer *w, bool critical, uint16_t type,
		   const void *body, size_t len)
{
	/* A body longer than the 16-bit length or a type using the critical
	 * bit cannot be encoded: fail like a full writer would. */
	if (len > UINT16_MAX || (type & KE_REC_CRITICAL)) {
		w->err = true;
		return false;
	}
	if (!buf_put_u16(w, (uint16_t)(type | (critical ? KE_REC_CRITICAL : 0))))
		return false;
	if (!buf_put_u16(w, (uint16_t)len))
		return false;
	if (len > 0 && !buf_put_bytes(w, body, len))
		return false;
	return !w->err;
}

void ke_export_context(uint16_t protocol, uint16_t aead, uint8_t direction,
		       uint8_t out[KE_EXPORT_CONTEXT_LEN])
{
	buf_store_u16(out, protocol);
	buf_store_u16(out + 2, aead);
	out[4] = direction;
}

uint16_t ke_export_client_aead(uint16_t aead, bool compliant_128gcm)
{
	if (aead == AEAD_AES_128_GCM_SIV && !compliant_128gcm)
		return AEAD_AES_SIV_CMAC_256;
	return aead;
}

bool ke_request_build(struct buf_writer *w, const uint16_t *aeads, size_t n_aeads)
{
	uint8_t proto[2], list[2 * KE_MAX_AEADS];
	bool gcm = false;

	if (n_aeads > KE_MAX_AEADS)
		n_aeads = KE_MAX_AEADS;
	for (size_t i = 0; i < n_aeads; i++) {
		buf_store_u16(list + 2 * i, aeads[i]);
		gcm = gcm || aeads[i] == AEAD_AES_128_GCM_SIV;
	}
	buf_store_u16(proto, KE_PROTO_NTPV4);
	ke_record_put(w, true, KE_REC_NEXT_PROTO, proto, sizeof(proto));
	ke_record_put(w, true, KE_REC_AEAD, list, 2 * n_aeads);
	if (gcm)
		ke_record_put(w, false, KE_REC_COMPLIANT_128GCM, NULL, 0);
	ke_record_put(w, true, KE_REC_END, NULL, 0);
	return !w->err;
}

static const char *const status_names[KE_REQ_STATUS_COUNT] = {
	[KE_REQ_OK] = "ok",
	[KE_REQ_INCOMPLETE] = "incomplete",
	[KE_REQ_UNRECOGNIZED_CRITICAL] = "unrecognized_critical",
	[KE_REQ_NOT_CRITICAL] = "not_critical",
	[KE_REQ_NO_NEXT_PROTO] = "no_next_proto",
	[KE_REQ_DUP_NEXT_PROTO] = "dup_next_proto",
	[KE_REQ_BAD_NEXT_PROTO] = "bad_next_proto",
	[KE_REQ_NO_AEAD] = "no_aead",
	[KE_REQ_DUP_AEAD] = "dup_aead",
	[KE_REQ_BAD_AEAD] = "bad_aead",
	[KE_REQ_FORBIDDEN_RECORD] = "forbidden_record",
	[KE_REQ_BAD_SERVER] = "bad_server",
	[KE_REQ_BAD_PORT] = "bad_port",
	[KE_REQ_BAD_END] = "bad_end",
	[KE_REQ_TRAILING_DATA] = "trailing_data",
	[KE_REQ_BAD_COMPLIANT_128GCM] = "bad_compliant_128gcm",
};

const char *ke_request_status_str(enum ke_request_status s)
{
	if ((unsigned)s >= KE_REQ_STATUS_COUNT)
		return "unknown";
	return status_names[s];
}

enum ke_error_code ke_request_error_code(enum ke_request_status s)
{
	if (s == KE_REQ_UNRECOGNIZED_CRITICAL)
		return KE_ERROR_UNRECOGNIZED_CRITICAL;
	return KE_ERROR_BAD_REQUEST;
}

uint16_t ke_id_at(const struct ke_id_list *l, size_t i)
{
	return buf_load_u16(l->p + 2 * i);
}

bool ke_id_list_has(const struct ke_id_list *l, uint16_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (ke_id_at(l, i) == id)
			return true;
	return false;
}

/* A list of 16-bit ids (Next Protocol, AEAD): once, non-empty, even.
 * Remembers where its body starts in the message p. */
static enum ke_request_status take_id_list(const uint8_t *p, const struct ke_record *rec,
					   struct ke_id_list *list, size_t *off,
					   enum ke_request_status dup, enum ke_request_status bad)
{
	if (*off != 0)
		return dup;
	if (rec->body_len == 0 || rec->body_len % 2 != 0)
		return bad;
	*off = (size_t)(rec->body - p);
	list->n = rec->body_len / 2;
	return KE_REQ_OK;
}

/* A Server Negotiation record, in a request or a response: once, a host
 * name or address literal (printable ASCII, no spaces), stored
 * NUL-terminated. */
static bool take_server(const struct ke_record *rec, bool *has,
			char server[KE_MAX_SERVER_LEN + 1])
{
	if (*has || rec->body_len == 0 || rec->body_len > KE_MAX_SERVER_LEN)
		return false;
	for (size_t i = 0; i < rec->body_len; i++)
		if (rec->body[i] < 0x21 || rec->body[i] > 0x7e)
			return false;
	memcpy(server, rec->body, rec->body_len);
	server[rec->body_len] = '\0';
	*has = true;
	return true;
}

/* A Port Negotiation record: once, 16 bits. */
static bool take_port(const struct ke_record *rec, bool *has, uint16_t *port)
{
	if (*has || rec->body_len != 2)
		return false;
	*port = buf_load_u16(rec->body);
	*has = true;
	return true;
}

/* Everything seen once End of Message arrives. */
static enum ke_request_status check_complete(const struct ke_request *req)
{
	if (req->protocols.n == 0)
		return KE_REQ_NO_NEXT_PROTO;
	if (req->aeads.n == 0 && ke_id_list_has(&req->protocols, KE_PROTO_NTPV4))
		return KE_REQ_NO_AEAD;
	return KE_REQ_OK;
}

/* One record of a request other than End of Message. */
static enum ke_request_status take_record(const uint8_t *p, const struct ke_record *rec,
					  struct ke_request *req)
{
	switch (rec->type) {
	case KE_REC_NEXT_PROTO:
		if (!rec->critical && req->protocols_off == 0)
			return KE_REQ_NOT_CRITICAL;
		return take_id_list(p, rec, &req->protocols, &req->protocols_off,
				    KE_REQ_DUP_NEXT_PROTO, KE_REQ_BAD_NEXT_PROTO);
	case KE_REC_AEAD:
		return take_id_list(p, rec, &req->aeads, &req->aeads_off, KE_REQ_DUP_AEAD,
				    KE_REQ_BAD_AEAD);
	case KE_REC_ERROR:
	case KE_REC_WARNING:
	case KE_REC_NEW_COOKIE:
		return KE_REQ_FORBIDDEN_RECORD;
	case KE_REC_SERVER:
		return take_server(rec, &req->has_server, req->server) ? KE_REQ_OK
								       : KE_REQ_BAD_SERVER;
	case KE_REC_PORT:
		return take_port(rec, &req->has_port, &req->port) ? KE_REQ_OK : KE_REQ_BAD_PORT;
	case KE_REC_COMPLIANT_128GCM:
		if (rec->body_len != 0)
			return KE_REQ_BAD_COMPLIANT_128GCM;
		req->compliant_128gcm = true;
		return KE_REQ_OK;
	default:
		/* Unknown and not critical: ignored, as section 4 says. */
		return rec->critical ? KE_REQ_UNRECOGNIZED_CRITICAL : KE_REQ_OK;
	}
}

/* Point the id lists into p, the message as it is now. */
static void point_lists(const uint8_t *p, struct ke_request *req)
{
	if (req->protocols_off)
		req->protocols.p = p + req->protocols_off;
	if (req->aeads_off)
		req->aeads.p = p + req->aeads_off;
}

void ke_request_init(struct ke_request *req)
{
	memset(req, 0, sizeof(*req));
}

enum ke_request_status ke_request_continue(const uint8_t *p, size_t len,
					   struct ke_request *req)
{
	struct buf_reader r;
	struct ke_record rec;
	enum ke_request_status st;

	if (req->parsed > len)
		return KE_REQ_INCOMPLETE;	/* not the bytes we saw: caller's bug */
	buf_reader_init(&r, p, len);
	r.off = req->parsed;
	while (ke_record_next(&r, &rec) == KE_RECORD_OK) {
		req->parsed = r.off;
		if (rec.type == KE_REC_END) {
			if (!rec.critical)
				return KE_REQ_NOT_CRITICAL;
			if (rec.body_len != 0)
				return KE_REQ_BAD_END;
			if (buf_remaining(&r) != 0)
				return KE_REQ_TRAILING_DATA;
			point_lists(p, req);
			st = check_complete(req);
			if (st == KE_REQ_OK)
				req->len = r.off;
			return st;
		}
		st = take_record(p, &rec, req);
		if (st != KE_REQ_OK)
			return st;
	}
	point_lists(p, req);
	return KE_REQ_INCOMPLETE;
}

enum ke_request_status ke_request_parse(const uint8_t *p, size_t len,
					struct ke_request *req)
{
	ke_request_init(req);
	return ke_request_continue(p, len, req);
}

/* A domain name's syntax, with or without one final dot. */
static bool valid_domain(const char *s)
{
	size_t len = strlen(s), label = 0;
	bool all_digits = true;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		bool digit, letter;

		if (c == '.') {
			/* An empty label, or a hyphen at either end of one. */
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (label == 0) {
			if (c == '-')
				return false;
			all_digits = true;
		}
		digit = c >= '0' && c <= '9';
		letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

		if (!digit && !letter && c != '-')
			return false;
		if (!digit)
			all_digits = false;
		if (++label > 63)
			return false;
	}
	/* "192.0.2.300" is neither an address nor a host name. */
	return !all_digits;
}

enum ke_name_kind ke_server_name_kind(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	/* inet_pton takes only dotted decimal for IPv4 and no zone for IPv6,
	 * which is what section 4.1.7 asks. */
	if (inet_pton(AF_INET, s, &a4) == 1)
		return KE_NAME_IPV4;
	if (inet_pton(AF_INET6, s, &a6) == 1)
		return KE_NAME_IPV6;
	return valid_domain(s) ? KE_NAME_FQDN : KE_NAME_INVALID;
}

bool ke_server_name_equal(const char *a, const char *b)
{
	enum ke_name_kind k = ke_server_name_kind(a);
	uint8_t x[16], y[16];
	size_t la, lb;

	if (k == KE_NAME_INVALID || k != ke_server_name_kind(b))
		return false;
	if (k != KE_NAME_FQDN) {
		int af = k == KE_NAME_IPV4 ? AF_INET : AF_INET6;

		return inet_pton(af, a, x) == 1 && inet_pton(af, b, y) == 1 &&
		       memcmp(x, y, k == KE_NAME_IPV4 ? 4 : 16) == 0;
	}
	la = strlen(a) - (a[strlen(a) - 1] == '.');
	lb = strlen(b) - (b[strlen(b) - 1] == '.');
	return la == lb && strncasecmp(a, b, la) == 0;
}

bool ke_response_build(struct buf_writer *w, const struct ke_response *resp)
{
	uint8_t id[2];

	buf_store_u16(id, resp->protocol);
	ke_record_put(w, true, KE_REC_NEXT_PROTO, id, resp->has_protocol ? 2 : 0);
	buf_store_u16(id, resp->aead);
	ke_record_put(w, true, KE_REC_AEAD, id, resp->has_aead ? 2 : 0);
	if (resp->compliant_128gcm)
		ke_record_put(w, false, KE_REC_COMPLIANT_128GCM, NULL, 0);
	for (size_t i = 0; i < resp->n_cookies; i++)
		ke_record_put(w, false, KE_REC_NEW_COOKIE, resp->cookies[i],
			      resp->cookie_lens[i]);
	if (resp->server)
		ke_record_put(w, true, KE_REC_SERVER, resp->server, strlen(resp->server));
	if (resp->has_port) {
		buf_store_u16(id, resp->port);
		ke_record_put(w, true, KE_REC_PORT, id, 2);
	}
	ke_record_put(w, true, KE_REC_END, NULL, 0);
	/* The writer's error is sticky: one check covers every record. */
	return !w->err;
}

bool ke_error_build(struct buf_writer *w, enum ke_error_code code)
{
	uint8_t body[2];

	buf_store_u16(body, (uint16_t)code);
	ke_record_put(w, true, KE_REC_ERROR, body, sizeof(body));
	ke_record_put(w, true, KE_REC_END, NULL, 0);
	return !w->err;
}

bool ke_records_complete(const uint8_t *p, size_t len)
{
	struct buf_reader r;
	struct ke_record rec;

	buf_reader_init(&r, p, len);
	while (ke_record_next(&r, &rec) == KE_RECORD_OK)
		if (rec.type == KE_REC_END)
			return true;
	return false;
}

static const char *const reply_status_names[KE_REPLY_STATUS_COUNT] = {
	[KE_REPLY_OK] = "ok",
	[KE_REPLY_INCOMPLETE] = "incomplete",
	[KE_REPLY_UNRECOGNIZED_CRITICAL] = "unrecognized_critical",
	[KE_REPLY_DUP_NEXT_PROTO] = "dup_next_proto",
	[KE_REPLY_BAD_NEXT_PROTO] = "bad_next_proto",
	[KE_REPLY_DUP_AEAD] = "dup_aead",
	[KE_REPLY_BAD_AEAD] = "bad_aead",
	[KE_REPLY_BAD_ERROR] = "bad_error",
	[KE_REPLY_BAD_WARNING] = "bad_warning",
	[KE_REPLY_BAD_COOKIE] = "bad_cookie",
	[KE_REPLY_BAD_SERVER] = "bad_server",
	[KE_REPLY_BAD_PORT] = "bad_port",
	[KE_REPLY_BAD_END] = "bad_end",
	[KE_REPLY_TRAILING_DATA] = "trailing_data",
	[KE_REPLY_TOO_MANY] = "too_many",
	[KE_REPLY_BAD_COMPLIANT_128GCM] = "bad_compliant_128gcm",
};

const char *ke_reply_status_str(enum ke_reply_status s)
{
	if ((unsigned)s >= KE_REPLY_STATUS_COUNT)
		return "unknown";
	return reply_status_names[s];
}

/* The server's choice: an empty record (none in common) or one id. */
static enum ke_reply_status reply_choice(const struct ke_record *rec, bool *has,
					 uint16_t *id, bool *seen,
					 enum ke_reply_status dup, enum ke_reply_status bad)
{
	if (*seen)
		return dup;
	*seen = true;
	if (rec->body_len == 0)
		return KE_REPLY_OK;
	if (rec->body_len != 2)
		return bad;
	*has = true;
	*id = buf_load_u16(rec->body);
	return KE_REPLY_OK;
}

/* Error or Warning: one 16-bit code. */
static enum ke_reply_status reply_code(const struct ke_record *rec, bool *has,
				       uint16_t *code, enum ke_reply_status bad)
{
	if (rec->body_len != 2)
		return bad;
	*has = true;
	*code = buf_load_u16(rec->body);
	return KE_REPLY_OK;
}

static enum ke_reply_status reply_cookie(const struct ke_record *rec, struct ke_reply *out)
{
	if (rec->body_len == 0 || rec->body_len > KE_MAX_COOKIE_LEN)
		return KE_REPLY_BAD_COOKIE;
	out->n_cookies_seen++;
	if (out->n_cookies < KE_REPLY_MAX_COOKIES) {
		memcpy(out->cookies[out->n_cookies], rec->body, rec->body_len);
		out->cookie_lens[out->n_cookies++] = rec->body_len;
	}
	return KE_REPLY_OK;
}

/* One record other than End of Message. */
static enum ke_reply_status reply_record(const struct ke_record *rec, struct ke_reply *out,
					 bool *seen_proto, bool *seen_aead)
{
	switch (rec->type) {
	case KE_REC_NEXT_PROTO:
		return reply_choice(rec, &out->has_protocol, &out->protocol, seen_proto,
				    KE_REPLY_DUP_NEXT_PROTO, KE_REPLY_BAD_NEXT_PROTO);
	case KE_REC_AEAD:
		return reply_choice(rec, &out->has_aead, &out->aead, seen_aead,
				    KE_REPLY_DUP_AEAD, KE_REPLY_BAD_AEAD);
	case KE_REC_ERROR:
		return reply_code(rec, &out->has_error, &out->error_code, KE_REPLY_BAD_ERROR);
	case KE_REC_WARNING:
		return reply_code(rec, &out->has_warning, &out->warning_code,
				  KE_REPLY_BAD_WARNING);
	case KE_REC_NEW_COOKIE:
		return reply_cookie(rec, out);
	case KE_REC_SERVER:
		return take_server(rec, &out->has_server, out->server) ? KE_REPLY_OK :
									 KE_REPLY_BAD_SERVER;
	case KE_REC_PORT:
		return take_port(rec, &out->has_port, &out->port) ? KE_REPLY_OK :
								    KE_REPLY_BAD_PORT;
	case KE_REC_COMPLIANT_128GCM:
		if (rec->body_len != 0)
			return KE_REPLY_BAD_COMPLIANT_128GCM;
		out->compliant_128gcm = true;
		return KE_REPLY_OK;
	default:
		return rec->critical ? KE_REPLY_UNRECOGNIZED_CRITICAL : KE_REPLY_OK;
	}
}

enum ke_reply_status ke_reply_parse(const uint8_t *p, size_t len, struct ke_reply *out)
{
	struct buf_reader r;
	struct ke_record rec;
	bool seen_proto = false, seen_aead = false;
	enum ke_reply_status st;

	memset(out, 0, sizeof(*out));
	buf_reader_init(&r, p, len);
	for (size_t n = 1; ke_record_next(&r, &rec) == KE_RECORD_OK; n++) {
		if (n > KE_MAX_RECORDS)
			return KE_REPLY_TOO_MANY;
		if (rec.type == KE_REC_END) {
			if (rec.body_len != 0)
				return KE_REPLY_BAD_END;
			return buf_remaining(&r) ? KE_REPLY_TRAILING_DATA : KE_REPLY_OK;
		}
		st = reply_record(&rec, out, &seen_proto, &seen_aead);
		if (st != KE_REPLY_OK)
			return st;
	}
	return KE_REPLY_INCOMPLETE;
}

const char *ke_reply_unusable(const struct ke_reply *r, char *buf, size_t len)
{
	if (r->has_error)
		snprintf(buf, len, "server sent Error %u", r->error_code);
	else if (r->has_warning)
		snprintf(buf, len, "server sent Warning %u", r->warning_code);
	else if (!r->has_protocol || r->protocol != KE_PROTO_NTPV4)
		snprintf(buf, len, "server did not accept NTPv4");
	else if (!r->has_aead)
		snprintf(buf, len, "no common AEAD algorithm");
	else if (r->n_cookies == 0)
		snprintf(buf, len, "no cookies in the response");
	else
		return NULL;
	return buf;
}
