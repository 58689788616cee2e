/* ntsbench: a load generator for NTS servers (RFC 8915).
 *
 * Modes:
 *   nts    NTS-KE once per generator thread (client/ke_client.h), then
 *          NTS-authenticated NTPv4 requests (common/nts_request.h); every
 *          reply is checked (mode, origin timestamp, Unique Identifier echo,
 *          authenticator under S2C, at least one cookie) and its cookies feed
 *          the thread's cookie pool
 *   plain  plain 48-byte NTPv4 client requests (origin timestamp checked)
 *   ke     an NTS-KE handshake storm: full TLS 1.3 handshakes with no
 *          session resumption, N connections at once, each response checked
 *   replay NTS-KE a few times, then NTS requests built once (bench/replay.h)
 *          sent again and again; replies filed by their header, 1 in
 *          --verify-every fully verified, so one generator core can load
 *          more than one server core (replay-plain: the same with plain
 *          48-byte requests)
 *
 * Load is a window of requests in flight per source socket (closed loop,
 * the default) or a fixed total rate (--rate).  Each thread owns several
 * UDP sockets (source ports) and sends and receives with sendmmsg and
 * recvmmsg.  Requests carry (slot + 1) << 32 | sequence as their transmit
 * timestamp, which the server echoes as the origin timestamp: that finds
 * the request a reply answers.
 *
 * With --server-cpus the generator reads the busy time of those CPUs
 * (/proc/stat: user + nice + system + irq + softirq + steal) over the same
 * window and reports it per reply too: the kernel's work for the server
 * (softirq, a NAPI thread pinned there) that no process is charged for.
 *
 * With --server-pid the generator reads the server's CPU time (utime +
 * stime of the given processes and all their descendants, /proc/PID/stat)
 * at the start and the end of the measured window and reports CPU per
 * reply (also the first PID's own, first_cpu_us_per: the server without
 * helpers such as NAPI threads given after it), and the server's peak RSS
 * (VmHWM) at the end.
 *
 * Output: a human summary, then one line "RESULT key=value ...". */
#include "build_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bench/replay.h"
#include "client/ke_client.h"
#include "common/aead.h"
#include "common/buf.h"
#include "common/ke_export.h"
#include "common/ke_record.h"
#include "common/log.h"
#include "common/ntp_packet.h"
#include "common/nts_request.h"
#include "common/rng.h"

#define BENCH_MAX_THREADS 64
#define BENCH_MAX_SOCKETS 64
#define BENCH_MAX_BATCH 256
#define BENCH_MAX_PIDS 16
#define BENCH_PKT_MAX 1024
#define BENCH_POOL_CAP 4096
/* Placeholders per request while the cookie pool is being filled. */
#define BENCH_FILL_PLACEHOLDERS 7
#define BENCH_SCAN_NS 20000000LL
#define BENCH_RCVBUF (4 << 20)
#define HIST_SUB 64
#define HIST_BUCKETS (HIST_SUB * 40)
#define NS_PER_S 1000000000LL
#define BENCH_MAX_CPUS 1024
#define BENCH_MAX_SESSIONS 64
#define BENCH_MAX_REQUESTS (1 << 20)
#define BENCH_MIN_REQUESTS 4096

enum bench_mode { MODE_NTS, MODE_PLAIN, MODE_KE, MODE_REPLAY, MODE_REPLAY_PLAIN };

struct bench_opts {
	enum bench_mode mode;
	const char *server;
	const char *source;		/* --source: local address literal, NULL: any */
	uint16_t port;			/* NTP; 0: what NTS-KE says, else 123 */
	uint16_t ke_port;
	const char *ca_file;
	const char *verify_name;
	bool no_verify;
	unsigned threads;
	unsigned sockets;		/* per thread */
	unsigned window;		/* in flight per socket, closed loop */
	double rate;			/* total requests/s; 0: closed loop */
	double duration, warmup;	/* seconds */
	unsigned timeout_ms;
	unsigned batch;
	unsigned concurrency;		/* ke mode: connections at once */
	pid_t pids[BENCH_MAX_PIDS];
	size_t n_pids;
	const char *label;
	const char *hist_file;		/* --hist: the latency histograms, as text */
	bool quiet;
	/* replay */
	unsigned sessions;		/* NTS-KE exchanges for the cookie pool */
	unsigned requests;		/* per thread; 0: enough for the load */
	unsigned verify_every;		/* 1 in N replies fully verified; 0: none */
	bool flood;			/* open loop, as fast as the generator sends */
	bool cpus[BENCH_MAX_CPUS];	/* --server-cpus */
	size_t n_cpus;
};

/* Log-linear histogram of nanoseconds, 1/64 relative resolution. */
struct hist {
	uint64_t n;
	uint64_t b[HIST_BUCKETS];
};

struct gen_stats {
	uint64_t sent;			/* requests sent in the window */
	uint64_t valid, nak, kod, invalid, lost;	/* outcomes of those */
	uint64_t invalid_by[NTS_REPLY_STATUS_COUNT];
	uint64_t oversize;		/* replies longer than their request */
	uint64_t window_valid;		/* valid replies received in the window */
	uint64_t window_replies;	/* any reply received in the window */
	uint64_t stray;			/* replies to no outstanding request */
	uint64_t unsent;		/* rate mode: no free slot, not sent */
	uint64_t send_errors, recv_errors;
	uint64_t cookie_reuse;		/* in the window, pool empty: a cookie sent twice */
	uint64_t placeholder_reqs;	/* in the window, requests that asked for more cookies */
	uint64_t ke_ok, ke_fail;
	uint64_t verified, verify_failed;	/* replay: the sampled full checks */
	uint64_t verify_by[NTS_REPLY_STATUS_COUNT];
	char ke_error[160];
	struct hist rtt, srv;		/* round trip; server rx -> tx */
};

struct slot {
	uint64_t tx_ts;			/* 0: free */
	int64_t sent_ns;
	size_t req_len;
	unsigned sock;
	bool counted;			/* sent inside the window */
	bool reused, placeholders;	/* its cookie was sent before; it asked for more */
	uint8_t uid[NTS_UID_LEN];
};

/* Cookies of one NTS-KE session, FIFO. */
struct cookie_pool {
	uint8_t c[BENCH_POOL_CAP][KE_MAX_COOKIE_LEN];
	size_t len[BENCH_POOL_CAP];
	size_t head, count;
	uint8_t last[KE_MAX_COOKIE_LEN];
	size_t last_len;
};

struct bench;

struct gen_thread {
	struct bench *b;
	unsigned index;
	pthread_t thread;
	bool started;
	int fds[BENCH_MAX_SOCKETS];
	struct pollfd pfd[BENCH_MAX_SOCKETS];
	unsigned n_fds;
	struct nonce_gen ng;
	bool have_keys;
	struct aead_ctx c2s, s2c;
	struct cookie_pool *pool;
	size_t pool_target;
	struct slot *slots;
	unsigned n_slots;
	unsigned *free_slots;
	unsigned n_free;
	uint32_t seq;
	uint64_t sent_total;		/* rate mode pacing */
	/* one sendmmsg batch being built, for one socket */
	struct mmsghdr tx[BENCH_MAX_BATCH];
	struct iovec tx_iov[BENCH_MAX_BATCH];
	unsigned tx_slot[BENCH_MAX_BATCH];
	uint8_t tx_buf[BENCH_MAX_BATCH][BENCH_PKT_MAX];
	unsigned n_tx;
	int tx_sock;
	struct mmsghdr rx[BENCH_MAX_BATCH];
	struct iovec rx_iov[BENCH_MAX_BATCH];
	uint8_t rx_buf[BENCH_MAX_BATCH][BENCH_PKT_MAX];
	struct nts_reply reply;
	struct gen_stats st;
	/* replay: the requests, and per request its state and send time */
	struct replay_set *rs;
	uint8_t *rstate;
	int64_t *rsent;
	unsigned *rfree;		/* window: FIFO ring of requests not in flight */
	size_t rfree_head, rfree_n, rnext;
	unsigned r_out;			/* window: requests in flight */
	unsigned rsock;			/* window: the socket the next refill goes on */
	uint64_t sample;
};

struct bench {
	struct bench_opts o;
	struct sockaddr_storage addr;	/* NTP server */
	socklen_t addr_len;
	struct sockaddr_storage src;	/* --source, port 0 */
	socklen_t src_len;		/* 0: no --source */
	pthread_barrier_t go;
	int64_t t_begin, t_start, t_end;	/* CLOCK_MONOTONIC ns */
	atomic_bool abort;
	SSL_CTX *ssl_ctx;		/* ke mode */
	uint8_t ke_req[64];
	size_t ke_req_len;
	struct replay_session *sessions;	/* replay */
	size_t n_sessions;
	struct gen_thread *threads;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static int64_t process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { (time_t)(t / NS_PER_S), (long)(t % NS_PER_S) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
	       !interrupted)
		;
}

/* --- histograms ----------------------------------------------------------- */

static unsigned hist_index(uint64_t v)
{
	unsigned e, idx;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);
	idx = (e - 5) * HIST_SUB + (unsigned)((v >> (e - 6)) - HIST_SUB);
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* The middle of bucket idx. */
static uint64_t hist_value(unsigned idx)
{
	unsigned e;
	uint64_t m;

	if (idx < HIST_SUB)
		return idx;
	e = idx / HIST_SUB + 5;
	m = idx % HIST_SUB + HIST_SUB;
	return (m << (e - 6)) + ((1ULL << (e - 6)) >> 1);
}

static void hist_add(struct hist *h, int64_t ns)
{
	h->b[hist_index(ns < 0 ? 0 : (uint64_t)ns)]++;
	h->n++;
}

static void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
}

