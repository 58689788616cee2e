/* micro: the floor under one NTS reply on this machine.
 *
 *   crypto     what one authenticated reply costs in nettle, step by step,
 *              with the common/ functions the responder calls: open the
 *              cookie, schedule C2S, verify the request, seal one fresh
 *              cookie, schedule S2C, seal the reply
 *   responder  the pure responder (ntpd/responder.h) end to end on a valid
 *              NTS request and on a plain request
 *   socket     UDP on loopback per packet with recvmmsg/sendmmsg batches
 *              (kernel receive timestamps on, as the daemon has), no crypto
 *   stalls     (only when asked for) how often and how long this machine
 *              takes a core away from a thread that never sleeps: a probe
 *              spins on the clock and files every jump between two reads,
 *              optionally with a spinner busy on another core, since a
 *              hypervisor may treat a guest whose vCPUs are all busy
 *              differently.  A server's latency tail cannot be shorter
 *              than these stalls.
 *
 * Times are thread CPU time (CLOCK_THREAD_CPUTIME_ID), the best of several
 * repetitions, so other load on a shared core does not inflate them.  The
 * last line is machine-readable: "RESULT key=value ...".  Under
 * `valgrind --tool=callgrind bench/micro --only responder` it gives an
 * instruction profile of the responder. */
#include "build_config.h"

#include <errno.h>
#include <linux/net_tstamp.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/cookie.h"
#include "common/ke_export.h"
#include "common/keyset.h"
#include "common/ntp_ef.h"
#include "common/ntp_packet.h"
#include "common/nts_request.h"
#include "common/rng.h"
#include "ntpd/clock.h"
#include "ntpd/responder.h"

#define MICRO_PKT_MAX 1024
#define MICRO_MAX_BATCH 64
#define MICRO_CTL_LEN 128

struct micro_opts {
	unsigned long iterations;	/* per repetition */
	unsigned repeat;
	int cpu;			/* -1: leave the affinity alone */
	bool crypto, responder, socket, wakeup, stalls;
	bool quiet;
	double wake_rate;		/* packets/s in the wakeup test */
	int wake_server_cpu, wake_client_cpu;
	bool wake_block;		/* block in recvmmsg instead of poll */
	int stall_cpu, stall_load_cpu;	/* the probe's core; a spinner's (-1: none) */
	double stall_s;			/* how long the probe runs */
	const char *cert, *key;		/* for the TLS test */
};

/* One request as a client sends it, and what the server needs to answer. */
struct micro_fixture {
	struct keyset *ks;
	const struct master_key *key;
	struct cookie_keys ck;
	uint8_t cookie[COOKIE_MAX_LEN];
	size_t cookie_len;
	uint8_t req[MICRO_PKT_MAX];
	size_t req_len;
	/* Where the authenticator sits in req. */
	size_t ad_len;
	const uint8_t *nonce, *ct;
	size_t nonce_len, ct_len;
	uint8_t plain_req[NTP_HEADER_LEN];
};

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t ntp_now(void *arg)
{
	(void)arg;
	return ntp_ts_now();
}

static int fixture_init(struct micro_fixture *f)
{
	struct aead_ctx c2s;
	struct nts_request rq;
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	struct buf_reader r;
	struct nonce_gen ng;
	uint8_t uid[NTS_UID_LEN], nonce[AEAD_NONCE_LEN], cnonce[16];
	uint16_t nl, cl;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	f->ks = keyset_new();
	if (f->ks == NULL || keyset_generate(f->ks, time(NULL) - 7200) == NULL)
		goto out;
	f->key = keyset_sealing_key(f->ks, time(NULL), 3600);
	f->ck.aead = AEAD_AES_SIV_CMAC_256;
	f->ck.key_len = 32;
	if (rng_bytes(f->ck.c2s, 32) < 0 || rng_bytes(f->ck.s2c, 32) < 0 ||
	    rng_bytes(uid, sizeof(uid)) < 0 || rng_bytes(nonce, sizeof(nonce)) < 0 ||
	    nonce_gen_init(&ng) < 0)
		goto out;
	nonce_gen_next(&ng, cnonce);
	nonce_gen_wipe(&ng);
	f->cookie_len = cookie_seal(f->key, &f->ck, cnonce, f->cookie, sizeof(f->cookie));
	if (f->cookie_len == 0 || aead_set_key(&c2s, f->ck.aead, f->ck.c2s) < 0)
		goto out;

	/* What chrony sends in steady state: no placeholders. */
	memset(&rq, 0, sizeof(rq));
	rq.version = 4;
	rq.tx_ts = ntp_now(NULL);
	rq.uid = uid;
	rq.uid_len = sizeof(uid);
	rq.cookie = f->cookie;
	rq.cookie_len = f->cookie_len;
	rq.c2s = &c2s;
	rq.nonce = nonce;
	rq.nonce_len = c2s.alg->nonce_len;	/* the AEAD's */
	f->req_len = nts_request_build(&rq, f->req, sizeof(f->req));
	if (f->req_len == 0)
		goto out;
	nts_request_build_plain(4, rq.tx_ts, f->plain_req, sizeof(f->plain_req));

	ntp_ef_iter_init(&it, f->req + NTP_HEADER_LEN, f->req_len - NTP_HEADER_LEN);
	while (ntp_ef_next(&it, &ef) == NTP_EF_OK) {
		if (ef.type != NTP_EF_NTS_AUTH)
			continue;
		buf_reader_init(&r, ef.body, ef.body_len);
		buf_get_u16(&r, &nl);
		buf_get_u16(&r, &cl);
		buf_get_span(&r, nl, &f->nonce);
		buf_skip(&r, ntp_ef_pad4(nl) - nl);
		buf_get_span(&r, cl, &f->ct);
		if (r.err)
			goto out;
		f->nonce_len = nl;
		f->ct_len = cl;
		f->ad_len = NTP_HEADER_LEN + ef.offset;
		ret = 0;
	}
out:
	aead_ctx_wipe(&c2s);
	return ret;
}

