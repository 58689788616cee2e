/* ntp_service: sockets and worker threads around the pure responder.
 *
 * Each worker owns one SO_REUSEPORT socket per listen address, its
 * responder state, its rate-limit table and its counters: no locks on the
 * hot path.  With cpu-steering (common/listener.h) worker i is pinned to
 * CPU i and each address's group hands a datagram to the socket of the
 * worker on the CPU that received it, so the wake-up stays on that core;
 * without, the kernel spreads clients by a hash of the 4-tuple.  With
 * ntp-busy-poll a worker that served a datagram spins on non-blocking
 * receives (each polls the device queue: SO_BUSY_POLL) before it sleeps.
 * A batch is received with recvmmsg (kernel receive timestamps from
 * SO_TIMESTAMPING, the destination address from IP_PKTINFO /
 * IPV6_RECVPKTINFO) and answered packet by packet.  A worker that keeps
 * up (its last wake drained its sockets) sends each reply the moment its
 * transmit timestamp is taken, as chronyd does; one that has fallen behind
 * sends with sendmmsg in chunks of NTP_SEND_CHUNK, bounded in time so a
 * transmit timestamp is never taken long before its packet leaves.  A reply to a request that may be interleaved
 * (ntpd/xleave.h) asks the kernel for its transmit timestamp; those come
 * back on the socket's error queue, read with recvmmsg in batches when
 * poll says POLLERR, into the table shared by the workers.  Worker 0
 * refreshes the clock state from the kernel about once a second.  On
 * hw-timestamp NICs with a PTP hardware clock (ntpd/phc_dev.h) the NIC's
 * receive and transmit timestamps are converted to system time with the
 * fit the main loop publishes, or else the kernel's are used. */
#include "build_config.h"

#include <errno.h>
#include <time.h>
/* after <time.h>: it uses struct timespec */
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "common/acl.h"
#include "common/counters.h"
#include "common/keyset.h"
#include "common/listener.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/netaddr.h"
#include "common/ntp_packet.h"
#include "ntpd/clock.h"
#include "ntpd/clock_source.h"
#include "ntpd/ntp_judge.h"
#include "ntpd/ntp_service.h"
#include "ntpd/ntp_xdp.h"
#include "ntpd/phc_dev.h"
#include "common/ratelimit.h"
#include "ntpd/responder.h"
#include "ntpd/txstamp.h"
#include "ntpd/xleave.h"

/* Datagrams received per recvmmsg. */
#define NTP_BATCH 16
/* Replies per sendmmsg while a worker is behind: bounds the time between
 * a reply's transmit timestamp and its departure to a few packets' work. */
#define NTP_SEND_CHUNK 8
/* ... and to this long (NTP 32.32 units: 5 us): a basic-mode client takes
 * the transmit timestamp as the moment its reply left, so every
 * microsecond a reply waits for others in its chunk is error in that
 * client's delay and offset.  At a burst's pace (about 3 us per NTS
 * reply) this sends chunks of two or three.  Chunks only pay while the
 * worker is behind (saturated, where a syscall per reply would cost
 * throughput); otherwise each reply goes out on its own.  bench/accuracy
 * measures the effect against chronyd, which always sends one by one. */
#define NTP_TX_WAIT ((uint64_t)5 * 4294967296ull / 1000000)
/* Batches served from one socket before looking at the others. */
#define NTP_BATCHES_PER_WAKE 8
#define NTP_MAX_SOCKETS (CONFIG_MAX_LISTEN + 1)
#define CTL_LEN 256
/* Socket receive buffer: absorbs bursts while a worker is busy.  Raised
 * past net.core.rmem_max when we may (root, before dropping privileges). */
#define NTP_RCVBUF (4 * 1024 * 1024)
/* How often worker 0 reads the kernel's clock state. */
#define NTP_CLOCK_REFRESH_NS NS_PER_S

struct ntp_worker {
	struct ntp_service *ns;
	unsigned index;
	pthread_t thread;
	bool started;
	int fds[NTP_MAX_SOCKETS];
	bool wildcard[NTP_MAX_SOCKETS];
	struct ntp_judge judge;		/* responder, rate limit, counters (enum ntp_counter) */
	counter_t ts_cnt[NTP_TS_COUNT];
	counter_t received;		/* datagrams received (the per-worker view) */
	bool behind;			/* the last wake left datagrams queued */
	struct phc_fit hw_fit[CONFIG_MAX_HW_IFACES];	/* of ns->hw[], loaded per batch */
	struct mmsghdr rx[NTP_BATCH], tx[NTP_SEND_CHUNK];
	struct iovec rx_iov[NTP_BATCH], tx_iov[NTP_SEND_CHUNK];
	struct sockaddr_storage peer[NTP_BATCH];
	uint8_t rx_ctl[NTP_BATCH][CTL_LEN] __attribute__((aligned(8)));
	uint8_t tx_ctl[NTP_SEND_CHUNK][CTL_LEN] __attribute__((aligned(8)));
	uint8_t rx_buf[NTP_BATCH][RESPONDER_MAX_PACKET];
	uint8_t tx_buf[NTP_SEND_CHUNK][RESPONDER_MAX_PACKET];
};

struct ntp_service {
	struct ntp_judge_env env;	/* keys, access rules, clock state, interleaved table */
	struct netaddr addrs[NTP_MAX_SOCKETS];
	size_t n_addrs;
	unsigned n_workers;
	struct ntp_worker **workers;
	struct clock_config clock_cfg;
	struct snapshot *clock_source;	/* struct clock_sample; NULL: kernel only */
	int64_t clock_refreshed_ns;	/* worker 0 only */
	bool rate_limit;
	double rate;
	unsigned burst, table;
	struct netaddr_prefix prefix;	/* rate-limit-prefix */
	unsigned xleave_entries;	/* interleaved-table; 0: off */
	struct phc_dev *hw[CONFIG_MAX_HW_IFACES];	/* hw-timestamp NICs with a PHC */
	size_t n_hw;
	struct ntp_xdp *xdp;		/* ntp-xdp interfaces; NULL: none */
	struct listener_steer *steer;	/* cpu-steering */
	unsigned busy_poll_us;		/* ntp-busy-poll; 0: off */
	int stop_fd;
	atomic_bool stopping;
	bool started;
	struct thread_start thread_start;	/* each worker, before its loop */
};

