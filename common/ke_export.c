/* ke_export: NTS keys from the TLS exporter. */
#include "build_config.h"

#include "common/ke_export.h"

int ke_export(SSL *ssl, const uint8_t context[KE_EXPORT_CONTEXT_LEN], uint8_t *out,
	      size_t len)
{
	/* use_context 1: the context is part of the derivation even when
	 * it is all zero bytes. */
	if (SSL_export_keying_material(ssl, out, len, KE_EXPORTER_LABEL, KE_EXPORTER_LABEL_LEN,
				       context, KE_EXPORT_CONTEXT_LEN, 1) != 1)
		return -1;
	return 0;
}

int ke_export_keys(SSL *ssl, uint16_t protocol, uint16_t aead, size_t key_len,
		   uint8_t *c2s, uint8_t *s2c)
{
	uint8_t ctx[KE_EXPORT_CONTEXT_LEN];

	ke_export_context(protocol, aead, KE_EXPORT_C2S, ctx);
	if (ke_export(ssl, ctx, c2s, key_len) < 0)
		return -1;
	ke_export_context(protocol, aead, KE_EXPORT_S2C, ctx);
	return ke_export(ssl, ctx, s2c, key_len);
}
