/* hostport: the HOST[:PORT] arguments ntsctl's commands take. */
#ifndef NTSD_HOSTPORT_H
#define NTSD_HOSTPORT_H

#include <stddef.h>
#include <stdint.h>

/* Room for hostport_parse's error message. */
#define HOSTPORT_ERR_MAX 256

/* "host", "host:port", "[v6]", "[v6]:port" or a bare "v6" (several colons:
 * no port).  host gets the name or literal without brackets; *port the
 * port (1-65535), 0 when none was given.  A bare IPv6 address whose last
 * group reads as a port ("::1:4460": the address ::1:4460, or ::1 port
 * 4460?) is refused as ambiguous.  0, or -1 with err filled (a sentence
 * naming the argument) when s is malformed, ambiguous or its host longer
 * than host_len - 1.  Brackets, and a bare host with several colons,
 * hold only an address literal ("[::1]", "[192.0.2.1]", "fe80::1%eth0"),
 * and a host never has a bracket in it. */
int hostport_parse(const char *s, char *host, size_t host_len, uint16_t *port, char *err,
		   size_t err_len);

#endif
