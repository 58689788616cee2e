/* unit tests for interleaved mode (RFC 9769): which requests may be
 * interleaved (xleave_request_wants), the shared table (xleave_*), the
 * responder's interleaved replies and the parser of looped-back transmit
 * timestamps (txstamp_parse). */
#include "build_config.h"

#include <pthread.h>
#include <string.h>

#include "common/buf.h"
#include "common/netaddr.h"
#include "common/ntp_packet.h"
#include "common/nts_request.h"
#include "ntpd/responder.h"
#include "ntpd/txstamp.h"
#include "ntpd/xleave.h"
#include "unit.h"

/* One second and one microsecond in NTP format. */
#define NTP_SEC (UINT64_C(1) << 32)
#define NTP_USEC (NTP_SEC / 1000000)
#define T0 UINT64_C(0xe5f1a2b400000000)

static void client_of(const char *s, uint8_t out[16])
{
	struct netaddr a;

	CU_ASSERT_EQUAL_FATAL(netaddr_parse(s, 123, &a), 0);
	netaddr_host_bytes(&a, out);
}

/* A 48-byte request: version, mode and the three timestamps. */
static void request(uint8_t *pkt, unsigned version, unsigned mode, uint64_t origin,
		    uint64_t rx, uint64_t tx)
{
	memset(pkt, 0, NTP_HEADER_LEN);
	pkt[0] = (uint8_t)(version << 3 | mode);
	buf_store_u64(pkt + 24, origin);
	buf_store_u64(pkt + 32, rx);
	buf_store_u64(pkt + 40, tx);
}

static void test_request_wants(void)
{
	uint8_t pkt[NTP_HEADER_LEN];
	uint64_t origin = 0;

	/* chrony's interleaved request: origin = our receive timestamp (odd) */
	request(pkt, 4, NTP_MODE_CLIENT, T0 | 1, T0 + 5, T0 + 9);
	CU_ASSERT_TRUE(xleave_request_wants(pkt, sizeof(pkt), &origin));
	CU_ASSERT_EQUAL(origin, T0 | 1);
	/* basic: origin = our transmit timestamp (even), or zero */
	request(pkt, 4, NTP_MODE_CLIENT, T0 | 2, T0 + 5, T0 + 9);
	CU_ASSERT_FALSE(xleave_request_wants(pkt, sizeof(pkt), &origin));
	request(pkt, 4, NTP_MODE_CLIENT, 0, 0, T0 + 9);
	CU_ASSERT_FALSE(xleave_request_wants(pkt, sizeof(pkt), &origin));
	/* receive equal to transmit: the client says it is not interleaving */
	request(pkt, 4, NTP_MODE_CLIENT, T0 | 1, T0 + 9, T0 + 9);
	CU_ASSERT_FALSE(xleave_request_wants(pkt, sizeof(pkt), &origin));
	/* only NTPv4 client requests */
	request(pkt, 3, NTP_MODE_CLIENT, T0 | 1, T0 + 5, T0 + 9);
	CU_ASSERT_FALSE(xleave_request_wants(pkt, sizeof(pkt), &origin));
	request(pkt, 4, NTP_MODE_SERVER, T0 | 1, T0 + 5, T0 + 9);
	CU_ASSERT_FALSE(xleave_request_wants(pkt, sizeof(pkt), &origin));
	request(pkt, 4, 1, T0 | 1, T0 + 5, T0 + 9);
	CU_ASSERT_FALSE(xleave_request_wants(pkt, sizeof(pkt), &origin));
	request(pkt, 4, NTP_MODE_CLIENT, T0 | 1, T0 + 5, T0 + 9);
	CU_ASSERT_FALSE(xleave_request_wants(pkt, NTP_HEADER_LEN - 1, &origin));
}

