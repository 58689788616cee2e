/* unit tests for clock_source: the poll request, every rule an answer is
 * judged by (each reject by name), what is served and how its dispersion
 * grows, the state machine's fallbacks, and the poller against a UDP
 * socket of the test's own on 127.0.0.1. */
#include "build_config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/netaddr.h"
#include "common/ntp_packet.h"
#include "ntpd/clock_source.h"
#include "unit.h"

#define OWN_REFID 0x4e545344u		/* "NTSD", as ntsd announces itself */
#define T1 (0xeebb000000000000ull)	/* our clock when the request left */
#define SEC (1ull << 32)
#define MS(n) ((uint64_t)(n) * SEC / 1000)

static const struct clock_poll poll_out = { 0x0123456789abcdefull, T1, OWN_REFID };

/* A good answer from a source on our clock: received 1 ms after T1,
 * sent 1 ms later, reaching us at T1 + 3 ms (delay 2 ms, offset 0). */
static struct ntp_header good(void)
{
	struct ntp_header h;

	memset(&h, 0, sizeof(h));
	h.leap = NTP_LEAP_NONE;
	h.version = 4;
	h.mode = NTP_MODE_SERVER;
	h.stratum = 5;
	h.precision = -20;
	h.root_delay = ntp_short_from_double(0.010);
	h.root_dispersion = ntp_short_from_double(0.020);
	h.refid = 0x7f7f0101u;
	h.ref_ts = T1 - 10 * SEC;
	h.origin_ts = poll_out.xmt;
	h.rx_ts = T1 + MS(1);
	h.tx_ts = T1 + MS(2);
	return h;
}

static size_t encode(const struct ntp_header *h, uint8_t *out, size_t cap)
{
	struct buf_writer w;

	buf_writer_init(&w, out, cap);
	CU_ASSERT_FATAL(ntp_header_encode(&w, h));
	return w.off;
}

static enum clock_answer judge(const struct ntp_header *h, struct clock_sample *s)
{
	uint8_t p[NTP_HEADER_LEN];
	size_t n = encode(h, p, sizeof(p));

	return clock_source_parse(p, n, &poll_out, T1 + MS(3), 777, s);
}

static void test_request(void)
{
	uint8_t p[64];
	struct buf_reader r;
	struct ntp_header h;

	memset(p, 0xaa, sizeof(p));
	CU_ASSERT_EQUAL(clock_source_request(p, sizeof(p), 0x1122334455667788ull), 48);
	CU_ASSERT_EQUAL(p[0], 0x23);	/* leap 0, version 4, mode 3 */
	buf_reader_init(&r, p, 48);
	CU_ASSERT_TRUE(ntp_header_decode(&r, &h));
	CU_ASSERT_EQUAL(h.tx_ts, 0x1122334455667788ull);
	/* Nothing else about us goes out: everything else is zero. */
	for (size_t i = 1; i < 40; i++)
		CU_ASSERT_EQUAL(p[i], 0);
	CU_ASSERT_EQUAL(p[48], 0xaa);
	CU_ASSERT_EQUAL(clock_source_request(p, 47, 1), 0);
}

static void test_good_answer(void)
{
	struct ntp_header h = good();
	struct clock_sample s;

	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_SYNCHRONISED);
	CU_ASSERT_EQUAL(s.leap, NTP_LEAP_NONE);
	CU_ASSERT_EQUAL(s.stratum, 5);		/* the same clock: the same stratum */
	CU_ASSERT_EQUAL(s.refid, 0x7f7f0101u);
	CU_ASSERT_EQUAL(s.ref_ts, T1 - 10 * SEC);
	CU_ASSERT_EQUAL(s.root_delay, h.root_delay);
	/* Its dispersion plus |offset| (0) + delay / 2 (1 ms). */
	CU_ASSERT_DOUBLE_EQUAL(ntp_short_to_double(s.root_dispersion), 0.021, 0.00002);
	CU_ASSERT_EQUAL(s.mono_ns, 777);
	/* NTPv3 servers answer too. */
	h.version = 3;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_SYNCHRONISED);
}

