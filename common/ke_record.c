/* ke_record: NTS-KE records (RFC 8915 section 4).  Pure: bytes in, meaning
 * out, and the reverse.  Every reject of a request has a named status. */
#include "build_config.h"

#include <string.h>

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

static const char *const status_names[KE_REQ_STATUS_COUNT] = {
	[KE_REQ_OK] = "ok",
	[KE_REQ_INCOMPLETE] = "incomplete",
	[KE_REQ_UNRECOGNIZED_CRITICAL] = "unrecognized-critical",
	[KE_REQ_NOT_CRITICAL] = "not-critical",
	[KE_REQ_NO_NEXT_PROTO] = "no-next-proto",
	[KE_REQ_DUP_NEXT_PROTO] = "dup-next-proto",
	[KE_REQ_BAD_NEXT_PROTO] = "bad-next-proto",
	[KE_REQ_NO_AEAD] = "no-aead",
	[KE_REQ_DUP_AEAD] = "dup-aead",
	[KE_REQ_BAD_AEAD] = "bad-aead",
	[KE_REQ_FORBIDDEN_RECORD] = "forbidden-record",
	[KE_REQ_BAD_SERVER] = "bad-server",
	[KE_REQ_BAD_PORT] = "bad-port",
	[KE_REQ_BAD_END] = "bad-end",
	[KE_REQ_TRAILING_DATA] = "trailing-data",
	[KE_REQ_TOO_MANY] = "too-many",
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

/* A list of 16-bit ids (Next Protocol, AEAD): non-empty, even, bounded. */
static enum ke_request_status parse_id_list(const struct ke_record *rec,
					    uint16_t *ids, size_t max, size_t *n,
					    enum ke_request_status bad)
{
	struct buf_reader body;

	if (rec->body_len == 0 || rec->body_len % 2 != 0)
		return bad;
	if (rec->body_len / 2 > max)
		return KE_REQ_TOO_MANY;
	buf_reader_init(&body, rec->body, rec->body_len);
	*n = 0;
	while (buf_remaining(&body) > 0) {
		if (!buf_get_u16(&body, &ids[*n]))
			return bad;
		(*n)++;
	}
	return KE_REQ_OK;
}

static enum ke_request_status parse_server(const struct ke_record *rec,
					   struct ke_request *req)
{
	if (req->has_server || rec->body_len == 0 || rec->body_len > KE_MAX_SERVER_LEN)
		return KE_REQ_BAD_SERVER;
	/* A host name or address literal: printable ASCII, no spaces. */
	for (size_t i = 0; i < rec->body_len; i++)
		if (rec->body[i] < 0x21 || rec->body[i] > 0x7e)
			return KE_REQ_BAD_SERVER;
	memcpy(req->server, rec->body, rec->body_len);
	req->server[rec->body_len] = '\0';
	req->has_server = true;
	return KE_REQ_OK;
}

static enum ke_request_status parse_port(const struct ke_record *rec,
					 struct ke_request *req)
{
	if (req->has_port || rec->body_len != 2)
		return KE_REQ_BAD_PORT;
	req->port = buf_load_u16(rec->body);
	req->has_port = true;
	return KE_REQ_OK;
}

/* Everything seen once End of Message arrives. */
static enum ke_request_status check_complete(const struct ke_request *req,
					     bool seen_next_proto, bool seen_aead)
{
	if (!seen_next_proto)
		return KE_REQ_NO_NEXT_PROTO;
	if (!seen_aead) {
		for (size_t i = 0; i < req->n_protocols; i++)
			if (req->protocols[i] == KE_PROTO_NTPV4)
				return KE_REQ_NO_AEAD;
	}
	return KE_REQ_OK;
}

enum ke_request_status ke_request_parse(const uint8_t *p, size_t len,
					struct ke_request *req)
{
	struct buf_reader r;
	struct ke_record rec;
	bool seen_next_proto = false, seen_aead = false;
	size_t n_records = 0;
	enum ke_request_status st;

	memset(req, 0, sizeof(*req));
	buf_reader_init(&r, p, len);
	for (;;) {
		switch (ke_record_next(&r, &rec)) {
		case KE_RECORD_OK:
			break;
		case KE_RECORD_END_OF_DATA:
		case KE_RECORD_TRUNCATED:
			return KE_REQ_INCOMPLETE;
		}
		if (++n_records > KE_MAX_RECORDS)
			return KE_REQ_TOO_MANY;
		switch (rec.type) {
		case KE_REC_END:
			if (!rec.critical)
				return KE_REQ_NOT_CRITICAL;
			if (rec.body_len != 0)
				return KE_REQ_BAD_END;
			if (buf_remaining(&r) != 0)
				return KE_REQ_TRAILING_DATA;
			st = check_complete(req, seen_next_proto, seen_aead);
			if (st == KE_REQ_OK)
				req->len = r.off;
			return st;
		case KE_REC_NEXT_PROTO:
			if (seen_next_proto)
				return KE_REQ_DUP_NEXT_PROTO;
			if (!rec.critical)
				return KE_REQ_NOT_CRITICAL;
			st = parse_id_list(&rec, req->protocols, KE_MAX_PROTOCOLS,
					   &req->n_protocols, KE_REQ_BAD_NEXT_PROTO);
			if (st != KE_REQ_OK)
				return st;
			seen_next_proto = true;
			break;
		case KE_REC_AEAD:
			if (seen_aead)
				return KE_REQ_DUP_AEAD;
			st = parse_id_list(&rec, req->aeads, KE_MAX_AEADS,
					   &req->n_aeads, KE_REQ_BAD_AEAD);
			if (st != KE_REQ_OK)
				return st;
			seen_aead = true;
			break;
		case KE_REC_ERROR:
		case KE_REC_WARNING:
		case KE_REC_NEW_COOKIE:
			return KE_REQ_FORBIDDEN_RECORD;
		case KE_REC_SERVER:
			st = parse_server(&rec, req);
			if (st != KE_REQ_OK)
				return st;
			break;
		case KE_REC_PORT:
			st = parse_port(&rec, req);
			if (st != KE_REQ_OK)
				return st;
			break;
		default:
			if (rec.critical)
				return KE_REQ_UNRECOGNIZED_CRITICAL;
			break;	/* unknown, not critical: ignore */
		}
	}
}

bool ke_response_build(struct buf_writer *w, const struct ke_response *resp)
{
	uint8_t id[2];

	buf_store_u16(id, resp->protocol);
	ke_record_put(w, true, KE_REC_NEXT_PROTO, id, resp->has_protocol ? 2 : 0);
	buf_store_u16(id, resp->aead);
	ke_record_put(w, true, KE_REC_AEAD, id, resp->has_aead ? 2 : 0);
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
