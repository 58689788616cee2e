/* ke_client: blocking NTS-KE client over OpenSSL (RFC 8915 section 4). */
#include "build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client/ke_client.h"
#include "common/monotime.h"
#include "common/buf.h"
#include "common/aead.h"
#include "common/ke_record.h"

#define KE_CLIENT_DEFAULT_PORT 4460
#define KE_CLIENT_DEFAULT_TIMEOUT_MS 5000
#define EXPORTER_LABEL "EXPORTER-network-time-security"

static void set_error(struct ke_client_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_error(struct ke_client_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
}

/* The last OpenSSL error, queue cleared. */
static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (!last)
		snprintf(buf, len, "%s", errno ? strerror(errno) : "connection closed");
	else
		ERR_error_string_n(last, buf, len);
	return buf;
}

static int connect_one(const struct addrinfo *ai, const char *bind_addr, int64_t deadline,
		       char *err, size_t err_len)
{
	struct pollfd pfd;
	struct timeval tv;
	socklen_t len;
	int fd, soerr = 0, flags, left;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind_addr) {
		struct addrinfo hints, *bi;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = ai->ai_family;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if (getaddrinfo(bind_addr, NULL, &hints, &bi) != 0) {
			snprintf(err, err_len, "bad source address %s", bind_addr);
			goto out;
		}
		if (bind(fd, bi->ai_addr, bi->ai_addrlen) < 0) {
			snprintf(err, err_len, "bind %s: %s", bind_addr, strerror(errno));
			freeaddrinfo(bi);
			goto out;
		}
		freeaddrinfo(bi);
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			snprintf(err, err_len, "connect: %s", strerror(errno));
			goto out;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		left = (int)(deadline - monotime_ms());
		if (left <= 0 || poll(&pfd, 1, left) != 1) {
			snprintf(err, err_len, "connect: timed out");
			goto out;
		}
		len = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
			snprintf(err, err_len, "connect: %s", strerror(soerr ? soerr : errno));
			goto out;
		}
	}
	fcntl(fd, F_SETFL, flags);
	left = (int)(deadline - monotime_ms());
	if (left < 1)
		left = 1;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
out:
	close(fd);
	return -1;
}

static int connect_to(const struct ke_client_opts *o, int64_t deadline,
		      struct ke_client_result *res)
{
	struct addrinfo hints, *list, *ai;
	char port[8], err[160] = "no address";
	int fd = -1, rc;

	snprintf(port, sizeof(port), "%u", o->port ? o->port : KE_CLIENT_DEFAULT_PORT);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(o->host, port, &hints, &list);
	if (rc != 0) {
		set_error(res, "%s: %s", o->host, gai_strerror(rc));
		return -1;
	}
	for (ai = list; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, o->bind_addr, deadline, err, sizeof(err));
	freeaddrinfo(list);
	if (fd < 0)
		set_error(res, "%s port %s: %s", o->host, port, err);
	return fd;
}

