/* xdp_prog_test: ntsd's XDP program (ntpd/xdp_filter.bpf.c) loaded and
 * attached by its loader (ntpd/xdp_prog.c), with crafted frames run
 * through it by the kernel (BPF_PROG_TEST_RUN): the verdict of each
 * frame, the one counter it moves, the metadata in front of a redirected
 * frame, the access rules with their family defaults, the rate limit, a
 * reload, and what the loader does with programs it finds attached.
 *
 * Runs in a network namespace of its own (unshare) on its lo, which has
 * no native XDP, so the generic fallback and its log line are tested too;
 * an AF_XDP socket on lo (copy mode) stands in for a worker's.  Needs
 * root; without it (or without namespaces) it fails under CI=true and
 * skips (77) otherwise.  Native mode on veth and a SIGKILL are
 * tests/integration/xdp_attach_test.sh's. */
#include "build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "common/acl.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "ntpd/xdp_filter_obj.h"
#include "ntpd/xdp_maps.h"
#include "ntpd/xdp_prog.h"
#include "itest.h"

#define FRAME_MAX 256
#define OUT_MAX 512
#define XSK_FRAMES 64

enum frame_flags {
	F_VLAN = 1, F_FRAG_MF = 2, F_FRAG_OFFSET = 4, F_OPTIONS = 8, F_TCP = 16,
	F_FRAGHDR = 32, F_ICMP6 = 64, F_QINQ = 128,
};

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len, l4_end;	/* where the UDP (TCP) header ends */
};

struct result {
	int verdict;
	uint32_t meta_len, out_len;	/* XDP metadata in front of out; bytes in out */
	uint8_t out[OUT_MAX];
};

static struct xdp_prog *prog;
static int prog_fd = -1, lo_index;
static FILE *log_file;

/* Ethernet [802.1Q] / IPv4 or IPv6 / UDP (or TCP, ICMPv6) with 48 bytes
 * of NTP request. */
static void build(struct frame *f, const char *src, const char *dst, uint16_t dport,
		  unsigned flags)
{
	bool v6 = strchr(src, ':') != NULL;
	uint8_t *b = f->b, *ip;
	size_t off = 12, l3, l4;

	memset(f, 0, sizeof(*f));
	memcpy(b, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
	if (flags & (F_VLAN | F_QINQ)) {
		memcpy(b + off, flags & F_QINQ ? "\x88\xa8\0\x64" : "\x81\x00\0\x64", 4);
		off += 4;
	}
	memcpy(b + off, v6 ? "\x86\xdd" : "\x08\x00", 2);
	l3 = off += 2;
	ip = b + l3;
	if (!v6) {
		unsigned ihl = flags & F_OPTIONS ? 6 : 5;

		ip[0] = (uint8_t)(0x40 | ihl);
		ip[6] = flags & F_FRAG_MF ? 0x20 : 0;
		ip[7] = flags & F_FRAG_OFFSET ? 0x10 : 0;
		ip[8] = 64;
		ip[9] = flags & F_TCP ? 6 : 17;
		inet_pton(AF_INET, src, ip + 12);
		inet_pton(AF_INET, dst, ip + 16);
		off += ihl * 4;
	} else {
		ip[0] = 0x60;
		ip[6] = flags & F_TCP ? 6 : flags & F_FRAGHDR ? 44 : flags & F_ICMP6 ? 58 : 17;
		ip[7] = 64;
		inet_pton(AF_INET6, src, ip + 8);
		inet_pton(AF_INET6, dst, ip + 24);
		off += 40;
		if (flags & F_FRAGHDR) {
			b[off] = 17;
			off += 8;
		}
	}
	l4 = off;
	b[l4] = 0x9c;		/* source port 40000 */
	b[l4 + 1] = 0x40;
	b[l4 + 2] = (uint8_t)(dport >> 8);
	b[l4 + 3] = (uint8_t)dport;
	off += flags & F_TCP ? 20 : 8;
	f->l4_end = off;
	b[off] = 0x23;		/* NTPv4 client */
	off += 48;
	f->len = off;
	if (!(flags & F_TCP)) {
		b[l4 + 4] = (uint8_t)((off - l4) >> 8);
		b[l4 + 5] = (uint8_t)(off - l4);
	}
	if (v6) {
		ip[4] = (uint8_t)((off - l3 - 40) >> 8);
		ip[5] = (uint8_t)(off - l3 - 40);
	} else {
		ip[2] = (uint8_t)((off - l3) >> 8);
		ip[3] = (uint8_t)(off - l3);
	}
}

static void build_arp(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->b, "\xff\xff\xff\xff\xff\xff\x02\0\0\0\0\x02\x08\x06", 14);
	memcpy(f->b + 14, "\0\x01\x08\x00\x06\x04\0\x01", 8);
	f->len = f->l4_end = 14 + 28;
}

