/* ntp_service_test: the NTP responder's sockets and workers over real UDP
 * on 127.0.0.1 and ::1, in-process, with an in-memory keyset.  Valid NTS
 * and plain requests, a barrage of malformed packets (no reply larger than
 * its request, the next valid client still answered), and rate limiting
 * (one KoD RATE per interval, never a NAK and a RATE to one request).
 * One line per case, then "N passed, N failed"; exit status 0 only when
 * all passed. */
#include "build_config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/itest.h"
#include "common/aead.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/cookie.h"
#include "common/keyset.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "common/ntp_ef.h"
#include "common/ntp_packet.h"
#include "common/nts_request.h"
#include "common/rng.h"
#include "common/snapshot.h"
#include "ntpd/ntp_service.h"
#include "ntpd/responder.h"

static struct snapshot keys;
static uint64_t next_ts = 0xe6000000000000ffULL;

/* A client session as NTS-KE would have set it up. */
struct session {
	struct cookie_keys keys;
	struct aead_ctx c2s, s2c;
	uint8_t cookies[8][COOKIE_MAX_LEN];
	size_t cookie_len[8];
	size_t n_cookies;
};

static int session_new(struct session *s)
{
	const struct keyset *ks = snapshot_get(&keys);
	const struct master_key *mk = keyset_sealing_key(ks, time(NULL), 0);
	uint8_t nonce[16];

	memset(s, 0, sizeof(*s));
	s->keys.aead = AEAD_AES_SIV_CMAC_256;
	s->keys.key_len = 32;
	if (mk == NULL || rng_bytes(s->keys.c2s, 32) < 0 || rng_bytes(s->keys.s2c, 32) < 0 ||
	    aead_set_key(&s->c2s, s->keys.aead, s->keys.c2s) < 0 ||
	    aead_set_key(&s->s2c, s->keys.aead, s->keys.s2c) < 0)
		return -1;
	for (s->n_cookies = 0; s->n_cookies < 8; s->n_cookies++) {
		if (rng_bytes(nonce, sizeof(nonce)) < 0)
			return -1;
		s->cookie_len[s->n_cookies] = cookie_seal(mk, &s->keys, nonce,
							  s->cookies[s->n_cookies], COOKIE_MAX_LEN);
		if (s->cookie_len[s->n_cookies] == 0)
			return -1;
	}
	return 0;
}