static SSL_CTX *client_ctx(const struct ke_client_opts *o, struct ke_client_result *res)
{
	char reason[160];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		set_error(res, "TLS context: %s", ssl_reason(reason, sizeof(reason)));
		return NULL;
	}
	if (o->tls12_max) {
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	} else {
		SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	}
	if (!o->no_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (o->ca_file ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1 :
				 SSL_CTX_set_default_verify_paths(ctx) != 1) {
			set_error(res, "%s: %s", o->ca_file ? o->ca_file : "default CA store",
				  ssl_reason(reason, sizeof(reason)));
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	if (!o->no_alpn) {
		const char *proto = o->alpn ? o->alpn : "ntske/1";
		unsigned char wire[256];
		size_t n = strlen(proto);

		if (n == 0 || n > 255) {
			set_error(res, "bad ALPN protocol name");
			SSL_CTX_free(ctx);
			return NULL;
		}
		wire[0] = (unsigned char)n;
		memcpy(wire + 1, proto, n);
		/* returns 0 on success */
		if (SSL_CTX_set_alpn_protos(ctx, wire, (unsigned)n + 1) != 0) {
			set_error(res, "cannot set ALPN");
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	return ctx;
}

static size_t build_request(const struct ke_client_opts *o, uint8_t *out, size_t cap)
{
	static const uint16_t default_aeads[] = { 15 };
	const uint16_t *aeads = o->aeads ? o->aeads : default_aeads;
	size_t n = o->aeads ? o->n_aeads : 1;
	uint8_t proto[2], list[2 * 16];
	struct buf_writer w;

	if (n > 16)
		n = 16;
	for (size_t i = 0; i < n; i++)
		buf_store_u16(list + 2 * i, aeads[i]);
	buf_store_u16(proto, KE_PROTO_NTPV4);
	buf_writer_init(&w, out, cap);
	ke_record_put(&w, true, KE_REC_NEXT_PROTO, proto, sizeof(proto));
	ke_record_put(&w, true, KE_REC_AEAD, list, 2 * n);
	ke_record_put(&w, true, KE_REC_END, NULL, 0);
	return w.err ? 0 : w.off;
}

static void parse_response(struct ke_client_result *res)
{
	struct buf_reader r;
	struct ke_record rec;

	buf_reader_init(&r, res->response, res->response_len);
	while (ke_record_next(&r, &rec) == KE_RECORD_OK) {
		switch (rec.type) {
		case KE_REC_END:
			res->complete = true;
			return;
		case KE_REC_NEXT_PROTO:
			if (rec.body_len >= 2) {
				res->has_protocol = true;
				res->protocol = buf_load_u16(rec.body);
			}
			break;
		case KE_REC_AEAD:
			if (rec.body_len >= 2) {
				res->has_aead = true;
				res->aead = buf_load_u16(rec.body);
			}
			break;
		case KE_REC_ERROR:
			res->has_error = true;
			if (rec.body_len >= 2)
				res->error_code = buf_load_u16(rec.body);
			break;
		case KE_REC_WARNING:
			res->has_warning = true;
			if (rec.body_len >= 2)
				res->warning_code = buf_load_u16(rec.body);
			break;
		case KE_REC_NEW_COOKIE:
			res->n_cookies_seen++;
			if (res->n_cookies < KE_CLIENT_MAX_COOKIES &&
			    rec.body_len <= KE_CLIENT_COOKIE_MAX) {
				memcpy(res->cookies[res->n_cookies], rec.body, rec.body_len);
				res->cookie_lens[res->n_cookies++] = rec.body_len;
			}
			break;
		case KE_REC_SERVER:
			if (rec.body_len < sizeof(res->server)) {
				memcpy(res->server, rec.body, rec.body_len);
				res->server[rec.body_len] = '\0';
				res->has_server = true;
			}
			break;
		case KE_REC_PORT:
			if (rec.body_len == 2) {
				res->has_port = true;
				res->port = buf_load_u16(rec.body);
			}
			break;
		default:
			break;
		}
	}
}

static int export_keys(SSL *ssl, struct ke_client_result *res)
{
	uint8_t ctx[5];

	res->key_len = aead_key_len(res->aead);
	if (res->key_len == 0)
		return -1;
	buf_store_u16(ctx, res->protocol);
	buf_store_u16(ctx + 2, res->aead);
	ctx[4] = 0x00;
	if (SSL_export_keying_material(ssl, res->c2s, res->key_len, EXPORTER_LABEL,
				       strlen(EXPORTER_LABEL), ctx, sizeof(ctx), 1) != 1)
		return -1;
	ctx[4] = 0x01;
	if (SSL_export_keying_material(ssl, res->s2c, res->key_len, EXPORTER_LABEL,
				       strlen(EXPORTER_LABEL), ctx, sizeof(ctx), 1) != 1)
		return -1;
	return 0;
}

static void peer_info(SSL *ssl, struct ke_client_result *res)
{
	const unsigned char *alpn;
	unsigned int alpn_len, md_len = 0;
	X509 *cert;

	res->tls_version = SSL_version(ssl);
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	if (alpn_len < sizeof(res->alpn)) {
		memcpy(res->alpn, alpn, alpn_len);
		res->alpn[alpn_len] = '\0';
	}
	cert = SSL_get1_peer_certificate(ssl);
	if (cert) {
		EVP_PKEY *pk = X509_get0_pubkey(cert);

		res->peer_key_type = pk ? EVP_PKEY_get_id(pk) : 0;
		X509_digest(cert, EVP_sha256(), res->peer_cert_sha256, &md_len);
		X509_free(cert);
	}
}

static int set_peer_name(SSL *ssl, const char *name)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
	if (SSL_set_tlsext_host_name(ssl, name) != 1 || SSL_set1_host(ssl, name) != 1)
		return -1;
	return 0;
}

int ke_client_exchange(const struct ke_client_opts *o, struct ke_client_result *res)
{
	uint8_t req_buf[256];
	const uint8_t *req;
	size_t req_len;
	char reason[160];
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int64_t deadline;
	int fd, r, rc = -1;

	memset(res, 0, sizeof(*res));
	ERR_clear_error();
	deadline = monotime_ms() + (o->timeout_ms ? o->timeout_ms : KE_CLIENT_DEFAULT_TIMEOUT_MS);
	if (o->raw_request) {
		req = o->raw_request;
		req_len = o->raw_request_len;
	} else {
		req_len = build_request(o, req_buf, sizeof(req_buf));
		req = req_buf;
	}
	fd = connect_to(o, deadline, res);
	if (fd < 0)
		return -1;
	ctx = client_ctx(o, res);
	if (!ctx)
		goto out;
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		set_error(res, "TLS session: %s", ssl_reason(reason, sizeof(reason)));
		goto out;
	}
	if (!o->no_verify &&
	    set_peer_name(ssl, o->verify_name ? o->verify_name : o->host) < 0) {
		set_error(res, "cannot set the name to verify");
		goto out;
	}
	errno = 0;
	r = SSL_connect(ssl);
	if (r != 1) {
		long v = SSL_get_verify_result(ssl);

		if (v != X509_V_OK)
			set_error(res, "TLS handshake failed: certificate: %s",
				  X509_verify_cert_error_string(v));
		else
			set_error(res, "TLS handshake failed: %s", ssl_reason(reason, sizeof(reason)));
		goto out;
	}
	peer_info(ssl, res);
	if (!o->no_alpn && !o->alpn && strcmp(res->alpn, "ntske/1") != 0) {
		set_error(res, "server did not negotiate ALPN ntske/1");
		goto out;
	}
	/* One write for the whole request, as a server may expect. */
	if (req_len > 0 && SSL_write(ssl, req, (int)req_len) != (int)req_len) {
		set_error(res, "sending the request: %s", ssl_reason(reason, sizeof(reason)));
		goto out;
	}
	for (;;) {
		size_t room = sizeof(res->response) - res->response_len;
		int err;

		if (room == 0)
			break;
		errno = 0;
		r = SSL_read(ssl, res->response + res->response_len, (int)room);
		if (r > 0) {
			res->response_len += (size_t)r;
			if (ke_records_complete(res->response, res->response_len)) {
				/* Only close_notify should follow: do not wait long. */
				struct timeval tv = { 0, 500000 };

				setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			}
			continue;
		}
		err = SSL_get_error(ssl, r);
		if (err == SSL_ERROR_ZERO_RETURN)
			res->close_notify = true;
		else if (!ke_records_complete(res->response, res->response_len))
			set_error(res, "reading the response: %s", ssl_reason(reason, sizeof(reason)));
		break;
	}
	ERR_clear_error();
	if (res->close_notify)
		SSL_shutdown(ssl);
	parse_response(res);
	if (res->error[0])
		goto out;
	if (!res->complete) {
		set_error(res, "incomplete response (%zu bytes, no End of Message)", res->response_len);
		goto out;
	}
	if (res->has_error) {
		set_error(res, "server sent Error %u", res->error_code);
		goto out;
	}
	if (res->has_warning) {
		set_error(res, "server sent Warning %u", res->warning_code);
		goto out;
	}
	if (!res->has_protocol || res->protocol != KE_PROTO_NTPV4) {
		set_error(res, "server did not accept NTPv4");
		goto out;
	}
	if (!res->has_aead) {
		set_error(res, "no common AEAD algorithm");
		goto out;
	}
	if (export_keys(ssl, res) < 0) {
		set_error(res, "cannot export keys for AEAD %u", res->aead);
		goto out;
	}
	if (res->n_cookies == 0) {
		set_error(res, "no cookies in the response");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
}

void ke_client_result_wipe(struct ke_client_result *res)
{
	buf_wipe(res->c2s, sizeof(res->c2s));
	buf_wipe(res->s2c, sizeof(res->s2c));
}