/* The frame through the program; verdict -1 when the kernel refused the
 * run. */
static void run(const uint8_t *frame, size_t len, struct result *r)
{
	struct xdp_md in = { .data = 0, .data_end = (uint32_t)len }, out;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = r->out, .data_size_out = OUT_MAX, .ctx_in = &in,
		    .ctx_size_in = sizeof(in), .ctx_out = &out, .ctx_size_out = sizeof(out),
		    .repeat = 1);

	memset(r, 0, sizeof(*r));
	memset(&out, 0, sizeof(out));
	if (bpf_prog_test_run_opts(prog_fd, &o) < 0) {
		r->verdict = -1;
		return;
	}
	r->verdict = (int)o.retval;
	r->meta_len = out.data;
	r->out_len = o.data_size_out;
}

static const char *verdict_name(int v)
{
	switch (v) {
	case XDP_PASS: return "pass";
	case XDP_DROP: return "drop";
	case XDP_REDIRECT: return "redirect";
	case -1: return "test run refused";
	default: return "other";
	}
}

/* The frame gets verdict and moves counter cnt by one and no other; a
 * line for it (name NULL: only when it does not). */
static bool expect_len(const char *name, const struct frame *f, size_t len, int verdict,
		       enum xdp_ntp_counter cnt, struct result *r)
{
	char cut[64];

	uint64_t before[XDP_CNT_COUNT], after[XDP_CNT_COUNT];
	bool ok;
	int moved = 0;

	xdp_prog_counters(prog, before);
	run(f->b, len, r);
	xdp_prog_counters(prog, after);
	for (int i = 0; i < XDP_CNT_COUNT; i++)
		moved += after[i] != before[i];
	ok = r->verdict == verdict && moved == 1 && after[cnt] == before[cnt] + 1;
	if (!name && ok)
		return true;
	snprintf(cut, sizeof(cut), "cut to %zu bytes", len);
	itest_report(name ? name : cut, ok, "%s (want %s), counter %s +%llu (want +1), %d counters moved",
		     verdict_name(r->verdict), verdict_name(verdict), xdp_counter_name(cnt),
		     (unsigned long long)(after[cnt] - before[cnt]), moved);
	return ok;
}

static bool expect(const char *name, const struct frame *f, int verdict,
		   enum xdp_ntp_counter cnt)
{
	struct result r;

	return expect_len(name, f, f->len, verdict, cnt, &r);
}

/* ---- set-up ---- */

static int cannot_run(const char *why)
{
	const char *ci = getenv("CI");

	if (ci && strcmp(ci, "true") == 0) {
		itest_report("prerequisites", false, "%s", why);
		return itest_finish();
	}
	printf("xdp_prog_test: SKIP: %s\n", why);
	return 77;
}

static void config_init(struct xdp_prog_config *c, struct netaddr *listen, struct acl *acl)
{
	netaddr_parse("10.0.0.1", 123, &listen[0]);
	netaddr_parse("::", 123, &listen[1]);
	netaddr_parse("0.0.0.0", 1123, &listen[2]);
	memset(c, 0, sizeof(*c));
	c->listen = listen;
	c->n_listen = 3;
	c->n_queues = 1;
	c->acl = acl;
	c->rate_prefix.v4 = 32;
	c->rate_prefix.v6 = 64;
}

