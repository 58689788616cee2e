/* ntp_xdp: attach the program, open the sockets, hand them to workers. */
#include "build_config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ntpd/ntp_xdp.h"
#include "ntpd/xdp_prog.h"

struct xdp_iface {
	char ifname[CONFIG_IFNAME_LEN];
	struct xdp_prog *prog;
	struct xdp_prog_config pc;	/* as attached: updates change the rules only */
	struct xdp_worker *q[CONFIG_MAX_XDP_QUEUES];
	unsigned n_q;
};

/* The sockets one worker serves. */
struct worker_sockets {
	struct xdp_worker *q[NTP_XDP_MAX_SOCKETS];
	size_t n;
};

struct ntp_xdp {
	struct xdp_iface ifs[CONFIG_MAX_XDP_IFACES];
	size_t n_ifs;
	unsigned n_workers;
	struct worker_sockets *by_worker;
};

/* How many receive queues ifname has (/sys/class/net/IF/queues/rx-N);
 * 1 when that cannot be read. */
static unsigned rx_queues(const char *ifname)
{
	char path[64];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (d == NULL)
		return 1;
	/* cppcheck-suppress readdirCalled ; the stream is this call's own, and
	 * readdir_r is deprecated (readdir(3)): readdir on it is thread-safe. */
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "rx-", 3) == 0)
			n++;
	closedir(d);
	return n > 0 ? n : 1;
}

static void iface_close(struct xdp_iface *f)
{
	/* The program first: from then on the kernel takes every packet. */
	xdp_prog_detach(f->prog);
	f->prog = NULL;
	for (unsigned i = 0; i < f->n_q; i++)
		xdp_worker_free(f->q[i]);
	f->n_q = 0;
}

/* The program on one interface and a socket on each of its queues.  -1
 * (logged, nothing kept) when any of it fails: the sockets serve it. */
static int iface_open(struct xdp_iface *f, const struct config_xdp *cx, const struct config *cfg,
		      const struct netaddr *listen, size_t n_listen)
{
	char err[256];
	unsigned n = cx->queues ? cx->queues : rx_queues(cx->ifname);

	if (n > CONFIG_MAX_XDP_QUEUES) {
		log_notice("ntp-xdp %s: %u receive queues; the first %d get AF_XDP sockets, the "
			   "others are served on sockets", cx->ifname, n, CONFIG_MAX_XDP_QUEUES);
		n = CONFIG_MAX_XDP_QUEUES;
	}
	memset(f, 0, sizeof(*f));
	memcpy(f->ifname, cx->ifname, sizeof(f->ifname));
	f->pc.listen = listen;
	f->pc.n_listen = n_listen;
	f->pc.n_queues = n;
	f->pc.acl = cfg->ntp_acl;
	f->pc.rate_limit = cfg->rate_limit;
	f->pc.rate = cfg->rate_limit_rate;
	f->pc.burst = cfg->rate_limit_burst;
	f->pc.rate_prefix = cfg->rate_limit_prefix;
	f->pc.rate_table = cfg->rate_limit_table;
	f->prog = xdp_prog_attach(f->ifname, &f->pc, err, sizeof(err));
	/* The rules belong to the configuration, gone after a reload:
	 * ntp_xdp_update names the ones in force. */
	f->pc.acl = NULL;
	if (f->prog == NULL) {
		log_warn("ntp-xdp %s: %s; serving it on sockets", f->ifname, err);
		return -1;
	}
	for (f->n_q = 0; f->n_q < n; f->n_q++) {
		f->q[f->n_q] = xdp_worker_new(f->ifname, f->n_q, err, sizeof(err));
		if (f->q[f->n_q] == NULL)
			goto fail;
		if (xdp_prog_set_socket(f->prog, f->n_q, xdp_worker_fd(f->q[f->n_q])) < 0) {
			snprintf(err, sizeof(err), "cannot register the socket of queue %u",
				 f->n_q);
			f->n_q++;
			goto fail;
		}
	}
	log_notice("ntp-xdp %s: serving NTP through XDP (%s mode), %u queue%s", f->ifname,
		   xdp_prog_mode(f->prog), n, n == 1 ? "" : "s");
	return 0;
fail:
	log_warn("ntp-xdp %s: %s; program detached, serving it on sockets", f->ifname, err);
	iface_close(f);
	return -1;
}

struct ntp_xdp *ntp_xdp_new(const struct config *cfg, const struct netaddr *listen,
			    size_t n_listen, unsigned n_workers)
{
	struct ntp_xdp *x;

	if (cfg->n_ntp_xdp == 0 || n_workers == 0)
		return NULL;
	x = calloc(1, sizeof(*x));
	if (x != NULL)
		x->by_worker = calloc(n_workers, sizeof(*x->by_worker));
	if (x == NULL || x->by_worker == NULL) {
		log_err("ntp-xdp: out of memory; serving on sockets");
		free(x);
		return NULL;
	}
	x->n_workers = n_workers;
	for (size_t i = 0; i < cfg->n_ntp_xdp; i++) {
		struct xdp_iface *f = &x->ifs[x->n_ifs];

		if (iface_open(f, &cfg->ntp_xdp[i], cfg, listen, n_listen) < 0)
			continue;
		x->n_ifs++;
		for (unsigned q = 0; q < f->n_q; q++) {
			struct worker_sockets *w = &x->by_worker[q % n_workers];

			w->q[w->n++] = f->q[q];
		}
	}
	if (x->n_ifs == 0) {
		ntp_xdp_free(x);
		return NULL;
	}
	return x;
}