static const char *const ts_counter_names[NTP_TS_COUNT] = {
	[NTP_TS_INTERLEAVED] = "interleaved_replies",
	[NTP_TS_TX_KERNEL] = "tx_kernel",
	[NTP_TS_TX_UNMATCHED] = "tx_unmatched",
	[NTP_TS_TX_UNPARSED] = "tx_unparsed",
	[NTP_TS_RX_HARDWARE] = "rx_hardware",
	[NTP_TS_RX_HW_MISSING] = "rx_hw_missing",
	[NTP_TS_RX_HW_UNCONVERTED] = "rx_hw_unconverted",
	[NTP_TS_TX_HARDWARE] = "tx_hardware",
	[NTP_TS_TX_HW_UNCONVERTED] = "tx_hw_unconverted",
};

const char *ntp_ts_counter_name(enum ntp_ts_counter c)
{
	return (unsigned)c < NTP_TS_COUNT ? ts_counter_names[c] : "unknown";
}

static void refresh_clock(struct ntp_service *ns)
{
	const struct clock_sample *src = ns->clock_source ? snapshot_get(ns->clock_source) : NULL;
	struct clock_kernel k;
	struct clock_state st;
	struct timespec now;

	if (src) {
		/* The discipline daemon's state (ntpd/clock_source.h). */
		clock_source_serve(src, monotime_ns(), ns->clock_cfg.precision, &st);
		clock_pub_store(&ns->env.clock, &st);
		ns->clock_refreshed_ns = monotime_ns();
		return;
	}
	if (clock_read_kernel(&k) < 0) {
		/* Cannot tell: say unsynchronised unless local-stratum. */
		memset(&k, 0, sizeof(k));
		k.state = TIME_ERROR;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	clock_state_from_kernel(&k, &ns->clock_cfg, &now, &st);
	clock_pub_store(&ns->env.clock, &st);
	ns->clock_refreshed_ns = monotime_ns();
}

/* Software receive timestamps on every datagram; transmit timestamps
 * are asked for per reply (put_cmsgs) and reported as software.  With
 * hardware timestamping on some NIC (hw), the raw hardware ones too, the
 * interface of each error-queue message (OPT_CMSG: IP_PKTINFO) and both
 * transmit timestamps of a reply (OPT_TX_SWHW), the software one being
 * the fallback.  -1 (errno) when the kernel refuses them. */
static int set_timestamping(int fd, bool hw)
{
	int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;

	if (hw)
		flags |= SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE |
			 SOF_TIMESTAMPING_OPT_CMSG | SOF_TIMESTAMPING_OPT_TX_SWHW;
	return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags));
}

/* ntp-busy-poll: the socket's receive calls poll the device queue its
 * packets came from for up to usec when it is empty (SO_BUSY_POLL), take
 * up to a batch per poll (SO_BUSY_POLL_BUDGET) and, where the interface
 * defers its interrupts (napi_defer_hard_irqs), keep the queue to
 * themselves while they poll (SO_PREFER_BUSY_POLL).  0, or -1 with errno
 * and *what naming the option the kernel refused. */
static int set_busy_poll(int fd, unsigned usec, const char **what)
{
	int v = (int)usec, one = 1, budget = NTP_BATCH;

	*what = "SO_BUSY_POLL";
	if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &v, sizeof(v)) < 0)
		return -1;
	*what = "SO_BUSY_POLL_BUDGET";
	if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)) < 0)
		return -1;
	*what = "SO_PREFER_BUSY_POLL";
	return setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one));
}

/* ntp-busy-poll on worker w's socket for address i; the first socket's
 * outcome is logged (with the value read back), a refusal once: the
 * worker still spins in user space, the device queue is then polled by
 * its interrupt only. */
static void busy_poll_socket(struct ntp_service *ns, const struct ntp_worker *w, size_t i)
{
	const char *what;
	int got = -1;
	socklen_t len = sizeof(got);

	if (ns->busy_poll_us == 0)
		return;
	if (set_busy_poll(w->fds[i], ns->busy_poll_us, &what) < 0) {
		if (w->index == 0 && i == 0)
			log_errno(LOG_LVL_WARN, "ntp: ntp-busy-poll %u: %s refused (it needs "
				  "CAP_NET_ADMIN); workers spin on their sockets without it",
				  ns->busy_poll_us, what);
		return;
	}
	if (w->index == 0 && i == 0 &&
	    getsockopt(w->fds[i], SOL_SOCKET, SO_BUSY_POLL, &got, &len) == 0)
		log_info("ntp: ntp-busy-poll %u: workers spin %u us after each datagram; "
			 "SO_BUSY_POLL %d us on each socket", ns->busy_poll_us, ns->busy_poll_us,
			 got);
}

static int open_socket(const struct netaddr *a, bool hw, bool *wildcard)
{
	int fd, one = 1, rcvbuf = NTP_RCVBUF, family = netaddr_family(a);
	char buf[NETADDR_STRLEN];

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_errno(LOG_LVL_ERR, "ntp: socket for %s", netaddr_str(a, buf, sizeof(buf)));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    set_timestamping(fd, hw) < 0)
		goto out;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (family == AF_INET6) {
		static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0)
			goto out;
		*wildcard = memcmp(&a->u.in6.sin6_addr, &any6, sizeof(any6)) == 0;
	} else {
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
			goto out;
		*wildcard = a->u.in4.sin_addr.s_addr == htonl(INADDR_ANY);
	}
	if (bind(fd, &a->u.sa, a->len) < 0)
		goto out;
	return fd;