static void test_leap_from_source(void)
{
	struct ntp_header h = good();
	struct clock_sample s;

	h.leap = NTP_LEAP_INSERT;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_SYNCHRONISED);
	CU_ASSERT_EQUAL(s.leap, NTP_LEAP_INSERT);
	h.leap = NTP_LEAP_DELETE;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_SYNCHRONISED);
	CU_ASSERT_EQUAL(s.leap, NTP_LEAP_DELETE);
}

/* A source on our clock that is slewing away an error: its timestamps
 * (chrony's corrected time) differ from our raw clock, and the served
 * dispersion says so. */
static void test_offset_widens_dispersion(void)
{
	struct ntp_header h = good();
	struct clock_sample s;

	h.rx_ts += MS(300);
	h.tx_ts += MS(300);
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_SYNCHRONISED);
	CU_ASSERT_DOUBLE_EQUAL(ntp_short_to_double(s.root_dispersion), 0.020 + 0.300 + 0.001,
			       0.00002);
}

static void test_unsynchronised_answers(void)
{
	struct ntp_header h = good();
	struct clock_sample s;

	h.leap = NTP_LEAP_UNSYNC;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_UNSYNCHRONISED);
	/* chrony unsynchronised: leap 3, stratum 0, refid 0, no reference
	 * time: no further checks apply. */
	h.stratum = 0;
	h.refid = 0;
	h.ref_ts = 0;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_UNSYNCHRONISED);
	h = good();
	h.stratum = 16;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_UNSYNCHRONISED);
	/* Stratum 0 with a code that is not about us (ntpd's INIT). */
	h = good();
	h.stratum = 0;
	h.refid = 0x494e4954u;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_UNSYNCHRONISED);
}

static void test_envelope_rejects(void)
{
	struct ntp_header h = good();
	struct clock_sample s;
	struct clock_poll none = poll_out;
	uint8_t p[NTP_HEADER_LEN];

	encode(&h, p, sizeof(p));
	CU_ASSERT_EQUAL(clock_source_parse(p, 47, &poll_out, T1, 0, &s), CLOCK_ANS_TRUNCATED);
	CU_ASSERT_EQUAL(clock_source_parse(p, 0, &poll_out, T1, 0, &s), CLOCK_ANS_TRUNCATED);
	/* No request outstanding (answered already): a copy is late. */
	none.xmt = 0;
	h.origin_ts = 0;
	encode(&h, p, sizeof(p));
	CU_ASSERT_EQUAL(clock_source_parse(p, 48, &none, T1 + MS(3), 0, &s), CLOCK_ANS_ORIGIN);
	h = good();
	h.origin_ts ^= 1;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_ORIGIN);
	for (unsigned v = 0; v < 8; v++) {
		h = good();
		h.version = (uint8_t)v;
		CU_ASSERT_EQUAL(judge(&h, &s), v == 3 || v == 4 ? CLOCK_ANS_SYNCHRONISED
							     : CLOCK_ANS_VERSION);
	}
	for (unsigned m = 0; m < 8; m++) {
		h = good();
		h.mode = (uint8_t)m;
		CU_ASSERT_EQUAL(judge(&h, &s), m == NTP_MODE_SERVER ? CLOCK_ANS_SYNCHRONISED
								  : CLOCK_ANS_MODE);
	}
	h = good();
	h.stratum = 17;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_STRATUM);
	h.stratum = 255;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_STRATUM);
}

static void test_kiss_of_death(void)
{
	static const uint32_t codes[] = { 0x52415445u, 0x44454e59u, 0x52535452u };
	struct ntp_header h;
	struct clock_sample s;

	for (size_t i = 0; i < 3; i++) {
		h = good();
		h.leap = NTP_LEAP_UNSYNC;
		h.stratum = 0;
		h.refid = codes[i];
		CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_KOD);
	}
}

static void test_content_rejects(void)
{
	struct ntp_header h = good();
	struct clock_sample s;

	h.refid = OWN_REFID;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_LOOP);
	h = good();
	h.ref_ts = 0;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_TIMESTAMPS);
	h = good();
	h.rx_ts = 0;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_TIMESTAMPS);
	h = good();
	h.tx_ts = 0;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_TIMESTAMPS);
	h = good();
	h.tx_ts = h.rx_ts - 1;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_TIMESTAMPS);
	h = good();
	h.ref_ts = h.tx_ts + 1;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_TIMESTAMPS);
	h = good();
	h.root_delay = ntp_short_from_double(16.0);
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_ROOT);
	h.root_delay = ntp_short_from_double(15.99);
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_SYNCHRONISED);
	h = good();
	h.root_dispersion = 0xffffffffu;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_ROOT);
}

