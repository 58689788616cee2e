/* tls_store: the NTS-KE service's certificate and private key in use.
 * The SSL_CTX (built by tls_ctx) is published with common/snapshot.h, so
 * sessions on any thread take it without a lock; a reload builds a new
 * one and keeps the old one when that fails.  One writer, the daemon's
 * main loop, calls reload and check. */
#ifndef NTSD_TLS_STORE_H
#define NTSD_TLS_STORE_H

#include <stdint.h>

#include <openssl/ssl.h>

struct tls_store;

/* Copies both paths and loads the pair.  NULL on error, logged. */
struct tls_store *tls_store_new(const char *cert_file, const char *key_file);
/* NULL-safe; no reader may hold a context any more. */
void tls_store_free(struct tls_store *ts);
/* Reader side, any thread: the context for a new session (SSL_new takes
 * its own reference, so the session may outlive a reload). */
SSL_CTX *tls_store_get(struct tls_store *ts);
/* Load the pair again; on any error keep the old one and return -1
 * (logged). */
int tls_store_reload(struct tls_store *ts);
/* Call periodically.  Reload when the certificate or key file changed on
 * disk (any field of its stat: a replace, an edit, a chown or a chmod);
 * a pair that failed to load is tried again at every call, quietly
 * (debug level), until it loads.  1 loaded, 0 nothing new (unchanged, or
 * a retry that failed again), -1 a change failed to load (logged; the old
 * pair stays). */
int tls_store_check(struct tls_store *ts);
/* notAfter of the served leaf certificate, Unix seconds (0 if unknown). */
int64_t tls_store_not_after(const struct tls_store *ts);

#endif