out:
	log_errno(LOG_LVL_ERR, "ntp: cannot listen on %s", netaddr_str(a, buf, sizeof(buf)));
	close(fd);
	return -1;
}

/* What a datagram's control messages said, and what its reply needs. */
struct rx_info {
	struct timespec rx;		/* kernel receive time */
	struct timespec hw;		/* raw hardware receive time (the NIC's PHC) */
	struct in_pktinfo pi4;		/* the local address it came to */
	struct in6_pktinfo pi6;
	bool have_rx, have_hw, have4, have6;
	bool want_tx;			/* ask for the reply's transmit timestamp */
	bool tx_hw;			/* ... from the NIC too */
};

/* Kernel receive time and the local address the request came to. */
static void parse_cmsgs(struct msghdr *m, struct rx_info *ri)
{
	struct cmsghdr *c;

	ri->have_rx = ri->have_hw = ri->have4 = ri->have6 = false;
	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
			struct scm_timestamping t;

			/* ts[0]: the software timestamp, ts[2]: raw hardware */
			memcpy(&t, CMSG_DATA(c), sizeof(t));
			ri->rx = t.ts[0];
			ri->hw = t.ts[2];
			ri->have_rx = ri->rx.tv_sec != 0 || ri->rx.tv_nsec != 0;
			ri->have_hw = ri->hw.tv_sec != 0 || ri->hw.tv_nsec != 0;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(ri->pi4))) {
			memcpy(&ri->pi4, CMSG_DATA(c), sizeof(ri->pi4));
			ri->have4 = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(ri->pi6))) {
			memcpy(&ri->pi6, CMSG_DATA(c), sizeof(ri->pi6));
			ri->have6 = true;
		}
	}
}

/* Control messages of a reply: its source address, the address the
 * request was sent to (src: on wildcard sockets), and the request for a
 * kernel transmit timestamp (ri->want_tx).  Their length, 0 if none. */
static size_t put_cmsgs(uint8_t *ctl, const struct rx_info *ri, bool src)
{
	struct msghdr m;
	struct cmsghdr *c;
	size_t len = 0;

	memset(ctl, 0, CTL_LEN);
	memset(&m, 0, sizeof(m));
	m.msg_control = ctl;
	m.msg_controllen = CTL_LEN;
	c = CMSG_FIRSTHDR(&m);
	if (src && ri->have4) {
		struct in_pktinfo out;

		memset(&out, 0, sizeof(out));
		out.ipi_spec_dst = ri->pi4.ipi_spec_dst;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(out));
		memcpy(CMSG_DATA(c), &out, sizeof(out));
		len += CMSG_SPACE(sizeof(out));
	} else if (src && ri->have6) {
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(ri->pi6));
		memcpy(CMSG_DATA(c), &ri->pi6, sizeof(ri->pi6));
		len += CMSG_SPACE(sizeof(ri->pi6));
	}
	if (ri->want_tx) {
		uint32_t flags = SOF_TIMESTAMPING_TX_SOFTWARE |
				 (ri->tx_hw ? SOF_TIMESTAMPING_TX_HARDWARE : 0);

		c = (struct cmsghdr *)(ctl + len);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SO_TIMESTAMPING;
		c->cmsg_len = CMSG_LEN(sizeof(flags));
		memcpy(CMSG_DATA(c), &flags, sizeof(flags));
		len += CMSG_SPACE(sizeof(flags));
	}
	return len;
}

/* Send the first n queued replies. */
static void flush_chunk(struct ntp_worker *w, int fd, unsigned n)
{
	unsigned done = 0;
	int r;

	while (done < n) {
		r = sendmmsg(fd, w->tx + done, n - done, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* Skip the datagram that failed; try the rest. */
			counter_inc(&w->judge.cnt[NTP_CNT_SEND_ERROR]);
			done++;
			continue;
		}
		done += (unsigned)r;
	}
}

/* One batch from one socket, and what its datagrams are judged against. */
struct batch {
	int fd;
	bool wildcard;			/* a wildcard address: replies name their source */
	struct ntp_judge_batch jb;	/* what its datagrams are judged against */
	unsigned n_tx;			/* replies queued in w->tx */
	uint64_t first_tx;		/* the first queued reply's transmit time */
};

/* Up to NTP_BATCH datagrams from fd (flags: MSG_ERRQUEUE for its error
 * queue), each with its sender and control messages; how many, 0 when
 * the socket is drained. */
static int receive_batch(struct ntp_worker *w, int fd, int flags)
{
	int i, n;

	for (i = 0; i < NTP_BATCH; i++) {
		struct msghdr *m = &w->rx[i].msg_hdr;

		w->rx_iov[i].iov_base = w->rx_buf[i];
		w->rx_iov[i].iov_len = sizeof(w->rx_buf[i]);
		m->msg_name = &w->peer[i];
		m->msg_namelen = sizeof(w->peer[i]);
		m->msg_iov = &w->rx_iov[i];
		m->msg_iovlen = 1;
		m->msg_control = w->rx_ctl[i];
		m->msg_controllen = CTL_LEN;
		m->msg_flags = 0;
	}
	n = recvmmsg(fd, w->rx, NTP_BATCH, MSG_DONTWAIT | flags, NULL);
	return n > 0 ? n : 0;
}

/* The PHC fits of the hw-timestamp NICs as published now (none without). */
static void load_hw_fits(struct ntp_worker *w)
{
	for (size_t k = 0; k < w->ns->n_hw; k++)
		phc_pub_load(phc_dev_pub(w->ns->hw[k]), &w->hw_fit[k]);
}

