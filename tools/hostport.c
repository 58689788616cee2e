/* hostport: HOST[:PORT] arguments. */
#include "build_config.h"

#include <string.h>

#include "common/decimal.h"
#include "tools/hostport.h"

int hostport_parse(const char *s, char *host, size_t host_len, uint16_t *port)
{
	const char *colon;
	size_t hlen;
	uint64_t p;

	*port = 0;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || (end[1] && end[1] != ':'))
			return -1;
		colon = end[1] ? end + 1 : NULL;
		hlen = (size_t)(end - s - 1);
		s++;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;	/* a bare IPv6 address */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0 || hlen >= host_len)
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (colon) {
		if (!decimal_parse_str(colon + 1, UINT16_MAX, &p) || p == 0)
			return -1;
		*port = (uint16_t)p;
	}
	return 0;
}