/* The source's clock must be ours: more than 1 s apart it is not. */
static void test_other_clock(void)
{
	struct ntp_header h = good();
	struct clock_sample s;

	h.rx_ts += 2 * SEC;
	h.tx_ts += 2 * SEC;
	h.ref_ts += 2 * SEC;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_OFFSET);
	h = good();
	h.rx_ts -= 2 * SEC;
	h.tx_ts -= 2 * SEC;
	h.ref_ts -= 2 * SEC;
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_OFFSET);
	h = good();
	h.rx_ts += MS(900);
	h.tx_ts += MS(900);
	CU_ASSERT_EQUAL(judge(&h, &s), CLOCK_ANS_SYNCHRONISED);
}

/* Bytes after the header (a MAC, extension fields) are not judged. */
static void test_longer_answer(void)
{
	struct ntp_header h = good();
	struct clock_sample s;
	uint8_t p[NTP_HEADER_LEN + 20];

	memset(p, 0x5a, sizeof(p));
	encode(&h, p, sizeof(p));
	CU_ASSERT_EQUAL(clock_source_parse(p, sizeof(p), &poll_out, T1 + MS(3), 0, &s),
			CLOCK_ANS_SYNCHRONISED);
}

static void test_serve(void)
{
	struct clock_sample s = { NTP_LEAP_INSERT, 3, 0xa9fea97bu, T1, 0x00000290u,
				  ntp_short_from_double(0.001), 5 * (int64_t)NS_PER_S };
	struct clock_state st;

	clock_source_serve(&s, 5 * (int64_t)NS_PER_S, -24, &st);
	CU_ASSERT_EQUAL(st.leap, NTP_LEAP_INSERT);
	CU_ASSERT_EQUAL(st.stratum, 3);
	CU_ASSERT_EQUAL(st.precision, -24);
	CU_ASSERT_EQUAL(st.refid, 0xa9fea97bu);
	CU_ASSERT_EQUAL(st.ref_ts, T1);
	CU_ASSERT_EQUAL(st.root_delay, 0x00000290u);
	CU_ASSERT_EQUAL(st.root_dispersion, s.root_dispersion);
	/* 100 s later: 15 ppm of it more, 1.5 ms. */
	clock_source_serve(&s, 105 * (int64_t)NS_PER_S, -24, &st);
	CU_ASSERT_DOUBLE_EQUAL(ntp_short_to_double(st.root_dispersion), 0.0025, 0.00002);
	/* A clock that went back: no growth, never less. */
	clock_source_serve(&s, 0, -24, &st);
	CU_ASSERT_EQUAL(st.root_dispersion, s.root_dispersion);
}

static void test_track_start(void)
{
	struct clock_track t;

	clock_track_init(&t);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_STARTING);
	/* The first poll without an answer: unreachable at once. */
	clock_track_poll_end(&t);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_UNREACHABLE);
	clock_track_init(&t);
	clock_track_answer(&t, CLOCK_ANS_ORIGIN);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_STARTING);
	clock_track_poll_end(&t);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_INVALID);
	CU_ASSERT_EQUAL(t.last_reject, CLOCK_ANS_ORIGIN);
	clock_track_answer(&t, CLOCK_ANS_SYNCHRONISED);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_SYNCHRONISED);
	CU_ASSERT_EQUAL(t.misses, 0);
}

/* A served source survives two missed polls, not three. */
static void test_track_holdover(void)
{
	struct clock_track t;

	clock_track_init(&t);
	clock_track_answer(&t, CLOCK_ANS_SYNCHRONISED);
	clock_track_poll_end(&t);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_SYNCHRONISED);
	for (int i = 1; i < CLOCK_SOURCE_MAX_MISSES; i++) {
		clock_track_poll_end(&t);
		CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_SYNCHRONISED);
	}
	clock_track_poll_end(&t);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_UNREACHABLE);
	CU_ASSERT_FALSE(t.refused);
	/* Back. */
	clock_track_answer(&t, CLOCK_ANS_SYNCHRONISED);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_SYNCHRONISED);
	/* Rejected answers in the last poll: invalid, not unreachable. */
	for (int i = 0; i < CLOCK_SOURCE_MAX_MISSES; i++) {
		clock_track_poll_end(&t);
		clock_track_answer(&t, CLOCK_ANS_OFFSET);
	}
	clock_track_poll_end(&t);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_INVALID);
	CU_ASSERT_EQUAL(t.last_reject, CLOCK_ANS_OFFSET);
}