/* The wall clock, clock state, keys, access rules and PHC fits as they
 * are now: read once per batch. */
static void batch_begin(struct ntp_worker *w, int fd, bool wildcard, struct batch *b)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->wildcard = wildcard;
	ntp_judge_begin(&w->judge, &b->jb);
	load_hw_fits(w);
}

/* Which of ns->hw[] has interface index ifindex; -1 if none. */
static int hw_index(const struct ntp_service *ns, int ifindex)
{
	for (size_t k = 0; k < ns->n_hw; k++)
		if (phc_dev_ifindex(ns->hw[k]) == ifindex)
			return (int)k;
	return -1;
}

static int64_t timespec_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * NS_PER_S + t->tv_nsec;
}

/* With hardware timestamping on some NIC: the reply asks for the NIC's
 * transmit timestamp too, and a request that came in on such a NIC gets
 * its hardware receive time in system time, or else keeps the kernel's.
 * Each case is counted; no system call. */
static void rx_hardware(struct ntp_worker *w, struct rx_info *ri)
{
	int ifindex = ri->have4 ? ri->pi4.ipi_ifindex : ri->have6 ? (int)ri->pi6.ipi6_ifindex : 0;
	int k = hw_index(w->ns, ifindex);
	int64_t sys;

	ri->tx_hw = true;
	if (k < 0 || !phc_dev_rx_on(w->ns->hw[k]))
		return;
	if (!ri->have_hw) {
		counter_inc(&w->ts_cnt[NTP_TS_RX_HW_MISSING]);
		return;
	}
	if (!phc_fit_convert(&w->hw_fit[k], timespec_ns(&ri->hw), &sys)) {
		counter_inc(&w->ts_cnt[NTP_TS_RX_HW_UNCONVERTED]);
		return;
	}
	ri->rx.tv_sec = (time_t)(sys / NS_PER_S);
	ri->rx.tv_nsec = (long)(sys % NS_PER_S);
	counter_inc(&w->ts_cnt[NTP_TS_RX_HARDWARE]);
}

/* Datagram i through admission and the responder, its reply written into
 * the next free tx buffer; true when there is one (*out_len bytes).  ri
 * gets the datagram's control messages and what its reply needs. */
static bool judge_datagram(struct ntp_worker *w, struct batch *b, int i, struct rx_info *ri,
			   size_t *out_len)
{
	const struct msghdr *m = &w->rx[i].msg_hdr;
	struct netaddr peer;
	bool have_peer;

	if (m->msg_flags & MSG_TRUNC) {
		counter_inc(&w->judge.cnt[NTP_CNT_DROP_TRUNCATED]);
		return false;
	}
	have_peer = netaddr_from_sockaddr((struct sockaddr *)&w->peer[i], m->msg_namelen,
					  &peer) == 0;
	if (!ntp_judge_admit(&w->judge, &b->jb, have_peer ? &peer : NULL))
		return false;
	parse_cmsgs(&w->rx[i].msg_hdr, ri);
	if (!ri->have_rx)
		ri->rx = b->jb.now;
	ri->tx_hw = false;
	if (w->ns->n_hw > 0)
		rx_hardware(w, ri);
	return ntp_judge_answer(&w->judge, &b->jb, have_peer ? &peer : NULL, w->rx_buf[i],
				w->rx[i].msg_len, ntp_ts_from_timespec(&ri->rx),
				w->tx_buf[b->n_tx], sizeof(w->tx_buf[b->n_tx]), out_len,
				&ri->want_tx);
}

/* The reply in the next tx slot goes to datagram i's sender, from the
 * address it came to; sent at once unless the worker is behind, then
 * when its chunk is full or has waited NTP_TX_WAIT. */
static void queue_reply(struct ntp_worker *w, struct batch *b, int i, const struct rx_info *ri,
			size_t out_len)
{
	unsigned k = b->n_tx;
	struct msghdr *t = &w->tx[k].msg_hdr;
	size_t cl;

	w->tx_iov[k].iov_base = w->tx_buf[k];
	w->tx_iov[k].iov_len = out_len;
	memset(t, 0, sizeof(*t));
	t->msg_name = &w->peer[i];
	t->msg_namelen = w->rx[i].msg_hdr.msg_namelen;
	t->msg_iov = &w->tx_iov[k];
	t->msg_iovlen = 1;
	cl = put_cmsgs(w->tx_ctl[k], ri, b->wildcard);
	if (cl > 0) {
		t->msg_control = w->tx_ctl[k];
		t->msg_controllen = cl;
	}
	if (k == 0)
		b->first_tx = w->judge.tx_est;
	/* Unsigned: a clock step either way flushes, which is harmless. */
	if (++b->n_tx == NTP_SEND_CHUNK || !w->behind ||
	    ntp_ts_now() - b->first_tx >= NTP_TX_WAIT) {
		flush_chunk(w, b->fd, b->n_tx);
		b->n_tx = 0;
	}
}

/* One recvmmsg batch from fd: answer and send.  Returns the number of
 * datagrams received, 0 when the socket is drained. */
static int serve_batch(struct ntp_worker *w, int fd, bool wildcard)
{
	struct rx_info ri;
	struct batch b;
	size_t out_len;
	int i, n;

	n = receive_batch(w, fd, 0);
	if (n == 0)
		return 0;
	batch_begin(w, fd, wildcard, &b);
	for (i = 0; i < n; i++)
		if (judge_datagram(w, &b, i, &ri, &out_len))
			queue_reply(w, &b, i, &ri, out_len);
	if (b.n_tx > 0)
		flush_chunk(w, fd, b.n_tx);
	return n;
}