/* What the log said since the last call. */
static bool log_has(const char *text)
{
	static char buf[16384];
	size_t n;

	fflush(log_file);
	rewind(log_file);
	n = fread(buf, 1, sizeof(buf) - 1, log_file);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static uint32_t attached_id(void)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(lo_index, 0, &q) < 0)
		return 0;
	return q.skb_prog_id ? q.skb_prog_id : q.drv_prog_id;
}

/* What the loader refuses before it touches the interface. */
static void test_refused_configs(struct xdp_prog_config *c)
{
	char err[256] = "";
	struct xdp_prog *p;

	p = xdp_prog_attach("ntsd-no-such0", c, err, sizeof(err));
	itest_report("no such interface", !p && strstr(err, "ntsd-no-such0: no such interface"),
		     "%s", err);
	xdp_prog_detach(p);
	c->n_queues = 0;
	p = xdp_prog_attach("lo", c, err, sizeof(err));
	itest_report("no queues", !p && strstr(err, "0 queues"), "%s", err);
	xdp_prog_detach(p);
	c->n_queues = 1;
	c->n_listen = 0;
	p = xdp_prog_attach("lo", c, err, sizeof(err));
	itest_report("no NTP address", !p && strstr(err, "0 NTP addresses"), "%s", err);
	xdp_prog_detach(p);
	c->n_listen = 3;
	c->rate_limit = true;
	c->rate = 0;
	c->burst = 1;
	p = xdp_prog_attach("lo", c, err, sizeof(err));
	itest_report("rate 0", !p && strstr(err, "need a rate > 0"), "%s", err);
	xdp_prog_detach(p);
	c->rate_limit = false;
	itest_report("nothing attached by a refused start", attached_id() == 0, "id %u",
		     attached_id());
}

/* A program of another name attached through netlink is refused, named,
 * and left alone. */
static void test_foreign_program(const struct xdp_prog_config *c)
{
	static const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char err[256] = "";
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "other_xdp", "", pass, 2, NULL);
	uint32_t id;
	struct xdp_prog *p;

	if (fd < 0 || bpf_xdp_attach(lo_index, fd, XDP_FLAGS_SKB_MODE, NULL) < 0) {
		itest_report("foreign program", false, "cannot set up the other program: %s",
			     strerror(errno));
		return;
	}
	id = attached_id();
	p = xdp_prog_attach("lo", c, err, sizeof(err));
	itest_report("foreign program refused", !p && strstr(err, "\"other_xdp\"") &&
		     strstr(err, "does not replace it"), "%s", err);
	itest_report("foreign program left attached", attached_id() == id && id != 0,
		     "id %u, now %u", id, attached_id());
	xdp_prog_detach(p);
	bpf_xdp_detach(lo_index, XDP_FLAGS_SKB_MODE, NULL);
	close(fd);
}

/* ntsd's program attached through netlink (as a killed older ntsd could
 * leave it) is removed, said so, and replaced. */
static int attach_stale(void)
{
	struct bpf_object *obj = bpf_object__open_mem(xdp_filter_obj, xdp_filter_obj_len, NULL);
	struct bpf_program *pr;
	int rc = -1;

	if (!obj || bpf_object__load(obj) < 0)
		goto out;
	pr = bpf_object__find_program_by_name(obj, XDP_NTP_PROG_NAME);
	if (pr && bpf_xdp_attach(lo_index, bpf_program__fd(pr), XDP_FLAGS_SKB_MODE, NULL) == 0)
		rc = 0;
out:
	bpf_object__close(obj);	/* the attachment keeps the program */
	return rc;
}

