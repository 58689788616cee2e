/* xdp_prog: ntsd's XDP program on one interface (ntpd/xdp_filter.bpf.c):
 * loads it, attaches it, keeps its maps (listen addresses, access rules,
 * rate limit, the AF_XDP sockets of each queue) in step with the
 * configuration, and reads its counters (doc/xdp.md).  Built only with
 * XDP (configure finds clang, libbpf and libxdp; HAVE_XDP).  Attach as
 * root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN), before the sandbox;
 * afterwards only map updates are made.  xdp_prog_update from one
 * thread at a time; xdp_prog_set_socket and xdp_prog_counters from any
 * thread, alongside it. */
#ifndef NTSD_XDP_PROG_H
#define NTSD_XDP_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/acl.h"
#include "common/netaddr.h"
#include "ntpd/xdp_abi.h"

struct xdp_prog;

struct xdp_prog_config {
	const struct netaddr *listen;	/* NTP addresses and ports; 0.0.0.0 / :: match any */
	size_t n_listen;
	unsigned n_queues;		/* XSKMAP size: one socket per rx queue */
	const struct acl *acl;		/* ntp-allow / ntp-deny; NULL allows all */
	bool rate_limit;		/* rate-limit RATE BURST */
	double rate;
	unsigned burst;
	struct netaddr_prefix rate_prefix;	/* rate-limit-prefix */
	unsigned rate_table;		/* rate-limit-table (clients); 0: 65536; attach only */
};

/* Load and attach to ifname, native (driver) mode first; if that fails,
 * log why and try generic (SKB) mode.  NULL (logged, err filled) if
 * neither attaches: the caller serves on sockets and says so.  Attached
 * through a bpf_link, so the program goes with the process even after
 * SIGKILL; a stale ntsd program found on the interface is removed first. */
struct xdp_prog *xdp_prog_attach(const char *ifname, const struct xdp_prog_config *c,
				 char *err, size_t errlen);
const char *xdp_prog_mode(const struct xdp_prog *p);	/* "native" or "generic" */
int xdp_prog_ifindex(const struct xdp_prog *p);
/* The AF_XDP socket of a queue (xsk_fd -1: none any more); queues
 * without one pass to the kernel (XDP_CNT_PASS_NO_SOCKET).  0 / -1. */
int xdp_prog_set_socket(struct xdp_prog *p, unsigned queue, int xsk_fd);
/* On reload: new rules, rate limit and NTP addresses, applied without
 * detaching and without a moment in which a packet passes unchecked
 * (n_queues and rate_table keep their values from the attach).  0 / -1
 * (logged; the old state stays). */
int xdp_prog_update(struct xdp_prog *p, const struct xdp_prog_config *c);
/* Sums over CPUs, indexed by enum xdp_ntp_counter. */
void xdp_prog_counters(const struct xdp_prog *p, uint64_t out[XDP_CNT_COUNT]);
const char *xdp_counter_name(enum xdp_ntp_counter c);
void xdp_prog_detach(struct xdp_prog *p);	/* detaches and frees; NULL-safe */

#endif