/* What an error-queue message says about a reply's departure. */
struct tx_stamp {
	struct timespec sw, hw;		/* software or raw hardware (the NIC's PHC) */
	int ifindex;			/* the interface it left by (IP_PKTINFO) */
};

/* The interface index in an IP_PKTINFO / IPV6_PKTINFO message. */
static void pktinfo_ifindex(const struct cmsghdr *c, int *ifindex)
{
	if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
	    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
		struct in_pktinfo pi;

		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		*ifindex = pi.ipi_ifindex;
	} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
		struct in6_pktinfo pi;

		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		*ifindex = (int)pi.ipi6_ifindex;
	}
}

/* The transmit timestamps in error-queue message m, taken as the packet
 * was sent (by the kernel, or by the NIC: each comes in its own
 * message); false if m holds neither. */
static bool tx_stamp_of(struct msghdr *m, struct tx_stamp *t)
{
	const struct sock_extended_err *ee = NULL;
	struct scm_timestamping sts;
	bool have_ts = false;
	struct cmsghdr *c;

	memset(t, 0, sizeof(*t));
	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
		    c->cmsg_len >= CMSG_LEN(sizeof(sts))) {
			memcpy(&sts, CMSG_DATA(c), sizeof(sts));
			t->sw = sts.ts[0];
			t->hw = sts.ts[2];
			have_ts = timespec_ns(&t->sw) != 0 || timespec_ns(&t->hw) != 0;
		} else if (((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) &&
			   c->cmsg_len >= CMSG_LEN(sizeof(*ee))) {
			ee = (const struct sock_extended_err *)CMSG_DATA(c);
		} else {
			pktinfo_ifindex(c, &t->ifindex);
		}
	}
	return have_ts && ee != NULL && ee->ee_origin == SO_EE_ORIGIN_TIMESTAMPING &&
	       ee->ee_info == SCM_TSTAMP_SND;
}

/* The NTP transmit time in t and where it came from: the NIC's in system
 * time when there is one, else the kernel's.  False (counted) for a
 * hardware timestamp that cannot be converted: the kernel's for the same
 * reply comes in a message of its own. */
static bool tx_time(struct ntp_worker *w, const struct tx_stamp *t, uint64_t *tx,
		    enum xleave_source *src)
{
	struct timespec ts = t->sw;
	int64_t sys;
	int k;

	*src = XLEAVE_TX_KERNEL;
	if (timespec_ns(&t->hw) != 0) {
		k = hw_index(w->ns, t->ifindex);
		if (k < 0 || !phc_fit_convert(&w->hw_fit[k], timespec_ns(&t->hw), &sys)) {
			counter_inc(&w->ts_cnt[NTP_TS_TX_HW_UNCONVERTED]);
			return false;
		}
		ts.tv_sec = (time_t)(sys / NS_PER_S);
		ts.tv_nsec = (long)(sys % NS_PER_S);
		*src = XLEAVE_TX_HARDWARE;
	}
	*tx = ntp_ts_from_timespec(&ts);
	return true;
}

/* Error-queue message i: a transmit timestamp for the interleaved-mode
 * entry of the reply it carries. */
static void take_tx_stamp(struct ntp_worker *w, int i)
{
	struct txstamp_reply r;
	enum xleave_source src;
	struct tx_stamp t;
	uint64_t tx;

	if (!tx_stamp_of(&w->rx[i].msg_hdr, &t) ||
	    txstamp_parse(w->rx_buf[i], w->rx[i].msg_len, &r) != TXSTAMP_OK) {
		counter_inc(&w->ts_cnt[NTP_TS_TX_UNPARSED]);
		return;
	}
	if (!tx_time(w, &t, &tx, &src))
		return;
	if (w->ns->env.xl != NULL && xleave_set_tx(w->ns->env.xl, r.client, r.rx, tx, src))
		counter_inc(&w->ts_cnt[src == XLEAVE_TX_HARDWARE ? NTP_TS_TX_HARDWARE
								  : NTP_TS_TX_KERNEL]);
	else
		counter_inc(&w->ts_cnt[NTP_TS_TX_UNMATCHED]);
}

/* Everything on fd's error queue (poll said POLLERR), NTP_BATCH messages
 * per recvmmsg: not a syscall per reply. */
static void read_tx_stamps(struct ntp_worker *w, int fd)
{
	int i, n;

	load_hw_fits(w);
	do {
		n = receive_batch(w, fd, MSG_ERRQUEUE);
		for (i = 0; i < n; i++)
			take_tx_stamp(w, i);
	} while (n == NTP_BATCH);
}

/* poll() with the worker offline for the snapshots (common/snapshot.h):
 * what batch_begin and refresh_clock took is dropped by then, and an idle
 * worker never delays the freeing of a replaced key set or rule set. */
static int poll_offline(struct pollfd *pfd, nfds_t n, int timeout)
{
	int rc, err;

	snapshot_offline();
	rc = poll(pfd, n, timeout);
	err = errno;
	snapshot_online();
	errno = err;
	return rc;
}

/* The worker's AF_XDP sockets (ntpd/ntp_xdp.h) after poll: each that is
 * readable, or has replies to take back from the kernel, for up to
 * NTP_BATCHES_PER_WAKE batches.  The frames received, counted with the
 * worker's UDP datagrams; *behind set when a socket had more than that. */
static unsigned serve_xdp(struct ntp_worker *w, const struct pollfd *pfd, size_t n,
			  bool *behind)
{
	unsigned got = 0, k_got;
	int b;

	for (size_t k = 0; k < n; k++) {
		if (!(pfd[k].revents & POLLIN) && !ntp_xdp_tx_pending(w->ns->xdp, w->index))
			continue;
		for (b = 0; b < NTP_BATCHES_PER_WAKE; b++) {
			k_got = ntp_xdp_serve(w->ns->xdp, w->index, k, &w->judge);
			if (k_got == 0)
				break;
			got += k_got;
		}
		*behind |= b == NTP_BATCHES_PER_WAKE;
	}
	counter_add(&w->received, got);
	return got;
}