static int test_stale_and_attach(const struct xdp_prog_config *c)
{
	char err[256] = "", want[128];
	uint32_t stale;

	if (attach_stale() < 0) {
		itest_report("stale program", false, "cannot attach one: %s", strerror(errno));
		return -1;
	}
	stale = attached_id();
	prog = xdp_prog_attach("lo", c, err, sizeof(err));
	itest_report("attach", prog != NULL, "%s", prog ? xdp_prog_mode(prog) : err);
	if (!prog)
		return -1;
	snprintf(want, sizeof(want), "removed the XDP program (id %u, generic mode)", stale);
	itest_report("stale program removed", log_has(want) && attached_id() != stale &&
		     attached_id() != 0, "log says \"%s\"; id %u -> %u", want, stale, attached_id());
	itest_report("lo: generic after native refused", strcmp(xdp_prog_mode(prog), "generic") == 0 &&
		     log_has("lo: cannot attach in native mode (") &&
		     log_has("; trying generic mode"), "mode %s", xdp_prog_mode(prog));
	itest_report("ifindex", xdp_prog_ifindex(prog) == lo_index, "%d", xdp_prog_ifindex(prog));
	prog_fd = bpf_prog_get_fd_by_id(attached_id());
	return prog_fd < 0 ? -1 : 0;
}

/* The totals; the log too when something failed. */
static int finish(void)
{
	char line[512];
	int rc = itest_finish();

	if (rc != 0 && log_file) {
		fflush(log_file);
		rewind(log_file);
		while (fgets(line, sizeof(line), log_file))
			printf("log: %s", line);
	}
	return rc;
}

/* ---- the cases ---- */

/* Frames that are not ntsd's NTP requests, or not parsed: to the kernel. */
static const struct {
	const char *name, *src, *dst;
	uint16_t port;
	unsigned flags;
	enum xdp_ntp_counter cnt;
} not_ours[] = {
	{ "ipv4 other port", "192.0.2.7", "10.0.0.1", 124, 0, XDP_CNT_PASS_OTHER },
	{ "ipv4 other address", "192.0.2.7", "10.0.0.2", 123, 0, XDP_CNT_PASS_OTHER },
	{ "ipv6 port only ipv4 listens on", "2001:db8::7", "2001:db8::1", 1123, 0,
	  XDP_CNT_PASS_OTHER },
	{ "ipv4 tcp 4460 (NTS-KE)", "192.0.2.7", "10.0.0.1", 4460, F_TCP, XDP_CNT_PASS_OTHER },
	{ "ipv6 tcp", "2001:db8::7", "2001:db8::1", 123, F_TCP, XDP_CNT_PASS_OTHER },
	{ "icmpv6 (neighbour discovery)", "fe80::7", "ff02::1:ff00:1", 0, F_ICMP6,
	  XDP_CNT_PASS_OTHER },
	{ "ipv4 options", "192.0.2.7", "10.0.0.1", 123, F_OPTIONS, XDP_CNT_PASS_OTHER },
	{ "802.1ad tag", "192.0.2.7", "10.0.0.1", 123, F_QINQ, XDP_CNT_PASS_OTHER },
	{ "ipv4 first fragment", "192.0.2.7", "10.0.0.1", 123, F_FRAG_MF, XDP_CNT_PASS_FRAGMENT },
	{ "ipv4 later fragment", "192.0.2.7", "10.0.0.1", 123, F_FRAG_OFFSET,
	  XDP_CNT_PASS_FRAGMENT },
	{ "ipv6 fragment header", "2001:db8::7", "2001:db8::1", 123, F_FRAGHDR,
	  XDP_CNT_PASS_FRAGMENT },
};

static void test_not_ours(void)
{
	struct frame f;

	for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++) {
		build(&f, not_ours[i].src, not_ours[i].dst, not_ours[i].port, not_ours[i].flags);
		expect(not_ours[i].name, &f, XDP_PASS, not_ours[i].cnt);
	}
	build_arp(&f);
	expect("arp", &f, XDP_PASS, XDP_CNT_PASS_OTHER);
}

/* Cut anywhere before the end of the UDP header, or with a bad version
 * or header length: to the kernel. */
