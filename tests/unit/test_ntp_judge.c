/* unit tests for ntpd/ntp_judge, the per-datagram steps both NTP data
 * paths take: access rules before anything else (a peer we cannot read
 * is denied when there are rules), the rate limit (burst, then one KoD,
 * then drops), the responder's outcome counted, interleaved mode (the
 * entry of a reply, its transmit time set later, the next request served
 * with it, counted). */
#include "build_config.h"

#include <string.h>

#include "common/acl.h"
#include "common/buf.h"
#include "common/netaddr.h"
#include "common/ntp_packet.h"
#include "common/ratelimit.h"
#include "common/snapshot.h"
#include "ntpd/ntp_judge.h"
#include "ntpd/xleave.h"
#include "unit.h"

static struct ntp_judge_env env;
static struct snapshot keys, rules;

static void acl_free_void(void *p)
{
	acl_free(p);
}

/* No key set (NTS requests would be dropped), no rules, no table. */
static void env_init(void)
{
	struct clock_state st;

	memset(&env, 0, sizeof(env));
	memset(&st, 0, sizeof(st));
	st.stratum = 2;
	st.precision = -20;
	clock_pub_init(&env.clock, &st);
	snapshot_init(&keys, NULL);
	env.keys = &keys;
}

static void peer_of(const char *s, struct netaddr *a)
{
	CU_ASSERT_EQUAL_FATAL(netaddr_parse(s, 40000, a), 0);
}

/* A plain NTPv4 client request with these origin, receive and transmit
 * fields. */
static void request(uint8_t *pkt, uint64_t origin, uint64_t rx, uint64_t tx)
{
	memset(pkt, 0, NTP_HEADER_LEN);
	pkt[0] = 4 << 3 | 3;
	buf_store_u64(pkt + 24, origin);
	buf_store_u64(pkt + 32, rx);
	buf_store_u64(pkt + 40, tx);
}

/* admit then answer, as a data path does; the reply's length, 0 for none. */
static size_t serve(struct ntp_judge *j, const struct netaddr *peer, const uint8_t *pkt,
		    uint8_t *out, bool *want_tx)
{
	struct ntp_judge_batch b;
	size_t out_len = 0;

	*want_tx = false;
	ntp_judge_begin(j, &b);
	if (!ntp_judge_admit(j, &b, peer))
		return 0;
	if (!ntp_judge_answer(j, &b, peer, pkt, NTP_HEADER_LEN, ntp_ts_now(), out,
			      RESPONDER_MAX_PACKET, &out_len, want_tx))
		return 0;
	return out_len;
}

static void test_plain(void)
{
	struct ntp_judge j;
	struct netaddr peer;
	uint8_t pkt[NTP_HEADER_LEN], out[RESPONDER_MAX_PACKET];
	bool want_tx;

	env_init();
	CU_ASSERT_EQUAL_FATAL(ntp_judge_init(&j, &env, 0, NULL), 0);
	peer_of("192.0.2.7", &peer);
	request(pkt, 0, 0, UINT64_C(0xe600000000000002));
	CU_ASSERT_EQUAL(serve(&j, &peer, pkt, out, &want_tx), NTP_HEADER_LEN);
	CU_ASSERT_FALSE(want_tx);	/* no interleaved table */
	CU_ASSERT_EQUAL(out[0] & 7, 4);
	CU_ASSERT_EQUAL(buf_load_u64(out + 24), UINT64_C(0xe600000000000002));
	CU_ASSERT_EQUAL(counter_get(&j.cnt[NTP_CNT_PLAIN_REPLY]), 1);
	/* without rules even an unreadable peer is served */
	CU_ASSERT_EQUAL(serve(&j, NULL, pkt, out, &want_tx), NTP_HEADER_LEN);
	/* a mode 4 packet is the responder's to drop, and counted */
	pkt[0] = 4 << 3 | 4;
	CU_ASSERT_EQUAL(serve(&j, &peer, pkt, out, &want_tx), 0);
	CU_ASSERT_EQUAL(counter_get(&j.cnt[NTP_CNT_DROP_MODE]), 1);
	ntp_judge_wipe(&j);
}

static void test_denied(void)
{
	struct ntp_judge j;
	struct netaddr in, out_addr;
	struct acl *acl = acl_new();
	uint8_t pkt[NTP_HEADER_LEN], out[RESPONDER_MAX_PACKET];
	bool want_tx;

	env_init();
	CU_ASSERT_PTR_NOT_NULL_FATAL(acl);
	CU_ASSERT_EQUAL_FATAL(acl_add(acl, "192.0.2.0/24", false), 0);
	snapshot_init(&rules, acl_free_void);
	CU_ASSERT_EQUAL_FATAL(snapshot_publish(&rules, acl), 0);
	env.acl = &rules;
	CU_ASSERT_EQUAL_FATAL(ntp_judge_init(&j, &env, 0, NULL), 0);
	peer_of("192.0.2.7", &in);
	peer_of("198.51.100.1", &out_addr);
	request(pkt, 0, 0, 1);
	CU_ASSERT_EQUAL(serve(&j, &in, pkt, out, &want_tx), 0);
	CU_ASSERT_EQUAL(serve(&j, NULL, pkt, out, &want_tx), 0);
	CU_ASSERT_EQUAL(counter_get(&j.cnt[NTP_CNT_DROP_DENIED]), 2);
	CU_ASSERT_EQUAL(serve(&j, &out_addr, pkt, out, &want_tx), NTP_HEADER_LEN);
	CU_ASSERT_EQUAL(counter_get(&j.cnt[NTP_CNT_PLAIN_REPLY]), 1);
	ntp_judge_wipe(&j);
	snapshot_destroy(&rules);
}