/* poll()'s timeout: 1 ms while AF_XDP replies are on their way out, so
 * their frames go back to the fill ring without waiting for traffic. */
static int poll_timeout(const struct ntp_worker *w, int timeout)
{
	if (ntp_xdp_tx_pending(w->ns->xdp, w->index) && (timeout < 0 || timeout > 1))
		return 1;
	return timeout;
}

/* ntp-busy-poll's wait: no sleep, a quiescent point instead of going
 * offline, and every socket but the stop eventfd (pfd[stop]) marked
 * readable so that its receive runs: with SO_BUSY_POLL each one polls the
 * device queue once.  poll() itself busy-polls only under the
 * net.core.busy_poll sysctl, so it is used here for the stop eventfd and
 * POLLERR only. */
static int poll_spin(struct pollfd *pfd, nfds_t n, nfds_t stop)
{
	int rc;

	snapshot_quiescent();
	rc = poll(pfd, n, 0);
	for (nfds_t i = 0; rc >= 0 && i < n; i++)
		if (i != stop)
			pfd[i].revents |= POLLIN;
	return rc;
}

/* Serve what the wait found on each of the worker's nfd UDP sockets: their
 * error queues, then up to NTP_BATCHES_PER_WAKE batches each.  The
 * datagrams received; *behind set when a socket had more than that. */
static unsigned serve_ready(struct ntp_worker *w, const struct pollfd *pfd, size_t nfd,
			    bool *behind)
{
	unsigned got = 0;
	int b, n;

	for (size_t i = 0; i < nfd; i++) {
		if (pfd[i].revents & POLLERR)
			read_tx_stamps(w, w->fds[i]);
		if (!(pfd[i].revents & POLLIN))
			continue;
		for (b = 0; b < NTP_BATCHES_PER_WAKE; b++) {
			n = serve_batch(w, w->fds[i], w->wildcard[i]);
			got += (unsigned)n;
			if (n < NTP_BATCH)
				break;
		}
		*behind |= b == NTP_BATCHES_PER_WAKE;
	}
	counter_add(&w->received, got);
	return got;
}

static void *worker_main(void *arg)
{
	struct ntp_worker *w = arg;
	struct ntp_service *ns = w->ns;
	/* The UDP sockets, the stop eventfd (pfd[nfd]), the AF_XDP sockets. */
	struct pollfd pfd[NTP_MAX_SOCKETS + 1 + NTP_XDP_MAX_SOCKETS];
	int xfd[NTP_XDP_MAX_SOCKETS];
	size_t i, nfd = ns->n_addrs, nx;
	int timeout = w->index == 0 ? NTP_CLOCK_REFRESH_NS / NS_PER_MS : -1;
	int64_t busy_ns = (int64_t)ns->busy_poll_us * NS_PER_US, spin_until = 0;
	bool spin, behind;
	unsigned got;
	char name[16];

	/* ps -L, top -H, /proc/PID/task/TID/comm: which thread is which. */
	snprintf(name, sizeof(name), "ntsd-ntp/%u", w->index);
	pthread_setname_np(pthread_self(), name);
	for (i = 0; i < nfd; i++) {
		pfd[i].fd = w->fds[i];
		pfd[i].events = POLLIN;
	}
	pfd[nfd].fd = ns->stop_fd;
	pfd[nfd].events = POLLIN;
	nx = ntp_xdp_fds(ns->xdp, w->index, xfd, NTP_XDP_MAX_SOCKETS);
	for (i = 0; i < nx; i++) {
		pfd[nfd + 1 + i].fd = xfd[i];
		pfd[nfd + 1 + i].events = POLLIN;
	}
	/* On its CPU before anything else, and before the sandbox (which
	 * has no sched_setaffinity). */
	listener_steer_pin(ns->steer, w->index);
	snapshot_thread_join();
	thread_start_run(&ns->thread_start, w->index);
	while (!atomic_load_explicit(&ns->stopping, memory_order_relaxed)) {
		spin = busy_ns > 0 && monotime_ns() < spin_until;
		if ((spin ? poll_spin(pfd, nfd + 1 + nx, nfd)
			  : poll_offline(pfd, nfd + 1 + nx, poll_timeout(w, timeout))) < 0 &&
		    errno != EINTR) {
			log_errno(LOG_LVL_ERR, "ntp: poll");
			break;
		}
		if (w->index == 0 &&
		    monotime_ns() - ns->clock_refreshed_ns >= NTP_CLOCK_REFRESH_NS)
			refresh_clock(ns);
		if (pfd[nfd].revents)
			break;
		behind = false;
		got = serve_ready(w, pfd, nfd, &behind);
		got += serve_xdp(w, pfd + nfd + 1, nx, &behind);
		if (got > 0 && busy_ns > 0)
			spin_until = monotime_ns() + busy_ns;
		w->behind = behind;
	}
	snapshot_thread_leave();
	return NULL;
}

static void worker_free(struct ntp_worker *w, size_t n_fds)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < n_fds; i++)
		if (w->fds[i] >= 0)
			close(w->fds[i]);
	ntp_judge_wipe(&w->judge);
	free(w);
}

/* Addresses, worker count, rate limits and clock settings from the
 * configuration, and a first clock state for the first replies. */
