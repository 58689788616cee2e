/* tls_ctx: build the NTS-KE server's SSL_CTX (RFC 8915 section 4). */
#include "build_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/file.h"
#include "common/ke_record.h"
#include "common/log.h"
#include "common/pem.h"
#include "nts-ke/tls_ctx.h"

/* A certificate chain or private key larger than this is not one. */
#define TLS_PEM_FILE_MAX (1024 * 1024)

/* A readable file, so a missing one gets a plain errno message. */
static int check_readable(const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/* A PEM file whose structure holds: a cut-short or garbled file is
 * reported as FILE:LINE, which OpenSSL's "PEM lib" does not tell.  The
 * line of its first block in *first. */
static int check_pem(const char *path, unsigned *first, char *err, size_t err_len)
{
	char msg[FILE_ERR_MAX], why[PEM_WHY_MAX];
	unsigned line;
	char *text;
	size_t len;
	int rc;

	if (file_read(path, TLS_PEM_FILE_MAX, 0, &text, &len, msg) < 0) {
		snprintf(err, err_len, "%s", msg);
		return -1;
	}
	rc = pem_check(text, len, &line, why);
	file_text_free(text, len);	/* wiped: it may be the private key */
	if (rc == 0) {
		*first = line;
		return 0;
	}
	if (line)
		snprintf(err, err_len, "%s:%u: %s", path, line, why);
	else
		snprintf(err, err_len, "%s: %s", path, why);
	return -1;
}

/* Section 4: a client that does not offer KE_ALPN gets no service. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int i = 0;

	(void)ssl;
	(void)arg;
	while (i < inlen) {
		unsigned int n = in[i];

		if (n > inlen - i - 1)
			break;
		if (n == KE_ALPN_LEN && memcmp(in + i + 1, KE_ALPN, n) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += n + 1;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* Without an ALPN extension the select callback never runs: refuse here,
 * with the same alert. */
static int client_hello(SSL *ssl, int *al, void *arg)
{
	const unsigned char *ext;
	size_t ext_len;

	(void)arg;
	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation,
				       &ext, &ext_len)) {
		*al = SSL_AD_NO_APPLICATION_PROTOCOL;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* The last OpenSSL error says the private key is not the certificate's. */
static bool key_mismatch(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH;
}

SSL_CTX *tls_ctx_new(const char *cert_file, const char *key_file, char *err,
		     size_t err_len)
{
	char reason[256];
	unsigned cert_line, key_line;
	SSL_CTX *ctx;

	ERR_clear_error();
	if (!cert_file || !key_file) {
		snprintf(err, err_len, "ke-certificate and ke-private-key must be set");
		return NULL;
	}
	if (check_readable(cert_file, err, err_len) < 0 ||
	    check_readable(key_file, err, err_len) < 0 || check_pem(cert_file, &cert_line, err, err_len) < 0 ||
	    check_pem(key_file, &key_line, err, err_len) < 0)
		return NULL;
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		log_openssl_reason(reason, sizeof(reason), "out of memory");
		snprintf(err, err_len, "TLS context: %s", reason);
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		log_openssl_reason(reason, sizeof(reason), "cannot set version");
		snprintf(err, err_len, "TLS context: %s", reason);
		goto out;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* Whatever the socket holds in one read(), not a read for each
	 * record's header and another for its body: a client's flight (its
	 * Finished with the request, the request with its close_notify)
	 * takes one system call.  The session's steps wait for the socket
	 * only after OpenSSL said WANT_READ, when nothing is buffered. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	SSL_CTX_set_client_hello_cb(ctx, client_hello, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		log_openssl_reason(reason, sizeof(reason), "cannot load certificate");
		snprintf(err, err_len, "%s: %s", cert_file, reason);
		goto out;
	}
	/* A key of another pair fails here already (OpenSSL compares it
	 * with the certificate loaded); the check after is for the rest. */
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 && !key_mismatch()) {
		log_openssl_reason(reason, sizeof(reason), "cannot load private key");
		snprintf(err, err_len, "%s: %s", key_file, reason);
		goto out;
	}
	if (key_mismatch() || SSL_CTX_check_private_key(ctx) != 1) {
		log_openssl_reason(reason, sizeof(reason), "key does not match");
		snprintf(err, err_len, "%s:%u: the private key does not match the certificate at "
			 "%s:%u (%s)", key_file, key_line, cert_file, cert_line, reason);
		goto out;
	}
	return ctx;
out:
	SSL_CTX_free(ctx);
	return NULL;
}

void tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

int64_t tls_ctx_not_after(SSL_CTX *ctx)
{
	X509 *cert = SSL_CTX_get0_certificate(ctx);
	const ASN1_TIME *t;
	struct tm tm;

	if (!cert)
		return 0;
	t = X509_get0_notAfter(cert);
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

bool tls_session_ok(const SSL *ssl)
{
	const unsigned char *p;
	unsigned int len;

	if (SSL_version(ssl) != TLS1_3_VERSION)
		return false;
	SSL_get0_alpn_selected(ssl, &p, &len);
	return len == KE_ALPN_LEN && memcmp(p, KE_ALPN, len) == 0;
}
