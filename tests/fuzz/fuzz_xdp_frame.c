/* fuzz target: a frame from the AF_XDP path (ntpd/xdp_frame), the whole
 * input.  Any bytes: a named status; an accepted frame's parts lie
 * inside it; its reply (with a payload no longer than the request's,
 * picked from the last byte) is no longer than the request, parses back
 * with the addresses and ports swapped, and carries the payload given. */
#include "build_config.h"

#include <string.h>

#include "common/netaddr.h"
#include "ntpd/xdp_frame.h"
#include "tests/fuzz/fuzz_check.h"

/* Larger inputs are parsed but not turned into replies. */
#define FRAME_COPY_MAX 4096

static bool same_endpoint(const struct netaddr *a, const struct netaddr *b)
{
	return netaddr_family(a) == netaddr_family(b) && netaddr_same_host(a, b) &&
	       netaddr_port(a) == netaddr_port(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t f[FRAME_COPY_MAX];
	struct xdp_frame_info fi, back;
	enum xdp_frame_status st = xdp_frame_parse(data, size, &fi);
	size_t reply_len, n, end;

	check(strcmp(xdp_frame_status_name(st), "unknown") != 0);
	if (st != XDP_FRAME_OK)
		return 0;
	check(fi.family == AF_INET || fi.family == AF_INET6);
	check(netaddr_family(&fi.src) == fi.family && netaddr_family(&fi.dst) == fi.family);
	check(fi.l3_off >= 14 && fi.l3_off < fi.l4_off && fi.l4_off + 8 == fi.payload_off);
	end = fi.payload_off + fi.payload_len;
	check(end <= size);
	if (size > FRAME_COPY_MAX)
		return 0;
	memcpy(f, data, size);
	reply_len = fi.payload_len - data[size - 1] % (fi.payload_len + 1);
	memset(f + fi.payload_off, 0x5a, reply_len);
	n = xdp_frame_reply(f, &fi, reply_len);
	check(n == fi.payload_off + reply_len && n <= end);
	check(xdp_frame_parse(f, n, &back) == XDP_FRAME_OK);
	check(same_endpoint(&back.src, &fi.dst) && same_endpoint(&back.dst, &fi.src));
	check(back.payload_off == fi.payload_off && back.payload_len == reply_len);
	check(memcmp(f, data + 6, 6) == 0 && memcmp(f + 6, data, 6) == 0);
	check(xdp_frame_reply(f, &back, reply_len + 1) == 0);
	return 0;
}
