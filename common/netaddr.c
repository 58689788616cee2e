/* netaddr: IPv4/IPv6 socket addresses: parse, format, compare, hash. */
#include "build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/decimal.h"
#include "common/netaddr.h"

/* Longest literal we accept between brackets: INET6_ADDRSTRLEN plus a
 * numeric scope ("%4294967295"). */
#define NETADDR_LITERAL_MAX (INET6_ADDRSTRLEN + 11)

static const uint8_t v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Numeric scope only ("fe80::1%2"): interface names would need the
 * kernel, and this module stays pure. */
static int parse_scope(const char *s, uint32_t *out)
{
	uint64_t v;

	if (!decimal_parse_str(s, UINT32_MAX, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int netaddr_parse(const char *s, uint16_t port, struct netaddr *out)
{
	char lit[NETADDR_LITERAL_MAX + 1];
	size_t n;
	bool bracketed = false;
	char *pct;
	uint32_t scope = 0;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		bracketed = true;
		s++;
		n -= 2;
	}
	if (n == 0 || n > NETADDR_LITERAL_MAX)
		return -1;
	memcpy(lit, s, n);
	lit[n] = '\0';

	if (!bracketed && inet_pton(AF_INET, lit, &out->u.in4.sin_addr) == 1) {
		out->u.in4.sin_family = AF_INET;
		out->u.in4.sin_port = htons(port);
		out->len = sizeof(out->u.in4);
		return 0;
	}
	pct = strchr(lit, '%');
	if (pct) {
		*pct = '\0';
		if (parse_scope(pct + 1, &scope) < 0)
			return -1;
	}
	if (inet_pton(AF_INET6, lit, &out->u.in6.sin6_addr) != 1) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->u.in6.sin6_family = AF_INET6;
	out->u.in6.sin6_port = htons(port);
	out->u.in6.sin6_scope_id = scope;
	out->len = sizeof(out->u.in6);
	return 0;
}

int netaddr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		memcpy(&out->u.in4, sa, sizeof(struct sockaddr_in));
		out->len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		memcpy(&out->u.in6, sa, sizeof(struct sockaddr_in6));
		out->len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

/* Host part without brackets or port; false for an unset address. */
static bool host_format(const struct netaddr *a, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	switch (netaddr_family(a)) {
	case AF_INET:
		if (!inet_ntop(AF_INET, &a->u.in4.sin_addr, tmp, sizeof(tmp)))
			return false;
		snprintf(buf, len, "%s", tmp);
		return true;
	case AF_INET6:
		if (!inet_ntop(AF_INET6, &a->u.in6.sin6_addr, tmp, sizeof(tmp)))
			return false;
		if (a->u.in6.sin6_scope_id)
			snprintf(buf, len, "%s%%%u", tmp, (unsigned)a->u.in6.sin6_scope_id);
		else
			snprintf(buf, len, "%s", tmp);
		return true;
	}
	return false;
}

const char *netaddr_str(const struct netaddr *a, char *buf, size_t len)
{
	char host[NETADDR_STRLEN];

	if (len == 0)
		return buf;
	if (!host_format(a, host, sizeof(host)))
		snprintf(buf, len, "(none)");
	else if (netaddr_family(a) == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, (unsigned)netaddr_port(a));
	else
		snprintf(buf, len, "%s:%u", host, (unsigned)netaddr_port(a));
	return buf;
}

const char *netaddr_host_str(const struct netaddr *a, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (!host_format(a, buf, len))
		snprintf(buf, len, "(none)");
	return buf;
}

int netaddr_family(const struct netaddr *a)
{
	if (a->len == 0)
		return AF_UNSPEC;
	return a->u.sa.sa_family;
}

uint16_t netaddr_port(const struct netaddr *a)
{
	switch (netaddr_family(a)) {
	case AF_INET:
		return ntohs(a->u.in4.sin_port);
	case AF_INET6:
		return ntohs(a->u.in6.sin6_port);
	}
	return 0;
}

void netaddr_set_port(struct netaddr *a, uint16_t port)
{
	switch (netaddr_family(a)) {
	case AF_INET:
		a->u.in4.sin_port = htons(port);
		break;
	case AF_INET6:
		a->u.in6.sin6_port = htons(port);
		break;
	}
}

int netaddr_host_family(const struct netaddr *a)
{
	if (netaddr_family(a) == AF_INET6 &&
	    memcmp(&a->u.in6.sin6_addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0)
		return AF_INET;
	return netaddr_family(a);
}

void netaddr_host_bytes(const struct netaddr *a, uint8_t out[16])
{
	switch (netaddr_family(a)) {
	case AF_INET:
		memcpy(out, v4_mapped_prefix, sizeof(v4_mapped_prefix));
		memcpy(out + 12, &a->u.in4.sin_addr, 4);
		break;
	case AF_INET6:
		memcpy(out, &a->u.in6.sin6_addr, 16);
		break;
	default:
		memset(out, 0, 16);
		break;
	}
}

/* Clear the bits past the first `bits` of the `width`-bit address that
 * ends at k + 16. */
static void clear_past_prefix(uint8_t k[16], unsigned width, unsigned bits)
{
	uint8_t *addr = k + 16 - width / 8;

	if (bits >= width)
		return;
	addr[bits / 8] &= (uint8_t)(0xff00u >> (bits % 8));
	memset(addr + bits / 8 + 1, 0, width / 8 - bits / 8 - 1);
}

void netaddr_prefix_key(const struct netaddr *a, const struct netaddr_prefix *p,
			uint8_t out[16])
{
	netaddr_host_bytes(a, out);
	if (memcmp(out, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0)
		clear_past_prefix(out, 32, p->v4);
	else
		clear_past_prefix(out, 128, p->v6);
}

bool netaddr_same_host(const struct netaddr *a, const struct netaddr *b)
{
	uint8_t ha[16], hb[16];
	uint32_t sa = 0, sb = 0;

	if (netaddr_family(a) == AF_UNSPEC || netaddr_family(b) == AF_UNSPEC)
		return false;
	netaddr_host_bytes(a, ha);
	netaddr_host_bytes(b, hb);
	/* fe80::1 on two interfaces are two hosts. */
	if (netaddr_family(a) == AF_INET6)
		sa = a->u.in6.sin6_scope_id;
	if (netaddr_family(b) == AF_INET6)
		sb = b->u.in6.sin6_scope_id;
	return memcmp(ha, hb, sizeof(ha)) == 0 && sa == sb;
}

/* SipHash-2-4 (Aumasson and Bernstein, 2012), written from the paper: a
 * keyed PRF, so a client that does not know the key cannot pick addresses
 * that land in one bucket. */
static uint64_t rotl64(uint64_t x, unsigned b)
{
	return x << b | x >> (64 - b);
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13);
	v[1] ^= v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17);
	v[1] ^= v[2];
	v[2] = rotl64(v[2], 32);
}

static uint64_t siphash24(const uint8_t key[16], const uint8_t *m, size_t len)
{
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ULL,
		k1 ^ 0x646f72616e646f6dULL,
		k0 ^ 0x6c7967656e657261ULL,
		k1 ^ 0x7465646279746573ULL,
	};
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t mi = load_le64(m + i);

		v[3] ^= mi;
		sip_round(v);
		sip_round(v);
		v[0] ^= mi;
	}
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)m[i + j] << (8 * j);
	v[3] ^= last;
	sip_round(v);
	sip_round(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t netaddr_host_hash(const struct netaddr *a, const uint8_t key[16])
{
	uint8_t host[16];

	netaddr_host_bytes(a, host);
	return siphash24(key, host, sizeof(host));
}

uint64_t netaddr_key_hash(const uint8_t client[16], const uint8_t key[16])
{
	return siphash24(key, client, 16);
}
