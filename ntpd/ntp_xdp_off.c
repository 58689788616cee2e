/* ntp_xdp without XDP support (configure --disable-xdp, or no libxdp,
 * libbpf or clang): ntp-xdp lines are said to be served on sockets, and
 * nothing else changes. */
#include "build_config.h"

#include "common/log.h"
#include "ntpd/ntp_xdp.h"

struct ntp_xdp *ntp_xdp_new(const struct config *cfg, const struct netaddr *listen,
			    size_t n_listen, unsigned n_workers)
{
	(void)listen;
	(void)n_listen;
	(void)n_workers;
	for (size_t i = 0; i < cfg->n_ntp_xdp; i++)
		log_warn("ntp-xdp %s: this ntsd was built without XDP support; serving it on "
			 "sockets", cfg->ntp_xdp[i].ifname);
	return NULL;
}

size_t ntp_xdp_fds(const struct ntp_xdp *x, unsigned worker, int *fds, size_t max)
{
	(void)x;
	(void)worker;
	(void)fds;
	(void)max;
	return 0;
}

unsigned ntp_xdp_serve(struct ntp_xdp *x, unsigned worker, size_t k, struct ntp_judge *j)
{
	(void)x;
	(void)worker;
	(void)k;
	(void)j;
	return 0;
}

bool ntp_xdp_tx_pending(const struct ntp_xdp *x, unsigned worker)
{
	(void)x;
	(void)worker;
	return false;
}

int ntp_xdp_update(struct ntp_xdp *x, const struct acl *acl)
{
	(void)x;
	(void)acl;
	return 0;
}

size_t ntp_xdp_n_ifaces(const struct ntp_xdp *x)
{
	(void)x;
	return 0;
}

void ntp_xdp_iface(const struct ntp_xdp *x, size_t i, struct ntp_xdp_iface_info *out)
{
	(void)x;
	(void)i;
	out->ifname = "";
	out->mode = "";
	out->queues = out->zerocopy = 0;
}

size_t ntp_xdp_stats(const struct ntp_xdp *x, struct ntp_xdp_stat *out, size_t max)
{
	(void)x;
	(void)out;
	(void)max;
	return 0;
}

void ntp_xdp_free(struct ntp_xdp *x)
{
	(void)x;
}