static void test_table_params(void)
{
	struct xleave *x;

	CU_ASSERT_PTR_NULL(xleave_new(0));
	CU_ASSERT_PTR_NULL(xleave_new(XLEAVE_MAX_ENTRIES + 1));
	x = xleave_new(1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(xleave_size(x), 1024);
	xleave_free(x);
	xleave_free(NULL);
}

static void test_table_entry_life(void)
{
	struct xleave *x = xleave_new(64);
	uint8_t a[16], b[16];
	enum xleave_source src;
	uint64_t rx = T0 | 1, tx = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	client_of("192.0.2.1", a);
	client_of("192.0.2.2", b);
	CU_ASSERT_FALSE(xleave_lookup(x, a, rx, &tx, &src));
	xleave_save(x, a, rx, T0 + 10 * NTP_USEC);
	CU_ASSERT_TRUE(xleave_lookup(x, a, rx, &tx, &src));
	CU_ASSERT_EQUAL(tx, T0 + 10 * NTP_USEC);
	CU_ASSERT_EQUAL(src, XLEAVE_TX_DAEMON);
	/* another client naming the same receive timestamp gets nothing */
	CU_ASSERT_FALSE(xleave_lookup(x, b, rx, &tx, &src));
	CU_ASSERT_FALSE(xleave_set_tx(x, b, rx, T0 + 20 * NTP_USEC, XLEAVE_TX_KERNEL));
	/* nor the same client naming another one */
	CU_ASSERT_FALSE(xleave_lookup(x, a, rx + 2, &tx, &src));
	/* a kernel time before ours or a second later is not this reply's */
	CU_ASSERT_FALSE(xleave_set_tx(x, a, rx, T0 + 9 * NTP_USEC, XLEAVE_TX_KERNEL));
	CU_ASSERT_FALSE(xleave_set_tx(x, a, rx, T0 + 10 * NTP_USEC + XLEAVE_MAX_TX_DELAY,
				      XLEAVE_TX_KERNEL));
	CU_ASSERT_TRUE(xleave_set_tx(x, a, rx, T0 + 25 * NTP_USEC, XLEAVE_TX_KERNEL));
	CU_ASSERT_TRUE(xleave_lookup(x, a, rx, &tx, &src));
	CU_ASSERT_EQUAL(tx, T0 + 25 * NTP_USEC);
	CU_ASSERT_EQUAL(src, XLEAVE_TX_KERNEL);
	/* served once: a replayed request gets a basic reply */
	xleave_forget(x, b, rx);
	CU_ASSERT_TRUE(xleave_lookup(x, a, rx, &tx, &src));
	xleave_forget(x, a, rx);
	CU_ASSERT_FALSE(xleave_lookup(x, a, rx, &tx, &src));
	CU_ASSERT_FALSE(xleave_set_tx(x, a, rx, T0 + 26 * NTP_USEC, XLEAVE_TX_KERNEL));
	/* a zero receive timestamp is never an entry */
	xleave_save(x, a, 0, T0);
	CU_ASSERT_FALSE(xleave_lookup(x, a, 0, &tx, &src));
	xleave_free(x);
}

/* A NIC that timestamps sends two transmit timestamps per reply, the
 * kernel's and its own (converted to system time), in either order: the
 * NIC's is kept, never replaced by the kernel's. */
static void test_table_hardware_kept(void)
{
	struct xleave *x = xleave_new(64);
	enum xleave_source src;
	uint64_t rx = T0 | 1, tx = 0;
	uint8_t a[16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	client_of("192.0.2.1", a);
	/* kernel first, then the NIC */
	xleave_save(x, a, rx, T0 + 10 * NTP_USEC);
	CU_ASSERT_TRUE(xleave_set_tx(x, a, rx, T0 + 20 * NTP_USEC, XLEAVE_TX_KERNEL));
	CU_ASSERT_TRUE(xleave_set_tx(x, a, rx, T0 + 22 * NTP_USEC, XLEAVE_TX_HARDWARE));
	CU_ASSERT_TRUE(xleave_lookup(x, a, rx, &tx, &src));
	CU_ASSERT_EQUAL(tx, T0 + 22 * NTP_USEC);
	CU_ASSERT_EQUAL(src, XLEAVE_TX_HARDWARE);
	/* the NIC first, then the kernel: still the NIC's */
	xleave_save(x, a, rx + 2, T0 + 30 * NTP_USEC);
	CU_ASSERT_TRUE(xleave_set_tx(x, a, rx + 2, T0 + 42 * NTP_USEC, XLEAVE_TX_HARDWARE));
	CU_ASSERT_TRUE(xleave_set_tx(x, a, rx + 2, T0 + 40 * NTP_USEC, XLEAVE_TX_KERNEL));
	CU_ASSERT_TRUE(xleave_lookup(x, a, rx + 2, &tx, &src));
	CU_ASSERT_EQUAL(tx, T0 + 42 * NTP_USEC);
	CU_ASSERT_EQUAL(src, XLEAVE_TX_HARDWARE);
	xleave_free(x);
}

/* IPv4 and its IPv4-mapped IPv6 form are one client; IPv6 hosts of one
 * /64 are not (the key is the full address, not the rate-limit prefix). */
static void test_table_full_address(void)
{
	struct xleave *x = xleave_new(64);
	uint8_t v4[16], mapped[16], h1[16], h2[16];
	enum xleave_source src;
	uint64_t tx;

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	client_of("192.0.2.7", v4);
	client_of("::ffff:192.0.2.7", mapped);
	client_of("2001:db8::1", h1);
	client_of("2001:db8::2", h2);
	xleave_save(x, v4, T0 | 1, T0 + 3);
	CU_ASSERT_TRUE(xleave_lookup(x, mapped, T0 | 1, &tx, &src));
	xleave_save(x, h1, T0 | 3, T0 + 5);
	CU_ASSERT_TRUE(xleave_lookup(x, h1, T0 | 3, &tx, &src));
	CU_ASSERT_FALSE(xleave_lookup(x, h2, T0 | 3, &tx, &src));
	xleave_free(x);
}

/* Two candidate slots: a new entry replaces the older receive timestamp. */
static void test_table_eviction(void)
{
	struct xleave *x = xleave_new(2);
	uint8_t a[16];
	enum xleave_source src;
	uint64_t tx;

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	client_of("198.51.100.1", a);
	xleave_save(x, a, T0 + 1, T0 + 2);
	xleave_save(x, a, T0 + 11, T0 + 12);
	CU_ASSERT_TRUE(xleave_lookup(x, a, T0 + 1, &tx, &src));
	CU_ASSERT_TRUE(xleave_lookup(x, a, T0 + 11, &tx, &src));
	xleave_save(x, a, T0 + 21, T0 + 22);
	CU_ASSERT_FALSE(xleave_lookup(x, a, T0 + 1, &tx, &src));
	CU_ASSERT_TRUE(xleave_lookup(x, a, T0 + 11, &tx, &src));
	CU_ASSERT_TRUE(xleave_lookup(x, a, T0 + 21, &tx, &src));
	/* saving an entry again keeps one copy */
	xleave_save(x, a, T0 + 21, T0 + 23);
	CU_ASSERT_TRUE(xleave_lookup(x, a, T0 + 11, &tx, &src));
	CU_ASSERT_TRUE(xleave_lookup(x, a, T0 + 21, &tx, &src));
	CU_ASSERT_EQUAL(tx, T0 + 23);
	xleave_free(x);
}

/* A flood of entries never grows the table: at most its size survive,
 * and the newest is there. */
static void test_table_bounded(void)
{
	struct xleave *x = xleave_new(64);
	enum xleave_source src;
	uint8_t c[16];
	uint64_t tx;
	unsigned i, found = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	client_of("203.0.113.9", c);
	for (i = 0; i < 10000; i++)
		xleave_save(x, c, T0 + 2 * i + 1, T0 + 2 * i + 2);
	CU_ASSERT_EQUAL(xleave_size(x), 64);
	for (i = 0; i < 10000; i++)
		found += xleave_lookup(x, c, T0 + 2 * i + 1, &tx, &src);
	CU_ASSERT_TRUE(found <= 64);
	CU_ASSERT_TRUE(found >= 32);
	CU_ASSERT_TRUE(xleave_lookup(x, c, T0 + 2 * 9999 + 1, &tx, &src));
	xleave_free(x);
}

/* How two workers meet one client's entries: the reply saved by one, its
 * kernel timestamp read by it later, the next request on another. */
static void test_table_worker_sequences(void)
{
	struct xleave *x = xleave_new(256);
	uint8_t c[16];
	enum xleave_source src;
	uint64_t tx, rx1 = T0 | 1, rx2 = (T0 + NTP_SEC) | 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	client_of("2001:db8:1::5", c);
	/* the next request arrives before the kernel timestamp was read:
	 * served with our own transmit time */
	xleave_save(x, c, rx1, T0 + 100);
	CU_ASSERT_TRUE(xleave_lookup(x, c, rx1, &tx, &src));
	CU_ASSERT_EQUAL(src, XLEAVE_TX_DAEMON);
	xleave_forget(x, c, rx1);
	xleave_save(x, c, rx2, T0 + NTP_SEC + 100);
	/* the late timestamp of the first reply finds nothing to update */
	CU_ASSERT_FALSE(xleave_set_tx(x, c, rx1, T0 + 150, XLEAVE_TX_KERNEL));
	CU_ASSERT_TRUE(xleave_set_tx(x, c, rx2, T0 + NTP_SEC + 180, XLEAVE_TX_KERNEL));
	CU_ASSERT_TRUE(xleave_lookup(x, c, rx2, &tx, &src));
	CU_ASSERT_EQUAL(tx, T0 + NTP_SEC + 180);
	CU_ASSERT_EQUAL(src, XLEAVE_TX_KERNEL);
	xleave_free(x);
}

/* Threads writing and reading a small table at once: every entry read is
 * one that was written (tx = 3 rx, or 3 rx + 7 once the "kernel" said). */
struct hammer {
	struct xleave *x;
	unsigned id;
	unsigned bad;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	enum xleave_source src;
	uint8_t c[16];
	uint64_t rx, tx;
	unsigned i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < 200000; i++) {
		c[15] = (uint8_t)(i % 5);
		rx = (((uint64_t)i % 97) << 1 | 1) + ((uint64_t)h->id << 40);
		switch (i % 4) {
		case 0:
			xleave_save(h->x, c, rx, 3 * rx);
			break;
		case 1:
			xleave_set_tx(h->x, c, rx, 3 * rx + 7, XLEAVE_TX_KERNEL);
			break;
		case 2:
			if (xleave_lookup(h->x, c, rx, &tx, &src) &&
			    !(tx == 3 * rx && src == XLEAVE_TX_DAEMON) &&
			    !(tx == 3 * rx + 7 && src == XLEAVE_TX_KERNEL))
				h->bad++;
			break;
		default:
			if (i % 16 == 3)
				xleave_forget(h->x, c, rx);
			break;
		}
	}
	return NULL;
}

static void test_table_threads(void)
{
	struct xleave *x = xleave_new(16);
	struct hammer h[3];
	pthread_t t[3];
	unsigned i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	for (i = 0; i < 3; i++) {
		h[i].x = x;
		h[i].id = i % 2;	/* two threads share their entries */
		h[i].bad = 0;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
	}
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(h[i].bad, 0);
	}
	xleave_free(x);
}

