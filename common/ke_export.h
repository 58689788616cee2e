/* ke_export: the NTS keys both ends of an NTS-KE session derive from the
 * TLS exporter (RFC 8915 section 5.1), with the label and context of
 * common/ke_record.h. */
#ifndef NTSD_KE_EXPORT_H
#define NTSD_KE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "common/ke_record.h"

/* out[0..len) for one exporter context.  0, or -1 with OpenSSL's error
 * queued. */
int ke_export(SSL *ssl, const uint8_t context[KE_EXPORT_CONTEXT_LEN], uint8_t *out,
	      size_t len);
/* The C2S and S2C keys, key_len bytes each, with protocol and aead (the
 * id the context carries: the negotiated AEAD's, see
 * ke_export_client_aead) in the context.  0 or -1. */
int ke_export_keys(SSL *ssl, uint16_t protocol, uint16_t aead, size_t key_len,
		   uint8_t *c2s, uint8_t *s2c);

#endif