static void test_malformed(void)
{
	struct frame f, v6;
	struct result r;
	bool all = true;

	build(&f, "192.0.2.7", "10.0.0.1", 123, F_VLAN);
	build(&v6, "2001:db8::7", "2001:db8::1", 123, 0);
	for (size_t len = 14; len < f.l4_end; len++)
		all &= expect_len(NULL, &f, len, XDP_PASS, XDP_CNT_PASS_OTHER, &r);
	for (size_t len = 14; len < v6.l4_end; len++)
		all &= expect_len(NULL, &v6, len, XDP_PASS, XDP_CNT_PASS_OTHER, &r);
	itest_report("every frame cut before the end of its UDP header passes", all,
		     "ipv4 with an 802.1Q tag: %zu lengths, ipv6: %zu", f.l4_end - 14, v6.l4_end - 14);
	build(&f, "192.0.2.7", "10.0.0.1", 123, 0);
	f.b[14] = 0x44;		/* ihl 4 */
	expect("ipv4 ihl 4", &f, XDP_PASS, XDP_CNT_PASS_OTHER);
	f.b[14] = 0x65;		/* version 6 in an IPv4 frame */
	expect("ipv4 frame, version 6", &f, XDP_PASS, XDP_CNT_PASS_OTHER);
	v6.b[14] = 0x40;
	expect("ipv6 frame, version 4", &v6, XDP_PASS, XDP_CNT_PASS_OTHER);
}

/* The redirected frame starts with struct xdp_ntp_meta (xdp_abi.h), the
 * request unchanged after it; no XDP metadata. */
static bool meta_ok(const struct result *r, const struct frame *f, const struct timespec *t0,
		    const struct timespec *t1)
{
	struct xdp_ntp_meta m;
	uint64_t lo = (uint64_t)t0->tv_sec * 1000000000u + (uint64_t)t0->tv_nsec;
	uint64_t hi = (uint64_t)t1->tv_sec * 1000000000u + (uint64_t)t1->tv_nsec;

	if (r->meta_len != 0 || r->out_len != sizeof(m) + f->len ||
	    memcmp(r->out + sizeof(m), f->b, f->len) != 0)
		return false;
	memcpy(&m, r->out, sizeof(m));
	return m.magic == XDP_NTP_META_MAGIC && m.rx_ns >= lo && m.rx_ns <= hi;
}

static void test_redirect(int xsk_fd)
{
	struct frame f;
	struct result r;
	struct timespec t0, t1;

	build(&f, "192.0.2.7", "10.0.0.1", 123, 0);
	expect("ipv4 ntp, no socket on the queue", &f, XDP_PASS, XDP_CNT_PASS_NO_SOCKET);
	itest_report("set socket", xdp_prog_set_socket(prog, 0, xsk_fd) == 0, "queue 0");
	itest_report("queue out of range refused", xdp_prog_set_socket(prog, 1, xsk_fd) < 0,
		     "queue 1 of 1");
	clock_gettime(CLOCK_TAI, &t0);
	expect_len("ipv4 ntp", &f, f.len, XDP_REDIRECT, XDP_CNT_REDIRECTED, &r);
	clock_gettime(CLOCK_TAI, &t1);
	itest_report("ipv4 receive time", meta_ok(&r, &f, &t0, &t1), "%u bytes out for a "
		     "%zu-byte frame: the magic, CLOCK_TAI rx_ns between the readings around "
		     "the run, the frame unchanged after it", r.out_len, f.len);
	build(&f, "2001:db8::7", "2001:db8::1", 123, 0);
	clock_gettime(CLOCK_TAI, &t0);
	expect_len("ipv6 ntp (wildcard ::)", &f, f.len, XDP_REDIRECT, XDP_CNT_REDIRECTED, &r);
	clock_gettime(CLOCK_TAI, &t1);
	itest_report("ipv6 receive time", meta_ok(&r, &f, &t0, &t1), "%u bytes out", r.out_len);
	build(&f, "192.0.2.7", "10.9.9.9", 1123, 0);
	expect("ipv4 to the wildcard 0.0.0.0", &f, XDP_REDIRECT, XDP_CNT_REDIRECTED);
	build(&f, "192.0.2.7", "10.0.0.1", 123, F_VLAN);
	expect("ipv4 ntp with an 802.1Q tag", &f, XDP_REDIRECT, XDP_CNT_REDIRECTED);
}

