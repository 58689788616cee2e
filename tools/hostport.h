/* hostport: the HOST[:PORT] arguments ntsctl's commands take. */
#ifndef NTSD_HOSTPORT_H
#define NTSD_HOSTPORT_H

#include <stddef.h>
#include <stdint.h>

/* "host", "host:port", "[v6]", "[v6]:port" or a bare "v6" (several colons:
 * no port).  host gets the name or literal without brackets; *port the
 * port (1-65535), 0 when none was given.  0, or -1 when s is malformed or
 * the host longer than host_len - 1. */
int hostport_parse(const char *s, char *host, size_t host_len, uint16_t *port);

#endif