static void fixture_free(struct micro_fixture *f)
{
	keyset_free(f->ks);
	cookie_keys_wipe(&f->ck);
}

/* Best per-operation time over the repetitions, in ns. */
struct micro_timer {
	const struct micro_opts *o;
	int64_t best;
	unsigned rep;
	int64_t t0;
};

static void timer_start(struct micro_timer *t, const struct micro_opts *o)
{
	t->o = o;
	t->best = INT64_MAX;
	t->rep = 0;
}

static bool timer_next(struct micro_timer *t)
{
	if (t->rep > 0) {
		int64_t d = cpu_ns() - t->t0;

		if (d < t->best)
			t->best = d;
	}
	if (t->rep++ == t->o->repeat)
		return false;
	t->t0 = cpu_ns();
	return true;
}

static double timer_per_op(const struct micro_timer *t, unsigned long ops)
{
	return (double)t->best / (double)ops;
}

static void report(const struct micro_opts *o, const char *name, double ns, const char *what)
{
	if (!o->quiet)
		printf("  %-34s %9.0f ns  %s\n", name, ns, what);
}

/* The crypto of one reply, as ntpd/responder.c does it. */
struct crypto_result {
	double open_cookie, c2s_key, verify, seal_cookie, s2c_key, seal_reply, total;
};

static int bench_crypto(const struct micro_opts *o, const struct micro_fixture *f,
			struct crypto_result *res)
{
	struct micro_timer t;
	struct cookie_keys ck;
	struct aead_ctx c2s, s2c;
	struct nonce_gen ng;
	struct buf_writer w;
	uint8_t plain[MICRO_PKT_MAX], out[MICRO_PKT_MAX], ef[COOKIE_MAX_LEN + 4];
	uint8_t nonce[NONCE_GEN_LEN], *dst;
	size_t clen = f->cookie_len, efl, ad_len, nlen;
	unsigned long i, n = o->iterations;
	volatile int sink = 0;
	int ret = -1;

	if (nonce_gen_init(&ng) < 0)
		return -1;
	memset(out, 0, sizeof(out));
	/* The reply's associated data: header + Unique Identifier field. */
	ad_len = NTP_HEADER_LEN + NTP_EF_HEADER_LEN + NTS_UID_LEN;
	memcpy(out, f->req, ad_len);
	buf_writer_init(&w, ef, sizeof(ef));
	ntp_ef_put_header(&w, NTP_EF_NTS_COOKIE, clen);
	buf_reserve(&w, clen, &dst);
	efl = w.off;

	if (cookie_open(f->ks, f->cookie, clen, &ck) != COOKIE_OK ||
	    aead_set_key(&c2s, ck.aead, ck.c2s) < 0 ||
	    aead_set_key(&s2c, ck.aead, ck.s2c) < 0 ||
	    aead_open(&c2s, f->nonce, f->nonce_len, f->req, f->ad_len, f->ct, f->ct_len,
		      plain) < 0) {
		fprintf(stderr, "micro: the fixture does not verify\n");
		goto out;
	}
	/* The reply nonce: the first nlen bytes of a generated one. */
	nlen = s2c.alg->nonce_len;

	timer_start(&t, o);
	while (timer_next(&t))
		for (i = 0; i < n; i++)
			sink += cookie_open(f->ks, f->cookie, clen, &ck);
	res->open_cookie = timer_per_op(&t, n);
	timer_start(&t, o);
	while (timer_next(&t))
		for (i = 0; i < n; i++)
			sink += aead_set_key(&c2s, ck.aead, ck.c2s);
	res->c2s_key = timer_per_op(&t, n);
	timer_start(&t, o);
	while (timer_next(&t))
		for (i = 0; i < n; i++)
			sink += aead_open(&c2s, f->nonce, f->nonce_len, f->req, f->ad_len,
					  f->ct, f->ct_len, plain);
	res->verify = timer_per_op(&t, n);
	timer_start(&t, o);
	while (timer_next(&t))
		for (i = 0; i < n; i++) {
			nonce_gen_next(&ng, nonce);
			sink += (int)cookie_seal(f->key, &ck, nonce, dst, clen);
		}
	res->seal_cookie = timer_per_op(&t, n);
	timer_start(&t, o);
	while (timer_next(&t))
		for (i = 0; i < n; i++)
			sink += aead_set_key(&s2c, ck.aead, ck.s2c);
	res->s2c_key = timer_per_op(&t, n);
	timer_start(&t, o);
	while (timer_next(&t))
		for (i = 0; i < n; i++) {
			nonce_gen_next(&ng, nonce);
			sink += aead_seal(&s2c, nonce, nlen, out, ad_len, ef, efl,
					  out + ad_len + 8 + nlen);
		}
	res->seal_reply = timer_per_op(&t, n);

	/* All six in sequence, as one reply. */
	timer_start(&t, o);
	while (timer_next(&t))
		for (i = 0; i < n; i++) {
			sink += cookie_open(f->ks, f->cookie, clen, &ck);
			sink += aead_set_key(&c2s, ck.aead, ck.c2s);
			sink += aead_open(&c2s, f->nonce, f->nonce_len, f->req, f->ad_len,
					  f->ct, f->ct_len, plain);
			nonce_gen_next(&ng, nonce);
			sink += (int)cookie_seal(f->key, &ck, nonce, dst, clen);
			sink += aead_set_key(&s2c, ck.aead, ck.s2c);
			nonce_gen_next(&ng, nonce);
			sink += aead_seal(&s2c, nonce, nlen, out, ad_len, ef, efl,
					  out + ad_len + 8 + nlen);
		}
	res->total = timer_per_op(&t, n);
	(void)sink;
	ret = 0;
out:
	cookie_keys_wipe(&ck);
	aead_ctx_wipe(&c2s);
	aead_ctx_wipe(&s2c);
	nonce_gen_wipe(&ng);
	return ret;
}