static void apply_config(struct ntp_service *ns, const struct config *cfg)
{
	struct clock_state st;

	ns->n_addrs = listener_addrs(cfg->ntp_listen, cfg->n_ntp_listen, ns->addrs,
				     CONFIG_MAX_LISTEN, CONFIG_DEFAULT_NTP_PORT, SOCK_DGRAM, "ntp");
	ns->n_workers = listener_threads(cfg->threads);
	ns->rate_limit = cfg->rate_limit;
	ns->rate = cfg->rate_limit_rate;
	ns->burst = cfg->rate_limit_burst;
	ns->table = cfg->rate_limit_table;
	ns->prefix = cfg->rate_limit_prefix;
	ns->xleave_entries = cfg->interleaved_table;
	ns->busy_poll_us = cfg->ntp_busy_poll_us;

	ns->clock_cfg.stratum = cfg->stratum;
	ns->clock_cfg.refid = cfg->refid;
	ns->clock_cfg.local_stratum = cfg->local_stratum;
	ns->clock_cfg.precision = clock_measure_precision();
	memset(&st, 0, sizeof(st));
	clock_pub_init(&ns->env.clock, &st);
	refresh_clock(ns);
}

/* hw-timestamp IFACE: each NIC with a PHC gets hardware timestamps
 * (ntpd/phc_dev.h); an interface without keeps kernel timestamps, said
 * once in the log.  -1 (logged) when the daemon must not start: an
 * interface that does not exist, or a PHC that cannot be used. */
static int open_hw(struct ntp_service *ns, const struct config *cfg)
{
	struct phc_dev *d;

	for (size_t i = 0; i < cfg->n_hw_timestamp; i++) {
		enum phc_dev_status st = phc_dev_open(cfg->hw_timestamp[i], &d);

		if (st == PHC_DEV_ERROR)
			return -1;
		if (st == PHC_DEV_READY)
			ns->hw[ns->n_hw++] = d;
	}
	return 0;
}

/* Worker `index` with its responder and rate-limit table, no socket yet.
 * NULL (logged) on failure, with nothing kept. */
static struct ntp_worker *worker_new(struct ntp_service *ns, unsigned index,
				     int64_t key_propagation)
{
	struct ntp_worker *w = calloc(1, sizeof(*w));
	struct ratelimit *rl = NULL;
	size_t i;

	if (w == NULL) {
		log_err("ntp: out of memory");
		return NULL;
	}
	w->ns = ns;
	w->index = index;
	for (i = 0; i < NTP_MAX_SOCKETS; i++)
		w->fds[i] = -1;
	if (ns->rate_limit) {
		rl = ratelimit_new(ns->rate, ns->burst, ns->table, &ns->prefix);
		if (rl == NULL) {
			log_err("ntp: cannot allocate the rate-limit table (%u entries)",
				ns->table);
			free(w);
			return NULL;
		}
	}
	if (ntp_judge_init(&w->judge, &ns->env, key_propagation, rl) < 0) {
		log_errno(LOG_LVL_ERR, "ntp: no randomness for nonces");
		free(w);
		return NULL;
	}
	return w;
}

/* The stop eventfd and every worker.  -1 (logged) on failure; what was
 * made stays in ns for ntp_service_free. */
static int make_workers(struct ntp_service *ns, int64_t key_propagation)
{
	unsigned j;

	ns->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ns->workers = calloc(ns->n_workers, sizeof(*ns->workers));
	if (ns->stop_fd < 0 || ns->workers == NULL) {
		log_errno(LOG_LVL_ERR, "ntp: cannot set up workers");
		return -1;
	}
	if (ns->xleave_entries > 0) {
		ns->env.xl = xleave_new(ns->xleave_entries);
		if (ns->env.xl == NULL) {
			log_err("ntp: cannot allocate the interleaved-mode table (%u entries)",
				ns->xleave_entries);
			return -1;
		}
	}
	for (j = 0; j < ns->n_workers; j++) {
		ns->workers[j] = worker_new(ns, j, key_propagation);
		if (ns->workers[j] == NULL)
			return -1;
	}
	return 0;
}

/* Worker w's socket for address i.  With port 0 the first worker's bind
 * picks the port, and the address keeps it for the others. */
static int bind_worker(struct ntp_service *ns, struct ntp_worker *w, size_t i)
{
	if (w->index == 0 && listener_check_free(&ns->addrs[i], SOCK_DGRAM, "ntp-listen") < 0)
		return -1;
	w->fds[i] = open_socket(&ns->addrs[i], ns->n_hw > 0, &w->wildcard[i]);
	if (w->fds[i] < 0)
		return -1;
	busy_poll_socket(ns, w, i);
	if (w->index > 0 || netaddr_port(&ns->addrs[i]) != 0)
		return 0;
	if (listener_bound_port(w->fds[i], &ns->addrs[i]) < 0) {
		log_errno(LOG_LVL_ERR, "ntp: getsockname");
		return -1;
	}
	return 0;
}

/* Every worker's socket for each address, address by address and in
 * worker order, so that socket j of each SO_REUSEPORT group is worker
 * j's, which is what the steering program returns
 * (common/listener.h).  -1 (logged) on failure; the sockets opened stay
 * with their workers for ntp_service_free. */
static int open_sockets(struct ntp_service *ns, const struct config *cfg)
{
	unsigned j;
	size_t i;

	ns->steer = listener_steer_new("ntp", cfg->cpu_steering, ns->n_workers);
	if (ns->steer == NULL) {
		log_err("ntp: out of memory");
		return -1;
	}
	for (i = 0; i < ns->n_addrs; i++) {
		for (j = 0; j < ns->n_workers; j++)
			if (bind_worker(ns, ns->workers[j], i) < 0)
				return -1;
		listener_steer_group(ns->steer, ns->workers[0]->fds[i], &ns->addrs[i]);
	}
	listener_steer_log(ns->steer);
	return 0;
}

struct ntp_service *ntp_service_new(const struct config *cfg, struct snapshot *keys)
{
	struct ntp_service *ns = calloc(1, sizeof(*ns));

