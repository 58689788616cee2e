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

#endif