struct responder_result {
	double nts, plain;
	unsigned long nts_ok;
};

static int bench_responder(const struct micro_opts *o, const struct micro_fixture *f,
			   struct responder_result *res)
{
	static struct responder r;	/* big: keep it off the stack */
	struct responder_request rq;
	struct clock_state cs;
	struct micro_timer t;
	uint8_t out[MICRO_PKT_MAX];
	size_t out_len;
	unsigned long i, n = o->iterations;
	enum ntp_counter c;

	if (responder_init(&r, 3600) < 0)
		return -1;
	memset(&cs, 0, sizeof(cs));
	cs.leap = NTP_LEAP_NONE;
	cs.stratum = 2;
	cs.precision = -24;
	cs.refid = 0x4e545344;	/* "NTSD" */
	memset(&rq, 0, sizeof(rq));
	rq.pkt = f->req;
	rq.len = f->req_len;
	rq.rx_ts = ntp_now(NULL);
	rq.now = time(NULL);
	rq.clock = &cs;
	rq.keys = f->ks;
	rq.tx_time = ntp_now;

	c = responder_handle(&r, &rq, out, sizeof(out), &out_len);
	if (c != NTP_CNT_NTS_REPLY || out_len != f->req_len) {
		fprintf(stderr, "micro: responder said %s (%zu bytes) to a valid request\n",
			ntp_counter_name(c), out_len);
		responder_wipe(&r);
		return -1;
	}
	res->nts_ok = 0;
	timer_start(&t, o);
	while (timer_next(&t))
		for (i = 0; i < n; i++)
			res->nts_ok += responder_handle(&r, &rq, out, sizeof(out), &out_len) ==
				       NTP_CNT_NTS_REPLY;
	res->nts = timer_per_op(&t, n);

	rq.pkt = f->plain_req;
	rq.len = sizeof(f->plain_req);
	timer_start(&t, o);
	while (timer_next(&t))
		for (i = 0; i < n; i++)
			responder_handle(&r, &rq, out, sizeof(out), &out_len);
	res->plain = timer_per_op(&t, n);
	responder_wipe(&r);
	return res->nts_ok == (unsigned long)o->repeat * n ? 0 : -1;
}

/* Loopback UDP: a client socket sends a batch to a server socket, which
 * receives it (with kernel timestamps) and sends it back. */
struct socket_side {
	struct mmsghdr msg[MICRO_MAX_BATCH];
	struct iovec iov[MICRO_MAX_BATCH];
	struct sockaddr_in peer[MICRO_MAX_BATCH];
	uint8_t ctl[MICRO_MAX_BATCH][MICRO_CTL_LEN] __attribute__((aligned(8)));
	uint8_t buf[MICRO_MAX_BATCH][MICRO_PKT_MAX];
};

struct socket_result {
	unsigned batch;
	double server_ns;	/* recvmmsg + sendmmsg on the server socket, per packet */
	double client_ns;	/* the same on the client socket */
};

static void side_prepare(struct socket_side *s, unsigned batch, size_t len, bool rx)
{
	unsigned i;

	memset(s->msg, 0, sizeof(s->msg));
	for (i = 0; i < batch; i++) {
		s->iov[i].iov_base = s->buf[i];
		s->iov[i].iov_len = rx ? sizeof(s->buf[i]) : len;
		s->msg[i].msg_hdr.msg_iov = &s->iov[i];
		s->msg[i].msg_hdr.msg_iovlen = 1;
		if (rx) {
			s->msg[i].msg_hdr.msg_name = &s->peer[i];
			s->msg[i].msg_hdr.msg_namelen = sizeof(s->peer[i]);
			s->msg[i].msg_hdr.msg_control = s->ctl[i];
			s->msg[i].msg_hdr.msg_controllen = sizeof(s->ctl[i]);
		}
	}
}

static int udp_socket(struct sockaddr_in *addr, bool timestamps)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* Software receive timestamps as ntsd's NTP sockets take them. */
	int ts_flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	socklen_t len = sizeof(*addr);

	if (fd < 0)
		return -1;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((timestamps &&
	     setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &ts_flags, sizeof(ts_flags)) < 0) ||
	    bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int bench_socket(const struct micro_opts *o, unsigned batch, size_t len,
			struct socket_result *res)
{
	static struct socket_side cli_tx, cli_rx, srv_rx, srv_tx;
	struct sockaddr_in caddr, saddr;
	int64_t t0, srv, cli, best_srv = INT64_MAX, best_cli = INT64_MAX;
	unsigned long rounds = o->iterations / batch, k;
	unsigned rep, i;
	int cfd, sfd, n, ret = -1;

