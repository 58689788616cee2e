/* tls_ctx: the NTS-KE server's TLS context: TLS 1.3 only, ALPN "ntske/1"
 * required, no session tickets or cache.  A reload builds a new context;
 * the service publishes it with common/snapshot.h. */
#ifndef NTSD_TLS_CTX_H
#define NTSD_TLS_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* Certificate chain (PEM, leaf first) and private key (RSA, ECDSA or
 * Ed25519).  NULL on error with err holding "FILE: reason". */
SSL_CTX *tls_ctx_new(const char *cert_file, const char *key_file, char *err,
		     size_t err_len);
/* snapshot free function */
void tls_ctx_free(void *ctx);
/* notAfter of the leaf certificate as Unix seconds; 0 if unknown. */
int64_t tls_ctx_not_after(SSL_CTX *ctx);
/* After the handshake: TLS 1.3 and "ntske/1" negotiated. */
bool tls_session_ok(const SSL *ssl);

#endif
