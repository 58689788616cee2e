/* xdp_worker: an AF_XDP socket and its UMEM, served in batches.
 *
 * Frames never move: a request is answered in the frame it came in, which
 * then goes out on the TX ring and comes back on the completion ring.
 * Every frame is always in exactly one place: the fill ring (the
 * kernel's), the RX ring, the TX ring or in flight, the completion ring,
 * or our free stack.  The UMEM has twice the fill ring's frames, so the
 * fill ring is refilled from the stack after each batch and stays full
 * while replies are on their way out.  The program's receive time comes
 * in the descriptor's first bytes, before the Ethernet header
 * (ntpd/xdp_abi.h); the reply is sent from the Ethernet header on. */
#include "build_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <xdp/xsk.h>

#include "common/buf.h"
#include "common/counters.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/ntp_packet.h"
#include "ntpd/xdp_abi.h"
#include "ntpd/xdp_worker.h"

/* Ring sizes (powers of two) and the UMEM: 4096 frames of 2 KiB, 8 MiB
 * per queue.  2 KiB holds the kernel's headroom, the metadata and the
 * longest request the responder takes (RESPONDER_MAX_PACKET) with its
 * headers. */
#define XDP_RING_SIZE 2048
#define XDP_FRAMES (2 * XDP_RING_SIZE)
#define XDP_FRAME_SIZE 2048
#define XDP_UMEM_SIZE ((size_t)XDP_FRAMES * XDP_FRAME_SIZE)
/* Frames received per batch (like NTP_BATCH on sockets, but the rings
 * make a larger batch cheap). */
#define XDP_BATCH 32
/* Metadata further than this from our clock is not believed (ns). */
#define XDP_META_MAX_SKEW NS_PER_S

struct xdp_worker {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint8_t *area;			/* the UMEM, XDP_FRAMES * XDP_FRAME_SIZE */
	uint64_t free_addr[XDP_FRAMES];	/* the free stack */
	unsigned n_free;
	unsigned tx_pending;		/* frames sent, not yet completed */
	unsigned queue;
	bool zerocopy;
	counter_t cnt[XDP_W_OWN_COUNT];	/* ours; the kernel keeps the XDP_W_K_* */
	counter_t frame_err[XDP_FRAME_STATUS_COUNT];
	/* One batch's replies, built before the TX ring is reserved. */
	struct xdp_desc out[XDP_BATCH];
	struct netaddr out_peer[XDP_BATCH];
	const uint8_t *out_reply[XDP_BATCH];	/* its NTP payload */
	bool out_want_tx[XDP_BATCH];
	uint8_t req[RESPONDER_MAX_PACKET];	/* the request, copied out of its frame */
};

static const char *const counter_names[XDP_W_COUNT] = {
	[XDP_W_RX] = "rx",
	[XDP_W_TX] = "tx",
	[XDP_W_TX_RING_FULL] = "tx_ring_full",
	[XDP_W_RX_META] = "rx_meta",
	[XDP_W_RX_NO_META] = "rx_no_meta",
	[XDP_W_RX_META_BAD] = "rx_meta_bad",
	[XDP_W_KICKS] = "kicks",
	[XDP_W_K_RX_RING_FULL] = "kernel_rx_ring_full",
	[XDP_W_K_RX_DROPPED] = "kernel_rx_dropped",
	[XDP_W_K_FILL_EMPTY] = "kernel_fill_ring_empty",
	[XDP_W_K_RX_INVALID] = "kernel_rx_invalid",
	[XDP_W_K_TX_INVALID] = "kernel_tx_invalid",
};

const char *xdp_worker_counter_name(enum xdp_worker_counter c)
{
	return (unsigned)c < XDP_W_COUNT ? counter_names[c] : "unknown";
}

/* The start of the frame that holds UMEM address addr. */
static uint64_t frame_base(uint64_t addr)
{
	return addr - addr % XDP_FRAME_SIZE;
}

static void free_push(struct xdp_worker *x, uint64_t addr)
{
	if (x->n_free < XDP_FRAMES)
		x->free_addr[x->n_free++] = frame_base(addr);
}

