/* ke_client: a blocking NTS-KE client (RFC 8915 section 4) over OpenSSL,
 * for ntsctl probe, the benchmark and the tests.  One call connects,
 * handshakes (TLS 1.3, ALPN "ntske/1", certificate and host name checked),
 * sends the request, reads the whole response, parses it and exports the
 * C2S/S2C keys.  Callers ignore SIGPIPE (a server may close first). */
#ifndef NTSD_KE_CLIENT_H
#define NTSD_KE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "common/aead.h"
#include "common/ke_record.h"

#define KE_CLIENT_KEY_MAX AEAD_MAX_KEY_LEN
#define KE_CLIENT_RESPONSE_MAX 8192

struct ke_client_opts {
	const char *host;		/* name or address literal */
	uint16_t port;			/* 0: KE_DEFAULT_PORT */
	const char *ca_file;		/* NULL: the system's trust store */
	const char *verify_name;	/* NULL: host; checked with SSL_set1_host */
	bool no_verify;			/* skip certificate checks (probing only) */
	const char *bind_addr;		/* local source address literal, NULL: any */
	const uint16_t *aeads;		/* offered in this order; NULL: {15} */
	size_t n_aeads;
	unsigned timeout_ms;		/* whole exchange; 0: 5000 */
	/* For tests. */
	const uint8_t *raw_request;	/* sent instead of the built request */
	size_t raw_request_len;
	bool no_alpn;			/* offer no ALPN at all */
	const char *alpn;		/* offer this instead of KE_ALPN */
	bool tls12_max;			/* offer TLS 1.2 at most */
};

struct ke_client_result {
	/* TLS */
	int tls_version;		/* e.g. TLS1_3_VERSION, 0 before the handshake */
	char alpn[32];
	int peer_key_type;		/* EVP_PKEY_id of the server's key */
	uint8_t peer_cert_sha256[32];
	/* The response, raw and parsed. */
	uint8_t response[KE_CLIENT_RESPONSE_MAX];
	size_t response_len;
	bool close_notify;		/* server closed with close_notify */
	enum ke_reply_status status;	/* how the response parsed */
	struct ke_reply reply;		/* what it said, as far as it parsed */
	/* Exported for the negotiated AEAD (RFC 8915 section 5.1) with
	 * export_aead in the context: ke_export_client_aead. */
	uint16_t export_aead;
	size_t key_len;
	uint8_t c2s[KE_CLIENT_KEY_MAX];
	uint8_t s2c[KE_CLIENT_KEY_MAX];
	char error[256];		/* why the exchange failed */
};

/* 0 when NTS-KE succeeded (NTPv4, an AEAD, at least one cookie, no Error
 * or Warning); -1 otherwise with res->error set.  res holds whatever was
 * learnt either way (e.g. the Error record's code). */
int ke_client_exchange(const struct ke_client_opts *opts, struct ke_client_result *res);
/* Make the handshake check the server's certificate against name: a host
 * name (also sent as SNI) or an address literal.  0 or -1. */
int ke_client_set_peer_name(SSL *ssl, const char *name);
/* Wipe the keys in res. */
void ke_client_result_wipe(struct ke_client_result *res);

#endif