	if (rounds == 0)
		rounds = 1;
	cfd = udp_socket(&caddr, false);
	sfd = udp_socket(&saddr, true);
	if (cfd < 0 || sfd < 0 || connect(cfd, (struct sockaddr *)&saddr, sizeof(saddr)) < 0)
		goto out;
	side_prepare(&cli_tx, batch, len, false);
	side_prepare(&cli_rx, batch, len, true);
	side_prepare(&srv_rx, batch, len, true);
	side_prepare(&srv_tx, batch, len, false);
	for (rep = 0; rep <= o->repeat; rep++) {
		srv = cli = 0;
		for (k = 0; k < rounds; k++) {
			t0 = cpu_ns();
			if (sendmmsg(cfd, cli_tx.msg, batch, 0) != (int)batch)
				goto out;
			cli += cpu_ns() - t0;

			t0 = cpu_ns();
			for (i = 0; i < batch; i++)
				srv_rx.msg[i].msg_hdr.msg_controllen = MICRO_CTL_LEN;
			n = recvmmsg(sfd, srv_rx.msg, batch, MSG_DONTWAIT, NULL);
			if (n != (int)batch)
				goto out;
			for (i = 0; i < batch; i++) {
				srv_tx.msg[i].msg_hdr.msg_name = &srv_rx.peer[i];
				srv_tx.msg[i].msg_hdr.msg_namelen = srv_rx.msg[i].msg_hdr.msg_namelen;
			}
			if (sendmmsg(sfd, srv_tx.msg, batch, 0) != (int)batch)
				goto out;
			srv += cpu_ns() - t0;

			t0 = cpu_ns();
			for (i = 0; i < batch; i++)
				cli_rx.msg[i].msg_hdr.msg_controllen = MICRO_CTL_LEN;
			if (recvmmsg(cfd, cli_rx.msg, batch, MSG_DONTWAIT, NULL) != (int)batch)
				goto out;
			cli += cpu_ns() - t0;
		}
		/* The first repetition warms up. */
		if (rep > 0 && srv < best_srv)
			best_srv = srv;
		if (rep > 0 && cli < best_cli)
			best_cli = cli;
	}
	res->batch = batch;
	res->server_ns = (double)best_srv / (double)(rounds * batch);
	res->client_ns = (double)best_cli / (double)(rounds * batch);
	ret = 0;
out:
	if (ret < 0)
		fprintf(stderr, "micro: loopback batch of %u: %s\n", batch,
			errno ? strerror(errno) : "short batch");
	if (cfd >= 0)
		close(cfd);
	if (sfd >= 0)
		close(sfd);
	return ret;
}

/* What it costs a server to sleep between packets: a thread on one core
 * blocks in poll() on a UDP socket and echoes every datagram, while a
 * client on another core sends one every 1/rate seconds.  Its CPU time
 * per packet is the floor of any server that sleeps when idle at that
 * rate; the time from the kernel's receive timestamp to the thread
 * running is the floor of the rx -> tx delay. */
#define WAKE_MAX_SAMPLES 200000

struct wake_server {
	int fd;
	bool block;
	int cpu;
	atomic_bool stop;
	uint64_t packets;
	int64_t cpu_ns;
	int64_t *lat;
	size_t n_lat;
};

