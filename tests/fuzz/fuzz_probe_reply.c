/* fuzz target: what `ntsctl probe` makes of a datagram from the NTP
 * server it probes (tools/probe_reply: nts_reply_parse, then its own
 * verdict and cookie pool).  Byte 0 picks the shape: even -> the rest is
 * the datagram as is; odd -> a genuine reply sealed under the session's
 * S2C key (bits 1-5 of byte 0: how many cookies it carries) is mutated
 * by the rest, read as a 2-byte length to cut or extend it to and
 * (offset, xor) pairs.  Byte 1 also says how long our request was and
 * how many cookies the pool held before.  Either way: a good verdict
 * means a reply no longer than the request, its origin and unique
 * identifier ours, and cookies that came from inside it; a mutated
 * reply is good only when every byte the authenticator covers is
 * intact; the genuine one is always good. */
#include "build_config.h"

#include <string.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/ntp_ef.h"
#include "common/nts_request.h"
#include "tools/probe_reply.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_SHAPES 18		/* 0 to 17 cookies: past NTS_REPLY_MAX_COOKIES */
#define COOKIE_BYTES 104

static struct aead_ctx s2c;
static struct probe_request pr;
static uint8_t genuine[MAX_SHAPES][NTS_MAX_PACKET];
static size_t genuine_len[MAX_SHAPES], covered[MAX_SHAPES];

/* A reply as ntsd sends it: header, Unique Identifier, authenticator
 * over n cookies, 8 bytes of additional padding.  covered[n]: where what
 * the authenticator protects ends. */
static void make_genuine(unsigned n)
{
	uint8_t pt[NTS_MAX_PACKET], body[COOKIE_BYTES], nonce[16];
	struct buf_writer w, pw;
	struct ntp_header h;

	memset(&h, 0, sizeof(h));
	h.version = 4;
	h.mode = NTP_MODE_SERVER;
	h.stratum = 2;
	h.origin_ts = pr.t1;
	h.rx_ts = pr.t1 + 0x1001;
	h.tx_ts = pr.t1 + 0x2000;
	buf_writer_init(&pw, pt, sizeof(pt));
	for (unsigned i = 0; i < n; i++) {
		memset(body, (int)(0x40 + i), sizeof(body));
		buf_store_u32(body, 0x01020300u + i);	/* the master key id */
		check(ntp_ef_put(&pw, NTP_EF_NTS_COOKIE, body, sizeof(body)));
	}
	memset(nonce, 0x6e, sizeof(nonce));
	buf_writer_init(&w, genuine[n], sizeof(genuine[n]));
	check(ntp_header_encode(&w, &h));
	check(ntp_ef_put(&w, NTP_EF_UNIQUE_ID, pr.uid, sizeof(pr.uid)));
	check(nts_auth_put(&w, &s2c, nonce, sizeof(nonce), pt, pw.off, 8));
	genuine_len[n] = w.off;
	covered[n] = w.off - 8;
}

static void setup(void)
{
	uint8_t key[32];

	memset(key, 2, sizeof(key));
	check(aead_set_key(&s2c, AEAD_AES_SIV_CMAC_256, key) == 0);
	memset(pr.uid, 3, sizeof(pr.uid));
	pr.t1 = 0xe600000000000001ULL;
	pr.key = 0x01020304;
	for (unsigned n = 0; n < MAX_SHAPES; n++)
		make_genuine(n);
}

static bool within(const uint8_t *p, size_t n, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	return p >= b && n <= len && (size_t)(p - b) <= len - n;
}

/* The probe's verdict on pkt; it repeats, and a good one holds up. */
static enum probe_reply_verdict take(const uint8_t *pkt, size_t len, size_t req_len,
				     unsigned held)
{
	static struct nts_reply reply, again;
	struct cookie_pool pool, pool2;
	char err[256], err2[256];
	enum probe_reply_verdict v;
	size_t want;

	memset(&pool, 0, sizeof(pool));
	for (unsigned i = 0; i < held; i++)
		probe_pool_put(&pool, genuine[1] + 48, COOKIE_BYTES);
	pool2 = pool;
	pr.len = req_len;
	err[0] = err2[0] = '\0';
	v = probe_reply_take(pkt, len, &pr, &s2c, &reply, &pool, err, sizeof(err));
	check(v == PROBE_REPLY_GOOD || v == PROBE_REPLY_BAD || v == PROBE_REPLY_SKIP);
	check(probe_reply_take(pkt, len, &pr, &s2c, &again, &pool2, err2, sizeof(err2)) == v);
	check(strcmp(err, err2) == 0);
	if (v == PROBE_REPLY_BAD)
		check(err[0] != '\0' && strlen(err) < sizeof(err));
	if (v != PROBE_REPLY_GOOD) {
		check(pool.n == held);
		return v;
	}
	check(len <= req_len && reply.len == len);
	check(reply.hdr.mode == NTP_MODE_SERVER && reply.hdr.origin_ts == pr.t1);
	check(reply.n_cookies >= 1 && reply.n_cookies <= NTS_REPLY_MAX_COOKIES);
	want = held + reply.n_cookies;
	for (size_t i = 0; i < reply.n_cookies; i++) {
		check(within(reply.cookie[i], reply.cookie_len[i], reply.plain, sizeof(reply.plain)));
		if (reply.cookie_len[i] == 0 || reply.cookie_len[i] > COOKIE_MAX_LEN)
			want--;
	}
	check(pool.n == (want < PROBE_COOKIES ? want : PROBE_COOKIES));
	/* the newest cookie in the pool is the reply's last one kept */
	for (size_t i = reply.n_cookies; i-- > 0;) {
		if (reply.cookie_len[i] == 0 || reply.cookie_len[i] > COOKIE_MAX_LEN)
			continue;
		check(pool.len[pool.n - 1] == reply.cookie_len[i] &&
		      memcmp(pool.cookie[pool.n - 1], reply.cookie[i], reply.cookie_len[i]) == 0);
		break;
	}
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[NTS_MAX_PACKET];
	static bool ready;
	unsigned shape, held;
	size_t len, req_len;
	enum probe_reply_verdict v;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 2)
		return 0;
	held = data[1] % (PROBE_COOKIES + 1);
	req_len = data[1] & 0x80 ? NTS_MAX_PACKET : 48 + data[1] * 8u;
	if (!(data[0] & 1)) {
		take(data + 2, size - 2, req_len, held);
		return 0;
	}
	shape = (data[0] >> 1) % MAX_SHAPES;
	check(take(genuine[shape], genuine_len[shape], NTS_MAX_PACKET, held) ==
	      (shape > 0 ? PROBE_REPLY_GOOD : PROBE_REPLY_BAD));
	if (size < 4)
		return 0;
	memcpy(pkt, genuine[shape], genuine_len[shape]);
	memset(pkt + genuine_len[shape], 0, sizeof(pkt) - genuine_len[shape]);
	len = data[3] & 0x80 ? genuine_len[shape] : buf_load_u16(data + 2) % (sizeof(pkt) + 1);
	for (size_t i = 4; i + 1 < size; i += 2)
		pkt[(data[i] * 8u + (i & 7)) % (len ? len : 1)] ^= data[i + 1];
	v = take(pkt, len, req_len, held);
	if (v == PROBE_REPLY_GOOD)
		check(len >= covered[shape] && memcmp(pkt, genuine[shape], covered[shape]) == 0);
	return 0;
}