/* The responder's side: a plain interleaved reply. */
static uint64_t fixed_tx(void *arg)
{
	return *(const uint64_t *)arg;
}

static enum ntp_counter respond(const uint8_t *pkt, uint64_t xleave_tx, bool rate_kod,
				uint8_t *out, size_t *out_len)
{
	static struct clock_state clk = { .stratum = 2, .precision = -20 };
	static uint64_t now = T0 + 2 * NTP_SEC + 0x1234;
	struct responder resp;
	struct responder_request rq;
	enum ntp_counter c;

	CU_ASSERT_EQUAL_FATAL(responder_init(&resp, 0), 0);
	memset(&rq, 0, sizeof(rq));
	rq.pkt = pkt;
	rq.len = NTP_HEADER_LEN;
	rq.rx_ts = T0 + 2 * NTP_SEC;	/* even: the reply makes it odd */
	rq.clock = &clk;
	rq.rate_kod = rate_kod;
	rq.tx_time = fixed_tx;
	rq.tx_arg = &now;
	rq.xleave_tx = xleave_tx;
	c = responder_handle(&resp, &rq, out, NTP_HEADER_LEN, out_len);
	responder_wipe(&resp);
	return c;
}

static void test_responder_interleaved(void)
{
	uint8_t pkt[NTP_HEADER_LEN], out[NTP_HEADER_LEN];
	uint64_t prev_rx = T0 | 1, client_rx = T0 + 77, client_tx = T0 + 2 * NTP_SEC - 99;
	uint64_t prev_tx = T0 + 31 * NTP_USEC + 1;
	size_t out_len;

	request(pkt, 4, NTP_MODE_CLIENT, prev_rx, client_rx, client_tx);
	/* interleaved: origin = the client's receive field, transmit = the
	 * previous reply's (lowest bit clear), receive = now's (bit set) */
	CU_ASSERT_EQUAL_FATAL(respond(pkt, prev_tx, false, out, &out_len), NTP_CNT_PLAIN_REPLY);
	CU_ASSERT_EQUAL(out_len, NTP_HEADER_LEN);
	CU_ASSERT_EQUAL(buf_load_u64(out + 24), client_rx);
	CU_ASSERT_EQUAL(buf_load_u64(out + RESPONDER_RX_OFFSET), (T0 + 2 * NTP_SEC) | 1);
	CU_ASSERT_EQUAL(buf_load_u64(out + RESPONDER_TX_OFFSET), prev_tx & ~UINT64_C(1));
	/* basic: origin = the client's transmit field, transmit = now */
	CU_ASSERT_EQUAL_FATAL(respond(pkt, 0, false, out, &out_len), NTP_CNT_PLAIN_REPLY);
	CU_ASSERT_EQUAL(buf_load_u64(out + 24), client_tx);
	CU_ASSERT_EQUAL(buf_load_u64(out + RESPONDER_RX_OFFSET), (T0 + 2 * NTP_SEC) | 1);
	CU_ASSERT_EQUAL(buf_load_u64(out + RESPONDER_TX_OFFSET), T0 + 2 * NTP_SEC + 0x1234);
	/* a KoD is never interleaved */
	CU_ASSERT_EQUAL_FATAL(respond(pkt, prev_tx, true, out, &out_len), NTP_CNT_RATE_KOD);
	CU_ASSERT_EQUAL(buf_load_u64(out + 24), client_tx);
	CU_ASSERT_EQUAL(buf_load_u64(out + RESPONDER_TX_OFFSET), T0 + 2 * NTP_SEC + 0x1234);
}