static int udp_client(const struct netaddr *server)
{
	int fd = socket(netaddr_family(server), SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, &server->u.sa, server->len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait up to ms for one datagram; its length, or -1 on timeout. */
static ssize_t recv_wait(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(fd, buf, cap, MSG_DONTWAIT);
}

/* Build an NTS request using the session's next cookie. */
static size_t nts_request(struct session *s, unsigned placeholders, uint64_t ts,
			  uint8_t uid[NTS_UID_LEN], uint8_t *pkt)
{
	struct nts_request rq;
	uint8_t nonce[16];

	if (s->n_cookies == 0 || rng_bytes(uid, NTS_UID_LEN) < 0 ||
	    rng_bytes(nonce, sizeof(nonce)) < 0)
		return 0;
	s->n_cookies--;
	memset(&rq, 0, sizeof(rq));
	rq.version = 4;
	rq.tx_ts = ts;
	rq.uid = uid;
	rq.uid_len = NTS_UID_LEN;
	rq.cookie = s->cookies[s->n_cookies];
	rq.cookie_len = s->cookie_len[s->n_cookies];
	rq.placeholders = placeholders;
	rq.c2s = &s->c2s;
	rq.nonce = nonce;
	rq.nonce_len = sizeof(nonce);
	return nts_request_build(&rq, pkt, NTS_MAX_PACKET);
}

/* One NTS exchange; keeps the fresh cookies.  Returns the reply status
 * (or -1 when nothing came back). */
static int nts_exchange(int fd, struct session *s, unsigned placeholders, size_t *n_new)
{
	static struct nts_reply rep;
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET], uid[NTS_UID_LEN];
	uint64_t ts = next_ts++;
	size_t len, i;
	ssize_t r;
	enum nts_reply_status st;

	len = nts_request(s, placeholders, ts, uid, pkt);
	if (len == 0 || send(fd, pkt, len, 0) != (ssize_t)len)
		return -1;
	r = recv_wait(fd, out, sizeof(out), 2000);
	if (r < 0)
		return -1;
	if ((size_t)r > len)
		return -2;
	st = nts_reply_parse(out, (size_t)r, ts, uid, sizeof(uid), &s->s2c, &rep);
	*n_new = rep.n_cookies;
	for (i = 0; st == NTS_REPLY_OK && i < rep.n_cookies && s->n_cookies < 8; i++) {
		memcpy(s->cookies[s->n_cookies], rep.cookie[i], rep.cookie_len[i]);
		s->cookie_len[s->n_cookies++] = rep.cookie_len[i];
	}
	return st;
}

static int plain_exchange(int fd, uint8_t version, struct ntp_header *h)
{
	static struct nts_reply rep;
	uint8_t pkt[48], out[NTS_MAX_PACKET];
	uint64_t ts = next_ts++;
	ssize_t r;
	int st;

	nts_request_build_plain(version, ts, pkt, sizeof(pkt));
	if (send(fd, pkt, sizeof(pkt), 0) != (ssize_t)sizeof(pkt))
		return -1;
	r = recv_wait(fd, out, sizeof(out), 2000);
	if (r != 48)
		return -1;
	st = nts_reply_parse(out, (size_t)r, ts, NULL, 0, NULL, &rep);
	*h = rep.hdr;
	return st;
}

static void test_valid(const char *fam, const struct netaddr *server)
{
	struct session s;
	struct ntp_header h;
	struct timespec now;
	char name[64];
	size_t n_new = 0;
	int fd, st, i, ok = 0;

	memset(&h, 0, sizeof(h));
	fd = udp_client(server);
	snprintf(name, sizeof(name), "plain-v4-%s", fam);
	st = fd < 0 ? -1 : plain_exchange(fd, 4, &h);
	clock_gettime(CLOCK_REALTIME, &now);
	itest_report(name, st == NTS_REPLY_OK && h.version == 4 &&
	       ntp_ts_diff(h.tx_ts, ntp_ts_from_timespec(&now)) < 1.0 &&
	       ntp_ts_diff(h.tx_ts, h.rx_ts) >= 0 && ntp_ts_diff(h.tx_ts, h.rx_ts) < 0.1,
	       "status %d version %u", st, h.version);
	snprintf(name, sizeof(name), "plain-v3-%s", fam);
	st = fd < 0 ? -1 : plain_exchange(fd, 3, &h);
	itest_report(name, st == NTS_REPLY_OK && h.version == 3, "status %d version %u", st,
	       h.version);

	/* chain: each request spends a cookie, each reply brings one (or
	 * more with placeholders), as a client over many polls would */
	snprintf(name, sizeof(name), "nts-chain-%s", fam);
	if (fd < 0 || session_new(&s) < 0) {
		itest_report(name, false, "setup");
		return;
	}
	for (i = 0; i < 12; i++) {
		st = nts_exchange(fd, &s, (unsigned)(i % 3), &n_new);
		if (st != NTS_REPLY_OK || n_new != (size_t)(1 + i % 3))
			break;
		ok++;
	}
	itest_report(name, ok == 12, "%d of 12 authenticated replies (last status %d, %zu cookies)",
	       ok, st, n_new);
	close(fd);
}

/* A reply is only acceptable for a request we remember, and never longer. */
struct sent {
	uint64_t ts;
	size_t len;
};

static struct sent sent[4096];
static size_t n_sent, n_paced;

/* Each datagram gets its own transmit timestamp so a reply names it. */
static void send_tracked(int fd, uint8_t *pkt, size_t len)
{
	if (n_sent < sizeof(sent) / sizeof(sent[0]) && len >= 48) {
		buf_store_u64(pkt + 40, next_ts++);
		sent[n_sent].ts = buf_load_u64(pkt + 40);
		sent[n_sent].len = len;
		n_sent++;
	}
	if (send(fd, pkt, len, 0) < 0 && errno != ECONNREFUSED)
		perror("send");
	/* Pace the barrage so the kernel does not drop it before ntsd
	 * sees it (what is tested is ntsd, not socket buffers). */
	if (++n_paced % 16 == 0) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
}

static void test_barrage(const char *fam, const struct netaddr *server,
			 struct ntp_service *ns)
{
	static uint8_t pkt[NTS_MAX_PACKET + 512], out[NTS_MAX_PACKET + 512];
	uint8_t uid[NTS_UID_LEN];
	struct session s;
	char name[64];
	size_t len, l, i, replies = 0, bad = 0, unknown = 0;
	size_t auth_off;
	ssize_t r;
	int fd, v, m;
	struct buf_writer w;

	n_sent = 0;
	fd = udp_client(server);
	snprintf(name, sizeof(name), "barrage-%s", fam);
	if (fd < 0 || session_new(&s) < 0) {
		itest_report(name, false, "setup");
		return;
	}
	/* every truncation of a valid request with placeholders */
	len = nts_request(&s, 2, next_ts++, uid, pkt);
	for (l = 0; l < len; l++)
		send_tracked(fd, pkt, l);
	/* versions 0-7 and modes 0-7, with and without NTS fields */
	for (v = 0; v < 8; v++) {
		for (m = 0; m < 8; m++) {
			pkt[0] = (uint8_t)(v << 3 | m);
			send_tracked(fd, pkt, 48);
			send_tracked(fd, pkt, len);
		}
	}
	pkt[0] = 4 << 3 | 3;
	/* bad extension field lengths in each field */
	auth_off = len - 40;
	for (i = 0; i < 4; i++) {
		size_t off[4] = { 48, 48 + 36, 48 + 36 + 108, auth_off };
		uint16_t bad_len[] = { 0, 2, 5, 0xfffc, 0xffff };
		uint16_t saved = buf_load_u16(pkt + off[i] + 2);

		for (l = 0; l < sizeof(bad_len) / sizeof(bad_len[0]); l++) {
			buf_store_u16(pkt + off[i] + 2, bad_len[l]);
			send_tracked(fd, pkt, len);
		}
		buf_store_u16(pkt + off[i] + 2, saved);
	}
	/* corrupted cookie tag, corrupted authenticator, bad auth lengths
	 * (the new timestamps alone make the authenticator fail) */
	for (i = 60; i < len; i += 7) {
		pkt[i] ^= 0x10;
		send_tracked(fd, pkt, len);
		pkt[i] ^= 0x10;
	}
	/* wrong cookie sizes, two authenticators, two unique ids */
	for (i = 0; i < 4; i++) {
		static const uint8_t zeros[256];

		buf_writer_init(&w, pkt, NTS_MAX_PACKET);
		nts_request_put_header(&w, 4, NTP_MODE_CLIENT, next_ts++);
		ntp_ef_put(&w, NTP_EF_UNIQUE_ID, uid, sizeof(uid));
		if (i == 3)
			ntp_ef_put(&w, NTP_EF_UNIQUE_ID, uid, sizeof(uid));
		ntp_ef_put(&w, NTP_EF_NTS_COOKIE, s.cookies[0], i == 0 ? 100 : i == 1 ? 252 : 104);
		ntp_ef_put(&w, NTP_EF_NTS_COOKIE_PLACEHOLDER, zeros, 104);
		nts_auth_put(&w, &s.c2s, zeros, 16, zeros, 0, 0);
		if (i == 2)
			nts_auth_put(&w, &s.c2s, zeros, 16, zeros, 0, 0);
		send_tracked(fd, pkt, w.off);
	}
	/* oversized datagram and empty ones */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 4 << 3 | 3;
	send_tracked(fd, pkt, sizeof(pkt));
	send_tracked(fd, pkt, 0);
	send_tracked(fd, pkt, 1);

	/* collect every reply */
	while ((r = recv_wait(fd, out, sizeof(out), 300)) >= 0) {
		uint64_t origin = r >= 48 ? buf_load_u64(out + 24) : 0;
		bool found = false;

		replies++;
		for (i = 0; i < n_sent; i++) {
			if (sent[i].ts != origin)
				continue;
			found = true;
			if ((size_t)r > sent[i].len)
				bad++;
		}
		if (!found)
			unknown++;
	}
	/* about 67 replies are expected (plain, NAKs); a few may be lost */
	itest_report(name, bad == 0 && unknown == 0 && replies >= 30,
	       "%zu datagrams sent, %zu replies, %zu larger than the request, %zu unmatched",
	       n_sent + 2, replies, bad, unknown);
	close(fd);

	/* the next valid client is still answered */
	snprintf(name, sizeof(name), "after-barrage-%s", fam);
	{
		struct session s2;
		size_t n_new = 0;
		int st = -1;

		fd = udp_client(server);
		if (fd >= 0 && session_new(&s2) == 0)
			st = nts_exchange(fd, &s2, 1, &n_new);
		itest_report(name, st == NTS_REPLY_OK && n_new == 2, "status %d", st);
		if (fd >= 0)
			close(fd);
	}
	(void)ns;
}

static void test_counters(struct ntp_service *ns)
{
	uint64_t c[NTP_CNT_COUNT];
	uint64_t drops = 0;
	int i;

	ntp_service_counters(ns, c, NTP_CNT_COUNT);
	for (i = NTP_CNT_FIRST_DROP; i < NTP_CNT_COUNT; i++)
		drops += c[i];
	printf("     ");
	for (i = 0; i < NTP_CNT_COUNT; i++)
		if (c[i] > 0)
			printf(" %s=%llu", ntp_counter_name((enum ntp_counter)i),
			       (unsigned long long)c[i]);
	printf("\n");
	itest_report("counters", c[NTP_CNT_PLAIN_REPLY] >= 4 && c[NTP_CNT_NTS_REPLY] >= 26 &&
	       c[NTP_CNT_NAK_COOKIE_AUTH] + c[NTP_CNT_NAK_COOKIE_KEY] > 0 &&
	       c[NTP_CNT_NAK_AUTH] > 0 && c[NTP_CNT_NAK_COOKIE_LENGTH] > 0 &&
	       c[NTP_CNT_DROP_MODE] > 0 && c[NTP_CNT_DROP_VERSION] > 0 &&
	       c[NTP_CNT_DROP_EF_MALFORMED] > 0 && c[NTP_CNT_DROP_TRUNCATED] > 0 &&
	       c[NTP_CNT_DROP_AUTH_DUPLICATE] > 0 && c[NTP_CNT_DROP_UID_DUPLICATE] > 0 &&
	       c[NTP_CNT_RATE_KOD] == 0,
	       "plain %llu nts %llu nak(cookie) %llu nak(auth) %llu drops %llu",
	       (unsigned long long)c[NTP_CNT_PLAIN_REPLY], (unsigned long long)c[NTP_CNT_NTS_REPLY],
	       (unsigned long long)(c[NTP_CNT_NAK_COOKIE_AUTH] + c[NTP_CNT_NAK_COOKIE_KEY] +
				    c[NTP_CNT_NAK_COOKIE_LENGTH]),
	       (unsigned long long)c[NTP_CNT_NAK_AUTH], (unsigned long long)drops);
}

static void test_rate_limit(void)
{
	struct config cfg;
	struct ntp_service *ns;
	struct session s;
	uint8_t pkt[NTS_MAX_PACKET], out[NTS_MAX_PACKET], uid[NTS_UID_LEN];
	uint64_t first_ts;
	unsigned ok = 0, rate = 0, nak = 0, other = 0, i, per_req[40];
	ssize_t r;
	int fd;

	config_init(&cfg);
	netaddr_parse("127.0.0.1", 0, &cfg.ntp_listen[0].addr);
	cfg.n_ntp_listen = 1;
	cfg.threads = 1;
	cfg.rate_limit = true;
	cfg.rate_limit_rate = 0.5;
	cfg.rate_limit_burst = 3;
	cfg.rate_limit_table = 1024;
	ns = ntp_service_new(&cfg, &keys);
	if (ns == NULL || ntp_service_start(ns) < 0) {
		itest_report("rate-limit", false, "cannot start a service");
		ntp_service_free(ns);
		config_free(&cfg);
		return;
	}
	fd = udp_client(ntp_service_listen_addr(ns, 0));
	if (fd < 0 || session_new(&s) < 0) {
		itest_report("rate-limit", false, "setup");
		goto out;
	}
	/* 40 requests at once: 20 valid, 20 with a bad cookie (NAK-able) */
	first_ts = next_ts;
	memset(per_req, 0, sizeof(per_req));
	for (i = 0; i < 40; i++) {
		size_t len;

		if (s.n_cookies == 0)
			s.n_cookies = 8;	/* reuse: fine for this test */
		len = nts_request(&s, 0, next_ts++, uid, pkt);
		if (i % 2)
			pkt[48 + 36 + 4 + 30] ^= 1;	/* corrupt the cookie */
		send(fd, pkt, len, 0);
	}
	while ((r = recv_wait(fd, out, sizeof(out), 300)) >= 48) {
		uint64_t origin = buf_load_u64(out + 24);
		uint8_t stratum = out[1];
		uint32_t refid = buf_load_u32(out + 12);

		if (origin >= first_ts && origin < first_ts + 40)
			per_req[origin - first_ts]++;
		if (stratum == 0 && refid == NTP_KISS_RATE)
			rate++;
		else if (stratum == 0 && refid == NTP_KISS_NTSN)
			nak++;
		else if (stratum != 0)
			ok++;
		else
			other++;
	}
	for (i = 0; i < 40; i++)
		if (per_req[i] > 1)
			other++;
	itest_report("rate-limit-burst", ok + nak == 3 && rate == 1 && other == 0,
	       "%u answered (%u NTS, %u NAK), %u RATE, %u unexpected", ok + nak, ok, nak, rate,
	       other);
	/* after the interval (2 s at 0.5/s): a token again, and one more KoD */
	{
		struct timespec ts = { 2, 100000000 };
		size_t n_new = 0;
		int st;

		nanosleep(&ts, NULL);
		s.n_cookies = 8;
		st = nts_exchange(fd, &s, 0, &n_new);
		itest_report("rate-limit-refill", st == NTS_REPLY_OK, "status %d", st);
		st = nts_exchange(fd, &s, 0, &n_new);
		itest_report("rate-limit-kod-again", st == NTS_REPLY_KOD, "status %d", st);
	}
	close(fd);
out:
	ntp_service_free(ns);
	config_free(&cfg);
}

/* Wildcard binds: a reply leaves from the address the request came to
 * (IP_PKTINFO / IPV6_PKTINFO); a connected client socket accepts nothing
 * else, so an answer at all proves it. */
static void test_wildcard(void)
{
	struct config cfg;
	struct ntp_service *ns;
	struct netaddr to;
	struct ntp_header h;
	const char *dst[] = { "127.0.0.2", "127.0.0.1", "::1" };
	size_t i;
	int fd, st;

	config_init(&cfg);
	netaddr_parse("0.0.0.0", 0, &cfg.ntp_listen[0].addr);
	netaddr_parse("::", 0, &cfg.ntp_listen[1].addr);
	cfg.n_ntp_listen = 2;
	cfg.threads = 1;
	ns = ntp_service_new(&cfg, &keys);
	if (ns == NULL || ntp_service_start(ns) < 0) {
		itest_report("wildcard", false, "cannot start a service on 0.0.0.0 and ::");
		goto out;
	}
	for (i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		char name[64];

		netaddr_parse(dst[i], netaddr_port(ntp_service_listen_addr(ns, i < 2 ? 0 : 1)),
			      &to);
		fd = udp_client(&to);
		st = fd < 0 ? -1 : plain_exchange(fd, 4, &h);
		snprintf(name, sizeof(name), "wildcard-reply-from-%s", dst[i]);
		itest_report(name, st == NTS_REPLY_OK, "status %d", st);
		if (fd >= 0)
			close(fd);
	}
out:
	ntp_service_free(ns);
	config_free(&cfg);
}

int main(void)
{
	struct keyset *ks;
	struct config cfg;
	struct ntp_service *ns;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("ntp_service_test", LOG_TO_STDERR, LOG_LVL_WARN);
	ks = keyset_new();
	if (ks == NULL || keyset_generate(ks, time(NULL) - 7200) == NULL) {
		printf("FAIL setup: keyset\n0 passed, 1 failed\n");
		return 1;
	}
	snapshot_init(&keys, keyset_snapshot_free);
	snapshot_publish(&keys, ks);

	config_init(&cfg);
	netaddr_parse("127.0.0.1", 0, &cfg.ntp_listen[0].addr);
	netaddr_parse("::1", 0, &cfg.ntp_listen[1].addr);
	cfg.n_ntp_listen = 2;
	cfg.threads = 2;
	ns = ntp_service_new(&cfg, &keys);
	itest_report("start", ns != NULL && ntp_service_start(ns) == 0 && ntp_service_port(ns) != 0,
	       "2 workers on 127.0.0.1 and ::1, port %u", ns ? ntp_service_port(ns) : 0);
	if (ns == NULL)
		goto out;
	test_valid("ipv4", ntp_service_listen_addr(ns, 0));
	test_valid("ipv6", ntp_service_listen_addr(ns, 1));
	test_barrage("ipv4", ntp_service_listen_addr(ns, 0), ns);
	test_barrage("ipv6", ntp_service_listen_addr(ns, 1), ns);
	test_counters(ns);
	ntp_service_stop(ns);
	itest_report("stop", true, "workers joined");
	ntp_service_free(ns);
	test_rate_limit();
	test_wildcard();
out:
	config_free(&cfg);
	snapshot_destroy(&keys);
	return itest_finish();
}
