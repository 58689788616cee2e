/* fuzz target: proxy_v2_parse, the PROXY v2 header a load balancer sends
 * before the TLS stream, on arbitrary bytes.  Besides not crashing,
 * checks what nts-ke/ke_session relies on: a header's length and the
 * bytes it asks for stay within PROXY_V2_MAX and never past the header,
 * reading it piece by piece (as the session does) ends the way parsing it
 * whole does, and an accepted header's addresses are IPv4 or IPv6 and
 * encode back (family byte, addresses, ports) to the bytes they came
 * from. */
#include "build_config.h"

#include <string.h>

#include "common/buf.h"
#include "common/proxy_v2.h"
#include "tests/fuzz/fuzz_check.h"

static void check_header(const struct proxy_v2_header *h, size_t size)
{
	check(h->len >= PROXY_V2_FIXED && h->len <= PROXY_V2_MAX && h->len <= size);
	if (h->local)
		return;
	check(netaddr_family(&h->src) == netaddr_family(&h->dst));
	check(netaddr_family(&h->src) == AF_INET || netaddr_family(&h->src) == AF_INET6);
}

/* The PROXY header's family byte and address block written back from
 * what the parser made of them (HAProxy's spec 2.2: TCP over IPv4 0x11,
 * over IPv6 0x21; source address, destination address, source port,
 * destination port); they match the input. */
static void reencode(const struct proxy_v2_header *h, const uint8_t *data)
{
	uint8_t block[1 + 16 + 16 + 2 + 2];
	struct buf_writer w;
	bool v4 = netaddr_family(&h->src) == AF_INET;

	buf_writer_init(&w, block, sizeof(block));
	buf_put_u8(&w, v4 ? 0x11 : 0x21);
	if (v4) {
		buf_put_bytes(&w, &h->src.u.in4.sin_addr, 4);
		buf_put_bytes(&w, &h->dst.u.in4.sin_addr, 4);
	} else {
		buf_put_bytes(&w, &h->src.u.in6.sin6_addr, 16);
		buf_put_bytes(&w, &h->dst.u.in6.sin6_addr, 16);
	}
	buf_put_u16(&w, netaddr_port(&h->src));
	buf_put_u16(&w, netaddr_port(&h->dst));
	check(!w.err && memcmp(block, data + 13, 1) == 0);
	check(memcmp(block + 1, data + PROXY_V2_FIXED, w.off - 1) == 0);
	check(h->len - PROXY_V2_FIXED >= w.off - 1);	/* the TLVs follow */
}

/* What the session ends with, reading no more than each call asks for. */
static enum proxy_v2_status piecewise(const uint8_t *data, size_t size)
{
	struct proxy_v2_header h;
	enum proxy_v2_status st;
	size_t n = 0, need = 0;

	for (;;) {
		st = proxy_v2_parse(data, n, &h, &need);
		if (st != PROXY_V2_INCOMPLETE)
			return st;
		check(need > n && need <= PROXY_V2_MAX);
		if (n == size)
			return st;
		/* One byte at a time up to the first 16, then what is asked. */
		n = n < PROXY_V2_FIXED ? n + 1 : (need < size ? need : size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_v2_header h, again;
	enum proxy_v2_status st;
	size_t need = 0;

	st = proxy_v2_parse(data, size, &h, &need);
	check((unsigned)st < PROXY_V2_STATUS_COUNT);
	check(piecewise(data, size) == st);
	check(st != PROXY_V2_INCOMPLETE || (need > size && need <= PROXY_V2_MAX));
	if (st != PROXY_V2_OK)
		return 0;
	check_header(&h, size);
	if (!h.local)
		reencode(&h, data);
	/* Exactly the header is enough; one byte less is not. */
	check(proxy_v2_parse(data, h.len, &again, NULL) == PROXY_V2_OK && again.len == h.len);
	check(proxy_v2_parse(data, h.len - 1, &again, NULL) == PROXY_V2_INCOMPLETE);
	/* A header is a PROXY header to the peers that may not send one. */
	check(proxy_v2_looks_like(data, size));
	return 0;
}