/* Looped-back packets as the kernel returns them. */
static const uint8_t eth_v4[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00 };
static const uint8_t eth_vlan_v6[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				       0x81, 0x00, 0x00, 0x05, 0x86, 0xdd };

static size_t looped(uint8_t *p, const uint8_t *l2, size_t l2_len, unsigned ipv,
		     size_t ntp_len, uint8_t proto)
{
	size_t off = l2_len, ip_len = ipv == 4 ? 24 : 40;	/* IPv4 with an option */

	if (l2_len > 0)
		memcpy(p, l2, l2_len);
	memset(p + off, 0, ip_len + 8 + ntp_len);
	if (ipv == 4) {
		p[off] = 0x46;
		p[off + 9] = proto;
		memcpy(p + off + 16, "\xc0\x00\x02\x63", 4);	/* 192.0.2.99 */
	} else {
		p[off] = 0x60;
		p[off + 6] = proto;
		memcpy(p + off + 24, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x42", 16);
	}
	off += ip_len;
	buf_store_u16(p + off + 4, (uint16_t)(8 + ntp_len));
	off += 8;
	p[off] = 0x24;	/* version 4, server */
	buf_store_u64(p + off + 32, T0 | 1);
	buf_store_u64(p + off + 40, T0 + 8);
	return off + ntp_len;
}

static void test_txstamp_parse(void)
{
	uint8_t p[256], want[16];
	struct txstamp_reply r;
	size_t n, i;

	n = looped(p, eth_v4, sizeof(eth_v4), 4, 48, 17);
	CU_ASSERT_EQUAL_FATAL(txstamp_parse(p, n, &r), TXSTAMP_OK);
	client_of("192.0.2.99", want);
	CU_ASSERT_EQUAL(memcmp(r.client, want, 16), 0);
	CU_ASSERT_EQUAL(r.rx, T0 | 1);
	CU_ASSERT_EQUAL(r.tx, T0 + 8);
	/* every shorter copy is refused, none read past its end */
	for (i = 0; i < n; i++)
		CU_ASSERT_NOT_EQUAL(txstamp_parse(p, i, &r), TXSTAMP_OK);
	/* an NTS reply cut short by the buffer still names its reply */
	n = looped(p, eth_v4, sizeof(eth_v4), 4, 120, 17);
	CU_ASSERT_EQUAL(txstamp_parse(p, n - 72, &r), TXSTAMP_OK);
	/* 802.1Q tag and IPv6 */
	n = looped(p, eth_vlan_v6, sizeof(eth_vlan_v6), 6, 48, 17);
	CU_ASSERT_EQUAL_FATAL(txstamp_parse(p, n, &r), TXSTAMP_OK);
	client_of("2001:db8::42", want);
	CU_ASSERT_EQUAL(memcmp(r.client, want, 16), 0);
	/* no link-layer header (tun, WireGuard) */
	n = looped(p, NULL, 0, 4, 48, 17);
	CU_ASSERT_EQUAL(txstamp_parse(p, n, &r), TXSTAMP_OK);
	n = looped(p, NULL, 0, 6, 48, 17);
	CU_ASSERT_EQUAL(txstamp_parse(p, n, &r), TXSTAMP_OK);
	/* what is not our reply */
	n = looped(p, eth_v4, sizeof(eth_v4), 4, 48, 6);
	CU_ASSERT_EQUAL(txstamp_parse(p, n, &r), TXSTAMP_ERR_NOT_UDP);
	n = looped(p, eth_vlan_v6, sizeof(eth_vlan_v6), 6, 48, 0);	/* hop-by-hop */
	CU_ASSERT_EQUAL(txstamp_parse(p, n, &r), TXSTAMP_ERR_NOT_UDP);
	n = looped(p, eth_v4, sizeof(eth_v4), 4, 44, 17);
	CU_ASSERT_EQUAL(txstamp_parse(p, n, &r), TXSTAMP_ERR_SHORT);
	n = looped(p, eth_v4, sizeof(eth_v4), 4, 48, 17);
	p[n - 48] = 0x23;	/* a client request */
	CU_ASSERT_EQUAL(txstamp_parse(p, n, &r), TXSTAMP_ERR_NOT_REPLY);
	memset(p, 0xff, sizeof(p));
	CU_ASSERT_EQUAL(txstamp_parse(p, sizeof(p), &r), TXSTAMP_ERR_NO_IP);
	CU_ASSERT_EQUAL(txstamp_parse(p, 0, &r), TXSTAMP_ERR_NO_IP);
	CU_ASSERT_STRING_EQUAL(txstamp_status_str(TXSTAMP_ERR_NOT_UDP), "not UDP");
}

UNIT_SUITE(xleave, NULL, NULL,
	   UNIT_TEST(test_request_wants),
	   UNIT_TEST(test_table_params),
	   UNIT_TEST(test_table_entry_life),
	   UNIT_TEST(test_table_hardware_kept),
	   UNIT_TEST(test_table_full_address),
	   UNIT_TEST(test_table_eviction),
	   UNIT_TEST(test_table_bounded),
	   UNIT_TEST(test_table_worker_sequences),
	   UNIT_TEST(test_table_threads),
	   UNIT_TEST(test_responder_interleaved),
	   UNIT_TEST(test_txstamp_parse))
