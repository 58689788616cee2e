/* ntsctl probe: an NTS client that checks a server end to end: NTS-KE,
 * then N authenticated NTP exchanges with the server and port NTS-KE
 * named (or the one --ntp-server names: each NTP host of a fleet, with
 * cookies from the KE host), each reply verified (authenticator, unique
 * identifier, origin timestamp) and its fresh cookies kept for the next
 * request.  Output and exit status are documented in ntsctl(8). */
#include "build_config.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/ke_client.h"
#include "common/aead.h"
#include "common/cookie.h"
#include "common/ke_record.h"
#include "common/ntp_packet.h"
#include "common/nts_request.h"
#include "common/rng.h"
#include "tools/ntsctl.h"

#define PROBE_COOKIES 8
#define PROBE_REPLY_TIMEOUT_MS 2000
#define PROBE_HOST_MAX 256

struct probe_target {
	char host[PROBE_HOST_MAX];
	uint16_t port;		/* 0: not given */
};

struct probe_opts {
	struct probe_target ke, ntp;
	bool have_ntp;		/* --ntp-server */
	const char *ca_file, *name;
	unsigned count;
	unsigned interval_ms;
	uint16_t aead;
};

/* The cookies we hold, oldest first. */
struct cookie_pool {
	uint8_t cookie[PROBE_COOKIES][COOKIE_MAX_LEN];
	size_t len[PROBE_COOKIES];
	size_t n;
};

static void pool_put(struct cookie_pool *p, const uint8_t *c, size_t len)
{
	if (len == 0 || len > COOKIE_MAX_LEN)
		return;
	if (p->n == PROBE_COOKIES) {	/* drop the oldest */
		memmove(p->cookie[0], p->cookie[1], sizeof(p->cookie[0]) * (PROBE_COOKIES - 1));
		memmove(p->len, p->len + 1, sizeof(p->len[0]) * (PROBE_COOKIES - 1));
		p->n--;
	}
	memcpy(p->cookie[p->n], c, len);
	p->len[p->n++] = len;
}

/* Take the oldest cookie into out; false if none. */
static bool pool_take(struct cookie_pool *p, uint8_t *out, size_t *len)
{
	if (p->n == 0)
		return false;
	memcpy(out, p->cookie[0], p->len[0]);
	*len = p->len[0];
	memmove(p->cookie[0], p->cookie[1], sizeof(p->cookie[0]) * (PROBE_COOKIES - 1));
	memmove(p->len, p->len + 1, sizeof(p->len[0]) * (PROBE_COOKIES - 1));
	p->n--;
	return true;
}

/* The master key id a cookie was sealed under: its first 4 bytes, in the
 * clear (doc/cookie-format.md). */
static uint32_t cookie_key_id(const uint8_t *c, size_t len)
{
	if (len < 4)
		return 0;
	return (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
}

/* "host", "host:port", "[v6]", "[v6]:port", "v6" (several colons: no port). */
static int parse_target(const char *s, struct probe_target *o)
{
	const char *colon;
	size_t hlen;

	o->port = 0;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end)
			return -1;
		hlen = (size_t)(end - s - 1);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (!colon && end[1])
			return -1;
		s++;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;	/* a bare IPv6 address */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0 || hlen >= sizeof(o->host))
		return -1;
	memcpy(o->host, s, hlen);
	o->host[hlen] = '\0';
	if (colon) {
		char *end;
		unsigned long p;

		errno = 0;
		p = strtoul(colon + 1, &end, 10);
		if (errno || *end || p == 0 || p > 65535)
			return -1;
		o->port = (uint16_t)p;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct probe_opts *o)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'N' },
		{ "interval", required_argument, NULL, 'i' },
		{ "aead", required_argument, NULL, 'a' },
		{ "ntp-server", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	char *end;
	unsigned long v;

	memset(o, 0, sizeof(*o));
	o->count = 3;
	o->interval_ms = 250;
	o->aead = AEAD_AES_SIV_CMAC_256;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->ca_file = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 's':
			if (parse_target(optarg, &o->ntp) < 0) {
				fprintf(stderr, "ntsctl: probe: --ntp-server: bad HOST[:PORT] '%s'\n",
					optarg);
				return -1;
			}
			o->have_ntp = true;
			break;
		case 'N':
		case 'i':
		case 'a':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || optarg[0] == '\0' || v > 100000) {
				fprintf(stderr, "ntsctl: probe: bad number '%s'\n", optarg);
				return -1;
			}
			if (opt == 'N')
				o->count = (unsigned)v;
			else if (opt == 'i')
				o->interval_ms = (unsigned)v;
			else if (!aead_by_id((uint16_t)v)) {
				fprintf(stderr, "ntsctl: probe: AEAD %lu is not supported\n", v);
				return -1;
			} else
				o->aead = (uint16_t)v;
			break;
		default:
			goto usage;
		}
	}
	if (optind == argc - 1 && parse_target(argv[optind], &o->ke) == 0)
		return 0;
