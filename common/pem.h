/* pem: the structure of a PEM file (RFC 7468), checked before OpenSSL
 * reads it, so a cut-short or garbled certificate or private key is
 * reported with its line, not as OpenSSL's "PEM lib".  Pure: no I/O. */
#ifndef NTSD_PEM_H
#define NTSD_PEM_H

#include <stddef.h>

/* Room for a pem_check reason. */
#define PEM_WHY_MAX 160

/* 0 when text[0..len) holds at least one block, every "-----BEGIN L-----"
 * has its "-----END L-----" and the lines between are base64 (after
 * optional RFC 1421 "Name: value" headers and a blank line), with the
 * first block's BEGIN line in *line (what a message about the file's
 * certificate or key names).  Text outside blocks is ignored, as OpenSSL
 * does.  Else -1 with the line at fault in *line (0: the whole text) and
 * the reason in why; the reason never quotes the text, which may be a
 * private key. */
int pem_check(const char *text, size_t len, unsigned *line, char why[PEM_WHY_MAX]);

#endif
