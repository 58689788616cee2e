/* ntp_xdp: the ntp-xdp interfaces of the NTP service.  On each, the XDP
 * program (ntpd/xdp_prog.h) is attached and one AF_XDP socket per
 * receive queue (ntpd/xdp_worker.h) is handed to the NTP workers: worker
 * i serves queues i, i + n, i + 2n, ... of every interface, next to its
 * UDP sockets.  Whatever cannot be set up is logged with its reason and
 * left to the sockets, which keep listening on every address in any
 * case.  Built from ntpd/ntp_xdp.c with XDP (HAVE_XDP), from
 * ntpd/ntp_xdp_off.c without, where ntp-xdp lines are logged as served
 * on sockets.  Every function takes NULL (no interface set up). */
#ifndef NTSD_NTP_XDP_H
#define NTSD_NTP_XDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/acl.h"
#include "common/config.h"
#include "common/netaddr.h"
#include "ntpd/ntp_judge.h"
#include "ntpd/xdp_abi.h"
#include "ntpd/xdp_frame.h"
#include "ntpd/xdp_worker.h"

struct ntp_xdp;

/* The most sockets one worker serves. */
#define NTP_XDP_MAX_SOCKETS (CONFIG_MAX_XDP_IFACES * CONFIG_MAX_XDP_QUEUES)

/* As root, before privileges are dropped: cfg's ntp-xdp lines, for the
 * NTP addresses listen[0..n_listen) (kept: they must outlive the
 * result) and n_workers workers.  NULL when no interface could be set
 * up, or none was asked for (each reason logged). */
struct ntp_xdp *ntp_xdp_new(const struct config *cfg, const struct netaddr *listen,
			    size_t n_listen, unsigned n_workers);
/* The sockets worker `worker` serves: their descriptors, for poll(). */
size_t ntp_xdp_fds(const struct ntp_xdp *x, unsigned worker, int *fds, size_t max);
/* Serve one batch from the k-th of them (as ntp_xdp_fds listed it). */
unsigned ntp_xdp_serve(struct ntp_xdp *x, unsigned worker, size_t k, struct ntp_judge *j);
/* Whether that worker has replies on their way out (poll again soon). */
bool ntp_xdp_tx_pending(const struct ntp_xdp *x, unsigned worker);
/* SIGHUP: the new access rules into every program.  -1 (logged) when a
 * program kept its old rules. */
int ntp_xdp_update(struct ntp_xdp *x, const struct acl *acl);

/* For /metrics: what each interface runs. */
size_t ntp_xdp_n_ifaces(const struct ntp_xdp *x);
struct ntp_xdp_iface_info {
	const char *ifname;
	const char *mode;		/* the program's: "native" or "generic" */
	unsigned queues;		/* AF_XDP sockets */
	unsigned zerocopy;		/* ... of them in zero-copy mode */
};
void ntp_xdp_iface(const struct ntp_xdp *x, size_t i, struct ntp_xdp_iface_info *out);
/* Every counter of every interface, summed over its queues. */
enum ntp_xdp_stat_kind {
	NTP_XDP_STAT_PROGRAM,		/* the program's verdicts (enum xdp_ntp_counter) */
	NTP_XDP_STAT_SOCKET,		/* the sockets' (enum xdp_worker_counter) */
	NTP_XDP_STAT_REFUSED,		/* frames refused (enum xdp_frame_status) */
};
struct ntp_xdp_stat {
	enum ntp_xdp_stat_kind kind;
	const char *ifname, *name;
	uint64_t value;
};
#define NTP_XDP_MAX_STATS \
	(CONFIG_MAX_XDP_IFACES * (XDP_CNT_COUNT + XDP_W_COUNT + XDP_FRAME_STATUS_COUNT))
size_t ntp_xdp_stats(const struct ntp_xdp *x, struct ntp_xdp_stat *out, size_t max);
/* Detaches every program (the interfaces are as they were) and frees. */
void ntp_xdp_free(struct ntp_xdp *x);

#endif
