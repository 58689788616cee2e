/* xdp_maps: the maps of ntsd's XDP program as the program
 * (ntpd/xdp_filter.bpf.c) and its loader (ntpd/xdp_prog.c) both see them.
 * Private to those two: AF_XDP workers need only ntpd/xdp_abi.h.  Fixed
 * width types only (included by the BPF build too).
 *
 * An address is 16 bytes in network order, IPv4 as ::ffff:a.b.c.d (as
 * common/netaddr's netaddr_host_bytes), so one trie holds the access
 * rules of both families.  (IPv6 headers with IPv4-mapped addresses never
 * get that far: the program leaves them to the kernel.) */
#ifndef NTSD_XDP_MAPS_H
#define NTSD_XDP_MAPS_H

#include <linux/types.h>

/* The program's name (its function): a program of this name found on an
 * interface is one a previous ntsd left there. */
#define XDP_NTP_PROG_NAME "ntsd_xdp"

#define XDP_LISTEN_MAX 128	/* listen address/port pairs */
#define XDP_ACL_MAX 65536	/* access-rule entries (rules + the two family defaults) */

struct xdp_addr {
	__u32 w[4];		/* network order */
};

/* listen: the NTP addresses and ports; 0.0.0.0 (::ffff:0.0.0.0) and ::
 * stand for any address of their family.  Value: 1. */
struct xdp_listen_key {
	struct xdp_addr addr;
	__u16 port;		/* network order */
	__u16 pad;		/* 0 */
};

/* The access rules: an LPM trie, most specific prefix wins; an IPv4 rule
 * a.b.c.d/N is ::ffff:a.b.c.d/(96+N).  The loader adds each family's
 * default (acl_family_info) as ::ffff:0:0/96 and ::/0 unless a rule
 * covers the family's whole space, so every lookup matches.  Value: 1
 * allow, 0 deny. */
struct xdp_lpm_key {
	__u32 prefixlen;
	struct xdp_addr addr;
};

/* The rate limit, one entry.  interval_ns 0: no limit.  A client is its
 * address masked with mask_v4 (IPv4 and IPv4-mapped) or mask_v6
 * (rate-limit-prefix).  A bucket is a GCRA (token bucket in time units):
 * a request is over the rate when the client's theoretical arrival time
 * is more than tolerance_ns ((burst - 1) * interval) ahead of now. */
struct xdp_conf {
	__u64 interval_ns;	/* 1 / rate */
	__u64 tolerance_ns;	/* (burst - 1) * interval_ns */
	__u64 kod_interval_ns;	/* one request over the rate per this goes on, for its KoD */
	struct xdp_addr mask_v4, mask_v6;
};

/* Per client and CPU (an LRU per-CPU hash keyed by the masked address);
 * all zero is a full bucket that never had a KoD. */
struct xdp_bucket {
	__u64 tat_ns;		/* theoretical arrival time (CLOCK_MONOTONIC) */
	__u64 kod_ns;		/* the last request let through for a KoD; 0: none */
};

#endif
