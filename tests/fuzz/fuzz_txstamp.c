/* fuzz target: a packet looped back on the error queue with its transmit
 * timestamp (ntpd/txstamp).  Any bytes: a named status, no read past the
 * input, and an accepted packet's fields come from inside it. */
#include "build_config.h"

#include <string.h>

#include "common/buf.h"
#include "ntpd/txstamp.h"
#include "tests/fuzz/fuzz_check.h"

/* Whether n bytes equal to p occur in data. */
static bool inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + n <= size; i++)
		if (memcmp(data + i, p, n) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct txstamp_reply r;
	enum txstamp_status st = txstamp_parse(data, size, &r);
	uint8_t ts[8];

	check(strlen(txstamp_status_str(st)) > 0);
	check(strcmp(txstamp_status_str(st), "unknown") != 0);
	if (st != TXSTAMP_OK)
		return 0;
	/* at least an IPv4 header, UDP and an NTP header */
	check(size >= 20 + 8 + 48);
	buf_store_u64(ts, r.rx);
	check(inside(data, size, ts, 8));
	buf_store_u64(ts, r.tx);
	check(inside(data, size, ts, 8));
	check(inside(data, size, r.client + 12, 4));
	return 0;
}