static int pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void *wake_server_main(void *arg)
{
	static struct socket_side rx, tx;
	struct wake_server *ws = arg;
	struct pollfd pfd = { ws->fd, POLLIN, 0 };
	struct timespec now, ts;
	struct cmsghdr *c;
	int64_t t0;
	int i, n;

	pin_self(ws->cpu);
	side_prepare(&rx, 16, MICRO_PKT_MAX, true);
	side_prepare(&tx, 16, 0, false);
	t0 = cpu_ns();
	while (!atomic_load(&ws->stop)) {
		/* poll then drain, as ntsd's workers do; or block in recvmmsg. */
		if (!ws->block && poll(&pfd, 1, 100) <= 0)
			continue;
		for (i = 0; i < 16; i++)
			rx.msg[i].msg_hdr.msg_controllen = MICRO_CTL_LEN;
		n = recvmmsg(ws->fd, rx.msg, 16, ws->block ? MSG_WAITFORONE : MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		clock_gettime(CLOCK_REALTIME, &now);
		for (i = 0; i < n; i++) {
			struct msghdr *m = &rx.msg[i].msg_hdr;

			for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
				if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
				    ws->n_lat < WAKE_MAX_SAMPLES) {
					/* the first of three: the software one */
					memcpy(&ts, CMSG_DATA(c), sizeof(ts));
					ws->lat[ws->n_lat++] =
						(int64_t)(now.tv_sec - ts.tv_sec) * 1000000000 +
						(now.tv_nsec - ts.tv_nsec);
				}
			tx.iov[i].iov_len = rx.msg[i].msg_len;
			memcpy(tx.buf[i], rx.buf[i], rx.msg[i].msg_len);
			tx.msg[i].msg_hdr.msg_name = &rx.peer[i];
			tx.msg[i].msg_hdr.msg_namelen = rx.msg[i].msg_hdr.msg_namelen;
		}
		if (sendmmsg(ws->fd, tx.msg, (unsigned)n, 0) > 0)
			ws->packets += (uint64_t)n;
	}
	ws->cpu_ns = cpu_ns() - t0;
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

struct wake_result {
	double rate;
	double server_ns;	/* server thread CPU per packet */
	double lat50_ns, lat99_ns;	/* kernel rx timestamp -> thread running */
};

static int bench_wakeup(const struct micro_opts *o, size_t len, struct wake_result *res)
{
	struct wake_server ws;
	struct sockaddr_in caddr, saddr;
	struct timespec next;
	uint8_t pkt[MICRO_PKT_MAX], sink[MICRO_PKT_MAX];
	pthread_t th;
	int64_t step = (int64_t)(1e9 / o->wake_rate);
	unsigned long i, n = (unsigned long)o->wake_rate;	/* one second */
	int cfd, ret = -1;

	memset(&ws, 0, sizeof(ws));
	memset(pkt, 0, sizeof(pkt));
	ws.cpu = o->wake_server_cpu;
	ws.block = o->wake_block;
	ws.lat = calloc(WAKE_MAX_SAMPLES, sizeof(*ws.lat));
	cfd = udp_socket(&caddr, false);
	ws.fd = udp_socket(&saddr, true);
	if (ws.fd >= 0 && ws.block) {
		/* Blocking reads, woken now and then to see the stop flag. */
		struct timeval tv = { 0, 100000 };

		setsockopt(ws.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (ws.lat == NULL || cfd < 0 || ws.fd < 0 ||
	    connect(cfd, (struct sockaddr *)&saddr, sizeof(saddr)) < 0 ||
	    pthread_create(&th, NULL, wake_server_main, &ws) != 0) {
		perror("micro: wakeup");
		goto out;
	}
	pin_self(o->wake_client_cpu);
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	usleep(100000);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < n; i++) {
		next.tv_nsec += step;
		while (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		if (send(cfd, pkt, len, 0) < 0)
			break;
		while (recv(cfd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	usleep(10000);
	atomic_store(&ws.stop, true);
	pthread_join(th, NULL);
	pin_self(o->cpu);
	if (ws.packets == 0 || ws.n_lat == 0)
		goto out;
	qsort(ws.lat, ws.n_lat, sizeof(*ws.lat), cmp_i64);
	res->rate = o->wake_rate;
	res->server_ns = (double)ws.cpu_ns / (double)ws.packets;
	res->lat50_ns = (double)ws.lat[ws.n_lat / 2];
	res->lat99_ns = (double)ws.lat[ws.n_lat * 99 / 100];
	ret = 0;
out:
	if (cfd >= 0)
		close(cfd);
	if (ws.fd >= 0)
		close(ws.fd);
	free(ws.lat);
	return ret;
}

/* Stalls: the probe reads CLOCK_MONOTONIC in a loop and files each jump
 * between two reads at or above a bound.  A jump is time the thread did not
 * run: an interrupt, the guest's scheduler, or the hypervisor giving the
 * vCPU to somebody else (the last also shows as steal in /proc/stat). */
#define STALL_BOUNDS 5
static const int64_t stall_bound_ns[STALL_BOUNDS] = {
	20000, 50000, 200000, 1000000, 5000000,
};

/* "jumps of 50 us or more", into buf. */
static const char *stall_label(char *buf, size_t size, int64_t bound_ns)
{
	if (bound_ns >= 1000000)
		snprintf(buf, size, "jumps of %lld ms or more", (long long)(bound_ns / 1000000));
	else
		snprintf(buf, size, "jumps of %lld us or more", (long long)(bound_ns / 1000));
	return buf;
}

struct stall_result {
	double seconds;
	uint64_t count[STALL_BOUNDS];	/* jumps of at least bound[i] */
	int64_t sum_ns[STALL_BOUNDS];	/* and their total length */
	int64_t max_ns;
	double steal_s;			/* the probe core's steal, /proc/stat */
};

struct stall_spinner {
	int cpu;
	atomic_bool stop;
};

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void *stall_spin_main(void *arg)
{
	struct stall_spinner *sp = arg;

	pin_self(sp->cpu);
	while (!atomic_load_explicit(&sp->stop, memory_order_relaxed))
		;
	return NULL;
}

/* The steal time of one CPU so far, in seconds; -1 when unreadable. */
static double cpu_steal_s(int cpu)
{
	char line[512], name[16];
	unsigned long long v[8];
	double s = -1;
	FILE *f = fopen("/proc/stat", "re");

	if (f == NULL)
		return -1;
	snprintf(name, sizeof(name), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, strlen(name)) == 0 &&
		    sscanf(line + strlen(name), "%llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
			s = (double)v[7] / (double)sysconf(_SC_CLK_TCK);
			break;
		}
	fclose(f);
	return s;
}

static int bench_stalls(const struct micro_opts *o, struct stall_result *res)
{
	struct stall_spinner sp = { .cpu = o->stall_load_cpu };
	pthread_t th;
	int64_t t0, prev, end;
	double steal0;
	int i;

	memset(res, 0, sizeof(*res));
	if (sp.cpu >= 0 && pthread_create(&th, NULL, stall_spin_main, &sp) != 0) {
		perror("micro: stalls: the spinner");
		return -1;
	}
	if (pin_self(o->stall_cpu) < 0) {
		perror("micro: stalls: sched_setaffinity");
		goto fail;
	}
	usleep(100000);
	steal0 = cpu_steal_s(o->stall_cpu);
	t0 = prev = mono_ns();
	end = t0 + (int64_t)(o->stall_s * 1e9);
	while (prev < end) {
		int64_t now = mono_ns(), gap = now - prev;

		prev = now;
		if (gap < stall_bound_ns[0])
			continue;
		for (i = 0; i < STALL_BOUNDS && gap >= stall_bound_ns[i]; i++) {
			res->count[i]++;
			res->sum_ns[i] += gap;
		}
		if (gap > res->max_ns)
			res->max_ns = gap;
	}
	res->seconds = (double)(prev - t0) / 1e9;
	res->steal_s = steal0 < 0 ? -1 : cpu_steal_s(o->stall_cpu) - steal0;
	if (sp.cpu >= 0) {
		atomic_store(&sp.stop, true);
		pthread_join(th, NULL);
	}
	pin_self(o->cpu);
	return 0;
fail:
	if (sp.cpu >= 0) {
		atomic_store(&sp.stop, true);
		pthread_join(th, NULL);
	}
	return -1;
}

/* Prints the stall probe's result unless quiet; appends its RESULT keys to
 * line at off and returns the new end. */
static size_t report_stalls(const struct micro_opts *o, const struct stall_result *st,
			    char *line, size_t size, size_t off)
{
	char name[48];
	int i;

	if (!o->quiet) {
		printf("stalls of a thread that never sleeps, on CPU %d for %.1f s", o->stall_cpu,
		       st->seconds);
		if (o->stall_load_cpu >= 0)
			printf(", CPU %d busy meanwhile", o->stall_load_cpu);
		printf("\n");
		for (i = 0; i < STALL_BOUNDS; i++)
			printf("  %-40s %10.1f/s  %7.3f%% of the time\n",
			       stall_label(name, sizeof(name), stall_bound_ns[i]),
			       (double)st->count[i] / st->seconds,
			       100.0 * (double)st->sum_ns[i] / (st->seconds * 1e9));
		printf("  %-40s %10.1f us\n", "longest", (double)st->max_ns / 1e3);
		if (st->steal_s >= 0)
			printf("  %-40s %10.3f%% of the time\n", "steal (/proc/stat)",
			       100.0 * st->steal_s / st->seconds);
	}
	return off + (size_t)snprintf(line + off, size - off,
				      " stall_cpu=%d stall_load_cpu=%d stall_s=%.1f"
				      " stalls_50us_per_s=%.2f stalls_1ms_per_s=%.2f"
				      " stalled_share=%.5f stall_max_us=%.0f steal_share=%.5f",
				      o->stall_cpu, o->stall_load_cpu, st->seconds,
				      (double)st->count[1] / st->seconds,
				      (double)st->count[3] / st->seconds,
				      (double)st->sum_ns[1] / (st->seconds * 1e9),
				      (double)st->max_ns / 1e3,
				      st->steal_s < 0 ? -1 : st->steal_s / st->seconds);
}

/* The TLS floor of one NTS-KE exchange: an OpenSSL 3.0 TLS 1.3 server
 * configured as nts-ke/tls_ctx.c does, and a client, in one thread over a
 * memory BIO pair (no sockets, no wake-ups).  Only the server's calls are
 * timed: SSL_new, the handshake, reading the request, the two key exports,
 * writing a 880-byte response (8 cookies), close_notify and SSL_free.
 * Variants show what two SSL_CTX settings cost. */
static const unsigned char *const micro_alpn = (const unsigned char *)KE_ALPN_WIRE;

static int micro_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			     const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *o;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&o, outlen, micro_alpn, KE_ALPN_WIRE_LEN, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = o;
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *tls_server_ctx(const char *cert, const char *key, long mode)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, mode);
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_alpn_select_cb(ctx, micro_alpn_select, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static SSL_CTX *tls_client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_alpn_protos(ctx, micro_alpn, KE_ALPN_WIRE_LEN);
	return ctx;
}

/* One exchange; *srv_ns grows by the server's share.  0 or -1. */
static int tls_one(SSL_CTX *sctx, SSL_CTX *cctx, int64_t *srv_ns)
{
	static const uint8_t req[16] = { 0x80, 1, 0, 2, 0, 0, 0x80, 4, 0, 2, 0, 15, 0x80, 0, 0, 0 };
	uint8_t resp[1024], buf[2048], key[32];
	BIO *sb = NULL, *cb = NULL;
	SSL *s = NULL, *c = NULL;
	int64_t t0;
	int i, rs = 0, rc = 0, ret = -1;

	memset(resp, 0x5a, sizeof(resp));
	if (BIO_new_bio_pair(&sb, 0, &cb, 0) != 1)
		return -1;
	c = SSL_new(cctx);
	t0 = cpu_ns();
	s = SSL_new(sctx);
	*srv_ns += cpu_ns() - t0;
	if (s == NULL || c == NULL)
		goto out;
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	sb = cb = NULL;
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (i = 0; i < 8 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1) {
			t0 = cpu_ns();
			rs = SSL_do_handshake(s);
			*srv_ns += cpu_ns() - t0;
		}
	}
	if (rs != 1 || rc != 1 || SSL_write(c, req, sizeof(req)) != sizeof(req))
		goto out;
	t0 = cpu_ns();
	if (SSL_read(s, buf, sizeof(buf)) != sizeof(req) ||
	    ke_export_keys(s, KE_PROTO_NTPV4, AEAD_AES_SIV_CMAC_256, sizeof(key), key, key) < 0 ||
	    SSL_write(s, resp, 880) != 880)
		goto out;
	SSL_shutdown(s);
	*srv_ns += cpu_ns() - t0;
	if (SSL_read(c, buf, sizeof(buf)) != 880)
		goto out;
	ret = 0;
out:
	t0 = cpu_ns();
	SSL_free(s);
	*srv_ns += cpu_ns() - t0;
	SSL_free(c);
	BIO_free(sb);
	BIO_free(cb);
	return ret;
}

struct tls_result {
	double ntsd_like;	/* nts-ke/tls_ctx.c's settings */
	double no_auto_chain;	/* + SSL_MODE_NO_AUTO_CHAIN */
	double no_release;	/* + NO_AUTO_CHAIN, without SSL_MODE_RELEASE_BUFFERS */
};

static int bench_tls(const struct micro_opts *o, struct tls_result *res)
{
	static const long modes[3] = {
		SSL_MODE_RELEASE_BUFFERS,
		SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN,
		SSL_MODE_NO_AUTO_CHAIN,
	};
	double *out[3] = { &res->ntsd_like, &res->no_auto_chain, &res->no_release };
	unsigned long i, n = o->iterations / 20 + 1;
	SSL_CTX *cctx = tls_client_ctx(), *sctx;
	unsigned m, rep;
	int ret = -1;

	if (cctx == NULL)
		return -1;
	for (m = 0; m < 3; m++) {
		int64_t best = INT64_MAX;

		sctx = tls_server_ctx(o->cert, o->key, modes[m]);
		if (sctx == NULL) {
			fprintf(stderr, "micro: cannot load %s / %s\n", o->cert, o->key);
			goto out;
		}
		for (rep = 0; rep <= o->repeat; rep++) {
			int64_t srv = 0;

			for (i = 0; i < n; i++)
				if (tls_one(sctx, cctx, &srv) < 0) {
					fprintf(stderr, "micro: TLS exchange failed\n");
					SSL_CTX_free(sctx);
					goto out;
				}
			if (rep > 0 && srv < best)
				best = srv;
		}
		*out[m] = (double)best / (double)n;
		SSL_CTX_free(sctx);
	}
	ret = 0;
out:
	SSL_CTX_free(cctx);
	return ret;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: micro [OPTION]...\n"
		"Microbenchmarks of the floor under one NTS reply (thread CPU time, best of\n"
		"several repetitions).\n"
		"\n"
		"  -n, --iterations N  operations per repetition (default 20000)\n"
		"  -r, --repeat N      repetitions, the best counts (default 5)\n"
		"  -c, --cpu N         pin to this CPU\n"
		"  -o, --only LIST     comma-separated: crypto, responder, socket, wakeup,\n"
		"                      stalls (default all but stalls; wakeup needs two CPUs)\n"
		"      --wake-rate R   packets/s in the wakeup test (default 20000)\n"
		"      --wake-cpus S,C cores of its server and client threads (default 1,0)\n"
		"      --wake-block    the server blocks in recvmmsg instead of poll()\n"
		"      --stall-cpus P[,L]  the stall probe's core, and a core kept busy beside\n"
		"                      it meanwhile (default 1; 1,0: CPU 0 busy too)\n"
		"      --stall-seconds S   how long the probe runs (default 10)\n"
		"      --cert FILE     with --key: also time the TLS 1.3 server side of one\n"
		"      --key FILE      NTS-KE exchange with this certificate chain and key\n"
		"  -q, --quiet         print only the RESULT line\n"
		"  -h, --help          this help\n");
}

static int parse_only(struct micro_opts *o, const char *arg)
{
	char buf[128], *tok, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	o->crypto = o->responder = o->socket = o->wakeup = o->stalls = false;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "crypto") == 0)
			o->crypto = true;
		else if (strcmp(tok, "responder") == 0)
			o->responder = true;
		else if (strcmp(tok, "socket") == 0)
			o->socket = true;
		else if (strcmp(tok, "wakeup") == 0)
			o->wakeup = true;
		else if (strcmp(tok, "stalls") == 0)
			o->stalls = true;
		else
			return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct micro_opts *o)
{
	static const struct option longopts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "only", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "wake-rate", required_argument, NULL, 'R' },
		{ "wake-cpus", required_argument, NULL, 'W' },
		{ "wake-block", no_argument, NULL, 'B' },
		{ "stall-cpus", required_argument, NULL, 'S' },
		{ "stall-seconds", required_argument, NULL, 'T' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end, junk;
	int c, i;

	memset(o, 0, sizeof(*o));
	o->iterations = 20000;
	o->repeat = 5;
	o->cpu = -1;
	o->crypto = o->responder = o->socket = true;
	o->wakeup = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
	o->wake_rate = 20000;
	o->wake_server_cpu = 1;
	o->wake_client_cpu = 0;
	o->stall_cpu = 1;
	o->stall_load_cpu = -1;
	o->stall_s = 10;
	while ((c = getopt_long(argc, argv, "n:r:c:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->iterations = strtoul(optarg, &end, 10);
			if (*end || o->iterations == 0)
				goto out;
			break;
		case 'r':
			o->repeat = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o->repeat == 0 || o->repeat > 1000)
				goto out;
			break;
		case 'c':
			o->cpu = (int)strtol(optarg, &end, 10);
			if (*end || o->cpu < 0 || o->cpu >= CPU_SETSIZE)
				goto out;
			break;
		case 'o':
			if (parse_only(o, optarg) < 0)
				goto out;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'R':
			o->wake_rate = strtod(optarg, &end);
			if (*end || !(o->wake_rate >= 100 && o->wake_rate <= 1e6))
				goto out;
			break;
		case 'B':
			o->wake_block = true;
			break;
		case 'C':
			o->cert = optarg;
			break;
		case 'K':
			o->key = optarg;
			break;
		case 'W':
			if (sscanf(optarg, "%d,%d", &o->wake_server_cpu, &o->wake_client_cpu) != 2 ||
			    o->wake_server_cpu < 0 || o->wake_client_cpu < 0 ||
			    o->wake_server_cpu >= CPU_SETSIZE || o->wake_client_cpu >= CPU_SETSIZE)
				goto out;
			break;
		case 'S':
			o->stall_load_cpu = -1;
			i = sscanf(optarg, "%d,%d%c", &o->stall_cpu, &o->stall_load_cpu, &junk);
			if ((i != 1 && i != 2) || o->stall_cpu < 0 || o->stall_cpu >= CPU_SETSIZE ||
			    (i == 2 && (o->stall_load_cpu < 0 || o->stall_load_cpu >= CPU_SETSIZE ||
					o->stall_load_cpu == o->stall_cpu)))
				goto out;
			break;
		case 'T':
			o->stall_s = strtod(optarg, &end);
			if (*end || !(o->stall_s >= 0.1 && o->stall_s <= 3600))
				goto out;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc)
		goto out;
	return 0;
out:
	fprintf(stderr, "micro: bad argument%s%s\n", optarg ? ": " : "", optarg ? optarg : "");
	usage(stderr);
	return -1;
}

int main(int argc, char **argv)
{
	static const unsigned batches[] = { 1, 8, 16, 32 };
	struct socket_result sr[sizeof(batches) / sizeof(batches[0])];
	struct crypto_result cr;
	struct responder_result rr;
	struct micro_fixture f;
	struct micro_opts o;
	char line[2048];
	size_t i, n = 0, off = 0;
	int ret = 1;

	memset(&cr, 0, sizeof(cr));
	memset(&rr, 0, sizeof(rr));
	memset(sr, 0, sizeof(sr));
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			perror("micro: sched_setaffinity");
			return 1;
		}
	}
	if (fixture_init(&f) < 0) {
		fprintf(stderr, "micro: cannot build a test request\n");
		fixture_free(&f);
		return 1;
	}
	off += (size_t)snprintf(line + off, sizeof(line) - off,
				"RESULT micro=1 request_bytes=%zu cookie_bytes=%zu",
				f.req_len, f.cookie_len);
	if (!o.quiet)
		printf("NTS request of %zu bytes (cookie %zu, AEAD_AES_SIV_CMAC_256), "
		       "%lu iterations x %u, best:\n", f.req_len, f.cookie_len,
		       o.iterations, o.repeat);
	if (o.crypto) {
		if (bench_crypto(&o, &f, &cr) < 0)
			goto out;
		if (!o.quiet)
			printf("crypto of one reply (nettle, common/ functions as the responder calls them)\n");
		report(&o, "open cookie (master key)", cr.open_cookie, "cookie_open");
		report(&o, "C2S key schedule", cr.c2s_key, "aead_set_key");
		report(&o, "verify request authenticator", cr.verify, "aead_open");
		report(&o, "seal 1 cookie", cr.seal_cookie, "nonce_gen_next + cookie_seal");
		report(&o, "S2C key schedule", cr.s2c_key, "aead_set_key");
		report(&o, "seal reply", cr.seal_reply, "nonce_gen_next + aead_seal");
		report(&o, "all six in sequence", cr.total, "the crypto floor");
		off += (size_t)snprintf(line + off, sizeof(line) - off,
					" crypto_ns=%.0f open_cookie_ns=%.0f c2s_key_ns=%.0f"
					" verify_ns=%.0f seal_cookie_ns=%.0f s2c_key_ns=%.0f"
					" seal_reply_ns=%.0f",
					cr.total, cr.open_cookie, cr.c2s_key, cr.verify,
					cr.seal_cookie, cr.s2c_key, cr.seal_reply);
	}
	if (o.responder) {
		if (bench_responder(&o, &f, &rr) < 0) {
			fprintf(stderr, "micro: the responder did not answer every request\n");
			goto out;
		}
		if (!o.quiet)
			printf("pure responder (ntpd/responder.h), request in -> reply out\n");
		report(&o, "NTS request", rr.nts, "responder_handle");
		report(&o, "plain NTPv4 request", rr.plain, "responder_handle");
		off += (size_t)snprintf(line + off, sizeof(line) - off,
					" responder_nts_ns=%.0f responder_plain_ns=%.0f",
					rr.nts, rr.plain);
	}
	if (o.socket) {
		if (!o.quiet)
			printf("UDP loopback per packet, %zu-byte datagrams, SO_TIMESTAMPING (software "
			       "receive) on the server socket\n", f.req_len);
		for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
			char name[64];

			if (bench_socket(&o, batches[i], f.req_len, &sr[i]) < 0)
				goto out;
			snprintf(name, sizeof(name), "server recv+send, batch %u", batches[i]);
			report(&o, name, sr[i].server_ns, "recvmmsg + sendmmsg");
			off += (size_t)snprintf(line + off, sizeof(line) - off,
						" socket_b%u_ns=%.0f", batches[i], sr[i].server_ns);
			n++;
		}
	}
	if (o.wakeup) {
		struct wake_result wr;

		if (bench_wakeup(&o, f.req_len, &wr) < 0) {
			fprintf(stderr, "micro: the wakeup test failed\n");
			goto out;
		}
		if (!o.quiet) {
			printf("sleeping server at %.0f packets/s (%s, sendmmsg; server on "
			       "CPU %d, client on CPU %d)\n", wr.rate,
			       o.wake_block ? "blocking recvmmsg" : "poll, recvmmsg",
			       o.wake_server_cpu, o.wake_client_cpu);
			report(&o, "server CPU per packet", wr.server_ns, "wake-up + syscalls, no crypto");
			report(&o, "kernel rx timestamp -> running, p50", wr.lat50_ns, "");
			report(&o, "kernel rx timestamp -> running, p99", wr.lat99_ns, "");
		}
		off += (size_t)snprintf(line + off, sizeof(line) - off,
					" wake_rate=%.0f wake_cpu_ns=%.0f wake_lat_p50_ns=%.0f"
					" wake_lat_p99_ns=%.0f", wr.rate, wr.server_ns, wr.lat50_ns,
					wr.lat99_ns);
	}
	if (o.stalls) {
		struct stall_result st;

		if (bench_stalls(&o, &st) < 0)
			goto out;
		off = report_stalls(&o, &st, line, sizeof(line), off);
	}
	if (o.cert != NULL && o.key != NULL) {
		struct tls_result tr;

		if (bench_tls(&o, &tr) < 0)
			goto out;
		if (!o.quiet) {
			printf("TLS 1.3 server side of one NTS-KE exchange (OpenSSL %s, memory BIOs)\n",
			       OpenSSL_version(OPENSSL_VERSION_STRING));
			report(&o, "as nts-ke/tls_ctx.c sets it up", tr.ntsd_like,
			       "SSL_MODE_RELEASE_BUFFERS");
			report(&o, "+ SSL_MODE_NO_AUTO_CHAIN", tr.no_auto_chain, "");
			report(&o, "NO_AUTO_CHAIN, no RELEASE_BUFFERS", tr.no_release, "");
		}
		off += (size_t)snprintf(line + off, sizeof(line) - off,
					" tls_ns=%.0f tls_no_auto_chain_ns=%.0f"
					" tls_no_release_ns=%.0f", tr.ntsd_like, tr.no_auto_chain,
					tr.no_release);
	}
	if (o.crypto && o.socket) {
		/* ntsd receives up to 16 per recvmmsg. */
		double floor = cr.total + sr[2].server_ns;

		if (!o.quiet)
			printf("floor per NTS reply: crypto %.0f + socket (batch 16) %.0f = %.0f ns\n",
			       cr.total, sr[2].server_ns, floor);
		off += (size_t)snprintf(line + off, sizeof(line) - off, " floor_ns=%.0f", floor);
	}
	(void)n;
	printf("%s\n", line);
	ret = 0;
out:
	fixture_free(&f);
	return ret;
}
