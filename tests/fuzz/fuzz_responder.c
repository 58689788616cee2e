/* fuzz target: the responder's request handling.  Input byte 0 picks the
 * shape: even -> the remaining bytes are the request as is; odd -> a valid
 * NTS request (with placeholders) is mutated by the remaining bytes, read
 * as (offset, xor) pairs after a 2-byte length to truncate or extend to.
 * Either way: a reply is never longer than its request, and the
 * outcome (a named counter) says a reply exactly when there is one. */
#include "build_config.h"

#include <stdint.h>
#include <string.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/cookie.h"
#include "common/keyset.h"
#include "common/nts_request.h"
#include "ntpd/clock.h"
#include "ntpd/responder.h"
#include "tests/fuzz/fuzz_check.h"

static struct keyset *ks;
static struct responder resp;
static struct clock_state clk;
static uint8_t valid[NTS_MAX_PACKET];
static size_t valid_len;

static int setup(void)
{
	const struct master_key *mk;
	struct cookie_keys keys;
	struct aead_ctx c2s;
	struct nts_request rq;
	uint8_t cookie[COOKIE_MAX_LEN], uid[NTS_UID_LEN], nonce[16];
	size_t clen;

	ks = keyset_new();
	if (ks == NULL || keyset_generate(ks, 1600000000) == NULL ||
	    responder_init(&resp, 3600) < 0)
		return -1;
	clk.stratum = 2;
	clk.precision = -20;
	memset(&keys, 0, sizeof(keys));
	keys.aead = AEAD_AES_SIV_CMAC_256;
	keys.key_len = 32;
	memset(keys.c2s, 1, 32);
	memset(keys.s2c, 2, 32);
	memset(uid, 3, sizeof(uid));
	memset(nonce, 4, sizeof(nonce));
	mk = keyset_sealing_key(ks, 1700000000, 0);
	clen = cookie_seal(mk, &keys, nonce, cookie, sizeof(cookie));
	if (clen == 0 || aead_set_key(&c2s, keys.aead, keys.c2s) < 0)
		return -1;
	memset(&rq, 0, sizeof(rq));
	rq.version = 4;
	rq.tx_ts = 0xe600000000000001ULL;
	rq.uid = uid;
	rq.uid_len = sizeof(uid);
	rq.cookie = cookie;
	rq.cookie_len = clen;
	rq.placeholders = 2;
	rq.enc_placeholders = 1;
	rq.c2s = &c2s;
	rq.nonce = nonce;
	rq.nonce_len = sizeof(nonce);
	valid_len = nts_request_build(&rq, valid, sizeof(valid));
	return valid_len > 0 ? 0 : -1;
}

static void run(const uint8_t *pkt, size_t len)
{
	static uint8_t out[NTS_MAX_PACKET + 64];
	struct responder_request rq;
	enum ntp_counter c;
	size_t out_len = 12345;

	memset(&rq, 0, sizeof(rq));
	rq.pkt = pkt;
	rq.len = len;
	rq.rx_ts = 0xe600000100000000ULL;
	rq.now = 1700000000;
	rq.clock = &clk;
	rq.keys = ks;
	rq.rate_kod = len > 48 && pkt[len - 1] == 0x5a;
	c = responder_handle(&resp, &rq, out, sizeof(out), &out_len);
	check((unsigned)c < NTP_CNT_COUNT);
	check(out_len <= len);	/* never a reply larger than its request */
	check(ntp_counter_is_reply(c) == (out_len > 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[NTS_MAX_PACKET + 64];
	static int ready;
	size_t len, i;

	if (!ready) {
		check(setup() == 0);
		ready = 1;
	}
	if (size == 0)
		return 0;
	if (!(data[0] & 1)) {
		run(data + 1, size - 1);
		return 0;
	}
	if (size < 3)
		return 0;
	memcpy(pkt, valid, valid_len);
	memset(pkt + valid_len, 0, sizeof(pkt) - valid_len);
	len = buf_load_u16(data + 1) % sizeof(pkt);
	if (data[1] & 0x80)
		len = valid_len;	/* keep the length half the time */
	for (i = 3; i + 1 < size; i += 2)
		pkt[(data[i] * 8u + (i & 7)) % (len ? len : 1)] ^= data[i + 1];
	run(pkt, len);
	return 0;
}
