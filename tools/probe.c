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
#include <stdarg.h>
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
#include "tools/hostport.h"
#include "tools/json.h"
#include "tools/ntsctl.h"
#include "tools/probe_reply.h"

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
	bool json;		/* --json: one JSON object instead of the text */
};

/* HOST[:PORT] into o; -1 with the reason printed (`what` names the argument). */
static int parse_target(const char *s, struct probe_target *o, const char *what)
{
	char err[HOSTPORT_ERR_MAX];

	if (hostport_parse(s, o->host, sizeof(o->host), &o->port, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "ntsctl: probe: %s%s\n", what, err);
	return -1;
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
		{ "json", no_argument, NULL, 'j' },
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
		case 'j':
			o->json = true;
			break;
		case 's':
			if (parse_target(optarg, &o->ntp, "--ntp-server: ") < 0)
				return -1;
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
	if (optind == argc - 1)
		return parse_target(argv[optind], &o->ke, "");
usage:
	fprintf(stderr, "Usage: ntsctl probe HOST[:PORT] [--ca FILE] [--name NAME] "
			"[--count N] [--interval MS] [--aead ID] [--ntp-server HOST[:PORT]] "
			"[--json]\n");
	return -1;
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

/* Send a request with the oldest cookie, asking for the ones missing. */
static int send_request(int fd, struct cookie_pool *pool, const struct aead_ctx *c2s,
			struct probe_request *pr, char *err, size_t errlen)
{
	uint8_t nonce[AEAD_NONCE_LEN], cookie[COOKIE_MAX_LEN], req[NTS_MAX_PACKET];
	struct nts_request rq;
	size_t cookie_len;

	if (!probe_pool_take(pool, cookie, &cookie_len)) {
		snprintf(err, errlen, "no cookie left");
		return -1;
	}
	pr->key = probe_cookie_key_id(cookie, cookie_len);
	if (rng_bytes(pr->uid, sizeof(pr->uid)) < 0 || rng_bytes(nonce, sizeof(nonce)) < 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	memset(&rq, 0, sizeof(rq));
	rq.version = 4;
	rq.uid = pr->uid;
	rq.uid_len = sizeof(pr->uid);
	rq.cookie = cookie;
	rq.cookie_len = cookie_len;
	rq.placeholders = PROBE_COOKIES - 1 - (unsigned)pool->n;
	rq.c2s = c2s;
	rq.nonce = nonce;
	rq.nonce_len = c2s->alg->nonce_len;	/* the AEAD's: GCM-SIV takes 12 */
	rq.tx_ts = pr->t1 = ntp_ts_now();
	pr->len = nts_request_build(&rq, req, sizeof(req));
	if (pr->len == 0) {
		snprintf(err, errlen, "cannot build the request");
		return -1;
	}
	if (send(fd, req, pr->len, 0) != (ssize_t)pr->len) {
		snprintf(err, errlen, "send: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Wait for the reply to pr, skipping packets that are not it (stale or
 * forged: wrong origin or unique identifier); a good one's cookies go to
 * the pool.  Its length in *n and its arrival in *t4; -1 when none came
 * or it is not good (the reason in err). */
static int await_reply(int fd, const struct probe_request *pr, const struct aead_ctx *s2c,
		       struct nts_reply *reply, struct cookie_pool *pool, ssize_t *n,
		       uint64_t *t4, char *err, size_t errlen)
{
	uint8_t rep[NTS_MAX_PACKET];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	enum probe_reply_verdict v;

	for (;;) {
		int r = poll(&pfd, 1, PROBE_REPLY_TIMEOUT_MS);

		if (r == 0) {
			snprintf(err, errlen, "no reply within %d ms", PROBE_REPLY_TIMEOUT_MS);
			return -1;
		}
		if (r < 0 && errno == EINTR)
			continue;
		*n = recv(fd, rep, sizeof(rep), 0);
		*t4 = ntp_ts_now();
		if (*n < 0) {
			snprintf(err, errlen, "recv: %s", strerror(errno));
			return -1;
		}
		v = probe_reply_take(rep, (size_t)*n, pr, s2c, reply, pool, err, errlen);
		if (v != PROBE_REPLY_SKIP)
			return v == PROBE_REPLY_GOOD ? 0 : -1;
	}
}

/* The closing line, "probe: OK: ..." or "probe: FAILED: ...", or with j
 * the "verdict" and "reason" members. */
static void __attribute__((format(printf, 3, 4)))
verdict(struct json_out *j, bool ok, const char *fmt, ...)
{
	char reason[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (!j) {
		printf("probe: %s: %s\n", ok ? "OK" : "FAILED", reason);
		return;
	}
	json_string(j, "verdict", ok ? "OK" : "FAILED");
	json_string(j, "reason", reason);
}

/* One exchange: 0 ok (figures printed, or with j one element of the
 * "exchanges" array, header in *hdr), -1 failed (reason in err). */
static int exchange(int fd, unsigned i, struct cookie_pool *pool, const struct aead_ctx *c2s,
		    const struct aead_ctx *s2c, struct ntp_header *hdr, struct json_out *j,
		    char *err, size_t errlen)
{
	struct probe_request pr;
	struct nts_reply reply;
	ssize_t n;
	uint64_t t4;
	double offset, delay;

	if (send_request(fd, pool, c2s, &pr, err, errlen) < 0 ||
	    await_reply(fd, &pr, s2c, &reply, pool, &n, &t4, err, errlen) < 0)
		return -1;
	*hdr = reply.hdr;
	offset = (ntp_ts_diff(reply.hdr.rx_ts, pr.t1) + ntp_ts_diff(reply.hdr.tx_ts, t4)) / 2;
	delay = ntp_ts_diff(t4, pr.t1) - ntp_ts_diff(reply.hdr.tx_ts, reply.hdr.rx_ts);
	if (j) {
		char key[9];

		json_object(j, NULL);
		json_uint(j, "exchange", i);
		json_bool(j, "ok", true);
		json_number(j, "offset_s", offset);
		json_number(j, "delay_s", delay);
		json_uint(j, "stratum", reply.hdr.stratum);
		json_uint(j, "leap", reply.hdr.leap);
		json_uint(j, "cookies", reply.n_cookies);
		snprintf(key, sizeof(key), "%08x", pr.key);
		json_string(j, "key_sent", key);
		snprintf(key, sizeof(key), "%08x",
			 probe_cookie_key_id(reply.cookie[0], reply.cookie_len[0]));
		json_string(j, "key_returned", key);
		json_uint(j, "reply_bytes", (unsigned long long)n);
		json_uint(j, "request_bytes", pr.len);
		json_close(j);
		return 0;
	}
	printf("ntp %u: offset %+.6f s  delay %.6f s  stratum %u  leap %u  cookies %zu  "
	       "key %08x->%08x  reply %zd/%zu bytes\n",
	       i, offset, delay, reply.hdr.stratum, reply.hdr.leap, reply.n_cookies, pr.key,
	       probe_cookie_key_id(reply.cookie[0], reply.cookie_len[0]), n, pr.len);
	return 0;
}

/* The NTS-KE outcome as the "nts_ke" object. */
static void ke_json(struct json_out *j, const struct probe_opts *o,
		    const struct ke_client_result *kr, bool ok)
{
	const struct ke_reply *r = &kr->reply;
	const struct aead_alg *alg = aead_by_id(r->aead);
	char key[9];

	json_object(j, "nts_ke");
	json_string(j, "host", o->ke.host);
	json_uint(j, "port", o->ke.port);
	json_bool(j, "ok", ok);
	if (!ok) {
		json_string(j, "error", kr->error);
		json_close(j);
		return;
	}
	json_string(j, "tls", "1.3");
	json_string(j, "alpn", kr->alpn);
	json_uint(j, "aead_id", r->aead);
	json_string(j, "aead", alg ? alg->name : "?");
	json_uint(j, "cookies", r->n_cookies);
	json_uint(j, "cookie_bytes", r->cookie_lens[0]);
	snprintf(key, sizeof(key), "%08x", probe_cookie_key_id(r->cookies[0], r->cookie_lens[0]));
	json_string(j, "master_key", key);
	json_string(j, "ntp_server", r->has_server ? r->server : o->ke.host);
	json_bool(j, "server_negotiation", r->has_server);
	json_uint(j, "ntp_port", r->has_port ? r->port : NTP_PORT);
	json_bool(j, "port_negotiation", r->has_port);
	json_close(j);
}

/* NTS-KE with o->ke, the outcome printed (with j: as JSON, the verdict
 * too if it failed).  0 or -1. */
static int probe_ke(const struct probe_opts *o, struct ke_client_result *kr, struct json_out *j)
{
	const struct ke_reply *r = &kr->reply;
	struct ke_client_opts ko;
	const struct aead_alg *alg;

	memset(&ko, 0, sizeof(ko));
	ko.host = o->ke.host;
	ko.port = o->ke.port;
	ko.ca_file = o->ca_file;
	ko.verify_name = o->name;
	ko.aeads = &o->aead;
	ko.n_aeads = 1;
	if (ke_client_exchange(&ko, kr) < 0) {
		if (j)
			ke_json(j, o, kr, false);
		/* Connection errors name the host already. */
		if (!strncmp(kr->error, o->ke.host, strlen(o->ke.host)))
			verdict(j, false, "NTS-KE: %s", kr->error);
		else
			verdict(j, false, "NTS-KE with %s port %u: %s", o->ke.host, o->ke.port,
				kr->error);
		return -1;
	}
	alg = aead_by_id(r->aead);
	if (j) {
		ke_json(j, o, kr, true);
	} else {
		printf("nts-ke: %s port %u: TLS 1.3, ALPN %s, AEAD %s, %zu cookies of %zu bytes "
		       "(master key %08x)\n",
		       o->ke.host, o->ke.port, kr->alpn, alg ? alg->name : "?", r->n_cookies,
		       r->cookie_lens[0], probe_cookie_key_id(r->cookies[0], r->cookie_lens[0]));
		printf("nts-ke: NTP server %s%s port %u%s\n",
		       r->has_server ? r->server : o->ke.host,
		       r->has_server ? " (Server Negotiation)" : "",
		       (unsigned)(r->has_port ? r->port : NTP_PORT),
		       r->has_port ? " (Port Negotiation)" : "");
	}
	if (!alg) {
		verdict(j, false, "unsupported AEAD %u", r->aead);
		return -1;
	}
	return 0;
}

/* Where NTP goes: what NTS-KE named, unless --ntp-server says otherwise.
 * With j the "ntp" object is opened here (the caller closes it). */
static void ntp_target(const struct probe_opts *o, const struct ke_reply *r,
		       const char **host, uint16_t *port, struct json_out *j)
{
	*host = r->has_server ? r->server : o->ke.host;
	*port = r->has_port ? r->port : NTP_PORT;
	if (o->have_ntp) {
		*host = o->ntp.host;
		if (o->ntp.port)
			*port = o->ntp.port;
		if (!j)
			printf("ntp: sending to %s port %u instead (--ntp-server)\n", *host, *port);
	}
	if (j) {
		json_object(j, "ntp");
		json_string(j, "host", *host);
		json_uint(j, "port", *port);
		json_bool(j, "ntp_server_option", o->have_ntp);
	}
}

/* o->count exchanges on fd; how many succeeded (the last failure in err,
 * the last good header in *hdr). */
static unsigned probe_ntp(int fd, const struct probe_opts *o, const struct ke_client_result *kr,
			  struct ntp_header *hdr, struct json_out *j, char *err, size_t errlen)
{
	struct cookie_pool pool = { .n = 0 };
	struct aead_ctx c2s, s2c;
	unsigned ok = 0;

	aead_set_key(&c2s, kr->reply.aead, kr->c2s);
	aead_set_key(&s2c, kr->reply.aead, kr->s2c);
	for (size_t i = 0; i < kr->reply.n_cookies; i++)
		probe_pool_put(&pool, kr->reply.cookies[i], kr->reply.cookie_lens[i]);
	if (j)
		json_array(j, "exchanges");
	for (unsigned i = 1; i <= o->count; i++) {
		if (exchange(fd, i, &pool, &c2s, &s2c, hdr, j, err, errlen) < 0) {
			if (j) {
				json_object(j, NULL);
				json_uint(j, "exchange", i);
				json_bool(j, "ok", false);
				json_string(j, "error", err);
				json_close(j);
			} else {
				printf("ntp %u: FAILED: %s\n", i, err);
			}
			break;
		}
		ok++;
		if (i < o->count && o->interval_ms)
			usleep(o->interval_ms * 1000);
	}
	if (j)
		json_close(j);
	aead_ctx_wipe(&c2s);
	aead_ctx_wipe(&s2c);
	return ok;
}

int ntsctl_probe(int argc, char **argv)
{
	struct probe_opts o;
	struct ke_client_result kr;
	struct ntp_header hdr;
	struct json_out json, *j = NULL;
	const char *ntp_host;
	uint16_t ntp_port;
	char err[1024] = "";
	unsigned ok;
	int fd, rc = NTSCTL_FAIL;

	if (parse_args(argc, argv, &o) < 0)
		return NTSCTL_USAGE;
	/* A server may close the TLS connection first. */
	signal(SIGPIPE, SIG_IGN);
	memset(&hdr, 0, sizeof(hdr));
	if (!o.ke.port)
		o.ke.port = KE_DEFAULT_PORT;
	if (o.json) {
		j = &json;
		json_begin(j, stdout);
	}
	if (probe_ke(&o, &kr, j) < 0)
		goto out;
	ntp_target(&o, &kr.reply, &ntp_host, &ntp_port, j);
	fd = udp_connect(ntp_host, ntp_port, err, sizeof(err));
	if (fd < 0) {
		if (j)
			json_close(j);
		verdict(j, false, "%s", err);
		goto out;
	}
	ok = probe_ntp(fd, &o, &kr, &hdr, j, err, sizeof(err));
	close(fd);
	if (j) {
		json_close(j);
		json_uint(j, "exchanges_ok", ok);
		json_uint(j, "count", o.count);
	}
	if (ok < o.count) {
		verdict(j, false, "%u/%u authenticated exchanges with %s port %u: %s", ok, o.count,
			ntp_host, ntp_port, err);
	} else if (o.count && (hdr.leap == 3 || hdr.stratum == 0 || hdr.stratum >= 16)) {
		/* Clients discard such replies: the service does not work. */
		verdict(j, false, "%u/%u authenticated exchanges with %s port %u, but the "
			"server is not synchronised (leap %u, stratum %u)",
			ok, o.count, ntp_host, ntp_port, hdr.leap, hdr.stratum);
	} else {
		verdict(j, true, "NTS-KE with %s port %u and %u/%u authenticated exchanges with "
			"%s port %u", o.ke.host, o.ke.port, ok, o.count, ntp_host, ntp_port);
		rc = NTSCTL_OK;
	}
out:
	if (j) {
		json_uint(j, "exit_status", (unsigned)rc);
		json_finish(j);
	}
	ke_client_result_wipe(&kr);
	return rc;
}
