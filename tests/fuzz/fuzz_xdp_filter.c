/* fuzz target: ntsd's XDP program (ntpd/xdp_filter.bpf.c), run by the
 * kernel on arbitrary frames (BPF_PROG_TEST_RUN), attached by its loader
 * (ntpd/xdp_prog.c) to lo in a network namespace of its own.  The
 * verifier already proves the program reads nothing out of bounds; what
 * this checks is what it decides: the verdict is pass or drop (no queue
 * has a socket, so no redirect), exactly one counter moves, by one, the
 * frame comes back unchanged, and every frame the program took for an
 * NTP request (drop_denied or pass_no_socket) is addressed to one of the
 * listen address/port pairs and was judged as common/acl's acl_allows
 * judges its source: the LPM trie with the family defaults against the
 * rules it was filled from.
 *
 * Needs root.  Without it (or without network namespaces) it aborts under
 * CI=true and exits 77 otherwise, which tests/fuzz/run-smoke reports as
 * skipped. */
#include "build_config.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/acl.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "ntpd/xdp_prog.h"
#include "tests/fuzz/fuzz_check.h"

#define FRAME_MIN 14		/* the kernel's test run wants an Ethernet header */
#define FRAME_MAX 1514
#define OUT_MAX (FRAME_MAX + 64)

int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct xdp_prog *prog;
static struct acl *acl;
static struct netaddr listens[3];
static int prog_fd = -1;

static void cannot_run(const char *why)
{
	const char *ci = getenv("CI");

	fprintf(stderr, "fuzz_xdp_filter: cannot run: %s\n", why);
	if (ci && strcmp(ci, "true") == 0)
		abort();
	exit(77);
}

/* IPv4 has allow rules and none for its whole space: the rest is denied.
 * IPv6 has deny rules only: the rest is allowed. */
static const char *const rules[][2] = {
	{ "10.0.0.0/8", "deny" }, { "10.1.0.0/16", "allow" }, { "10.1.2.3", "deny" },
	{ "192.0.2.0/24", "allow" }, { "2001:db8::/32", "deny" }, { "2001:db8:1::/48", "deny" },
	{ "fe80::/10", "deny" },
};

static void setup(void)
{
	struct xdp_prog_config c;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char err[256];

	acl = acl_new();
	check(acl != NULL);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		check(acl_add(acl, rules[i][0], strcmp(rules[i][1], "allow") == 0) == 0);
	check(netaddr_parse("0.0.0.0", 123, &listens[0]) == 0);
	check(netaddr_parse("2001:db8::1", 123, &listens[1]) == 0);
	check(netaddr_parse("::", 4123, &listens[2]) == 0);
	memset(&c, 0, sizeof(c));
	c.listen = listens;
	c.n_listen = 3;
	c.n_queues = 1;
	c.acl = acl;
	prog = xdp_prog_attach("lo", &c, err, sizeof(err));
	if (!prog)
		cannot_run(err);
	if (bpf_xdp_query((int)if_nametoindex("lo"), 0, &q) < 0 ||
	    (prog_fd = bpf_prog_get_fd_by_id(q.skb_prog_id ? q.skb_prog_id : q.drv_prog_id)) < 0)
		cannot_run("cannot find the attached program");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_xdp_filter", LOG_TO_STDERR, LOG_LVL_ERR);
	if (geteuid() != 0)
		cannot_run("loading XDP programs and making a network namespace need root");
	if (unshare(CLONE_NEWNET) < 0)
		cannot_run("this kernel or container cannot make network namespaces");
	setup();
	return 0;
}

/* Where the program found the addresses and the port of a frame it took
 * for an NTP request: after Ethernet and at most one 802.1Q tag. */
static void request_addresses(const uint8_t *f, struct netaddr *src, struct netaddr *dst)
{
	size_t l3 = 14;
	unsigned type = (unsigned)f[12] << 8 | f[13];
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 }, d6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET }, d4 = { .sin_family = AF_INET };
	uint16_t port;

	if (type == 0x8100) {
		type = (unsigned)f[16] << 8 | f[17];
		l3 = 18;
	}
	check(type == 0x0800 || type == 0x86dd);
	if (type == 0x0800) {
		memcpy(&s4.sin_addr, f + l3 + 12, 4);
		memcpy(&d4.sin_addr, f + l3 + 16, 4);
		memcpy(&port, f + l3 + 20 + 2, 2);
		d4.sin_port = port;
		check(netaddr_from_sockaddr((struct sockaddr *)&s4, sizeof(s4), src) == 0);
		check(netaddr_from_sockaddr((struct sockaddr *)&d4, sizeof(d4), dst) == 0);
	} else {
		memcpy(&s6.sin6_addr, f + l3 + 8, 16);
		memcpy(&d6.sin6_addr, f + l3 + 24, 16);
		memcpy(&port, f + l3 + 40 + 2, 2);
		d6.sin6_port = port;
		check(netaddr_from_sockaddr((struct sockaddr *)&s6, sizeof(s6), src) == 0);
		check(netaddr_from_sockaddr((struct sockaddr *)&d6, sizeof(d6), dst) == 0);
	}
}

/* dst is a listen pair, or on the port of its family's wildcard. */
static bool listened(const struct netaddr *dst)
{
	for (size_t i = 0; i < 3; i++) {
		struct netaddr any;

		if (netaddr_port(&listens[i]) != netaddr_port(dst) ||
		    netaddr_family(&listens[i]) != netaddr_family(dst))
			continue;
		netaddr_parse(netaddr_family(dst) == AF_INET ? "0.0.0.0" : "::", 0, &any);
		if (netaddr_same_host(&listens[i], dst) || netaddr_same_host(&listens[i], &any))
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[OUT_MAX];
	uint64_t before[XDP_CNT_COUNT], after[XDP_CNT_COUNT];
	struct netaddr src, dst;
	int moved = 0, which = -1;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (uint32_t)size,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (size < FRAME_MIN || size > FRAME_MAX)
		return 0;
	xdp_prog_counters(prog, before);
	check(bpf_prog_test_run_opts(prog_fd, &o) == 0);
	xdp_prog_counters(prog, after);
	for (int i = 0; i < XDP_CNT_COUNT; i++)
		if (after[i] != before[i]) {
			moved++;
			which = i;
		}
	check(moved == 1 && after[which] == before[which] + 1);
	check(o.retval == XDP_PASS || o.retval == XDP_DROP);
	check((o.retval == XDP_DROP) == (which == XDP_CNT_DROP_DENIED));
	check(which != XDP_CNT_REDIRECTED && which != XDP_CNT_RATE_KOD &&
	      which != XDP_CNT_DROP_RATE);
	check(o.data_size_out == size && memcmp(out, data, size) == 0);
	if (which == XDP_CNT_DROP_DENIED || which == XDP_CNT_PASS_NO_SOCKET) {
		request_addresses(data, &src, &dst);
		check(listened(&dst));
		check(acl_allows(acl, &src) == (which == XDP_CNT_PASS_NO_SOCKET));
	}
	return 0;
}
