/* hostport: HOST[:PORT] arguments. */
#include "build_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/decimal.h"
#include "tools/hostport.h"

/* s (several colons, no brackets) could be read as ADDRESS:PORT too: the
 * part before its last colon is an IPv6 address and the rest a port. */
static bool ambiguous_v6(const char *s, const char *last_colon)
{
	char head[INET6_ADDRSTRLEN];
	struct in6_addr a;
	size_t n = (size_t)(last_colon - s);
	uint64_t p;

	if (n >= sizeof(head) || !decimal_parse_str(last_colon + 1, UINT16_MAX, &p) || p == 0)
		return false;
	memcpy(head, s, n);
	head[n] = '\0';
	return inet_pton(AF_INET6, head, &a) == 1;
}

/* An IPv4 or IPv6 address, the latter with or without a zone ("%eth0"). */
static bool ip_literal(const char *host)
{
	char addr[INET6_ADDRSTRLEN];
	size_t n = strcspn(host, "%");
	struct in6_addr a6;
	struct in_addr a4;

	if (n >= sizeof(addr))
		return false;
	memcpy(addr, host, n);
	addr[n] = '\0';
	return inet_pton(AF_INET6, addr, &a6) == 1 ||
	       (!host[n] && inet_pton(AF_INET, addr, &a4) == 1);
}

int hostport_parse(const char *s, char *host, size_t host_len, uint16_t *port, char *err,
		   size_t err_len)
{
	const char *arg = s, *colon;
	bool literal = s[0] == '[';	/* the host must be an address literal */
	size_t hlen;
	uint64_t p;

	*port = 0;
	if (literal) {
		const char *end = strchr(s, ']');

		if (!end || (end[1] && end[1] != ':'))
			goto bad;
		colon = end[1] ? end + 1 : NULL;
		hlen = (size_t)(end - s - 1);
		s++;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':')) {
			const char *last = strrchr(s, ':');

			if (ambiguous_v6(s, last)) {
				snprintf(err, err_len, "'%s' is ambiguous: write [%.*s]:%s for port %s, "
					 "or [%s] for the IPv6 address", s, (int)(last - s), s,
					 last + 1, last + 1, s);
				return -1;
			}
			colon = NULL;	/* a bare IPv6 address */
			literal = true;
		}
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen >= host_len) {
		snprintf(err, err_len, "'%s': the host is longer than %zu characters", arg,
			 host_len - 1);
		return -1;
	}
	if (hlen == 0)
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	/* Brackets hold an address literal (RFC 3986), and so does a bare host
	 * with several colons; no name has a bracket or a colon. */
	if (strpbrk(host, "[]") || (literal && !ip_literal(host)))
		goto bad;
	if (colon) {
		if (!decimal_parse_str(colon + 1, UINT16_MAX, &p) || p == 0)
			goto bad;
		*port = (uint16_t)p;
	}
	return 0;
bad:
	snprintf(err, err_len, "bad HOST[:PORT] '%s' (an IPv6 address with a port goes in "
		 "brackets: [2001:db8::1]:4460)", arg);
	return -1;
}
