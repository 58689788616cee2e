/* ke_handler: NTS-KE request -> response (RFC 8915 section 4).  Pure. */
#include "build_config.h"

#include <string.h>
#include <sys/socket.h>

#include "common/aead.h"
#include "common/cookie.h"
#include "nts-ke/ke_handler.h"

const char *ke_outcome_str(enum ke_outcome o)
{
	switch (o) {
	case KE_OUT_INCOMPLETE:
		return "incomplete";
	case KE_OUT_COOKIES:
		return "cookies";
	case KE_OUT_NO_COMMON:
		return "no_common_algorithm";
	case KE_OUT_ERROR_UNRECOGNIZED:
		return "error_unrecognized_critical";
	case KE_OUT_ERROR_BAD_REQUEST:
		return "error_bad_request";
	case KE_OUT_ERROR_INTERNAL:
		return "error_internal";
	}
	return "unknown";
}

enum ke_outcome ke_handler_error(struct buf_writer *w, enum ke_error_code code)
{
	ke_error_build(w, code);
	switch (code) {
	case KE_ERROR_UNRECOGNIZED_CRITICAL:
		return KE_OUT_ERROR_UNRECOGNIZED;
	case KE_ERROR_BAD_REQUEST:
		return KE_OUT_ERROR_BAD_REQUEST;
	case KE_ERROR_INTERNAL:
		break;
	}
	return KE_OUT_ERROR_INTERNAL;
}

/* Whether we offer id: in the ke-aead set (else the default one) and one
 * we can put into a cookie. */
static const struct aead_alg *offered(const struct ke_handler_params *p, uint16_t id)
{
	const struct aead_alg *alg = aead_by_id(id);
	bool listed = p->aeads == NULL && aead_ke_default(id);

	for (size_t i = 0; p->aeads && i < p->n_aeads && !listed; i++)
		listed = p->aeads[i] == id;
	return listed && alg && cookie_len(id) != 0 ? alg : NULL;
}

/* The first AEAD in the client's order that we offer; but AEAD 30 for a
 * client that sent no KE_REC_COMPLIANT_128GCM record only when it offers
 * nothing else we do.  chrony 4.4-4.6 send no such record and derive AEAD
 * 30 keys with 15 in the exporter context; a client that says nothing
 * cannot be told from them, so it gets another AEAD where it offers one,
 * and otherwise keys derived as RFC 8915 says. */
static const struct aead_alg *choose_aead(const struct ke_handler_params *p,
					  const struct ke_request *req)
{
	const struct aead_alg *alg, *last_resort = NULL;

	for (size_t i = 0; i < req->aeads.n; i++) {
		alg = offered(p, ke_id_at(&req->aeads, i));
		if (!alg)
			continue;
		if (alg->id != AEAD_AES_128_GCM_SIV || req->compliant_128gcm)
			return alg;
		if (!last_resort)
			last_resort = alg;
	}
	return last_resort;
}

/* Does a configured server name fit a session of this address family? */
static bool fits_family(const char *name, int family)
{
	switch (ke_server_name_kind(name)) {
	case KE_NAME_IPV4:
		return family == AF_INET;
	case KE_NAME_IPV6:
		return family == AF_INET6;
	case KE_NAME_FQDN:
		return true;
	case KE_NAME_INVALID:
		break;
	}
	return false;
}

/* Section 4.1.7: the server the client asked for when it is one of ours
 * (echoed as the client wrote it); else the first of ours in the session's
 * address family (a domain name fits either); else the first of ours.
 * NULL: none configured, no record. */
static const char *choose_server(const struct ke_handler_params *p,
				 const struct ke_request *req)
{
	if (p->n_ntp_servers == 0)
		return NULL;
	if (req->has_server)
		for (size_t i = 0; i < p->n_ntp_servers; i++)
			if (ke_server_name_equal(req->server, p->ntp_servers[i]))
				return req->server;
	for (size_t i = 0; i < p->n_ntp_servers; i++)
		if (fits_family(p->ntp_servers[i], p->family))
			return p->ntp_servers[i];
	return p->ntp_servers[0];
}

static int export_keys(const struct ke_handler_params *p, const struct aead_alg *alg,
		       struct cookie_keys *keys)
{
	uint8_t ctx[KE_EXPORT_CONTEXT_LEN];