	if (ns == NULL) {
		log_err("ntp: out of memory");
		return NULL;
	}
	ns->stop_fd = -1;
	ns->env.keys = keys;
	atomic_init(&ns->stopping, false);
	apply_config(ns, cfg);
	if (open_hw(ns, cfg) < 0 || make_workers(ns, cfg->key_propagation_s) < 0 ||
	    open_sockets(ns, cfg) < 0) {
		/* Each step said why; give back all they took. */
		ntp_service_free(ns);
		return NULL;
	}
	/* After the sockets: the addresses have their ports, and whatever
	 * XDP cannot serve the sockets do. */
	ns->xdp = ntp_xdp_new(cfg, ns->addrs, ns->n_addrs, ns->n_workers);
	return ns;
}

int ntp_service_start(struct ntp_service *ns)
{
	unsigned j;
	int err;

	for (j = 0; j < ns->n_workers; j++) {
		err = pthread_create(&ns->workers[j]->thread, NULL, worker_main, ns->workers[j]);
		if (err != 0) {
			errno = err;
			log_errno(LOG_LVL_ERR, "ntp: cannot start worker %u", j);
			ntp_service_stop(ns);
			return -1;
		}
		ns->workers[j]->started = true;
	}
	ns->started = true;
	return 0;
}

void ntp_service_set_clock_source(struct ntp_service *ns, struct snapshot *samples)
{
	ns->clock_source = samples;
	refresh_clock(ns);
}

void ntp_service_clock(const struct ntp_service *ns, struct clock_state *out)
{
	clock_pub_load(&ns->env.clock, out);
}

void ntp_service_set_acl(struct ntp_service *ns, struct snapshot *acl)
{
	ns->env.acl = acl;
}

void ntp_service_set_thread_start(struct ntp_service *ns, const struct thread_start *ts)
{
	ns->thread_start = *ts;
}

uint16_t ntp_service_port(const struct ntp_service *ns)
{
	return ns->n_addrs > 0 ? netaddr_port(&ns->addrs[0]) : 0;
}

size_t ntp_service_n_listen(const struct ntp_service *ns)
{
	return ns->n_addrs;
}

const struct netaddr *ntp_service_listen_addr(const struct ntp_service *ns, size_t i)
{
	return i < ns->n_addrs ? &ns->addrs[i] : NULL;
}

void ntp_service_counters(const struct ntp_service *ns, uint64_t *out, size_t n)
{
	unsigned j;
	size_t c;

	for (c = 0; c < n; c++) {
		out[c] = 0;
		if (c >= NTP_CNT_COUNT)
			continue;
		for (j = 0; j < ns->n_workers; j++)
			if (ns->workers[j] != NULL)
				out[c] += counter_get(&ns->workers[j]->judge.cnt[c]);
	}
}

void ntp_service_ts_counters(const struct ntp_service *ns, uint64_t out[NTP_TS_COUNT])
{
	unsigned j;
	size_t c;

	for (c = 0; c < NTP_TS_COUNT; c++) {
		out[c] = 0;
		for (j = 0; j < ns->n_workers; j++)
			if (ns->workers[j] != NULL)
				out[c] += counter_get(c == NTP_TS_INTERLEAVED
							      ? &ns->workers[j]->judge.interleaved
							      : &ns->workers[j]->ts_cnt[c]);
	}
}

bool ntp_service_steered(const struct ntp_service *ns)
{
	return listener_steer_on(ns->steer);
}

unsigned ntp_service_workers(const struct ntp_service *ns, struct listener_thread_view *v,
			     unsigned max)
{
	unsigned i;

	for (i = 0; i < ns->n_workers && i < max; i++) {
		v[i].served = ns->workers[i] != NULL ? counter_get(&ns->workers[i]->received) : 0;
		v[i].cpu = listener_steer_cpu(ns->steer, i);
	}
	return i;
}

void ntp_service_hw_poll(struct ntp_service *ns)
{
	for (size_t i = 0; i < ns->n_hw; i++)
		phc_dev_poll(ns->hw[i]);
}

size_t ntp_service_n_hw(const struct ntp_service *ns)
{
	return ns->n_hw;
}

const struct phc_dev *ntp_service_hw(const struct ntp_service *ns, size_t i)
{
	return i < ns->n_hw ? ns->hw[i] : NULL;
}

const struct ntp_xdp *ntp_service_xdp(const struct ntp_service *ns)
{
	return ns->xdp;
}

int ntp_service_xdp_update(struct ntp_service *ns, const struct acl *acl)
{
	return ntp_xdp_update(ns->xdp, acl);
}

void ntp_service_stop(struct ntp_service *ns)
{
	uint64_t one = 1;
	unsigned j;

	if (ns == NULL)
		return;
	atomic_store(&ns->stopping, true);
	if (ns->stop_fd >= 0 && write(ns->stop_fd, &one, sizeof(one)) < 0)
		log_errno(LOG_LVL_WARN, "ntp: waking workers");
	for (j = 0; ns->workers != NULL && j < ns->n_workers; j++) {
		struct ntp_worker *w = ns->workers[j];

		if (w != NULL && w->started) {
			pthread_join(w->thread, NULL);
			w->started = false;
		}
	}
	ns->started = false;
}

void ntp_service_free(struct ntp_service *ns)
{
	unsigned j;

	if (ns == NULL)
		return;
	ntp_service_stop(ns);
	ntp_xdp_free(ns->xdp);
	for (j = 0; ns->workers != NULL && j < ns->n_workers; j++)
		worker_free(ns->workers[j], ns->n_addrs);
	free(ns->workers);
	xleave_free(ns->env.xl);
	for (size_t i = 0; i < ns->n_hw; i++)
		phc_dev_free(ns->hw[i]);
	if (ns->stop_fd >= 0)
		close(ns->stop_fd);
	listener_steer_free(ns->steer);
	free(ns);
}
