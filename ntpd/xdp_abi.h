/* xdp_abi: what the XDP program (ntpd/xdp_filter.bpf.c) and user space
 * (ntpd/xdp_prog.c, ntpd/xdp_worker.c) agree on.  Included by both, so
 * only fixed-width types and no user-space headers. */
#ifndef NTSD_XDP_ABI_H
#define NTSD_XDP_ABI_H

#include <linux/types.h>

/* Prepended by the program to each frame it redirects to an AF_XDP
 * socket (bpf_xdp_adjust_head): the frame the socket receives starts
 * with this struct and the Ethernet header follows it, so the worker
 * reads it at the descriptor's address and the request at addr + sizeof
 * (len - sizeof bytes).  Not XDP metadata (bpf_xdp_adjust_meta): some
 * kernels, such as the 6.18 this project's CI runs, refuse that helper to
 * XDP programs. */
struct xdp_ntp_meta {
	__u64 rx_ns;		/* CLOCK_TAI ns when the program saw the frame, 0 if unknown */
	__u32 magic;		/* XDP_NTP_META_MAGIC: written last, checked first */
	__u32 pad;
};
#define XDP_NTP_META_MAGIC 0x6e747364u	/* "ntsd" */

/* Per-CPU counters of the program's verdicts, one per packet the program
 * sees (names: xdp_counter_name). */
enum xdp_ntp_counter {
	XDP_CNT_REDIRECTED = 0,	/* NTP request handed to a worker's socket */
	XDP_CNT_PASS_OTHER,	/* not ours (ARP, ND, TCP, other ports): to the kernel */
	XDP_CNT_PASS_FRAGMENT,	/* an IP fragment: to the kernel */
	XDP_CNT_PASS_NO_SOCKET,	/* ours, but no socket on its queue: to the kernel */
	XDP_CNT_DROP_DENIED,	/* ntp-allow / ntp-deny */
	XDP_CNT_DROP_RATE,	/* over rate-limit */
	XDP_CNT_RATE_KOD,	/* over rate-limit, handed to a worker once per KoD interval
				 * so that its own limiter answers KoD RATE */
	XDP_CNT_COUNT
};

#endif
