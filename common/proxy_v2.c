/* proxy_v2: parse a PROXY protocol version 2 header. */
#include "build_config.h"

#include <string.h>

#include "buf.h"
#include "proxy_v2.h"

#define PROXY_V2_VERSION 2
#define PROXY_V2_CMD_LOCAL 0
#define PROXY_V2_CMD_PROXY 1
/* Address family (high nibble) and transport (low nibble). */
#define PROXY_V2_TCP4 0x11
#define PROXY_V2_TCP6 0x21
/* Address blocks: two addresses, two ports. */
#define PROXY_V2_TCP4_LEN (4 + 4 + 2 + 2)
#define PROXY_V2_TCP6_LEN (16 + 16 + 2 + 2)

static const uint8_t signature[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
};
static const char v1_start[] = "PROXY ";

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* One address and port, read from the block as the family lays them out. */
static void set_addr(struct netaddr *a, int family, const uint8_t *host, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;

		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		memcpy(&in4->sin_addr, host, 4);
		len = sizeof(*in4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, host, 16);
		len = sizeof(*in6);
	}
	netaddr_from_sockaddr((struct sockaddr *)&ss, len, a);
}

/* The addresses of a PROXY command, then its TLVs. */
static enum proxy_v2_status parse_block(struct buf_reader *b, uint8_t fam,
					struct proxy_v2_header *out)
{
	int family = fam == PROXY_V2_TCP4 ? AF_INET : AF_INET6;
	size_t alen = family == AF_INET ? 4 : 16;
	const uint8_t *src, *dst;
	uint16_t sport, dport;

	if (buf_remaining(b) < (family == AF_INET ? PROXY_V2_TCP4_LEN : PROXY_V2_TCP6_LEN))
		return PROXY_V2_BAD_ADDRESS;
	buf_get_span(b, alen, &src);
	buf_get_span(b, alen, &dst);
	buf_get_u16(b, &sport);
	if (!buf_get_u16(b, &dport))
		return PROXY_V2_BAD_ADDRESS;
	set_addr(&out->src, family, src, sport);
	set_addr(&out->dst, family, dst, dport);
	while (buf_remaining(b) > 0) {
		uint8_t type;
		uint16_t len;

		if (!buf_get_u8(b, &type) || !buf_get_u16(b, &len) || !buf_skip(b, len))
			return PROXY_V2_BAD_TLV;
		out->n_tlv++;
	}
	return PROXY_V2_OK;
}

enum proxy_v2_status proxy_v2_parse(const uint8_t *p, size_t n, struct proxy_v2_header *out,
				    size_t *need)
{
	size_t sig = min_size(n, sizeof(signature));
	struct buf_reader r, block;
	uint8_t ver_cmd, fam;
	uint16_t len;
	unsigned cmd;

	if (need)
		*need = PROXY_V2_FIXED;
	/* What has arrived of the signature must match already: a TLS
	 * ClientHello is refused at its first byte. */
	if (memcmp(p, signature, sig) != 0)
		return PROXY_V2_BAD_SIGNATURE;
	buf_reader_init(&r, p, n);
	buf_skip(&r, sig);
	if (!buf_get_u8(&r, &ver_cmd))
		return PROXY_V2_INCOMPLETE;
	if (ver_cmd >> 4 != PROXY_V2_VERSION)
		return PROXY_V2_BAD_VERSION;
	cmd = ver_cmd & 0x0F;
	if (cmd != PROXY_V2_CMD_LOCAL && cmd != PROXY_V2_CMD_PROXY)
		return PROXY_V2_BAD_COMMAND;
	if (!buf_get_u8(&r, &fam))
		return PROXY_V2_INCOMPLETE;
	/* LOCAL discards the block, family included (spec 2.2). */
	if (cmd == PROXY_V2_CMD_PROXY && fam != PROXY_V2_TCP4 && fam != PROXY_V2_TCP6)
		return PROXY_V2_BAD_FAMILY;
	if (!buf_get_u16(&r, &len))
		return PROXY_V2_INCOMPLETE;
	if (len > PROXY_V2_MAX_BLOCK)
		return PROXY_V2_TOO_LONG;
	if (need)
		*need = PROXY_V2_FIXED + (size_t)len;
	if (!buf_get_sub(&r, len, &block))
		return PROXY_V2_INCOMPLETE;
	memset(out, 0, sizeof(*out));
	out->len = PROXY_V2_FIXED + (size_t)len;
	out->local = cmd == PROXY_V2_CMD_LOCAL;
	if (out->local)
		return PROXY_V2_OK;
	return parse_block(&block, fam, out);
}

bool proxy_v2_looks_like(const uint8_t *p, size_t n)
{
	if (n == 0)
		return false;
	return memcmp(p, signature, min_size(n, sizeof(signature))) == 0 ||
	       memcmp(p, v1_start, min_size(n, strlen(v1_start))) == 0;
}

const char *proxy_v2_status_str(enum proxy_v2_status s)
{
	static const char *const names[PROXY_V2_STATUS_COUNT] = {
		[PROXY_V2_OK] = "ok",
		[PROXY_V2_INCOMPLETE] = "incomplete",
		[PROXY_V2_BAD_SIGNATURE] = "bad_signature",
		[PROXY_V2_BAD_VERSION] = "bad_version",
		[PROXY_V2_BAD_COMMAND] = "bad_command",
		[PROXY_V2_BAD_FAMILY] = "bad_family",
		[PROXY_V2_TOO_LONG] = "too_long",
		[PROXY_V2_BAD_ADDRESS] = "bad_address",
		[PROXY_V2_BAD_TLV] = "bad_tlv",
	};

	if ((unsigned)s >= PROXY_V2_STATUS_COUNT)
		return "unknown";
	return names[s];
}