/* ntp-deny 192.0.2.128/25 (IPv4 default: allow); ntp-allow 2001:db8::/32
 * (IPv6 default: deny). */
static void test_access_rules(struct xdp_prog_config *c)
{
	struct acl *acl = acl_new();
	struct frame f;

	acl_add(acl, "192.0.2.128/25", false);
	acl_add(acl, "2001:db8::/32", true);
	c->acl = acl;
	itest_report("update with rules", xdp_prog_update(prog, c) == 0, "2 rules");
	build(&f, "192.0.2.200", "10.0.0.1", 123, 0);
	expect("denied ipv4 prefix", &f, XDP_DROP, XDP_CNT_DROP_DENIED);
	build(&f, "192.0.2.7", "10.0.0.1", 123, 0);
	expect("ipv4 outside the denied prefix (default allow)", &f, XDP_REDIRECT,
	       XDP_CNT_REDIRECTED);
	build(&f, "2001:db8:5::1", "2001:db8::1", 123, 0);
	expect("allowed ipv6 prefix", &f, XDP_REDIRECT, XDP_CNT_REDIRECTED);
	build(&f, "2001:db9::1", "2001:db8::1", 123, 0);
	expect("ipv6 outside the allowed prefix (default deny)", &f, XDP_DROP,
	       XDP_CNT_DROP_DENIED);
	/* The kernel drops IPv6 packets from IPv4-mapped sources: its call. */
	build(&f, "::ffff:192.0.2.7", "2001:db8::1", 123, 0);
	expect("ipv4-mapped ipv6 source: to the kernel", &f, XDP_PASS, XDP_CNT_PASS_OTHER);
	build(&f, "2001:db8::7", "::ffff:10.0.0.1", 123, 0);
	expect("ipv4-mapped ipv6 destination: to the kernel", &f, XDP_PASS, XDP_CNT_PASS_OTHER);
	/* A failed update keeps the rules in force. */
	c->n_listen = 0;
	itest_report("bad update refused", xdp_prog_update(prog, c) < 0 &&
		     log_has("keeps its old rules"), "no NTP address");
	c->n_listen = 3;
	build(&f, "192.0.2.200", "10.0.0.1", 123, 0);
	expect("rules kept after a refused update", &f, XDP_DROP, XDP_CNT_DROP_DENIED);
	/* The reload takes them away again. */
	c->acl = NULL;
	itest_report("update without rules", xdp_prog_update(prog, c) == 0, "none");
	expect("reload allows what was denied", &f, XDP_REDIRECT, XDP_CNT_REDIRECTED);
	acl_free(acl);
}

/* rate-limit 0.001 3, rate-limit-prefix 24 64: three requests, then one
 * handed on for its KoD, then drops; the /24 shares the bucket. */