/* Percentile p (0-100) in microseconds; -1 when empty. */
static double hist_pct_us(const struct hist *h, double p)
{
	uint64_t want, sum = 0;
	unsigned i;

	if (h->n == 0)
		return -1;
	/* ceil without libm */
	want = (uint64_t)((double)h->n * p / 100.0);
	if ((double)want < (double)h->n * p / 100.0)
		want++;
	if (want == 0)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		sum += h->b[i];
		if (sum >= want)
			return (double)hist_value(i) / 1000.0;
	}
	return (double)hist_value(HIST_BUCKETS - 1) / 1000.0;
}

/* One line per non-empty bucket: "NAME US COUNT" (the bucket's middle). */
static void hist_write(FILE *f, const char *name, const struct hist *h)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		if (h->b[i])
			fprintf(f, "%s %.3f %" PRIu64 "\n", name, (double)hist_value(i) / 1000.0,
				h->b[i]);
}

/* --hist FILE: the measured window's histograms, for bench/compare's plots. */
static int hist_write_file(const char *path, bool ke, const struct gen_stats *st)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (f == NULL) {
		fprintf(stderr, "ntsbench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# ntsbench latency histogram: series microseconds count\n");
	if (ke) {
		hist_write(f, "ke", &st->rtt);
	} else {
		hist_write(f, "rtt", &st->rtt);
		hist_write(f, "srv", &st->srv);
	}
	if (ferror(f))
		ret = -1;
	if (fclose(f) != 0)
		ret = -1;
	if (ret < 0)
		fprintf(stderr, "ntsbench: %s: write failed\n", path);
	return ret;
}

/* --- the server's processes ------------------------------------------------ */

struct proc_info {
	pid_t pid, ppid;
	uint64_t ticks;			/* utime + stime + cutime + cstime */
};

static int proc_read(pid_t pid, struct proc_info *out)
{
	char path[64], buf[1024], *p;
	unsigned long long v[17];
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -1;
	p += 2;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime */
	if (*p == '\0')
		return -1;
	p++;
	for (i = 0; i < 14; i++) {
		char *end;

		v[i] = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	out->pid = pid;
	out->ppid = (pid_t)v[0];
	out->ticks = v[10] + v[11] + v[12] + v[13];
	return 0;
}

/* Every process that is one of pids or descends from one. */
static size_t proc_tree(const pid_t *pids, size_t n_pids, struct proc_info *out, size_t cap)
{
	struct proc_info *all = NULL, pi;
	size_t n_all = 0, cap_all = 0, n = 0, i, j;
	struct dirent *de;
	DIR *d = opendir("/proc");
	bool grew;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (proc_read((pid_t)atoi(de->d_name), &pi) < 0)
			continue;
		if (n_all == cap_all) {
			struct proc_info *na;

			cap_all = cap_all ? cap_all * 2 : 512;
			na = realloc(all, cap_all * sizeof(*all));
			if (na == NULL)
				break;
			all = na;
		}
		all[n_all++] = pi;
	}
	closedir(d);
	for (i = 0; i < n_all && n < cap; i++)
		for (j = 0; j < n_pids; j++)
			if (all[i].pid == pids[j]) {
				out[n++] = all[i];
				break;
			}
	do {
		grew = false;
		for (i = 0; i < n_all && n < cap; i++) {
			bool known = false, child = false;

			for (j = 0; j < n; j++) {
				known |= out[j].pid == all[i].pid;
				child |= out[j].pid == all[i].ppid;
			}
			if (!known && child) {
				out[n++] = all[i];
				grew = true;
			}
		}
	} while (grew);
	free(all);
	return n;
}

/* CPU seconds of the server processes so far; n set to how many. */
static double server_cpu_s(const pid_t *pids, size_t n_pids, size_t *n_procs)
{
	struct proc_info pi[64];
	uint64_t ticks = 0;
	size_t i, n = proc_tree(pids, n_pids, pi, 64);

	for (i = 0; i < n; i++)
		ticks += pi[i].ticks;
	*n_procs = n;
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* Sum of VmHWM over the server processes, kB. */
static long server_hwm_kb(const struct bench_opts *o)
{
	struct proc_info pi[64];
	size_t i, n = proc_tree(o->pids, o->n_pids, pi, 64);
	long sum = 0, v;
	char path[64], line[256];
	FILE *f;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pi[i].pid);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
				sum += v;
		fclose(f);
	}
	return sum;
}

/* Busy seconds of the --server-cpus so far, from /proc/stat: user + nice +
 * system + irq + softirq + steal (guest time is inside user); *soft_s the
 * irq + softirq part (no process is charged for it), *idle_s idle +
 * iowait.  -1 when unreadable or a CPU is missing.  The busy fields are
 * sampled at the tick, which a tickless idle CPU woken often misses; idle
 * is measured at each idle entry and exit, so wall time less idle is the
 * better busy figure under light load. */
static double cores_busy_s(const struct bench_opts *o, double *soft_s, double *idle_s)
{
	unsigned long long v[8], busy = 0, soft = 0, idle = 0;
	char line[512];
	size_t seen = 0;
	unsigned cpu;
	FILE *f = fopen("/proc/stat", "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 9 ||
		    cpu >= BENCH_MAX_CPUS || !o->cpus[cpu])
			continue;
		/* user nice system idle iowait irq softirq steal */
		busy += v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
		soft += v[5] + v[6];
		idle += v[3] + v[4];
		seen++;
	}
	fclose(f);
	if (seen != o->n_cpus)
		return -1;
	*soft_s = (double)soft / (double)sysconf(_SC_CLK_TCK);
	*idle_s = (double)idle / (double)sysconf(_SC_CLK_TCK);
	return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