static void test_rate_limit(void)
{
	struct netaddr_prefix prefix = { NETADDR_PREFIX_V4_DEFAULT, NETADDR_PREFIX_V6_DEFAULT };
	struct ratelimit *rl = ratelimit_new(0.01, 2, 64, &prefix);
	struct ntp_judge j;
	struct netaddr peer;
	uint8_t pkt[NTP_HEADER_LEN], out[RESPONDER_MAX_PACKET];
	bool want_tx;

	env_init();
	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	CU_ASSERT_EQUAL_FATAL(ntp_judge_init(&j, &env, 0, rl), 0);
	peer_of("192.0.2.7", &peer);
	request(pkt, 0, 0, 1);
	CU_ASSERT_EQUAL(serve(&j, &peer, pkt, out, &want_tx), NTP_HEADER_LEN);
	CU_ASSERT_EQUAL(serve(&j, &peer, pkt, out, &want_tx), NTP_HEADER_LEN);
	/* over the burst: one KoD RATE (stratum 0, "RATE"), then nothing */
	CU_ASSERT_EQUAL(serve(&j, &peer, pkt, out, &want_tx), NTP_HEADER_LEN);
	CU_ASSERT_EQUAL(out[1], 0);
	CU_ASSERT(memcmp(out + 12, "RATE", 4) == 0);
	CU_ASSERT_EQUAL(serve(&j, &peer, pkt, out, &want_tx), 0);
	CU_ASSERT_EQUAL(counter_get(&j.cnt[NTP_CNT_PLAIN_REPLY]), 2);
	CU_ASSERT_EQUAL(counter_get(&j.cnt[NTP_CNT_RATE_KOD]), 1);
	CU_ASSERT_EQUAL(counter_get(&j.cnt[NTP_CNT_RATE_DROP]), 1);
	ntp_judge_wipe(&j);	/* frees rl */
}

static void test_interleaved(void)
{
	struct ntp_judge j;
	struct netaddr peer;
	uint8_t pkt[NTP_HEADER_LEN], out[RESPONDER_MAX_PACKET];
	uint64_t our_rx, tx;
	bool want_tx;

	env_init();
	env.xl = xleave_new(64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(env.xl);
	CU_ASSERT_EQUAL_FATAL(ntp_judge_init(&j, &env, 0, NULL), 0);
	peer_of("192.0.2.7", &peer);
	/* a request that may be interleaved: odd origin, rx != tx */
	request(pkt, UINT64_C(0xe500000000000001), 5, 7);
	CU_ASSERT_EQUAL(serve(&j, &peer, pkt, out, &want_tx), NTP_HEADER_LEN);
	CU_ASSERT_TRUE(want_tx);
	CU_ASSERT_EQUAL(counter_get(&j.interleaved), 0);
	our_rx = buf_load_u64(out + RESPONDER_RX_OFFSET);
	/* when it left: a little after the time read for sealing it (within
	 * XLEAVE_MAX_TX_DELAY), even like every transmit time we serve */
	tx = (j.tx_est + 0x10000) & ~UINT64_C(1);
	CU_ASSERT_TRUE(ntp_judge_set_tx(&j, &peer, out, tx, XLEAVE_TX_DAEMON));
	/* the next one names that reply: it is served with its real
	 * transmit time, and counted */
	request(pkt, our_rx, 9, 11);
	CU_ASSERT_EQUAL(serve(&j, &peer, pkt, out, &want_tx), NTP_HEADER_LEN);
	CU_ASSERT_EQUAL(counter_get(&j.interleaved), 1);
	CU_ASSERT_EQUAL(buf_load_u64(out + RESPONDER_TX_OFFSET), tx);
	/* a transmit time for a reply the table never saw is not taken */
	buf_store_u64(out + RESPONDER_RX_OFFSET, our_rx + 2);
	CU_ASSERT_FALSE(ntp_judge_set_tx(&j, &peer, out, tx, XLEAVE_TX_DAEMON));
	ntp_judge_wipe(&j);
	xleave_free(env.xl);
}

UNIT_SUITE(ntp_judge, NULL, NULL,
	   UNIT_TEST(test_plain),
	   UNIT_TEST(test_denied),
	   UNIT_TEST(test_rate_limit),
	   UNIT_TEST(test_interleaved));