static void test_track_unsync_and_refused(void)
{
	struct clock_track t;

	clock_track_init(&t);
	clock_track_answer(&t, CLOCK_ANS_SYNCHRONISED);
	/* The source's word counts at once. */
	clock_track_answer(&t, CLOCK_ANS_UNSYNCHRONISED);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_UNSYNCHRONISED);
	clock_track_poll_end(&t);
	clock_track_answer(&t, CLOCK_ANS_SYNCHRONISED);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_SYNCHRONISED);
	/* Nothing listens there: no holdover. */
	clock_track_refused(&t);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_UNREACHABLE);
	CU_ASSERT_TRUE(t.refused);
	clock_track_poll_end(&t);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_UNREACHABLE);
	clock_track_answer(&t, CLOCK_ANS_SYNCHRONISED);
	CU_ASSERT_EQUAL(t.state, CLOCK_SOURCE_SYNCHRONISED);
	CU_ASSERT_FALSE(t.refused);
}

static void test_names(void)
{
	char buf[32];

	CU_ASSERT_STRING_EQUAL(clock_source_state_name(CLOCK_SOURCE_KERNEL), "kernel");
	CU_ASSERT_STRING_EQUAL(clock_source_state_name(CLOCK_SOURCE_UNREACHABLE), "unreachable");
	CU_ASSERT_STRING_EQUAL(clock_source_state_name(CLOCK_SOURCE_STATE_COUNT), "?");
	for (int i = 0; i < CLOCK_ANS_COUNT; i++)
		CU_ASSERT_PTR_NOT_NULL(clock_answer_name((enum clock_answer)i));
	CU_ASSERT_STRING_EQUAL(clock_answer_name(CLOCK_ANS_OFFSET), "offset");
	CU_ASSERT_STRING_EQUAL(clock_refid_str(0x7f7f0101u, 5, buf, sizeof(buf)), "127.127.1.1");
	CU_ASSERT_STRING_EQUAL(clock_refid_str(0x47505300u, 1, buf, sizeof(buf)), "GPS");
	CU_ASSERT_STRING_EQUAL(clock_refid_str(0x47505300u, 2, buf, sizeof(buf)), "71.80.83.0");
	CU_ASSERT_STRING_EQUAL(clock_refid_str(0x01505300u, 1, buf, sizeof(buf)), "1.80.83.0");
}

/* --- the poller against a socket of ours -------------------------------- */

static int fake_source(struct netaddr *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(netaddr_parse("127.0.0.1", 0, a) == 0);
	CU_ASSERT_FATAL(bind(fd, &a->u.sa, a->len) == 0);
	a->len = sizeof(a->u.ss);
	CU_ASSERT_FATAL(getsockname(fd, &a->u.sa, &a->len) == 0);
	return fd;
}

/* The request the poller sent, and where from. */
static uint64_t take_request(int fd, struct sockaddr_storage *from, socklen_t *from_len)
{
	uint8_t p[128];
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n;

	CU_ASSERT_FATAL(poll(&pfd, 1, 2000) == 1);
	*from_len = sizeof(*from);
	n = recvfrom(fd, p, sizeof(p), 0, (struct sockaddr *)from, from_len);
	CU_ASSERT_EQUAL_FATAL(n, 48);
	CU_ASSERT_EQUAL(p[0], 0x23);
	return (uint64_t)buf_load_u32(p + 40) << 32 | buf_load_u32(p + 44);
}

