/* fuzz target: an answer from the clock source (ntpd/clock_source.h).
 * Input: our poll's transmit timestamp (8 bytes), its send time t1 (8),
 * the receive time t4 (8), then the answer's bytes.  The verdict is a
 * named one and repeats; an accepted answer echoed our transmit
 * timestamp, is synchronised (leap 0-2, stratum 1-15), is not our own
 * refid, has sane roots, and its served dispersion never shrinks. */
#include "build_config.h"

#include <string.h>

#include "common/buf.h"
#include "common/ntp_packet.h"
#include "ntpd/clock_source.h"
#include "tests/fuzz/fuzz_check.h"

#define OWN_REFID 0x4e545344u

static uint64_t load_u64(const uint8_t *p)
{
	return (uint64_t)buf_load_u32(p) << 32 | buf_load_u32(p + 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clock_poll poll;
	struct clock_sample s, s2;
	struct clock_state a, b;
	enum clock_answer v;

	if (size < 24)
		return 0;
	memset(&s, 0, sizeof(s));	/* padding too: the two are compared whole */
	memset(&s2, 0, sizeof(s2));
	poll.xmt = load_u64(data);
	poll.t1 = load_u64(data + 8);
	poll.own_refid = OWN_REFID;
	v = clock_source_parse(data + 24, size - 24, &poll, load_u64(data + 16), 1000, &s);
	check((unsigned)v < CLOCK_ANS_COUNT);
	check(clock_answer_name(v)[0] != '?');
	check(clock_source_parse(data + 24, size - 24, &poll, load_u64(data + 16), 1000, &s2) ==
	      v);
	if (v != CLOCK_ANS_SYNCHRONISED)
		return 0;
	check(size >= 24 + NTP_HEADER_LEN);
	check(poll.xmt != 0 && load_u64(data + 24 + 24) == poll.xmt);
	check(s.leap != NTP_LEAP_UNSYNC && s.stratum >= 1 && s.stratum <= 15);
	check(s.refid != OWN_REFID && s.ref_ts != 0);
	check(ntp_short_to_double(s.root_delay) < CLOCK_SOURCE_MAX_ROOT);
	check(s.root_dispersion >= buf_load_u32(data + 24 + 8));
	check(memcmp(&s, &s2, sizeof(s)) == 0);
	clock_source_serve(&s, 1000, -20, &a);
	clock_source_serve(&s, 1000 + (int64_t)(data[0] | data[1] << 8) * 1000000000, -20, &b);
	check(a.root_dispersion == s.root_dispersion && b.root_dispersion >= a.root_dispersion);
	check(a.stratum == s.stratum && a.leap == s.leap && a.refid == s.refid);
	return 0;
}