/* As many free frames as the fill ring takes. */
static void refill(struct xdp_worker *x)
{
	uint32_t idx, n = xsk_prod_nb_free(&x->fill, x->n_free);

	if (n > x->n_free)
		n = x->n_free;
	if (n == 0 || xsk_ring_prod__reserve(&x->fill, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = x->free_addr[--x->n_free];
	xsk_ring_prod__submit(&x->fill, n);
}

/* Sent frames the kernel is done with go back to the free stack. */
static void reclaim(struct xdp_worker *x)
{
	uint32_t idx, n = xsk_ring_cons__peek(&x->comp, XDP_RING_SIZE, &idx);

	for (uint32_t i = 0; i < n; i++)
		free_push(x, *xsk_ring_cons__comp_addr(&x->comp, idx + i));
	if (n > 0)
		xsk_ring_cons__release(&x->comp, n);
	x->tx_pending -= n < x->tx_pending ? n : x->tx_pending;
}

/* The batch's clock: UTC now, and CLOCK_TAI's offset from it in whole
 * seconds (the kernel's TAI offset; the two reads are nanoseconds apart). */
static int64_t tai_offset_ns(const struct timespec *utc)
{
	struct timespec tai;
	int64_t d;

	if (clock_gettime(CLOCK_TAI, &tai) < 0)
		return 0;
	d = (int64_t)(tai.tv_sec - utc->tv_sec) * NS_PER_S + (tai.tv_nsec - utc->tv_nsec);
	/* round to the nearest second */
	return (d >= 0 ? (d + NS_PER_S / 2) : (d - NS_PER_S / 2)) / NS_PER_S * NS_PER_S;
}

/* The program's receive time (struct xdp_ntp_meta), which it puts in
 * front of the Ethernet header of each frame it redirects
 * (ntpd/xdp_abi.h), into m; *data and *len are moved past it.  Without
 * its magic, m->magic is 0 and the frame starts at *data. */
static void take_meta(uint8_t **data, uint32_t *len, struct xdp_ntp_meta *m)
{
	if (*len >= sizeof(*m)) {
		memcpy(m, *data, sizeof(*m));
		if (m->magic == XDP_NTP_META_MAGIC) {
			*data += sizeof(*m);
			*len -= (uint32_t)sizeof(*m);
			return;
		}
	}
	m->magic = 0;
}

/* The receive time (NTP format): the program's (CLOCK_TAI) in UTC when
 * it is there and plausible, else our own clock's, each case counted. */
static uint64_t rx_time(struct xdp_worker *x, const struct xdp_ntp_meta *m, int64_t tai_off)
{
	struct timespec now, ts;
	int64_t utc, skew;

	clock_gettime(CLOCK_REALTIME, &now);
	if (m->magic != XDP_NTP_META_MAGIC || m->rx_ns == 0) {
		counter_inc(&x->cnt[XDP_W_RX_NO_META]);
		return ntp_ts_from_timespec(&now);
	}
	utc = (int64_t)m->rx_ns - tai_off;
	skew = (int64_t)now.tv_sec * NS_PER_S + now.tv_nsec - utc;
	if (skew > XDP_META_MAX_SKEW || skew < -XDP_META_MAX_SKEW) {
		counter_inc(&x->cnt[XDP_W_RX_META_BAD]);
		return ntp_ts_from_timespec(&now);
	}
	counter_inc(&x->cnt[XDP_W_RX_META]);
	ts.tv_sec = (time_t)(utc / NS_PER_S);
	ts.tv_nsec = (long)(utc % NS_PER_S);
	return ntp_ts_from_timespec(&ts);
}

/* One received frame: its reply built in place and put in x->out[*n_out]
 * (true), or nothing to send (false: the caller recycles the frame). */
static bool serve_frame(struct xdp_worker *x, struct ntp_judge *j, struct ntp_judge_batch *b,
			const struct xdp_desc *d, int64_t tai_off, unsigned *n_out)
{
	uint8_t *start = xsk_umem__get_data(x->area, d->addr), *data = start;
	uint32_t len = d->len;
	struct xdp_frame_info fi;
	struct xdp_ntp_meta meta;
	enum xdp_frame_status st;
	uint64_t rx;
	size_t out_len, flen;
	bool want_tx;

	take_meta(&data, &len, &meta);
	st = xdp_frame_parse(data, len, &fi);
	if (st != XDP_FRAME_OK) {
		counter_inc(&x->frame_err[st]);
		return false;
	}
	/* As a socket's receive buffer would cut it short. */
	if (fi.payload_len > sizeof(x->req)) {
		counter_inc(&j->cnt[NTP_CNT_DROP_TRUNCATED]);
		return false;
	}
	if (!ntp_judge_admit(j, b, &fi.src))
		return false;
	rx = rx_time(x, &meta, tai_off);
	/* The responder reads the request while it writes the reply over it. */
	memcpy(x->req, data + fi.payload_off, fi.payload_len);
	if (!ntp_judge_answer(j, b, &fi.src, x->req, fi.payload_len, rx, data + fi.payload_off,
			      fi.payload_len, &out_len, &want_tx))
		return false;
	flen = xdp_frame_reply(data, &fi, out_len);
	if (flen == 0) {
		counter_inc(&j->cnt[NTP_CNT_DROP_INTERNAL]);
		return false;
	}
	/* From the Ethernet header on: the receive time stays behind. */
	x->out[*n_out].addr = d->addr + (uint64_t)(data - start);
	x->out[*n_out].len = (uint32_t)flen;
	x->out[*n_out].options = 0;
	x->out_want_tx[*n_out] = want_tx;
	if (want_tx) {
		x->out_peer[*n_out] = fi.src;
		x->out_reply[*n_out] = data + fi.payload_off;
	}
	(*n_out)++;
	return true;
}

/* Queue the batch's replies; what does not fit is dropped and counted.
 * An interleaved reply's transmit time is taken here, just before it is
 * queued: there is no kernel transmit timestamp on this path. */
static void send_batch(struct xdp_worker *x, struct ntp_judge *j, unsigned n)
{
	uint32_t idx, room = xsk_prod_nb_free(&x->tx, n);
	unsigned k = n < room ? n : room;
	uint64_t now;

	for (unsigned i = k; i < n; i++) {
		free_push(x, x->out[i].addr);
		counter_inc(&x->cnt[XDP_W_TX_RING_FULL]);
	}
	if (k == 0 || xsk_ring_prod__reserve(&x->tx, k, &idx) != k) {
		for (unsigned i = 0; i < k; i++) {
			free_push(x, x->out[i].addr);
			counter_inc(&x->cnt[XDP_W_TX_RING_FULL]);
		}
		return;
	}
	for (unsigned i = 0; i < k; i++)
		*xsk_ring_prod__tx_desc(&x->tx, idx + i) = x->out[i];
	now = ntp_ts_now();
	for (unsigned i = 0; i < k; i++)
		if (x->out_want_tx[i])
			(void)ntp_judge_set_tx(j, &x->out_peer[i], x->out_reply[i], now,
					       XLEAVE_TX_DAEMON);
	xsk_ring_prod__submit(&x->tx, k);
	x->tx_pending += k;
	counter_add(&x->cnt[XDP_W_TX], k);
	if (xsk_ring_prod__needs_wakeup(&x->tx)) {
		counter_inc(&x->cnt[XDP_W_KICKS]);
		/* cppcheck-suppress nullPointer ; an empty sendto is the AF_XDP TX
		 * kick: no buffer is read. */
		(void)sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
	}
}

unsigned xdp_worker_serve(struct xdp_worker *x, struct ntp_judge *j)
{
	struct ntp_judge_batch b;
	uint32_t idx, n;
	unsigned n_out = 0;
	int64_t tai_off;

	reclaim(x);
	n = xsk_ring_cons__peek(&x->rx, XDP_BATCH, &idx);
	if (n > 0) {
		ntp_judge_begin(j, &b);
		tai_off = tai_offset_ns(&b.now);
		counter_add(&x->cnt[XDP_W_RX], n);
		for (uint32_t i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);

			if (!serve_frame(x, j, &b, d, tai_off, &n_out))
				free_push(x, d->addr);
		}
		xsk_ring_cons__release(&x->rx, n);
		if (n_out > 0)
			send_batch(x, j, n_out);
	}
	refill(x);
	if (xsk_ring_prod__needs_wakeup(&x->fill)) {
		/* recvmsg, not recvfrom: what the NTP workers' sandbox allows */
		struct msghdr m;

		memset(&m, 0, sizeof(m));
		counter_inc(&x->cnt[XDP_W_KICKS]);
		(void)recvmsg(xsk_socket__fd(x->xsk), &m, MSG_DONTWAIT);
	}
	return n;
}

/* The UMEM and the socket, in the given bind mode.  -1 with err set;
 * nothing kept. */
static int open_socket(struct xdp_worker *x, const char *ifname, uint16_t bind_flags,
		       char *err, size_t errlen)
{
	struct xsk_umem_config uc = {
		.fill_size = XDP_RING_SIZE,
		.comp_size = XDP_RING_SIZE,
		.frame_size = XDP_FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	struct xsk_socket_config sc;
	int rc;

	memset(&sc, 0, sizeof(sc));
	sc.rx_size = XDP_RING_SIZE;
	sc.tx_size = XDP_RING_SIZE;
	/* ntsd's own program is attached (ntpd/xdp_prog.h): libxdp must
	 * not load its default one. */
	sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
	sc.bind_flags = bind_flags;
	rc = xsk_umem__create(&x->umem, x->area, XDP_UMEM_SIZE, &x->fill,
			      &x->comp, &uc);
	if (rc != 0) {
		snprintf(err, errlen, "UMEM: %s", strerror(-rc));
		x->umem = NULL;
		return -1;
	}
	rc = xsk_socket__create(&x->xsk, ifname, x->queue, x->umem, &x->rx, &x->tx, &sc);
	if (rc != 0) {
		snprintf(err, errlen, "AF_XDP socket on queue %u: %s", x->queue, strerror(-rc));
		x->xsk = NULL;
		xsk_umem__delete(x->umem);
		x->umem = NULL;
		return -1;
	}
	return 0;
}

struct xdp_worker *xdp_worker_new(const char *ifname, unsigned queue, char *err, size_t errlen)
{
	struct xdp_worker *x = calloc(1, sizeof(*x));
	char zc_err[128];
	void *area;

	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->queue = queue;
	/* Shared: the pages the kernel pinned stay ours when the daemon
	 * forks into the background (a private mapping would be copied). */
	/* cppcheck-suppress invalidFunctionArg ; MAP_ANONYMOUS takes fd -1, as
	 * mmap(2) asks for portability; cppcheck's mmap model wants fd >= 0. */
	area = mmap(NULL, XDP_UMEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		snprintf(err, errlen, "UMEM: %s", strerror(errno));
		free(x);
		return NULL;
	}
	x->area = area;
	x->zerocopy = true;
	if (open_socket(x, ifname, XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP, zc_err,
			sizeof(zc_err)) < 0) {
		x->zerocopy = false;
		if (open_socket(x, ifname, XDP_COPY | XDP_USE_NEED_WAKEUP, err, errlen) < 0) {
			xdp_worker_free(x);
			return NULL;
		}
		log_notice("ntp-xdp %s queue %u: copy mode (no zero-copy: %s)", ifname, queue,
			   zc_err);
	} else {
		log_info("ntp-xdp %s queue %u: zero-copy", ifname, queue);
	}
	for (unsigned i = 0; i < XDP_FRAMES; i++)
		free_push(x, (uint64_t)i * XDP_FRAME_SIZE);
	refill(x);
	return x;
}

int xdp_worker_fd(const struct xdp_worker *x)
{
	return xsk_socket__fd(x->xsk);
}

unsigned xdp_worker_queue(const struct xdp_worker *x)
{
	return x->queue;
}

bool xdp_worker_zerocopy(const struct xdp_worker *x)
{
	return x->zerocopy;
}

bool xdp_worker_tx_pending(const struct xdp_worker *x)
{
	return x->tx_pending > 0;
}

void xdp_worker_counters(const struct xdp_worker *x, uint64_t out[XDP_W_COUNT])
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	for (unsigned c = 0; c < XDP_W_OWN_COUNT; c++)
		out[c] = counter_get(&x->cnt[c]);
	/* Zeros stay where the kernel says nothing (or less, if older). */
	memset(&st, 0, sizeof(st));
	(void)getsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_STATISTICS, &st, &len);
	out[XDP_W_K_RX_RING_FULL] = st.rx_ring_full;
	out[XDP_W_K_RX_DROPPED] = st.rx_dropped;
	out[XDP_W_K_FILL_EMPTY] = st.rx_fill_ring_empty_descs;
	out[XDP_W_K_RX_INVALID] = st.rx_invalid_descs;
	out[XDP_W_K_TX_INVALID] = st.tx_invalid_descs;
}

void xdp_worker_frame_errors(const struct xdp_worker *x, uint64_t out[XDP_FRAME_STATUS_COUNT])
{
	for (unsigned c = 0; c < XDP_FRAME_STATUS_COUNT; c++)
		out[c] = counter_get(&x->frame_err[c]);
}

void xdp_worker_free(struct xdp_worker *x)
{
	if (x == NULL)
		return;
	if (x->xsk != NULL)
		xsk_socket__delete(x->xsk);
	if (x->umem != NULL)
		xsk_umem__delete(x->umem);
	if (x->area != NULL)
		munmap(x->area, XDP_UMEM_SIZE);
	free(x);
}
