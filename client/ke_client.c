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
#include "common/ke_export.h"
#include "common/aead.h"
#include "common/ke_record.h"
#include "common/log.h"

#define KE_CLIENT_DEFAULT_TIMEOUT_MS 5000
/* NTPv4 and up to KE_MAX_AEADS ids fit easily. */
#define KE_CLIENT_REQUEST_MAX 256
/* After End of Message, how long to wait for close_notify. */
#define KE_CLIENT_CLOSE_WAIT_US 500000

static void set_error(struct ke_client_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_error(struct ke_client_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
}

/* Why a TLS step failed: OpenSSL's last error (queue cleared), else the
 * socket's errno. */
static const char *tls_reason(char *buf, size_t len)
{
	return log_openssl_reason(buf, len, errno ? strerror(errno) : "connection closed");
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

	snprintf(port, sizeof(port), "%u", (unsigned)(o->port ? o->port : KE_DEFAULT_PORT));
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
		set_error(res, "TLS context: %s", tls_reason(reason, sizeof(reason)));
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
				  tls_reason(reason, sizeof(reason)));
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	if (!o->no_alpn) {
		const char *proto = o->alpn ? o->alpn : KE_ALPN;
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

/* The request to send: the caller's raw bytes, or NTPv4 with its AEADs. */
static size_t request_bytes(const struct ke_client_opts *o, uint8_t *buf, size_t cap,
			    const uint8_t **out)
{
	static const uint16_t default_aeads[] = { AEAD_AES_SIV_CMAC_256 };
	struct buf_writer w;

	if (o->raw_request) {
		*out = o->raw_request;
		return o->raw_request_len;
	}
	buf_writer_init(&w, buf, cap);
	*out = buf;
	if (o->aeads)
		return ke_request_build(&w, o->aeads, o->n_aeads) ? w.off : 0;
	return ke_request_build(&w, default_aeads, 1) ? w.off : 0;
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

int ke_client_set_peer_name(SSL *ssl, const char *name)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
	if (SSL_set_tlsext_host_name(ssl, name) != 1 || SSL_set1_host(ssl, name) != 1)
		return -1;
	return 0;
}

/* The TLS session on fd, handshake done and checked.  NULL with res->error
 * set. */
static SSL *start_tls(const struct ke_client_opts *o, SSL_CTX *ctx, int fd,
		      struct ke_client_result *res)
{
	char reason[160];
	SSL *ssl = SSL_new(ctx);

	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		set_error(res, "TLS session: %s", tls_reason(reason, sizeof(reason)));
		goto fail;
	}
	if (!o->no_verify &&
	    ke_client_set_peer_name(ssl, o->verify_name ? o->verify_name : o->host) < 0) {
		set_error(res, "cannot set the name to verify");
		goto fail;
	}
	errno = 0;
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);

		if (v != X509_V_OK)
			set_error(res, "TLS handshake failed: certificate: %s",
				  X509_verify_cert_error_string(v));
		else
			set_error(res, "TLS handshake failed: %s",
				  tls_reason(reason, sizeof(reason)));
		goto fail;
	}
	peer_info(ssl, res);
	if (!o->no_alpn && !o->alpn && strcmp(res->alpn, KE_ALPN) != 0) {
		set_error(res, "server did not negotiate ALPN " KE_ALPN);
		goto fail;
	}
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

/* Read until the server closes or the buffer is full; once End of Message
 * is in, only close_notify should follow, so wait for it briefly. */
static void read_response(SSL *ssl, int fd, struct ke_client_result *res)
{
	char reason[160];

	for (;;) {
		size_t room = sizeof(res->response) - res->response_len;
		int r;

		if (room == 0)
			return;
		errno = 0;
		r = SSL_read(ssl, res->response + res->response_len, (int)room);
		if (r <= 0) {
			if (SSL_get_error(ssl, r) == SSL_ERROR_ZERO_RETURN)
				res->close_notify = true;
			else if (!ke_records_complete(res->response, res->response_len))
				set_error(res, "reading the response: %s",
					  tls_reason(reason, sizeof(reason)));
			return;
		}
		res->response_len += (size_t)r;
		if (ke_records_complete(res->response, res->response_len)) {
			struct timeval tv = { 0, KE_CLIENT_CLOSE_WAIT_US };

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
	}
}

/* Parse the response, check it can be used and export the keys. */
static int use_response(SSL *ssl, struct ke_client_result *res)
{
	char why[sizeof(res->error)];

	res->status = ke_reply_parse(res->response, res->response_len, &res->reply);
	if (res->error[0])
		return -1;
	if (res->status == KE_REPLY_INCOMPLETE) {
		set_error(res, "incomplete response (%zu bytes, no End of Message)",
			  res->response_len);
		return -1;
	}
	if (res->status != KE_REPLY_OK) {
		set_error(res, "malformed response: %s", ke_reply_status_str(res->status));
		return -1;
	}
	if (ke_reply_unusable(&res->reply, why, sizeof(why))) {
		set_error(res, "%s", why);
		return -1;
	}
	res->key_len = aead_key_len(res->reply.aead);
	res->export_aead = ke_export_client_aead(res->reply.aead, res->reply.compliant_128gcm);
	if (res->key_len == 0 ||
	    ke_export_keys(ssl, res->reply.protocol, res->export_aead, res->key_len, res->c2s,
			   res->s2c) < 0) {
		set_error(res, "cannot export keys for AEAD %u", res->reply.aead);
		return -1;
	}
	return 0;
}

int ke_client_exchange(const struct ke_client_opts *o, struct ke_client_result *res)
{
	uint8_t req_buf[KE_CLIENT_REQUEST_MAX];
	const uint8_t *req;
	size_t req_len;
	char reason[160];
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd, rc = -1;

	memset(res, 0, sizeof(*res));
	ERR_clear_error();
	req_len = request_bytes(o, req_buf, sizeof(req_buf), &req);
	fd = connect_to(o, monotime_ms() + (o->timeout_ms ? o->timeout_ms :
							    KE_CLIENT_DEFAULT_TIMEOUT_MS), res);
	if (fd < 0)
		return -1;
	ctx = client_ctx(o, res);
	if (ctx)
		ssl = start_tls(o, ctx, fd, res);
	if (!ssl)
		goto out;
	/* One write for the whole request, as a server may expect. */
	if (req_len > 0 && SSL_write(ssl, req, (int)req_len) != (int)req_len) {
		set_error(res, "sending the request: %s", tls_reason(reason, sizeof(reason)));
		goto out;
	}
	read_response(ssl, fd, res);
	ERR_clear_error();
	if (res->close_notify)
		SSL_shutdown(ssl);
	rc = use_response(ssl, res);
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
