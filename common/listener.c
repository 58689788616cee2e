/* listener: listen addresses, bound ports and thread counts for both
 * services. */
#include "build_config.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/config.h"
#include "common/listener.h"
#include "common/log.h"

unsigned listener_threads(unsigned configured)
{
	long cores;

	if (configured == 0) {
		cores = sysconf(_SC_NPROCESSORS_ONLN);
		configured = cores > 0 ? (unsigned)cores : 1;
	}
	return configured > LISTENER_MAX_THREADS ? LISTENER_MAX_THREADS : configured;
}

size_t listener_default_addrs(struct netaddr out[2], uint16_t port, int socktype,
			      const char *service)
{
	size_t n = 0;
	int fd;

	if (netaddr_parse("0.0.0.0", port, &out[n]) == 0)
		n++;
	/* A host without IPv6 still serves IPv4. */
	fd = socket(AF_INET6, socktype | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_notice("%s: no IPv6 on this host, listening on IPv4 only", service);
		return n;
	}
	close(fd);
	if (netaddr_parse("::", port, &out[n]) == 0)
		n++;
	return n;
}

size_t listener_addrs(const struct config_listen *listen, size_t n_listen,
		      struct netaddr *out, size_t max, uint16_t port, int socktype,
		      const char *service)
{
	size_t i;

	if (n_listen == 0)
		return listener_default_addrs(out, port, socktype, service);
	for (i = 0; i < n_listen && i < max; i++)
		out[i] = listen[i].addr;
	return i;
}

int listener_bound_port(int fd, struct netaddr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct netaddr bound;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (netaddr_from_sockaddr((struct sockaddr *)&ss, len, &bound) < 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	netaddr_set_port(a, netaddr_port(&bound));
	return 0;
}

int listener_check_free(const struct netaddr *a, int socktype, const char *directive)
{
	int fd, one = 1, rc = 0, family = netaddr_family(a);
	char buf[NETADDR_STRLEN];

	if (netaddr_port(a) == 0)
		return 0;
	fd = socket(family, socktype | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	/* The same address space as the real sockets: IPv6 only on IPv6, and
	 * for TCP connections left in TIME_WAIT by an earlier run do not count. */
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (socktype == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &a->u.sa, a->len) < 0 && errno == EADDRINUSE) {
		log_err("%s %s: address already in use by another process (a second ntsd?); "
			"refusing to start beside it, as SO_REUSEPORT would split the traffic",
			directive, netaddr_str(a, buf, sizeof(buf)));
		rc = -1;
	}
	close(fd);
	return rc;
}