static void answer(int fd, const struct sockaddr_storage *to, socklen_t to_len, uint64_t xmt,
		   uint8_t leap)
{
	struct ntp_header h = good();
	uint8_t p[NTP_HEADER_LEN];
	uint64_t now = ntp_ts_now();

	h.leap = leap;
	h.origin_ts = xmt;
	h.rx_ts = h.tx_ts = now;
	h.ref_ts = now - SEC;
	encode(&h, p, sizeof(p));
	CU_ASSERT_EQUAL(sendto(fd, p, sizeof(p), 0, (const struct sockaddr *)to, to_len), 48);
}

/* Until the poller's socket has something (or 2 s passed). */
static void wait_readable(struct clock_source *cs)
{
	struct pollfd pfd = { clock_source_fd(cs), POLLIN, 0 };

	CU_ASSERT(poll(&pfd, 1, 2000) == 1);
}

static void test_poller(void)
{
	struct sockaddr_storage from;
	socklen_t from_len;
	struct netaddr a;
	struct clock_source *cs;
	struct clock_source_counts c;
	const struct clock_sample *s;
	int fd = fake_source(&a);
	uint64_t xmt;

	cs = clock_source_new(&a, 1, OWN_REFID);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cs);
	CU_ASSERT_EQUAL(clock_source_state(cs), CLOCK_SOURCE_STARTING);
	CU_ASSERT_PTR_NULL(snapshot_get(clock_source_published(cs)));
	clock_source_poll(cs);
	xmt = take_request(fd, &from, &from_len);
	CU_ASSERT_NOT_EQUAL(xmt, 0);
	/* A forged answer first (wrong origin), then the real one twice. */
	answer(fd, &from, from_len, xmt ^ 1, NTP_LEAP_NONE);
	answer(fd, &from, from_len, xmt, NTP_LEAP_INSERT);
	answer(fd, &from, from_len, xmt, NTP_LEAP_INSERT);
	wait_readable(cs);
	usleep(20000);
	clock_source_receive(cs);
	CU_ASSERT_EQUAL(clock_source_state(cs), CLOCK_SOURCE_SYNCHRONISED);
	s = snapshot_get(clock_source_published(cs));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->stratum, 5);
	CU_ASSERT_EQUAL(s->leap, NTP_LEAP_INSERT);
	CU_ASSERT_EQUAL(s->refid, 0x7f7f0101u);
	clock_source_counts(cs, &c);
	CU_ASSERT_EQUAL(c.polls, 1);
	CU_ASSERT_EQUAL(c.answers[CLOCK_ANS_SYNCHRONISED], 1);
	CU_ASSERT_EQUAL(c.answers[CLOCK_ANS_ORIGIN], 2);	/* forged, then the copy */
	CU_ASSERT_EQUAL(c.state_changes, 1);

	/* The source goes away: the next request is refused. */
	close(fd);
	clock_source_poll(cs);
	wait_readable(cs);
	clock_source_receive(cs);
	CU_ASSERT_EQUAL(clock_source_state(cs), CLOCK_SOURCE_UNREACHABLE);
	CU_ASSERT_PTR_NULL(snapshot_get(clock_source_published(cs)));
	clock_source_counts(cs, &c);
	CU_ASSERT_EQUAL(c.polls, 2);
	CU_ASSERT_EQUAL(c.refused, 1);
	CU_ASSERT_EQUAL(c.missed, 0);
	CU_ASSERT_EQUAL(c.state_changes, 2);
	clock_source_poll(cs);
	clock_source_counts(cs, &c);
	CU_ASSERT_EQUAL(c.missed, 1);
	clock_source_free(cs);
	clock_source_free(NULL);
}

UNIT_SUITE(clock_source, NULL, NULL,
	UNIT_TEST(test_request),
	UNIT_TEST(test_good_answer),
	UNIT_TEST(test_leap_from_source),
	UNIT_TEST(test_offset_widens_dispersion),
	UNIT_TEST(test_unsynchronised_answers),
	UNIT_TEST(test_envelope_rejects),
	UNIT_TEST(test_kiss_of_death),
	UNIT_TEST(test_content_rejects),
	UNIT_TEST(test_other_clock),
	UNIT_TEST(test_longer_answer),
	UNIT_TEST(test_serve),
	UNIT_TEST(test_track_start),
	UNIT_TEST(test_track_holdover),
	UNIT_TEST(test_track_unsync_and_refused),
	UNIT_TEST(test_names),
	UNIT_TEST(test_poller))