static void test_rate_limit(struct xdp_prog_config *c)
{
	struct frame f;

	c->rate_limit = true;
	c->rate = 0.001;
	c->burst = 3;
	c->rate_prefix.v4 = 24;
	itest_report("update with a rate limit", xdp_prog_update(prog, c) == 0, "0.001/s burst 3");
	build(&f, "198.51.100.1", "10.0.0.1", 123, 0);
	for (int i = 0; i < 3; i++)
		expect("within the burst", &f, XDP_REDIRECT, XDP_CNT_REDIRECTED);
	expect("over the rate: handed on once for the KoD", &f, XDP_REDIRECT, XDP_CNT_RATE_KOD);
	expect("over the rate: dropped", &f, XDP_DROP, XDP_CNT_DROP_RATE);
	build(&f, "198.51.100.99", "10.0.0.1", 123, 0);
	expect("same /24: same bucket", &f, XDP_DROP, XDP_CNT_DROP_RATE);
	build(&f, "203.0.113.1", "10.0.0.1", 123, 0);
	expect("another client", &f, XDP_REDIRECT, XDP_CNT_REDIRECTED);
	build(&f, "2001:db8:1::1", "2001:db8::1", 123, 0);
	for (int i = 0; i < 3; i++)
		expect("ipv6 within the burst", &f, XDP_REDIRECT, XDP_CNT_REDIRECTED);
	build(&f, "2001:db8:1::2", "2001:db8::1", 123, 0);
	expect("same ipv6 /64: KoD", &f, XDP_REDIRECT, XDP_CNT_RATE_KOD);
	c->rate_limit = false;
	itest_report("update without the rate limit", xdp_prog_update(prog, c) == 0, "off");
	expect("no limit after the reload", &f, XDP_REDIRECT, XDP_CNT_REDIRECTED);
}

/* An AF_XDP socket on lo's queue 0 in copy mode (rings kept for it). */
static struct xsk_ring_prod fill_ring, tx_ring;
static struct xsk_ring_cons comp_ring, rx_ring;

static int make_xsk(struct xsk_socket **xsk, struct xsk_umem **umem)
{
	const size_t size = (size_t)XSK_FRAMES * XSK_UMEM__DEFAULT_FRAME_SIZE;
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	void *area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int rc;

	if (area == MAP_FAILED)
		return -errno;
	rc = xsk_umem__create(umem, area, size, &fill_ring, &comp_ring, NULL);
	if (rc == 0)
		rc = xsk_socket__create(xsk, "lo", 0, *umem, &rx_ring, &tx_ring, &cfg);
	return rc < 0 ? rc : xsk_socket__fd(*xsk);
}

static int run_cases(void)
{
	struct netaddr listen[3];
	struct xdp_prog_config c;
	struct xsk_socket *xsk = NULL;
	struct xsk_umem *umem = NULL;
	int xsk_fd;

	config_init(&c, listen, NULL);
	test_refused_configs(&c);
	test_foreign_program(&c);
	if (test_stale_and_attach(&c) < 0)
		return finish();
	test_not_ours();
	test_malformed();
	xsk_fd = make_xsk(&xsk, &umem);
	itest_report("AF_XDP socket on lo", xsk_fd >= 0, "%s", xsk_fd >= 0 ? "copy mode" :
		     strerror(-xsk_fd));
	if (xsk_fd >= 0) {
		test_redirect(xsk_fd);
		test_access_rules(&c);
		test_rate_limit(&c);
		xdp_prog_set_socket(prog, 0, -1);
	}
	{
		struct frame f;

		build(&f, "192.0.2.7", "10.0.0.1", 123, 0);
		expect("socket removed", &f, XDP_PASS, XDP_CNT_PASS_NO_SOCKET);
	}
	close(prog_fd);
	xdp_prog_detach(prog);
	itest_report("detached", attached_id() == 0, "lo has %s XDP program",
		     attached_id() ? "an" : "no");
	if (xsk)
		xsk_socket__delete(xsk);
	if (umem)
		xsk_umem__delete(umem);
	return finish();
}

int main(void)
{
	cpu_set_t one;

	if (geteuid() != 0)
		return cannot_run("loading XDP programs and making a network namespace need root");
	if (unshare(CLONE_NEWNET) < 0)
		return cannot_run("this kernel or container cannot make network namespaces");
	lo_index = (int)if_nametoindex("lo");
	/* Buckets are per CPU: every run on the same one. */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0)
		return cannot_run("cannot pin the test to one CPU");
	log_file = tmpfile();
	if (!log_file || dup2(fileno(log_file), STDERR_FILENO) < 0)
		return cannot_run("no temporary file for the log");
	log_init("xdp_prog_test", LOG_TO_STDERR, LOG_LVL_INFO);
	return run_cases();
}
