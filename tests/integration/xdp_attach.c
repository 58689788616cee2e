/* xdp_attach: ntsd's XDP program attached to one interface by its loader
 * (ntpd/xdp_prog.c), held until a signal ends the process: what
 * tests/integration/xdp_attach_test.sh kills.  Listens (in the program's
 * terms) on 0.0.0.0:123 and [::]:123, one queue, no socket.
 *   xdp_attach IFACE
 * prints "attached native" or "attached generic" once attached; the
 * loader's log on stderr; exit 1 when it cannot attach. */
#include "build_config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "ntpd/xdp_prog.h"

int main(int argc, char **argv)
{
	struct netaddr listen[2];
	struct xdp_prog_config c;
	struct xdp_prog *p;
	char err[256];
	sigset_t set;
	int sig;

	if (argc != 2) {
		fprintf(stderr, "usage: xdp_attach IFACE\n");
		return 2;
	}
	log_init("xdp_attach", LOG_TO_STDERR, LOG_LVL_INFO);
	netaddr_parse("0.0.0.0", 123, &listen[0]);
	netaddr_parse("::", 123, &listen[1]);
	memset(&c, 0, sizeof(c));
	c.listen = listen;
	c.n_listen = 2;
	c.n_queues = 1;
	p = xdp_prog_attach(argv[1], &c, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "xdp_attach: %s\n", err);
		return 1;
	}
	printf("attached %s\n", xdp_prog_mode(p));
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &sig);
	xdp_prog_detach(p);
	return 0;
}