	keys->aead = alg->id;
	keys->key_len = alg->key_len;
	ke_export_context(KE_PROTO_NTPV4, alg->id, KE_EXPORT_C2S, ctx);
	if (p->export_keys(p->export_arg, ctx, keys->c2s, alg->key_len) < 0)
		return -1;
	ke_export_context(KE_PROTO_NTPV4, alg->id, KE_EXPORT_S2C, ctx);
	if (p->export_keys(p->export_arg, ctx, keys->s2c, alg->key_len) < 0)
		return -1;
	return 0;
}

/* Everything after a well-formed request.  On failure nothing useful has
 * been appended and the caller answers Error 2. */
static enum ke_outcome respond(const struct ke_handler_params *p,
			       const struct ke_request *req, struct buf_writer *w)
{
	uint8_t cookies[KE_HANDLER_COOKIES][COOKIE_MAX_LEN];
	const uint8_t *cookie_ptrs[KE_HANDLER_COOKIES];
	size_t cookie_lens[KE_HANDLER_COOKIES];
	struct ke_response resp;
	struct cookie_keys *keys = p->keys_scratch;
	const struct aead_alg *alg = NULL;
	const struct master_key *key;
	enum ke_outcome out = KE_OUT_ERROR_INTERNAL;

	memset(&resp, 0, sizeof(resp));
	if (ke_id_list_has(&req->protocols, KE_PROTO_NTPV4)) {
		resp.has_protocol = true;
		resp.protocol = KE_PROTO_NTPV4;
		alg = choose_aead(p, req);
	}
	if (!alg) {
		/* Empty Next Protocol or AEAD record: no keys, so no cookies. */
		out = ke_response_build(w, &resp) ? KE_OUT_NO_COMMON : KE_OUT_ERROR_INTERNAL;
		goto out;
	}
	resp.has_aead = true;
	resp.aead = alg->id;
	/* The keys below always carry alg->id in the exporter context. */
	resp.compliant_128gcm = alg->id == AEAD_AES_128_GCM_SIV && req->compliant_128gcm;
	if (!p->keys || !p->export_keys || !p->nonces || !keys)
		goto out;
	key = keyset_sealing_key(p->keys, p->now, p->propagation_s);
	if (!key)
		goto out;
	if (export_keys(p, alg, keys) < 0)
		goto out;
	for (size_t i = 0; i < KE_HANDLER_COOKIES; i++) {
		uint8_t nonce[COOKIE_NONCE_LEN];

		nonce_gen_next(p->nonces, nonce);
		cookie_lens[i] = cookie_seal(key, keys, nonce, cookies[i], sizeof(cookies[i]));
		if (cookie_lens[i] == 0)
			goto out;
		cookie_ptrs[i] = cookies[i];
	}
	resp.cookies = cookie_ptrs;
	resp.cookie_lens = cookie_lens;
	resp.n_cookies = KE_HANDLER_COOKIES;
	resp.server = choose_server(p, req);
	if (p->ntp_port >= 0 && p->ntp_port <= UINT16_MAX) {
		resp.has_port = true;
		resp.port = (uint16_t)p->ntp_port;
	}
	if (ke_response_build(w, &resp))
		out = KE_OUT_COOKIES;
out:
	cookie_keys_wipe(keys);	/* NULL-safe */
	return out;
}

enum ke_outcome ke_handler_process(const struct ke_handler_params *p,
				   struct ke_request *parse, const uint8_t *req, size_t len,
				   bool final, struct buf_writer *w,
				   enum ke_request_status *status)
{
	enum ke_request_status st;
	enum ke_outcome out;
	size_t start = w->off;

	st = ke_request_continue(req, len, parse);
	if (status)
		*status = st;
	if (st == KE_REQ_INCOMPLETE) {
		/* Section 4.1.3: not complete when no more can come: Error 1. */
		if (!final)
			return KE_OUT_INCOMPLETE;
		return ke_handler_error(w, KE_ERROR_BAD_REQUEST);
	}
	if (st != KE_REQ_OK)
		return ke_handler_error(w, ke_request_error_code(st));
	out = respond(p, parse, w);
	if (out == KE_OUT_ERROR_INTERNAL) {
		/* Drop whatever a failed build left and answer Error 2. */
		if (w->off > start)
			buf_wipe(w->p + start, w->off - start);
		w->off = start;
		w->err = false;
		out = ke_handler_error(w, KE_ERROR_INTERNAL);
	}
	return out;
}