/* "1", "0,2", "2-3": into o->cpus; 0 or -1. */
static int parse_cpus(const char *s, struct bench_opts *o)
{
	unsigned long a, b;
	char *end;

	memset(o->cpus, 0, sizeof(o->cpus));
	o->n_cpus = 0;
	for (;;) {
		errno = 0;
		a = strtoul(s, &end, 10);
		if (errno || end == s || a >= BENCH_MAX_CPUS)
			return -1;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (errno || end == s || b >= BENCH_MAX_CPUS || b < a)
				return -1;
		}
		for (; a <= b; a++) {
			o->n_cpus += !o->cpus[a];
			o->cpus[a] = true;
		}
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

/* --- NTP load --------------------------------------------------------------- */

static void pool_push(struct cookie_pool *p, const uint8_t *c, size_t len)
{
	size_t at;

	if (len > KE_MAX_COOKIE_LEN)
		return;
	memcpy(p->last, c, len);
	p->last_len = len;
	if (p->count == BENCH_POOL_CAP)
		return;
	at = (p->head + p->count) % BENCH_POOL_CAP;
	memcpy(p->c[at], c, len);
	p->len[at] = len;
	p->count++;
}

/* The next cookie to send; false when the pool is empty (p->last is then
 * sent again). */
static bool pool_take(struct cookie_pool *p, const uint8_t **c, size_t *len)
{
	if (p->count == 0) {
		*c = p->last;
		*len = p->last_len;
		return false;
	}
	*c = p->c[p->head];
	*len = p->len[p->head];
	p->head = (p->head + 1) % BENCH_POOL_CAP;
	p->count--;
	return true;
}

/* Bind fd to --source (any port) when one was given; 0 or -1. */
static int bind_source(const struct bench *b, int fd)
{
	if (b->src_len == 0)
		return 0;
	if (bind(fd, (const struct sockaddr *)&b->src, b->src_len) < 0) {
		fprintf(stderr, "ntsbench: bind %s: %s\n", b->o.source, strerror(errno));
		return -1;
	}
	return 0;
}

static int udp_connect(const struct bench *b)
{
	int fd, sz = BENCH_RCVBUF;

	fd = socket(b->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* FORCE needs CAP_NET_ADMIN; the plain option is capped by rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind_source(b, fd) < 0 ||
	    connect(fd, (const struct sockaddr *)&b->addr, b->addr_len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool in_window(const struct bench *b, int64_t now)
{
	return now >= b->t_start && now < b->t_end;
}

/* sendmmsg the batch t->tx[0..n_tx) on the current socket; how many went.
 * ECONNREFUSED from an earlier ICMP error, or a full queue: the rest is
 * unsent (counted), and its requests go unanswered. */
static unsigned send_batch(struct gen_thread *t, int flags)
{
	unsigned done = 0;
	int r;

	while (done < t->n_tx) {
		r = sendmmsg(t->fds[t->tx_sock], t->tx + done, t->n_tx - done, flags);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			t->st.send_errors++;
			break;
		}
		done += (unsigned)r;
	}
	return done;
}

static void flush_tx(struct gen_thread *t)
{
	int64_t now;
	unsigned i;

	if (t->n_tx == 0)
		return;
	now = mono_ns();
	for (i = 0; i < t->n_tx; i++) {
		struct slot *s = &t->slots[t->tx_slot[i]];

		s->sent_ns = now;
		s->counted = in_window(t->b, now);
		if (s->counted) {
			t->st.sent++;
			t->st.cookie_reuse += s->reused;
			t->st.placeholder_reqs += s->placeholders;
		}
	}
	send_batch(t, 0);
	t->n_tx = 0;
}

/* Build a request for slot `si` on socket `sock` into the tx batch. */
static void queue_request(struct gen_thread *t, unsigned si, unsigned sock)
{
	const struct bench_opts *o = &t->b->o;
	struct slot *s = &t->slots[si];
	uint8_t *pkt, nonce[NONCE_GEN_LEN];
	size_t len;

	if (t->n_tx > 0 && (t->tx_sock != (int)sock || t->n_tx == o->batch))
		flush_tx(t);
	t->tx_sock = (int)sock;
	pkt = t->tx_buf[t->n_tx];
	s->sock = sock;
	s->tx_ts = (uint64_t)(si + 1) << 32 | ++t->seq;
	if (o->mode == MODE_PLAIN) {
		len = nts_request_build_plain(4, s->tx_ts, pkt, BENCH_PKT_MAX);
	} else {
		struct nts_request rq;

		memset(&rq, 0, sizeof(rq));
		nonce_gen_next(&t->ng, s->uid);
		nonce_gen_next(&t->ng, s->uid + 16);
		nonce_gen_next(&t->ng, nonce);
		rq.version = 4;
		rq.tx_ts = s->tx_ts;
		rq.uid = s->uid;
		rq.uid_len = NTS_UID_LEN;
		s->reused = !pool_take(t->pool, &rq.cookie, &rq.cookie_len);
		/* Ask for more cookies only while the pool is short. */
		s->placeholders = t->pool->count < t->pool_target;
		if (s->placeholders) {
			size_t want = t->pool_target - t->pool->count;

			rq.placeholders = want < BENCH_FILL_PLACEHOLDERS ? (unsigned)want :
									   BENCH_FILL_PLACEHOLDERS;
		}
		rq.c2s = &t->c2s;
		rq.nonce = nonce;
		rq.nonce_len = t->c2s.alg->nonce_len;	/* the AEAD's */
		len = nts_request_build(&rq, pkt, BENCH_PKT_MAX);
	}
	s->req_len = len;
	t->tx_iov[t->n_tx].iov_base = pkt;
	t->tx_iov[t->n_tx].iov_len = len;
	t->tx_slot[t->n_tx] = si;
	t->n_tx++;
}

static void free_slot(struct gen_thread *t, unsigned si)
{
	t->slots[si].tx_ts = 0;
	if (t->b->o.rate > 0)
		t->free_slots[t->n_free++] = si;
}

/* A slot just came free: in closed loop it goes out again at once. */
static void reuse_slot(struct gen_thread *t, unsigned si, unsigned sock, int64_t now)
{
	if (t->b->o.rate > 0 || now >= t->b->t_end) {
		free_slot(t, si);
		return;
	}
	queue_request(t, si, sock);
}

static void handle_reply(struct gen_thread *t, const uint8_t *pkt, size_t len, int64_t now)
{
	const struct bench_opts *o = &t->b->o;
	enum nts_reply_status st;
	struct slot *s;
	uint64_t origin;
	unsigned si;
	size_t i;
	bool win = in_window(t->b, now);

	if (len < NTP_HEADER_LEN) {
		t->st.stray++;
		return;
	}
	origin = buf_load_u64(pkt + 24);
	si = (unsigned)(origin >> 32) - 1;
	if ((origin >> 32) == 0 || si >= t->n_slots || t->slots[si].tx_ts != origin) {
		/* Late (already counted lost) or not ours. */
		t->st.stray++;
		return;
	}
	s = &t->slots[si];
	st = nts_reply_parse(pkt, len, origin, s->uid, NTS_UID_LEN,
			     o->mode == MODE_PLAIN ? NULL : &t->s2c, &t->reply);
	if (win)
		t->st.window_replies++;
	if (st == NTS_REPLY_OK && len > s->req_len) {
		/* An amplifying reply is a broken server. */
		st = NTS_REPLY_ERR_FIELDS;
		if (s->counted)
			t->st.oversize++;
	}
	if (st == NTS_REPLY_OK) {
		for (i = 0; i < t->reply.n_cookies; i++)
			pool_push(t->pool, t->reply.cookie[i], t->reply.cookie_len[i]);
		if (win)
			t->st.window_valid++;
		if (s->counted) {
			t->st.valid++;
			hist_add(&t->st.rtt, now - s->sent_ns);
			hist_add(&t->st.srv, (int64_t)(ntp_ts_diff(t->reply.hdr.tx_ts,
								   t->reply.hdr.rx_ts) * 1e9));
		}
	} else if (s->counted) {
		if (st == NTS_REPLY_NAK)
			t->st.nak++;
		else if (st == NTS_REPLY_KOD)
			t->st.kod++;
		else
			t->st.invalid++;
		t->st.invalid_by[st]++;
	}
	reuse_slot(t, si, s->sock, now);
}

static void receive(struct gen_thread *t, unsigned sock)
{
	const struct bench_opts *o = &t->b->o;
	unsigned i, rounds;
	int64_t now;
	int n;

	for (rounds = 0; rounds < 8; rounds++) {
		for (i = 0; i < o->batch; i++)
			t->rx_iov[i].iov_len = BENCH_PKT_MAX;
		n = recvmmsg(t->fds[sock], t->rx, o->batch, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				t->st.recv_errors++;
			break;
		}
		now = mono_ns();
		for (i = 0; i < (unsigned)n; i++)
			handle_reply(t, t->rx_buf[i], t->rx[i].msg_len, now);
		flush_tx(t);
		if ((unsigned)n < o->batch)
			break;
	}
}

/* Requests unanswered after the timeout are lost. */
static void expire(struct gen_thread *t, int64_t now)
{
	int64_t limit = now - (int64_t)t->b->o.timeout_ms * 1000000;
	unsigned i;

	for (i = 0; i < t->n_slots; i++) {
		struct slot *s = &t->slots[i];

		if (s->tx_ts == 0 || s->sent_ns > limit)
			continue;
		if (s->counted)
			t->st.lost++;
		reuse_slot(t, i, s->sock, now);
	}
	flush_tx(t);
}

/* Rate mode: send what is due by now, round robin over the sockets. */
static void send_due(struct gen_thread *t, int64_t now, double rate)
{
	uint64_t due = (uint64_t)((double)(now - t->b->t_begin) * rate / 1e9);
	unsigned sock = (unsigned)(t->sent_total % t->n_fds);

	while (t->sent_total < due) {
		if (t->n_free == 0) {
			if (in_window(t->b, now))
				t->st.unsent++;
		} else {
			queue_request(t, t->free_slots[--t->n_free], sock);
		}
		t->sent_total++;
		sock = (sock + 1) % t->n_fds;
	}
	flush_tx(t);
}

/* The thread's UDP sockets and its sendmmsg / recvmmsg vectors. */
static int thread_sockets(struct gen_thread *t)
{
	unsigned i;

	for (i = 0; i < t->b->o.sockets; i++) {
		t->fds[i] = udp_connect(t->b);
		if (t->fds[i] < 0)
			return -1;
		t->pfd[i].fd = t->fds[i];
		t->pfd[i].events = POLLIN;
		t->n_fds++;
	}
	for (i = 0; i < BENCH_MAX_BATCH; i++) {
		t->tx[i].msg_hdr.msg_iov = &t->tx_iov[i];
		t->tx[i].msg_hdr.msg_iovlen = 1;
		t->rx_iov[i].iov_base = t->rx_buf[i];
		t->rx_iov[i].iov_len = BENCH_PKT_MAX;
		t->rx[i].msg_hdr.msg_iov = &t->rx_iov[i];
		t->rx[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

static int ntp_thread_setup(struct gen_thread *t)
{
	const struct bench_opts *o = &t->b->o;
	unsigned i;

	if (nonce_gen_init(&t->ng) < 0)
		return -1;
	if (o->rate > 0) {
		double per = o->rate / o->threads * o->timeout_ms / 1000.0 * 2 + 64;

		t->n_slots = per > (1 << 20) ? (1 << 20) : (unsigned)per;
	} else {
		t->n_slots = o->sockets * o->window;
	}
	t->slots = calloc(t->n_slots, sizeof(*t->slots));
	t->free_slots = calloc(t->n_slots, sizeof(*t->free_slots));
	if (t->slots == NULL || t->free_slots == NULL)
		return -1;
	for (i = 0; i < t->n_slots; i++)
		t->free_slots[i] = t->n_slots - 1 - i;
	t->n_free = t->n_slots;
	t->pool_target = o->rate > 0 ? 64 : t->n_slots + 8;
	return thread_sockets(t);
}

static size_t outstanding_counted(const struct gen_thread *t)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < t->n_slots; i++)
		n += t->slots[i].tx_ts != 0 && t->slots[i].counted;
	return n;
}

/* What a mode plugs into load_loop. */
struct load_ops {
	void (*send_due)(struct gen_thread *t, int64_t now, double rate);	/* --rate */
	void (*refill)(struct gen_thread *t);	/* closed loop; NULL: replies resend */
	void (*send_flood)(struct gen_thread *t);	/* --flood */
	void (*expire)(struct gen_thread *t, int64_t now);
	void (*receive)(struct gen_thread *t, unsigned sock);
	size_t (*counted_out)(const struct gen_thread *t);	/* sent in the window, unanswered */
};

/* The generator thread's event loop, for every UDP mode: until the
 * window's end, then until each request sent in it is answered or timed
 * out (a flood stops at once: its loss is counted, not tracked). */
static void load_loop(struct gen_thread *t, const struct load_ops *ops)
{
	const struct bench *b = t->b;
	const struct bench_opts *o = &b->o;
	double rate = o->rate / o->threads;
	int64_t now, next_scan = 0, drain_end = b->t_end + (int64_t)o->timeout_ms * 1000000;
	struct timespec ts;
	unsigned s;

	for (;;) {
		int64_t wait = 10000000;

		now = mono_ns();
		if (interrupted || atomic_load(&t->b->abort))
			break;
		if (now >= b->t_end && (o->flood || now >= drain_end || ops->counted_out(t) == 0))
			break;
		if (o->flood) {
			/* Replies first: one the generator drops is lost work. */
			for (s = 0; s < t->n_fds; s++)
				ops->receive(t, s);
			if (now < b->t_end)
				ops->send_flood(t);
			continue;
		}
		if (rate > 0 && now < b->t_end) {
			ops->send_due(t, now, rate);
			wait = b->t_begin + (int64_t)((double)(t->sent_total + 1) * 1e9 / rate) -
			       mono_ns();
			wait = wait < 0 ? 0 : wait > 10000000 ? 10000000 : wait;
		} else if (ops->refill && now < b->t_end) {
			ops->refill(t);
		}
		if (now >= next_scan) {
			ops->expire(t, now);
			next_scan = now + BENCH_SCAN_NS;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = wait;
		if (ppoll(t->pfd, t->n_fds, &ts, NULL) <= 0)
			continue;
		for (s = 0; s < t->n_fds; s++)
			if (t->pfd[s].revents & (POLLIN | POLLERR))
				ops->receive(t, s);
	}
}

static void ntp_thread_run(struct gen_thread *t)
{
	static const struct load_ops ops = {
		.send_due = send_due, .expire = expire, .receive = receive,
		.counted_out = outstanding_counted,
	};
	const struct bench_opts *o = &t->b->o;
	unsigned i, s;

	if (o->rate <= 0) {
		/* Closed loop: fill every socket's window. */
		for (s = 0; s < t->n_fds; s++)
			for (i = 0; i < o->window; i++) {
				t->n_free--;
				queue_request(t, s * o->window + i, s);
			}
		flush_tx(t);
	}
	load_loop(t, &ops);
	/* Whatever is still out was never answered. */
	t->st.lost += outstanding_counted(t);
}

/* --- replay ------------------------------------------------------------------- */

#define RS_OUT 1			/* sent, no reply yet (window and rate modes) */
#define RS_COUNTED 2			/* sent inside the measured window */

static bool is_replay(enum bench_mode m)
{
	return m == MODE_REPLAY || m == MODE_REPLAY_PLAIN;
}

/* Requests per thread: every one in flight at most once for the window,
 * or reused only after twice the timeout at the thread's rate. */
static size_t replay_count(const struct bench_opts *o)
{
	double n = o->requests;

	if (n == 0) {
		n = BENCH_MIN_REQUESTS;
		if (o->rate > 0 && !o->flood && o->rate / o->threads * o->timeout_ms / 500.0 + 64 > n)
			n = o->rate / o->threads * o->timeout_ms / 500.0 + 64;
	}
	if (!o->flood && o->rate <= 0 && n < 2.0 * o->sockets * o->window)
		n = 2.0 * o->sockets * o->window;
	return n > BENCH_MAX_REQUESTS ? BENCH_MAX_REQUESTS : (size_t)n;
}

static int replay_thread_setup(struct gen_thread *t)
{
	const struct bench *b = t->b;
	size_t i, n = replay_count(&b->o);
	uint32_t salt;

	if (rng_bytes(&salt, sizeof(salt)) < 0)
		return -1;
	t->rs = replay_set_new(b->sessions, b->n_sessions, n, salt,
			       b->o.mode == MODE_REPLAY_PLAIN);
	t->rstate = calloc(n, sizeof(*t->rstate));
	t->rsent = calloc(n, sizeof(*t->rsent));
	t->rfree = calloc(n, sizeof(*t->rfree));
	if (t->rs == NULL || t->rstate == NULL || t->rsent == NULL || t->rfree == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < n; i++)
		t->rfree[i] = (unsigned)i;
	t->rfree_n = n;
	return thread_sockets(t);
}

static void replay_free_push(struct gen_thread *t, unsigned k)
{
	size_t n = replay_set_count(t->rs);

	t->rfree[(t->rfree_head + t->rfree_n) % n] = k;
	t->rfree_n++;
}

/* Send the batch; each sent request is marked in flight. */
static void replay_flush(struct gen_thread *t)
{
	int64_t now;
	unsigned i, done;
	bool win, window_mode = t->b->o.rate <= 0 && !t->b->o.flood;

	if (t->n_tx == 0)
		return;
	done = send_batch(t, MSG_DONTWAIT);
	now = mono_ns();
	win = in_window(t->b, now);
	if (win)
		t->st.sent += done;
	if (t->b->o.flood) {
		/* No state per request: its loss is counted, not tracked. */
		t->n_tx = 0;
		return;
	}
	for (i = 0; i < t->n_tx; i++) {
		unsigned k = t->tx_slot[i];

		if (i >= done) {
			if (window_mode) {
				t->r_out--;
				replay_free_push(t, k);
			}
			continue;
		}
		t->rsent[k] = now;
		t->rstate[k] = (uint8_t)(RS_OUT | (win ? RS_COUNTED : 0));
	}
	t->n_tx = 0;
}

static void replay_queue(struct gen_thread *t, unsigned k, unsigned sock)
{
	size_t len;
	const uint8_t *pkt = replay_set_packet(t->rs, k, &len);

	if (t->n_tx > 0 && (t->tx_sock != (int)sock || t->n_tx == t->b->o.batch))
		replay_flush(t);
	t->tx_sock = (int)sock;
	/* sendmmsg only reads it. */
	t->tx_iov[t->n_tx].iov_base = (void *)(uintptr_t)pkt;
	t->tx_iov[t->n_tx].iov_len = len;
	t->tx_slot[t->n_tx] = k;
	t->n_tx++;
}

/* Window mode: back up to sockets x window in flight, a batch per socket
 * in turn (the next call goes on with the next socket), so the load
 * spreads over the source ports a server may steer by. */
static void replay_fill(struct gen_thread *t)
{
	const struct bench_opts *o = &t->b->o;
	unsigned want = o->sockets * o->window, queued = 0;
	size_t n = replay_set_count(t->rs);

	/* At most a window's worth a call: failed sends come back free. */
	while (t->r_out < want && t->rfree_n > 0 && queued++ < want) {
		unsigned k = t->rfree[t->rfree_head];

		t->rfree_head = (t->rfree_head + 1) % n;
		t->rfree_n--;
		t->r_out++;
		replay_queue(t, k, t->rsock);
		if (t->n_tx == o->batch)
			t->rsock = (t->rsock + 1) % t->n_fds;
	}
	replay_flush(t);
	t->rsock = (t->rsock + 1) % t->n_fds;
}

/* Rate and flood modes: the next request round robin; in rate mode one
 * still unanswered (after twice the timeout, replay_count) is lost. */
static void replay_next(struct gen_thread *t, unsigned sock)
{
	unsigned k = (unsigned)t->rnext;

	t->rnext = (t->rnext + 1) % replay_set_count(t->rs);
	if (!t->b->o.flood && (t->rstate[k] & (RS_OUT | RS_COUNTED)) == (RS_OUT | RS_COUNTED))
		t->st.lost++;
	t->rstate[k] = 0;
	replay_queue(t, k, sock);
}

static void replay_send_due(struct gen_thread *t, int64_t now, double rate)
{
	uint64_t due = (uint64_t)((double)(now - t->b->t_begin) * rate / 1e9);

	while (t->sent_total < due) {
		replay_next(t, (unsigned)(t->sent_total % t->n_fds));
		t->sent_total++;
	}
	replay_flush(t);
}

static void replay_send_flood(struct gen_thread *t)
{
	unsigned s, i;

	for (s = 0; s < t->n_fds; s++) {
		for (i = 0; i < t->b->o.batch; i++)
			replay_next(t, s);
		replay_flush(t);
	}
}

/* The sampled full check of a reply to request k. */
static void replay_sample(struct gen_thread *t, size_t k, const uint8_t *pkt, size_t len)
{
	enum nts_reply_status st;

	if (t->b->o.verify_every == 0 || ++t->sample % t->b->o.verify_every != 0)
		return;
	st = replay_verify(t->rs, k, pkt, len, &t->reply);
	if (st == NTS_REPLY_OK) {
		t->st.verified++;
	} else {
		t->st.verify_failed++;
		t->st.verify_by[st]++;
	}
}

static void replay_reply(struct gen_thread *t, const uint8_t *pkt, size_t len, int64_t now)
{
	const struct bench_opts *o = &t->b->o;
	enum replay_class c;
	size_t k = 0;
	bool counted, win = in_window(t->b, now);

	c = replay_classify(t->rs, pkt, len, &k);
	if (c == REPLAY_STRAY) {
		t->st.stray++;
		return;
	}
	if (o->flood) {
		counted = win;
	} else {
		if (!(t->rstate[k] & RS_OUT)) {
			/* Late (already counted lost) or a duplicate. */
			t->st.stray++;
			return;
		}
		counted = t->rstate[k] & RS_COUNTED;
		t->rstate[k] = 0;
		if (o->rate <= 0) {
			t->r_out--;
			replay_free_push(t, (unsigned)k);
		}
	}
	if (win && c == REPLAY_REPLY)
		t->st.window_valid++;
	if (!counted)
		return;
	switch (c) {
	case REPLAY_REPLY:
		t->st.valid++;
		if (!o->flood)
			hist_add(&t->st.rtt, now - t->rsent[k]);
		hist_add(&t->st.srv, (int64_t)(ntp_ts_diff(buf_load_u64(pkt + 40),
							   buf_load_u64(pkt + 32)) * 1e9));
		replay_sample(t, k, pkt, len);
		break;
	case REPLAY_NAK:
		t->st.nak++;
		break;
	case REPLAY_KOD:
		t->st.kod++;
		break;
	default:
		t->st.invalid++;
		t->st.oversize++;
		break;
	}
}

/* Everything queued on one socket, in batches. */
static void replay_receive(struct gen_thread *t, unsigned sock)
{
	unsigned i, batch = t->b->o.batch;
	int64_t now;
	int n;

	for (;;) {
		for (i = 0; i < batch; i++)
			t->rx_iov[i].iov_len = BENCH_PKT_MAX;
		n = recvmmsg(t->fds[sock], t->rx, batch, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				t->st.recv_errors++;
			return;
		}
		now = mono_ns();
		for (i = 0; i < (unsigned)n; i++)
			replay_reply(t, t->rx_buf[i], t->rx[i].msg_len, now);
		if ((unsigned)n < batch)
			return;
	}
}

/* Window and rate modes: requests unanswered after the timeout are lost. */
static void replay_expire(struct gen_thread *t, int64_t now)
{
	int64_t limit = now - (int64_t)t->b->o.timeout_ms * 1000000;
	size_t k, n = replay_set_count(t->rs);

	for (k = 0; k < n; k++) {
		if (!(t->rstate[k] & RS_OUT) || t->rsent[k] > limit)
			continue;
		t->st.lost += (t->rstate[k] & RS_COUNTED) != 0;
		t->rstate[k] = 0;
		if (t->b->o.rate <= 0) {
			t->r_out--;
			replay_free_push(t, (unsigned)k);
		}
	}
}

static size_t replay_counted_out(const struct gen_thread *t)
{
	size_t k, n = replay_set_count(t->rs), out = 0;

	for (k = 0; k < n; k++)
		out += (t->rstate[k] & (RS_OUT | RS_COUNTED)) == (RS_OUT | RS_COUNTED);
	return out;
}

static void replay_thread_run(struct gen_thread *t)
{
	static const struct load_ops ops = {
		.send_due = replay_send_due, .refill = replay_fill, .send_flood = replay_send_flood,
		.expire = replay_expire, .receive = replay_receive,
		.counted_out = replay_counted_out,
	};
	uint64_t answered;

	load_loop(t, &ops);
	if (t->b->o.flood) {
		answered = t->st.valid + t->st.nak + t->st.kod + t->st.invalid;
		t->st.lost = t->st.sent > answered ? t->st.sent - answered : 0;
	} else {
		t->st.lost += replay_counted_out(t);
	}
}

/* --- NTS-KE ------------------------------------------------------------------ */

static int ke_exchange(const struct bench_opts *o, struct ke_client_result *res)
{
	struct ke_client_opts ko;

	memset(&ko, 0, sizeof(ko));
	ko.host = o->server;
	ko.port = o->ke_port;
	ko.ca_file = o->ca_file;
	ko.verify_name = o->verify_name;
	ko.no_verify = o->no_verify;
	ko.bind_addr = o->source;
	ko.timeout_ms = 5000;
	return ke_client_exchange(&ko, res);
}

static SSL_CTX *storm_ctx(const struct bench_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	/* Every handshake is a full one, as each NTS-KE client's first is. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)KE_ALPN_WIRE,
				    KE_ALPN_WIRE_LEN) != 0)
		goto out;
	if (!o->no_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (o->ca_file ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1 :
				 SSL_CTX_set_default_verify_paths(ctx) != 1)
			goto out;
	}
	return ctx;
out:
	SSL_CTX_free(ctx);
	return NULL;
}

static int tcp_connect(const struct bench *b, unsigned timeout_ms)
{
	struct timeval tv = { (time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000 };
	int fd, one = 1;

	fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind_source(b, fd) < 0 ||
	    connect(fd, (const struct sockaddr *)&b->addr, b->addr_len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One full NTS-KE exchange; 0 when the response is a good one. */
static int storm_one(struct gen_thread *t, char *err, size_t err_len)
{
	const struct bench *b = t->b;
	const struct bench_opts *o = &b->o;
	const char *name = o->verify_name ? o->verify_name : o->server;
	uint8_t resp[KE_CLIENT_RESPONSE_MAX], key[AEAD_MAX_KEY_LEN];
	struct ke_reply reply;
	enum ke_reply_status st = KE_REPLY_INCOMPLETE;
	size_t len = 0;
	char why[96] = "";
	SSL *ssl = NULL;
	int fd, n, ret = -1;

	err[0] = '\0';
	fd = tcp_connect(b, o->timeout_ms);
	if (fd < 0) {
		snprintf(err, err_len, "connect: %s", strerror(errno));
		return -1;
	}
	ssl = SSL_new(b->ssl_ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
		goto out;
	if (!o->no_verify && ke_client_set_peer_name(ssl, name) < 0)
		goto out;
	if (SSL_connect(ssl) != 1 ||
	    SSL_write(ssl, b->ke_req, (int)b->ke_req_len) != (int)b->ke_req_len)
		goto out;
	while (len < sizeof(resp) && !ke_records_complete(resp, len)) {
		n = SSL_read(ssl, resp + len, (int)(sizeof(resp) - len));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	st = ke_reply_parse(resp, len, &reply);
	if (st != KE_REPLY_OK) {
		snprintf(err, err_len, "bad NTS-KE response (%zu bytes): %s", len,
			 ke_reply_status_str(st));
		goto out;
	}
	if (ke_reply_unusable(&reply, why, sizeof(why)) ||
	    reply.aead != AEAD_AES_SIV_CMAC_256) {
		snprintf(err, err_len, "bad NTS-KE response (%zu bytes): %s", len,
			 why[0] ? why : "not AEAD 15");
		goto out;
	}
	/* The keys a client derives; part of every real exchange. */
	if (ke_export_keys(ssl, reply.protocol, reply.aead, aead_key_len(reply.aead), key,
			   key) < 0)
		goto out;
	buf_wipe(key, sizeof(key));
	SSL_shutdown(ssl);
	ret = 0;
out:
	/* A TLS failure left no message of its own. */
	if (ret < 0 && err[0] == '\0')
		snprintf(err, err_len, "TLS: %s", log_openssl_reason(why, sizeof(why),
			 errno ? strerror(errno) : "connection closed"));
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	return ret;
}

static void storm_thread_run(struct gen_thread *t)
{
	const struct bench *b = t->b;
	int64_t t0, t1;
	char err[160];

	for (;;) {
		t0 = mono_ns();
		if (t0 >= b->t_end || interrupted || atomic_load(&t->b->abort))
			break;
		if (storm_one(t, err, sizeof(err)) < 0) {
			if (in_window(b, t0)) {
				t->st.ke_fail++;
				snprintf(t->st.ke_error, sizeof(t->st.ke_error), "%s", err);
			}
			/* Do not spin on a dead server. */
			usleep(1000);
			continue;
		}
		t1 = mono_ns();
		if (in_window(b, t1)) {
			t->st.ke_ok++;
			hist_add(&t->st.rtt, t1 - t0);
		}
	}
}

static void *thread_main(void *arg)
{
	struct gen_thread *t = arg;
	int ok = 0;

	if (is_replay(t->b->o.mode) ? replay_thread_setup(t) < 0 :
	    t->b->o.mode != MODE_KE && ntp_thread_setup(t) < 0) {
		fprintf(stderr, "ntsbench: thread %u: setup failed: %s\n", t->index,
			strerror(errno));
		ok = -1;
	}
	if (ok < 0)
		atomic_store(&t->b->abort, true);
	pthread_barrier_wait(&t->b->go);
	if (ok < 0 || atomic_load(&t->b->abort))
		return NULL;
	if (t->b->o.mode == MODE_KE)
		storm_thread_run(t);
	else if (is_replay(t->b->o.mode))
		replay_thread_run(t);
	else
		ntp_thread_run(t);
	return NULL;
}

/* --- options ------------------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ntsbench [OPTION]... SERVER\n"
		"Load generator for NTS (RFC 8915) servers: NTS-authenticated NTP, plain NTP\n"
		"or NTS-KE handshakes; every reply is verified.\n"
		"\n"
		"  -m, --mode MODE        nts (default), plain, ke, replay or replay-plain\n"
		"  -p, --port N           NTP port (default: from NTS-KE, else 123)\n"
		"  -k, --ke-port N        NTS-KE port (default %u)\n"
		"      --ca FILE          CA certificate(s) to verify the server with\n"
		"      --verify-name NAME name to verify (default SERVER)\n"
		"      --no-verify        do not verify the certificate\n"
		"      --source ADDR      send from this local address (NTS-KE and NTP; an\n"
		"                         address literal of the server's family)\n"
		"  -t, --threads N        generator threads (default 1); in ke mode the\n"
		"                         connections at once unless --concurrency is given\n"
		"  -s, --sockets N        UDP sockets (source ports) per thread (default 4)\n"
		"  -w, --window N         requests in flight per socket, closed loop (default 16)\n"
		"  -r, --rate R           total requests/s at a fixed rate instead of a window\n"
		"  -c, --concurrency N    ke mode: handshakes at once (default: threads)\n"
		"  -d, --duration S       measured seconds (default 10)\n"
		"      --warmup S         seconds before measuring (default 1)\n"
		"      --timeout MS       a request unanswered this long is lost (default 1000)\n"
		"  -b, --batch N          datagrams per sendmmsg/recvmmsg (default 32)\n"
		"      --hist FILE        write the measured window's latency histograms to FILE\n"
		"                         (lines: rtt|srv|ke MICROSECONDS COUNT)\n"
		"      --server-pid PID   the server's process (repeatable): report its CPU time\n"
		"                         (with all descendant processes) per reply and peak RSS;\n"
		"                         the first one's alone too (first_cpu_us_per)\n"
		"      --server-cpus LIST the server's CPUs (e.g. 1 or 2-3): report their busy\n"
		"                         time (/proc/stat, softirq included) per reply; with\n"
		"                         --server-pid also the server's own: its processes'\n"
		"                         CPU plus those CPUs' irq and softirq time\n"
		"  -l, --label TEXT       label echoed in the RESULT line\n"
		"  -q, --quiet            only the RESULT line\n"
		"  -h, --help             this help\n"
		"\n"
		"Replay (-m replay): NTS-KE --sessions times, then --requests NTS requests are\n"
		"built once, each with its own Unique Identifier and transmit timestamp, spread\n"
		"over the sessions' cookies, no placeholders, and sent again and again: the\n"
		"server sees the same request (cookie, identifier, timestamp) many times, which\n"
		"ntsd and chronyd answer (RFC 8915 asks a server for no replay check; ntsd's\n"
		"rate limit is off unless configured).  Replies are filed by their header (mode,\n"
		"origin, KoD, length); 1 in --verify-every is fully verified (authenticator\n"
		"under S2C, Unique Identifier, a cookie inside).  -m replay-plain: the same with\n"
		"48-byte plain requests, no NTS-KE.  Load: the window (default), --rate, or\n"
		"--flood.\n"
		"      --sessions N       NTS-KE exchanges for the cookie pool (default 4)\n"
		"      --requests N       requests built per thread (default: enough for the load)\n"
		"      --verify-every N   fully verify 1 reply in N (default 64; 1: all; 0: none)\n"
		"      --flood            open loop: send as fast as the generator can, receive\n"
		"                         between batches; loss is sent minus answered\n"
		"\n"
		"The last line of output is \"RESULT key=value ...\".\n", KE_DEFAULT_PORT);
}

static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_CA = 256,
	OPT_VERIFY_NAME,
	OPT_NO_VERIFY,
	OPT_WARMUP,
	OPT_TIMEOUT,
	OPT_SERVER_PID,
	OPT_HIST,
	OPT_SESSIONS,
	OPT_REQUESTS,
	OPT_VERIFY_EVERY,
	OPT_FLOOD,
	OPT_SERVER_CPUS,
	OPT_SOURCE,
};

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "ke-port", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, OPT_CA },
		{ "verify-name", required_argument, NULL, OPT_VERIFY_NAME },
		{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
		{ "threads", required_argument, NULL, 't' },
		{ "sockets", required_argument, NULL, 's' },
		{ "window", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "batch", required_argument, NULL, 'b' },
		{ "server-pid", required_argument, NULL, OPT_SERVER_PID },
		{ "hist", required_argument, NULL, OPT_HIST },
		{ "sessions", required_argument, NULL, OPT_SESSIONS },
		{ "requests", required_argument, NULL, OPT_REQUESTS },
		{ "verify-every", required_argument, NULL, OPT_VERIFY_EVERY },
		{ "flood", no_argument, NULL, OPT_FLOOD },
		{ "server-cpus", required_argument, NULL, OPT_SERVER_CPUS },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "label", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c, ret = -1;

	memset(o, 0, sizeof(*o));
	o->mode = MODE_NTS;
	o->ke_port = KE_DEFAULT_PORT;
	o->threads = 1;
	o->sockets = 4;
	o->window = 16;
	o->duration = 10;
	o->warmup = 1;
	o->timeout_ms = 1000;
	o->batch = 32;
	o->label = "-";
	o->sessions = 4;
	o->verify_every = 64;
	while ((c = getopt_long(argc, argv, "m:p:k:t:s:w:r:c:d:b:l:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "nts") == 0)
				o->mode = MODE_NTS;
			else if (strcmp(optarg, "plain") == 0)
				o->mode = MODE_PLAIN;
			else if (strcmp(optarg, "ke") == 0)
				o->mode = MODE_KE;
			else if (strcmp(optarg, "replay") == 0)
				o->mode = MODE_REPLAY;
			else if (strcmp(optarg, "replay-plain") == 0)
				o->mode = MODE_REPLAY_PLAIN;
			else
				goto out;
			break;
		case 'p':
			if (parse_uint(optarg, 1, 65535, &v) < 0)
				goto out;
			o->port = (uint16_t)v;
			break;
		case 'k':
			if (parse_uint(optarg, 1, 65535, &v) < 0)
				goto out;
			o->ke_port = (uint16_t)v;
			break;
		case OPT_CA:
			o->ca_file = optarg;
			break;
		case OPT_VERIFY_NAME:
			o->verify_name = optarg;
			break;
		case OPT_NO_VERIFY:
			o->no_verify = true;
			break;
		case 't':
			if (parse_uint(optarg, 1, BENCH_MAX_THREADS, &v) < 0)
				goto out;
			o->threads = (unsigned)v;
			break;
		case 's':
			if (parse_uint(optarg, 1, BENCH_MAX_SOCKETS, &v) < 0)
				goto out;
			o->sockets = (unsigned)v;
			break;
		case 'w':
			if (parse_uint(optarg, 1, 4096, &v) < 0)
				goto out;
			o->window = (unsigned)v;
			break;
		case 'r':
			if (parse_double(optarg, 1, 1e8, &o->rate) < 0)
				goto out;
			break;
		case 'c':
			if (parse_uint(optarg, 1, BENCH_MAX_THREADS, &v) < 0)
				goto out;
			o->concurrency = (unsigned)v;
			break;
		case 'd':
			if (parse_double(optarg, 0.1, 86400, &o->duration) < 0)
				goto out;
			break;
		case OPT_WARMUP:
			if (parse_double(optarg, 0, 3600, &o->warmup) < 0)
				goto out;
			break;
		case OPT_TIMEOUT:
			if (parse_uint(optarg, 1, 60000, &v) < 0)
				goto out;
			o->timeout_ms = (unsigned)v;
			break;
		case 'b':
			if (parse_uint(optarg, 1, BENCH_MAX_BATCH, &v) < 0)
				goto out;
			o->batch = (unsigned)v;
			break;
		case OPT_SERVER_PID:
			if (parse_uint(optarg, 1, 0x7fffffff, &v) < 0 || o->n_pids == BENCH_MAX_PIDS)
				goto out;
			o->pids[o->n_pids++] = (pid_t)v;
			break;
		case OPT_HIST:
			o->hist_file = optarg;
			break;
		case OPT_SESSIONS:
			if (parse_uint(optarg, 1, BENCH_MAX_SESSIONS, &v) < 0)
				goto out;
			o->sessions = (unsigned)v;
			break;
		case OPT_REQUESTS:
			if (parse_uint(optarg, 1, BENCH_MAX_REQUESTS, &v) < 0)
				goto out;
			o->requests = (unsigned)v;
			break;
		case OPT_VERIFY_EVERY:
			if (parse_uint(optarg, 0, 1000000, &v) < 0)
				goto out;
			o->verify_every = (unsigned)v;
			break;
		case OPT_FLOOD:
			o->flood = true;
			break;
		case OPT_SERVER_CPUS:
			if (parse_cpus(optarg, o) < 0)
				goto out;
			break;
		case OPT_SOURCE: {
			struct in6_addr a;

			if (inet_pton(AF_INET, optarg, &a) != 1 && inet_pton(AF_INET6, optarg, &a) != 1)
				goto out;
			o->source = optarg;
			break;
		}
		case 'l':
			o->label = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "ntsbench: name one SERVER address\n");
		usage(stderr);
		return -1;
	}
	o->server = argv[optind];
	if (o->mode == MODE_KE) {
		if (o->concurrency)
			o->threads = o->concurrency;
		o->concurrency = o->threads;
	}
	if ((o->flood || o->requests) && !is_replay(o->mode)) {
		fprintf(stderr, "ntsbench: --flood and --requests are for the replay modes\n");
		return -1;
	}
	if (o->flood && o->rate > 0) {
		fprintf(stderr, "ntsbench: --flood or --rate, not both\n");
		return -1;
	}
	if (strchr(o->label, ' ') || strchr(o->label, '=')) {
		fprintf(stderr, "ntsbench: the label may hold no spaces or '='\n");
		return -1;
	}
	return 0;
out:
	fprintf(stderr, "ntsbench: bad value for an option: %s\n", optarg);
	usage(stderr);
	return ret;
}

static int resolve(struct bench *b, uint16_t port)
{
	struct addrinfo hints, *ai;
	char ps[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = b->o.mode == MODE_KE ? SOCK_STREAM : SOCK_DGRAM;
	snprintf(ps, sizeof(ps), "%u", port);
	rc = getaddrinfo(b->o.server, ps, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "ntsbench: %s: %s\n", b->o.server, gai_strerror(rc));
		return -1;
	}
	memcpy(&b->addr, ai->ai_addr, ai->ai_addrlen);
	b->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (b->o.source == NULL)
		return 0;
	hints.ai_family = b->addr.ss_family;
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	rc = getaddrinfo(b->o.source, NULL, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "ntsbench: --source %s: not an address of the server's family"
			" (%s)\n", b->o.source, gai_strerror(rc));
		return -1;
	}
	memcpy(&b->src, ai->ai_addr, ai->ai_addrlen);
	b->src_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* --- main -------------------------------------------------------------------- */

static const char *mode_name(enum bench_mode m)
{
	static const char *const names[] = {
		[MODE_NTS] = "nts", [MODE_PLAIN] = "plain", [MODE_KE] = "ke",
		[MODE_REPLAY] = "replay", [MODE_REPLAY_PLAIN] = "replay-plain",
	};

	return names[m];
}

/* What the measured window cost the server: its processes' CPU time and
 * its cores' busy time. */
struct server_cost {
	double cpu_s;
	double first_cpu_s;		/* the first --server-pid's tree alone */
	size_t n_procs;
	long hwm_kb;
	double core_s;			/* -1: no --server-cpus, or unreadable */
	double soft_s;			/* the irq + softirq part of core_s */
	double nonidle_s;		/* wall time x CPUs less their idle time */
};

/* Replay: what the sampled full checks found. */
static void print_verified(const struct bench_opts *o, const struct gen_stats *st)
{
	unsigned i;

	printf("  verified 1 in %u replies fully: %" PRIu64 " ok, %" PRIu64 " failed\n",
	       o->verify_every, st->verified, st->verify_failed);
	for (i = 0; i < NTS_REPLY_STATUS_COUNT; i++)
		if (st->verify_by[i])
			printf("    failed: %s %" PRIu64 "\n",
			       nts_reply_status_str((enum nts_reply_status)i), st->verify_by[i]);
}

static void print_results(const struct bench *b, const struct gen_stats *st, double window_s,
			  const struct server_cost *sc, double gen_cpu_s)
{
	const struct bench_opts *o = &b->o;
	double cpu_s = sc->cpu_s, core_us = -1, own_us = -1, nonidle_us = -1;
	size_t n_procs = sc->n_procs;
	long hwm_kb = sc->hwm_kb;
	double per_s, loss = 0, cpu_us = -1, first_us = -1, gen_util = gen_cpu_s / window_s;
	uint64_t done;
	unsigned i;

	if (o->mode == MODE_KE) {
		done = st->ke_ok;
		per_s = (double)st->ke_ok / window_s;
	} else {
		done = st->window_valid;
		per_s = (double)st->window_valid / window_s;
		if (st->sent > 0)
			loss = (double)st->lost / (double)st->sent;
	}
	if (o->n_pids > 0 && done > 0) {
		cpu_us = cpu_s * 1e6 / (double)done;
		first_us = sc->first_cpu_s * 1e6 / (double)done;
	}
	if (sc->core_s >= 0 && done > 0) {
		core_us = sc->core_s * 1e6 / (double)done;
		nonidle_us = sc->nonidle_s * 1e6 / (double)done;
	}
	/* The server's own: its processes and its cores' interrupt work,
	 * none of what other processes there spent. */
	if (sc->core_s >= 0 && o->n_pids > 0 && done > 0)
		own_us = (cpu_s + sc->soft_s) * 1e6 / (double)done;

	if (!o->quiet) {
		printf("ntsbench %s against %s: %u thread%s", mode_name(o->mode), o->server,
		       o->threads, o->threads == 1 ? "" : "s");
		if (o->mode == MODE_KE)
			printf(", %u handshakes at once", o->concurrency);
		else if (o->flood)
			printf(" x %u sockets, flood", o->sockets);
		else if (o->rate > 0)
			printf(" x %u sockets, %.0f requests/s", o->sockets, o->rate);
		else
			printf(" x %u sockets x %u in flight", o->sockets, o->window);
		printf(", %.1f s measured\n", window_s);
		if (o->mode == MODE_KE) {
			printf("  handshakes: %" PRIu64 " ok (%.0f/s), %" PRIu64 " failed%s%s\n",
			       st->ke_ok, per_s, st->ke_fail, st->ke_fail ? ": " : "",
			       st->ke_fail ? st->ke_error : "");
			printf("  latency: p50 %.0f us, p99 %.0f us\n", hist_pct_us(&st->rtt, 50),
			       hist_pct_us(&st->rtt, 99));
		} else {
			printf("  sent %" PRIu64 ": valid %" PRIu64 ", NAK %" PRIu64 ", KoD %" PRIu64
			       ", invalid %" PRIu64 ", lost %" PRIu64 " (%.3f%%)\n",
			       st->sent, st->valid, st->nak, st->kod, st->invalid, st->lost,
			       loss * 100);
			for (i = 0; i < NTS_REPLY_STATUS_COUNT; i++)
				if (i != NTS_REPLY_OK && i != NTS_REPLY_NAK && i != NTS_REPLY_KOD &&
				    st->invalid_by[i])
					printf("    invalid: %s %" PRIu64 "\n",
					       nts_reply_status_str((enum nts_reply_status)i),
					       st->invalid_by[i]);
			if (is_replay(o->mode))
				print_verified(o, st);
			printf("  %s: %.0f/s (sent %.0f/s)\n",
			       is_replay(o->mode) ? "replies" : "valid replies", per_s,
			       (double)st->sent / window_s);
			printf("  round trip: p50 %.1f us, p99 %.1f us; server rx->tx: p50 %.1f us, "
			       "p99 %.1f us\n", hist_pct_us(&st->rtt, 50), hist_pct_us(&st->rtt, 99),
			       hist_pct_us(&st->srv, 50), hist_pct_us(&st->srv, 99));
			if (st->unsent || st->stray || st->send_errors || st->recv_errors ||
			    st->cookie_reuse || st->oversize)
				printf("  unsent %" PRIu64 ", stray %" PRIu64 ", send errors %" PRIu64
				       ", receive errors %" PRIu64 ", cookies reused %" PRIu64
				       ", oversize %" PRIu64 "\n", st->unsent, st->stray,
				       st->send_errors, st->recv_errors, st->cookie_reuse,
				       st->oversize);
		}
		if (o->n_pids > 0)
			printf("  server: %.3f CPU s in %zu process%s, %.2f us per %s, "
			       "peak RSS %ld kB\n", cpu_s, n_procs, n_procs == 1 ? "" : "es",
			       cpu_us, o->mode == MODE_KE ? "handshake" : "valid reply", hwm_kb);
		if (o->n_pids > 1)
			printf("  the first --server-pid (%d) and its descendants: %.2f us per %s\n",
			       (int)o->pids[0], first_us, o->mode == MODE_KE ? "handshake" : "valid reply");
		if (sc->core_s >= 0)
			printf("  server cores (%zu): %.3f busy s (%.2f of them; irq + softirq %.3f s),"
			       " %.2f us per %s; not idle %.3f s, %.2f us per %s\n", o->n_cpus,
			       sc->core_s, sc->core_s / window_s, sc->soft_s, core_us,
			       o->mode == MODE_KE ? "handshake" : "reply", sc->nonidle_s, nonidle_us,
			       o->mode == MODE_KE ? "handshake" : "reply");
		if (own_us >= 0)
			printf("  server processes + its cores' irq and softirq: %.2f us per %s\n",
			       own_us, o->mode == MODE_KE ? "handshake" : "reply");
		printf("  generator: %.2f cores busy%s\n", gen_util,
		       gen_util > 0.9 * o->threads && o->mode != MODE_KE ?
		       " (the generator may be the limit)" : "");
	}
	printf("RESULT label=%s mode=%s threads=%u sockets=%u window=%u rate=%.0f "
	       "duration=%.3f", o->label, mode_name(o->mode), o->threads,
	       o->mode == MODE_KE ? 0 : o->sockets,
	       o->mode == MODE_KE || o->rate > 0 ? 0 : o->window, o->rate, window_s);
	if (o->mode == MODE_KE)
		printf(" handshakes=%" PRIu64 " failed=%" PRIu64 " per_s=%.1f"
		       " p50_us=%.1f p99_us=%.1f", st->ke_ok, st->ke_fail, per_s,
		       hist_pct_us(&st->rtt, 50), hist_pct_us(&st->rtt, 99));
	else
		printf(" sent=%" PRIu64 " valid=%" PRIu64 " nak=%" PRIu64 " kod=%" PRIu64
		       " invalid=%" PRIu64 " lost=%" PRIu64 " loss=%.6f per_s=%.1f"
		       " rtt_p50_us=%.1f rtt_p99_us=%.1f srv_p50_us=%.1f srv_p99_us=%.1f"
		       " stray=%" PRIu64 " unsent=%" PRIu64 " cookie_reuse=%" PRIu64
		       " placeholder_reqs=%" PRIu64 " oversize=%" PRIu64,
		       st->sent, st->valid, st->nak, st->kod, st->invalid, st->lost, loss, per_s,
		       hist_pct_us(&st->rtt, 50), hist_pct_us(&st->rtt, 99),
		       hist_pct_us(&st->srv, 50), hist_pct_us(&st->srv, 99),
		       st->stray, st->unsent, st->cookie_reuse, st->placeholder_reqs,
		       st->oversize);
	if (is_replay(o->mode))
		printf(" flood=%d sent_per_s=%.1f verify_every=%u verified=%" PRIu64
		       " verify_failed=%" PRIu64, o->flood, (double)st->sent / window_s,
		       o->verify_every, st->verified, st->verify_failed);
	if (o->n_pids > 0)
		printf(" server_procs=%zu server_cpu_s=%.3f cpu_us_per=%.3f server_hwm_kb=%ld"
		       " first_cpu_us_per=%.3f", n_procs, cpu_s, cpu_us, hwm_kb, first_us);
	if (sc->core_s >= 0)
		printf(" server_cores=%zu core_busy_s=%.3f core_soft_s=%.3f core_us_per=%.3f"
		       " core_util=%.3f own_us_per=%.3f core_nonidle_s=%.3f nonidle_us_per=%.3f",
		       o->n_cpus, sc->core_s, sc->soft_s, core_us,
		       sc->core_s / window_s / (double)o->n_cpus, own_us, sc->nonidle_s, nonidle_us);
	printf(" gen_cpu=%.3f\n", gen_util);
}

static void merge(struct gen_stats *dst, const struct gen_stats *s)
{
	unsigned i;

	dst->sent += s->sent;
	dst->valid += s->valid;
	dst->nak += s->nak;
	dst->kod += s->kod;
	dst->invalid += s->invalid;
	dst->lost += s->lost;
	for (i = 0; i < NTS_REPLY_STATUS_COUNT; i++)
		dst->invalid_by[i] += s->invalid_by[i];
	dst->oversize += s->oversize;
	dst->window_valid += s->window_valid;
	dst->window_replies += s->window_replies;
	dst->stray += s->stray;
	dst->unsent += s->unsent;
	dst->send_errors += s->send_errors;
	dst->recv_errors += s->recv_errors;
	dst->cookie_reuse += s->cookie_reuse;
	dst->placeholder_reqs += s->placeholder_reqs;
	dst->ke_ok += s->ke_ok;
	dst->ke_fail += s->ke_fail;
	dst->verified += s->verified;
	dst->verify_failed += s->verify_failed;
	for (i = 0; i < NTS_REPLY_STATUS_COUNT; i++)
		dst->verify_by[i] += s->verify_by[i];
	if (s->ke_error[0])
		memcpy(dst->ke_error, s->ke_error, sizeof(dst->ke_error));
	hist_merge(&dst->rtt, &s->rtt);
	hist_merge(&dst->srv, &s->srv);
}

/* NTS-KE for each generator thread: its keys and first cookies. */
static int setup_sessions(struct bench *b, uint16_t *ntp_port)
{
	struct ke_client_result *res = malloc(sizeof(*res));
	unsigned i;
	size_t k;
	int ret = -1;

	if (res == NULL)
		return -1;
	for (i = 0; i < b->o.threads; i++) {
		struct gen_thread *t = &b->threads[i];

		if (ke_exchange(&b->o, res) < 0) {
			fprintf(stderr, "ntsbench: NTS-KE with %s port %u: %s\n", b->o.server,
				b->o.ke_port, res->error);
			goto out;
		}
		if (aead_set_key(&t->c2s, res->reply.aead, res->c2s) < 0 ||
		    aead_set_key(&t->s2c, res->reply.aead, res->s2c) < 0) {
			fprintf(stderr, "ntsbench: server chose AEAD %u, not supported here\n",
				res->reply.aead);
			goto out;
		}
		t->have_keys = true;
		for (k = 0; k < res->reply.n_cookies; k++)
			pool_push(t->pool, res->reply.cookies[k], res->reply.cookie_lens[k]);
		if (*ntp_port == 0 && res->reply.has_port)
			*ntp_port = res->reply.port;
		ke_client_result_wipe(res);
	}
	ret = 0;
out:
	ke_client_result_wipe(res);
	free(res);
	return ret;
}

/* Replay: --sessions NTS-KE exchanges, their keys and cookies kept for
 * the request sets (replay-plain needs none). */
static int replay_sessions(struct bench *b, uint16_t *ntp_port)
{
	struct ke_client_result *res = malloc(sizeof(*res));
	unsigned i;
	size_t k;
	int ret = -1;

	b->sessions = calloc(b->o.sessions, sizeof(*b->sessions));
	if (res == NULL || b->sessions == NULL)
		goto out;
	for (i = 0; i < b->o.sessions; i++) {
		struct replay_session *s = &b->sessions[i];

		if (ke_exchange(&b->o, res) < 0) {
			fprintf(stderr, "ntsbench: NTS-KE with %s port %u: %s\n", b->o.server,
				b->o.ke_port, res->error);
			goto out;
		}
		s->aead = res->reply.aead;
		memcpy(s->c2s, res->c2s, sizeof(s->c2s));
		memcpy(s->s2c, res->s2c, sizeof(s->s2c));
		for (k = 0; k < res->reply.n_cookies && k < KE_REPLY_MAX_COOKIES; k++) {
			memcpy(s->cookie[k], res->reply.cookies[k], res->reply.cookie_lens[k]);
			s->cookie_len[k] = res->reply.cookie_lens[k];
		}
		s->n_cookies = k;
		b->n_sessions++;
		if (*ntp_port == 0 && res->reply.has_port)
			*ntp_port = res->reply.port;
		ke_client_result_wipe(res);
	}
	ret = 0;
out:
	if (res)
		ke_client_result_wipe(res);
	free(res);
	return ret;
}

int main(int argc, char **argv)
{
	static struct bench bench;
	struct bench *b = &bench;
	struct gen_stats *total = NULL;
	struct sigaction sa;
	struct server_cost sc = { 0, 0, 0, 0, -1, 0, 0 };
	double cpu0 = 0, cpu1 = 0, core0 = -1, core1 = -1, soft0 = 0, soft1 = 0, window_s;
	double idle0 = 0, idle1 = 0, first0 = 0, first1 = 0;
	size_t n_first;
	int64_t core_t0 = 0, core_t1 = 0;
	int64_t gen0, gen1, t_start_real, t_end_real;
	size_t n_procs = 0;
	long hwm = 0;
	uint16_t port;
	unsigned i;
	int ret = 1;

	if (parse_args(argc, argv, &b->o) < 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Fine-grained sleeps for the fixed-rate mode. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);

	b->threads = calloc(b->o.threads, sizeof(*b->threads));
	total = calloc(1, sizeof(*total));
	if (b->threads == NULL || total == NULL)
		goto out;
	for (i = 0; i < b->o.threads; i++) {
		b->threads[i].b = b;
		b->threads[i].index = i;
		if (b->o.mode == MODE_NTS) {
			b->threads[i].pool = calloc(1, sizeof(*b->threads[i].pool));
			if (b->threads[i].pool == NULL)
				goto out;
		}
	}

	port = b->o.port;
	if (b->o.mode == MODE_NTS && setup_sessions(b, &port) < 0)
		goto out;
	if (b->o.mode == MODE_REPLAY && replay_sessions(b, &port) < 0)
		goto out;
	if (b->o.mode == MODE_KE) {
		static const uint16_t aead = AEAD_AES_SIV_CMAC_256;
		struct buf_writer w;

		buf_writer_init(&w, b->ke_req, sizeof(b->ke_req));
		ke_request_build(&w, &aead, 1);
		b->ke_req_len = w.off;
		b->ssl_ctx = storm_ctx(&b->o);
		if (b->ssl_ctx == NULL) {
			fprintf(stderr, "ntsbench: TLS client context: %s\n",
				ERR_reason_error_string(ERR_get_error()));
			goto out;
		}
		port = b->o.ke_port;
	}
	if (port == 0)
		port = NTP_PORT;
	if (resolve(b, port) < 0)
		goto out;

	pthread_barrier_init(&b->go, NULL, b->o.threads + 1);
	for (i = 0; i < b->o.threads; i++) {
		if (pthread_create(&b->threads[i].thread, NULL, thread_main, &b->threads[i]) != 0) {
			fprintf(stderr, "ntsbench: cannot start thread %u\n", i);
			/* The barrier counts on every thread: give up at once. */
			exit(1);
		}
		b->threads[i].started = true;
	}
	b->t_begin = mono_ns();
	b->t_start = b->t_begin + (int64_t)(b->o.warmup * 1e9);
	b->t_end = b->t_start + (int64_t)(b->o.duration * 1e9);
	pthread_barrier_wait(&b->go);

	sleep_until(b->t_start);
	t_start_real = mono_ns();
	gen0 = process_cpu_ns();
	if (b->o.n_pids > 0) {
		cpu0 = server_cpu_s(b->o.pids, b->o.n_pids, &n_procs);
		first0 = server_cpu_s(b->o.pids, 1, &n_first);
	}
	if (b->o.n_cpus > 0)
		core0 = cores_busy_s(&b->o, &soft0, &idle0);
	core_t0 = mono_ns();
	sleep_until(b->t_end);
	if (b->o.n_cpus > 0)
		core1 = cores_busy_s(&b->o, &soft1, &idle1);
	core_t1 = mono_ns();
	if (b->o.n_pids > 0) {
		cpu1 = server_cpu_s(b->o.pids, b->o.n_pids, &n_procs);
		first1 = server_cpu_s(b->o.pids, 1, &n_first);
		hwm = server_hwm_kb(&b->o);
	}
	gen1 = process_cpu_ns();
	t_end_real = mono_ns();

	for (i = 0; i < b->o.threads; i++) {
		pthread_join(b->threads[i].thread, NULL);
		merge(total, &b->threads[i].st);
	}
	if (atomic_load(&b->abort) || interrupted)
		goto out;
	window_s = (double)(t_end_real - t_start_real) / 1e9;
	if (b->o.n_cpus > 0 && (core0 < 0 || core1 < 0)) {
		fprintf(stderr, "ntsbench: --server-cpus: a CPU is not in /proc/stat\n");
		goto out;
	}
	sc.cpu_s = cpu1 - cpu0;
	sc.first_cpu_s = first1 - first0;
	sc.n_procs = n_procs;
	sc.hwm_kb = hwm;
	if (b->o.n_cpus > 0) {
		sc.core_s = core1 - core0;
		sc.soft_s = soft1 - soft0;
		sc.nonidle_s = (double)(core_t1 - core_t0) / 1e9 * (double)b->o.n_cpus -
			       (idle1 - idle0);
		if (sc.nonidle_s < 0)
			sc.nonidle_s = 0;
	}
	print_results(b, total, b->o.duration, &sc,
		      (double)(gen1 - gen0) / 1e9 * b->o.duration / window_s);
	if (b->o.hist_file && hist_write_file(b->o.hist_file, b->o.mode == MODE_KE, total) < 0)
		goto out;
	ret = 0;
	if (b->o.mode == MODE_KE ? total->ke_ok == 0 : total->valid == 0)
		ret = 1;
	/* A replay whose samples found a bad reply, or never checked one. */
	if (is_replay(b->o.mode) && b->o.verify_every > 0 &&
	    (total->verify_failed > 0 || total->verified == 0))
		ret = 1;
out:
	if (b->threads) {
		for (i = 0; i < b->o.threads; i++) {
			struct gen_thread *t = &b->threads[i];
			unsigned s;

			for (s = 0; s < t->n_fds; s++)
				close(t->fds[s]);
			free(t->slots);
			free(t->free_slots);
			free(t->pool);
			replay_set_free(t->rs);
			free(t->rstate);
			free(t->rsent);
			free(t->rfree);
			aead_ctx_wipe(&t->c2s);
			aead_ctx_wipe(&t->s2c);
			nonce_gen_wipe(&t->ng);
		}
		free(b->threads);
	}
	SSL_CTX_free(b->ssl_ctx);
	if (b->sessions) {
		buf_wipe(b->sessions, b->o.sessions * sizeof(*b->sessions));
		free(b->sessions);
	}
	free(total);
	return ret;
}