size_t ntp_xdp_fds(const struct ntp_xdp *x, unsigned worker, int *fds, size_t max)
{
	size_t n = 0;

	if (x == NULL || worker >= x->n_workers)
		return 0;
	for (; n < x->by_worker[worker].n && n < max; n++)
		fds[n] = xdp_worker_fd(x->by_worker[worker].q[n]);
	return n;
}

unsigned ntp_xdp_serve(struct ntp_xdp *x, unsigned worker, size_t k, struct ntp_judge *j)
{
	if (x == NULL || worker >= x->n_workers || k >= x->by_worker[worker].n)
		return 0;
	return xdp_worker_serve(x->by_worker[worker].q[k], j);
}

bool ntp_xdp_tx_pending(const struct ntp_xdp *x, unsigned worker)
{
	if (x == NULL || worker >= x->n_workers)
		return false;
	for (size_t k = 0; k < x->by_worker[worker].n; k++)
		if (xdp_worker_tx_pending(x->by_worker[worker].q[k]))
			return true;
	return false;
}

int ntp_xdp_update(struct ntp_xdp *x, const struct acl *acl)
{
	int rc = 0;

	for (size_t i = 0; x != NULL && i < x->n_ifs; i++) {
		struct xdp_prog_config pc = x->ifs[i].pc;

		pc.acl = acl;
		if (xdp_prog_update(x->ifs[i].prog, &pc) < 0) {
			log_err("ntp-xdp %s: cannot update the program's access rules; it "
				"keeps the previous ones", x->ifs[i].ifname);
			rc = -1;
		}
	}
	return rc;
}

size_t ntp_xdp_n_ifaces(const struct ntp_xdp *x)
{
	return x != NULL ? x->n_ifs : 0;
}

void ntp_xdp_iface(const struct ntp_xdp *x, size_t i, struct ntp_xdp_iface_info *out)
{
	const struct xdp_iface *f = &x->ifs[i];

	out->ifname = f->ifname;
	out->mode = xdp_prog_mode(f->prog);
	out->queues = f->n_q;
	out->zerocopy = 0;
	for (unsigned q = 0; q < f->n_q; q++)
		out->zerocopy += xdp_worker_zerocopy(f->q[q]);
}

static size_t add_stat(struct ntp_xdp_stat *out, size_t n, size_t max, enum ntp_xdp_stat_kind k,
		       const char *ifname, const char *name, uint64_t v)
{
	if (n < max) {
		out[n].kind = k;
		out[n].ifname = ifname;
		out[n].name = name;
		out[n].value = v;
	}
	return n + 1;
}

/* One interface's counters, its sockets' summed. */
static size_t iface_stats(const struct xdp_iface *f, struct ntp_xdp_stat *out, size_t n,
			  size_t max)
{
	uint64_t prog[XDP_CNT_COUNT], w[XDP_W_COUNT], sum_w[XDP_W_COUNT] = { 0 };
	uint64_t fe[XDP_FRAME_STATUS_COUNT], sum_fe[XDP_FRAME_STATUS_COUNT] = { 0 };
	unsigned c;

	xdp_prog_counters(f->prog, prog);
	for (c = 0; c < XDP_CNT_COUNT; c++)
		n = add_stat(out, n, max, NTP_XDP_STAT_PROGRAM, f->ifname,
			     xdp_counter_name((enum xdp_ntp_counter)c), prog[c]);
	for (unsigned q = 0; q < f->n_q; q++) {
		xdp_worker_counters(f->q[q], w);
		xdp_worker_frame_errors(f->q[q], fe);
		for (c = 0; c < XDP_W_COUNT; c++)
			sum_w[c] += w[c];
		for (c = 0; c < XDP_FRAME_STATUS_COUNT; c++)
			sum_fe[c] += fe[c];
	}
	for (c = 0; c < XDP_W_COUNT; c++)
		n = add_stat(out, n, max, NTP_XDP_STAT_SOCKET, f->ifname,
			     xdp_worker_counter_name((enum xdp_worker_counter)c), sum_w[c]);
	/* XDP_FRAME_OK is no refusal */
	for (c = XDP_FRAME_OK + 1; c < XDP_FRAME_STATUS_COUNT; c++)
		n = add_stat(out, n, max, NTP_XDP_STAT_REFUSED, f->ifname,
			     xdp_frame_status_name((enum xdp_frame_status)c), sum_fe[c]);
	return n;
}

size_t ntp_xdp_stats(const struct ntp_xdp *x, struct ntp_xdp_stat *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; x != NULL && i < x->n_ifs; i++)
		n = iface_stats(&x->ifs[i], out, n, max);
	return n < max ? n : max;
}

void ntp_xdp_free(struct ntp_xdp *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->n_ifs; i++)
		iface_close(&x->ifs[i]);
	free(x->by_worker);
	free(x);
}
