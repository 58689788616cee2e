/* listener: what the NTP and NTS-KE services do alike when they open
 * their listening sockets: the addresses (configured or default), the
 * port a socket got when the configured one is 0, and how many threads
 * serve them. */
#ifndef NTSD_LISTENER_H
#define NTSD_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "common/netaddr.h"

struct config_listen;

/* Most threads one service runs, whatever the configuration says. */
#define LISTENER_MAX_THREADS 256

/* `configured` threads, or one per online core when 0; between 1 and
 * LISTENER_MAX_THREADS. */
unsigned listener_threads(unsigned configured);
/* The default listen addresses: 0.0.0.0 and, when this host has IPv6, ::
 * (else a notice naming `service`), both on `port`.  socktype is
 * SOCK_DGRAM or SOCK_STREAM.  Returns how many (1 or 2) were written. */
size_t listener_default_addrs(struct netaddr out[2], uint16_t port, int socktype,
			      const char *service);
/* The addresses a service listens on: the n_listen configured ones (at
 * most max), or when none is configured the defaults above on `port`.
 * out holds max entries, max at least 2.  Returns how many were written. */
size_t listener_addrs(const struct config_listen *listen, size_t n_listen,
		      struct netaddr *out, size_t max, uint16_t port, int socktype,
		      const char *service);
/* Before the first SO_REUSEPORT bind of a's port: 0 when no other socket
 * holds it, -1 (logged, naming `directive` and the address) when one
 * does.  SO_REUSEPORT lets a second process owning the port join its
 * group and take a share of the traffic, so a second ntsd would start
 * silently; a bind without SO_REUSEPORT is refused where any socket is
 * bound (TCP: listening), which tells.  Port 0 and other bind errors
 * give 0: the real bind picks the port or reports the error. */
int listener_check_free(const struct netaddr *a, int socktype, const char *directive);
/* Store in a the port fd is bound to (after binding a's port 0).  0, or
 * -1 with errno set. */
int listener_bound_port(int fd, struct netaddr *a);

#endif
