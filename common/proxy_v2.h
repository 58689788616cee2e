/* proxy_v2: the PROXY protocol version 2 header (HAProxy's proxy-protocol
 * spec, section 2.2) that a TCP load balancer puts in front of the
 * stream it forwards, naming the client it came from.  Binary only: the
 * 12-byte signature, version 2, command LOCAL or PROXY, families TCP over
 * IPv4 and TCP over IPv6; TLVs after the addresses are walked with
 * bounds checks and skipped.  Version 1 (text) is not accepted.  Pure: the
 * caller reads the bytes (nts-ke/ke_session) and hands them in. */
#ifndef NTSD_PROXY_V2_H
#define NTSD_PROXY_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

/* The fixed part: signature, version and command, family, length. */
#define PROXY_V2_FIXED 16
/* The longest address block (addresses and TLVs) accepted.  TCP over
 * IPv6 takes 36 bytes; the rest is room for a balancer's TLVs (AWS's
 * VPC endpoint id, HAProxy's unique id, ...). */
#define PROXY_V2_MAX_BLOCK 1024
#define PROXY_V2_MAX (PROXY_V2_FIXED + PROXY_V2_MAX_BLOCK)

enum proxy_v2_status {
	PROXY_V2_OK,
	PROXY_V2_INCOMPLETE,		/* a valid start: more bytes needed */
	PROXY_V2_BAD_SIGNATURE,		/* not the 12-byte signature (not a v2 header at all) */
	PROXY_V2_BAD_VERSION,		/* version other than 2 */
	PROXY_V2_BAD_COMMAND,		/* command other than LOCAL (0) or PROXY (1) */
	PROXY_V2_BAD_FAMILY,		/* PROXY for other than TCP over IPv4 or IPv6 */
	PROXY_V2_TOO_LONG,		/* address block over PROXY_V2_MAX_BLOCK */
	PROXY_V2_BAD_ADDRESS,		/* address block shorter than its family's addresses */
	PROXY_V2_BAD_TLV,		/* a TLV running past the block */
	PROXY_V2_STATUS_COUNT
};

struct proxy_v2_header {
	size_t len;			/* bytes of the whole header (PROXY_V2_FIXED + block) */
	bool local;			/* LOCAL: the connection's own endpoints apply */
	struct netaddr src, dst;	/* PROXY: the client and the address it reached */
	unsigned n_tlv;			/* TLVs walked (and skipped) */
};

/* Parse the header at the start of p[0..n), which may hold only its first
 * bytes (it may arrive in pieces) but nothing past it matters.
 * PROXY_V2_OK fills *out.  PROXY_V2_INCOMPLETE: what is there is a valid
 * start, and *need is how many bytes the whole header takes as far as
 * is known (PROXY_V2_FIXED until the length field is in, then the
 * header's length); a caller reads up to *need bytes and never past the
 * header.  Any other status is final.  need may be NULL. */
enum proxy_v2_status proxy_v2_parse(const uint8_t *p, size_t n, struct proxy_v2_header *out,
				    size_t *need);
/* Whether p[0..n) (n > 0) starts like a PROXY header, version 2 or
 * version 1 ("PROXY "): how a connection from a peer not allowed to send
 * one is told apart from one that is merely not TLS. */
bool proxy_v2_looks_like(const uint8_t *p, size_t n);
/* A stable name for the status ("bad_signature", ...). */
const char *proxy_v2_status_str(enum proxy_v2_status s);

#endif