usage:
	fprintf(stderr, "Usage: ntsctl probe HOST[:PORT] [--ca FILE] [--name NAME] "
			"[--count N] [--interval MS] [--aead ID] [--ntp-server HOST[:PORT]]\n");
	return -1;
}

static uint64_t ntp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ntp_ts_from_timespec(&ts);
}

static int udp_connect(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res, *ai;
	char portstr[8];
	int fd = -1, rc;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "%s port %u: cannot connect: %s", host, port, strerror(errno));
	return fd;
}

/* One exchange: 0 ok (figures printed, header in *hdr), -1 failed (reason
 * in err). */
static int exchange(int fd, unsigned i, struct cookie_pool *pool, const struct aead_ctx *c2s,
		    const struct aead_ctx *s2c, struct ntp_header *hdr, char *err, size_t errlen)
{
	uint8_t uid[NTS_UID_LEN], nonce[AEAD_NONCE_LEN], cookie[COOKIE_MAX_LEN];
	uint8_t req[NTS_MAX_PACKET], rep[NTS_MAX_PACKET];
	struct nts_reply reply;
	struct nts_request rq;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t cookie_len, req_len;
	uint64_t t1, t4;
	uint32_t key;
	ssize_t n;
	enum nts_reply_status st;
	double offset, delay;

	if (!pool_take(pool, cookie, &cookie_len)) {
		snprintf(err, errlen, "no cookie left");
		return -1;
	}
	key = cookie_key_id(cookie, cookie_len);
	if (rng_bytes(uid, sizeof(uid)) < 0 || rng_bytes(nonce, sizeof(nonce)) < 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	memset(&rq, 0, sizeof(rq));
	rq.version = 4;
	rq.uid = uid;
	rq.uid_len = sizeof(uid);
	rq.cookie = cookie;
	rq.cookie_len = cookie_len;
	rq.placeholders = PROBE_COOKIES - 1 - (unsigned)pool->n;
	rq.c2s = c2s;
	rq.nonce = nonce;
	rq.nonce_len = sizeof(nonce);
	rq.tx_ts = t1 = ntp_now();
	req_len = nts_request_build(&rq, req, sizeof(req));
	if (req_len == 0) {
		snprintf(err, errlen, "cannot build the request");
		return -1;
	}
	if (send(fd, req, req_len, 0) != (ssize_t)req_len) {
		snprintf(err, errlen, "send: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		int r = poll(&pfd, 1, PROBE_REPLY_TIMEOUT_MS);

		if (r == 0) {
			snprintf(err, errlen, "no reply within %d ms", PROBE_REPLY_TIMEOUT_MS);
			return -1;
		}
		if (r < 0 && errno == EINTR)
			continue;
		n = recv(fd, rep, sizeof(rep), 0);
		t4 = ntp_now();
		if (n < 0) {
			snprintf(err, errlen, "recv: %s", strerror(errno));
			return -1;
		}
		st = nts_reply_parse(rep, (size_t)n, t1, uid, sizeof(uid), s2c, &reply);
		/* A stale or forged packet is not our reply: keep waiting. */
		if (st == NTS_REPLY_ERR_ORIGIN || st == NTS_REPLY_ERR_UID)
			continue;
		break;
	}
	if (st == NTS_REPLY_NAK) {
		snprintf(err, errlen, "NTS NAK: the server could not open our cookie "
			 "(master key %08x)", key);
		return -1;
	}
	if (st == NTS_REPLY_KOD) {
		uint32_t code = reply.hdr.refid;

		snprintf(err, errlen, "kiss-o'-death %c%c%c%c", (int)(code >> 24 & 0x7f),
			 (int)(code >> 16 & 0x7f), (int)(code >> 8 & 0x7f), (int)(code & 0x7f));
		return -1;
	}
	if (st != NTS_REPLY_OK) {
		snprintf(err, errlen, "bad reply (%zd bytes to %zu): %s", n, req_len,
			 nts_reply_status_str(st));
		return -1;
	}
	if ((size_t)n > req_len) {
		snprintf(err, errlen, "reply of %zd bytes is larger than the request (%zu)", n,
			 req_len);
		return -1;
	}
	for (size_t c = 0; c < reply.n_cookies; c++)
		pool_put(pool, reply.cookie[c], reply.cookie_len[c]);
	*hdr = reply.hdr;
	offset = (ntp_ts_diff(reply.hdr.rx_ts, t1) + ntp_ts_diff(reply.hdr.tx_ts, t4)) / 2;
	delay = ntp_ts_diff(t4, t1) - ntp_ts_diff(reply.hdr.tx_ts, reply.hdr.rx_ts);
	printf("ntp %u: offset %+.6f s  delay %.6f s  stratum %u  leap %u  cookies %zu  "
	       "key %08x->%08x  reply %zd/%zu bytes\n",
	       i, offset, delay, reply.hdr.stratum, reply.hdr.leap, reply.n_cookies, key,
	       cookie_key_id(reply.cookie[0], reply.cookie_len[0]), n, req_len);
	return 0;
}

int ntsctl_probe(int argc, char **argv)
{
	struct probe_opts o;
	struct ke_client_opts ko;
	struct ke_client_result kr;
	struct cookie_pool pool = { .n = 0 };
	struct aead_ctx c2s, s2c;
	struct ntp_header hdr;
	const struct aead_alg *alg;
	const char *ntp_host;
	uint16_t ke_port, ntp_port;
	char err[1024] = "";
	unsigned ok = 0;
	int fd = -1, rc = NTSCTL_FAIL;

	if (parse_args(argc, argv, &o) < 0)
		return NTSCTL_USAGE;
	/* A server may close the TLS connection first. */
	signal(SIGPIPE, SIG_IGN);
	memset(&c2s, 0, sizeof(c2s));
	memset(&s2c, 0, sizeof(s2c));
	memset(&hdr, 0, sizeof(hdr));
	memset(&ko, 0, sizeof(ko));
	ke_port = o.ke.port ? o.ke.port : 4460;
	ko.host = o.ke.host;
	ko.port = ke_port;
	ko.ca_file = o.ca_file;
	ko.verify_name = o.name;
	ko.aeads = &o.aead;
	ko.n_aeads = 1;
	if (ke_client_exchange(&ko, &kr) < 0) {
		/* Connection errors name the host already. */
		if (!strncmp(kr.error, o.ke.host, strlen(o.ke.host)))
			printf("probe: FAILED: NTS-KE: %s\n", kr.error);
		else
			printf("probe: FAILED: NTS-KE with %s port %u: %s\n", o.ke.host, ke_port,
			       kr.error);
		goto out;
	}
	alg = aead_by_id(kr.aead);
	printf("nts-ke: %s port %u: TLS 1.3, ALPN %s, AEAD %s, %zu cookies of %zu bytes "
	       "(master key %08x)\n",
	       o.ke.host, ke_port, kr.alpn, alg ? alg->name : "?", kr.n_cookies,
	       kr.n_cookies ? kr.cookie_lens[0] : (size_t)0,
	       kr.n_cookies ? cookie_key_id(kr.cookies[0], kr.cookie_lens[0]) : 0);
	printf("nts-ke: NTP server %s%s port %u%s\n", kr.has_server ? kr.server : o.ke.host,
	       kr.has_server ? " (Server Negotiation)" : "", kr.has_port ? kr.port : 123,
	       kr.has_port ? " (Port Negotiation)" : "");
	ntp_host = kr.has_server ? kr.server : o.ke.host;
	ntp_port = kr.has_port ? kr.port : 123;
	if (o.have_ntp) {
		ntp_host = o.ntp.host;
		if (o.ntp.port)
			ntp_port = o.ntp.port;
		printf("ntp: sending to %s port %u instead (--ntp-server)\n", ntp_host, ntp_port);
	}
	if (!alg || aead_set_key(&c2s, kr.aead, kr.c2s) < 0 ||
	    aead_set_key(&s2c, kr.aead, kr.s2c) < 0) {
		printf("probe: FAILED: unsupported AEAD %u\n", kr.aead);
		goto out;
	}
	for (size_t i = 0; i < kr.n_cookies; i++)
		pool_put(&pool, kr.cookies[i], kr.cookie_lens[i]);
	fd = udp_connect(ntp_host, ntp_port, err, sizeof(err));
	if (fd < 0) {
		printf("probe: FAILED: %s\n", err);
		goto out;
	}
	for (unsigned i = 1; i <= o.count; i++) {
		if (exchange(fd, i, &pool, &c2s, &s2c, &hdr, err, sizeof(err)) < 0) {
			printf("ntp %u: FAILED: %s\n", i, err);
			break;
		}
		ok++;
		if (i < o.count && o.interval_ms)
			usleep(o.interval_ms * 1000);
	}
	if (ok < o.count) {
		printf("probe: FAILED: %u/%u authenticated exchanges with %s port %u: %s\n", ok,
		       o.count, ntp_host, ntp_port, err);
	} else if (o.count && (hdr.leap == 3 || hdr.stratum == 0 || hdr.stratum >= 16)) {
		/* Clients discard such replies: the service does not work. */
		printf("probe: FAILED: %u/%u authenticated exchanges with %s port %u, but the "
		       "server is not synchronised (leap %u, stratum %u)\n",
		       ok, o.count, ntp_host, ntp_port, hdr.leap, hdr.stratum);
	} else {
		printf("probe: OK: NTS-KE with %s port %u and %u/%u authenticated exchanges with "
		       "%s port %u\n", o.ke.host, ke_port, ok, o.count, ntp_host, ntp_port);
		rc = NTSCTL_OK;
	}
out:
	if (fd >= 0)
		close(fd);
	aead_ctx_wipe(&c2s);
	aead_ctx_wipe(&s2c);
	ke_client_result_wipe(&kr);
	return rc;
}
