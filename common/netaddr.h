/* netaddr: IPv4/IPv6 socket addresses: parse literals, format for log
 * lines, compare and hash (rate limiting, per-address caps).  Pure. */
#ifndef NTSD_NETADDR_H
#define NTSD_NETADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct netaddr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;		/* 0: unset */
};

/* Longest string netaddr_str writes, NUL included: "[v6%scope]:65535". */
#define NETADDR_STRLEN 64

/* "127.0.0.1", "::1", "[::1]" (no host names) with the given port.  0 or -1. */
int netaddr_parse(const char *s, uint16_t port, struct netaddr *out);
/* From a sockaddr the kernel gave us.  0 or -1 (unknown family). */
int netaddr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct netaddr *out);
/* "127.0.0.1:123" or "[::1]:123"; returns buf. */
const char *netaddr_str(const struct netaddr *a, char *buf, size_t len);
/* Address only, no port: "127.0.0.1", "::1". */
const char *netaddr_host_str(const struct netaddr *a, char *buf, size_t len);
int netaddr_family(const struct netaddr *a);
/* The host's family: AF_INET for IPv4-mapped IPv6 too. */
int netaddr_host_family(const struct netaddr *a);
uint16_t netaddr_port(const struct netaddr *a);
void netaddr_set_port(struct netaddr *a, uint16_t port);
/* IPv4-mapped IPv6 (::ffff:a.b.c.d) is treated as the IPv4 address. */
bool netaddr_same_host(const struct netaddr *a, const struct netaddr *b);
/* Hash of the host part only, keyed (so clients cannot aim at one bucket). */
uint64_t netaddr_host_hash(const struct netaddr *a, const uint8_t key[16]);
/* The 16-byte host key used by hashing and prefix matching: IPv4 as
 * ::ffff:a.b.c.d, IPv6 as is. */
void netaddr_host_bytes(const struct netaddr *a, uint8_t out[16]);

/* How many leading bits name one client for the per-client limits
 * (rate-limit-prefix): IPv4 (and IPv4-mapped IPv6) by v4 of its 32 bits,
 * other IPv6 by v6 of its 128. */
struct netaddr_prefix {
	uint8_t v4, v6;
};

#define NETADDR_PREFIX_V4_DEFAULT 32	/* one IPv4 address, one client */
#define NETADDR_PREFIX_V6_DEFAULT 64	/* one IPv6 subnet, one client */
#define NETADDR_PREFIX_V4_MIN 8
#define NETADDR_PREFIX_V6_MIN 16

/* The client key of a: netaddr_host_bytes with every bit past the prefix
 * cleared (lengths over 32 or 128 count as 32 or 128). */
void netaddr_prefix_key(const struct netaddr *a, const struct netaddr_prefix *p,
			uint8_t out[16]);
/* Keyed hash of a 16-byte client key (netaddr_prefix_key), as
 * netaddr_host_hash hashes netaddr_host_bytes. */
uint64_t netaddr_key_hash(const uint8_t client[16], const uint8_t key[16]);

#endif
