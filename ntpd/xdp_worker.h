/* xdp_worker: one AF_XDP socket on one receive queue of an ntp-xdp
 * interface, with its UMEM, served by an NTP worker thread the way it
 * serves its UDP sockets.  The XDP program (ntpd/xdp_prog.h) redirects
 * the queue's NTP requests here, with its receive time in front of each
 * frame (struct xdp_ntp_meta); each is judged by the worker's
 * ntpd/ntp_judge and answered in place in its own frame
 * (ntpd/xdp_frame.h).  Rings are worked in batches: RX, TX, completions
 * back to the fill ring, which is kept full.  Built with HAVE_XDP only.
 *
 *   xdp_worker_new()    as root, before privileges are dropped
 *   xdp_worker_fd()     for poll() and xdp_prog_set_socket()
 *   xdp_worker_serve()  from the NTP worker that owns it, when poll says so
 *   xdp_worker_free() */
#ifndef NTSD_XDP_WORKER_H
#define NTSD_XDP_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntpd/ntp_judge.h"
#include "ntpd/xdp_frame.h"

struct xdp_worker;

/* Counters of one socket (names: xdp_worker_counter_name), besides the
 * responder's outcomes (enum ntp_counter, counted by the NTP worker). */
enum xdp_worker_counter {
	XDP_W_RX = 0,		/* frames received */
	XDP_W_TX,		/* replies queued for sending */
	XDP_W_TX_RING_FULL,	/* replies dropped: the TX ring was full */
	XDP_W_RX_META,		/* receive time from the XDP program */
	XDP_W_RX_NO_META,	/* no metadata: our own clock read instead */
	XDP_W_RX_META_BAD,	/* metadata more than a second off our clock: ours used */
	XDP_W_KICKS,		/* system calls to wake the kernel (need_wakeup) */
	/* The kernel's own (getsockopt XDP_STATISTICS), read when asked:
	 * frames it could not hand to the socket, which no worker sees. */
	XDP_W_K_RX_RING_FULL,	/* dropped: the RX ring was full (the worker behind) */
	XDP_W_K_RX_DROPPED,	/* dropped otherwise (no frame to copy into, too long) */
	XDP_W_K_FILL_EMPTY,	/* times the fill ring had no free frame */
	XDP_W_K_RX_INVALID,	/* invalid descriptors on the RX side */
	XDP_W_K_TX_INVALID,	/* invalid descriptors on the TX side */
	XDP_W_COUNT
};
/* The counters the worker keeps itself: those before XDP_W_K_*. */
#define XDP_W_OWN_COUNT XDP_W_K_RX_RING_FULL

/* The AF_XDP socket of queue `queue` on ifname (zero-copy tried first,
 * then copy mode; which one is logged).  NULL on failure, with the
 * reason in err. */
struct xdp_worker *xdp_worker_new(const char *ifname, unsigned queue, char *err, size_t errlen);
int xdp_worker_fd(const struct xdp_worker *x);
unsigned xdp_worker_queue(const struct xdp_worker *x);
bool xdp_worker_zerocopy(const struct xdp_worker *x);
/* Serve one batch: receive, judge with j (the calling worker's), answer
 * in place, send; recycle what was sent.  Returns the number of frames
 * received (0: the RX ring was empty). */
unsigned xdp_worker_serve(struct xdp_worker *x, struct ntp_judge *j);
/* Frames still on their way out: the owner polls again soon (1 ms) to
 * give them back to the fill ring. */
bool xdp_worker_tx_pending(const struct xdp_worker *x);
/* Any thread: this socket's counters (the kernel's XDP_W_K_* read now; 0
 * if it will not say), and its frames refused by reason. */
void xdp_worker_counters(const struct xdp_worker *x, uint64_t out[XDP_W_COUNT]);
void xdp_worker_frame_errors(const struct xdp_worker *x, uint64_t out[XDP_FRAME_STATUS_COUNT]);
const char *xdp_worker_counter_name(enum xdp_worker_counter c);
void xdp_worker_free(struct xdp_worker *x);	/* NULL-safe */

#endif
