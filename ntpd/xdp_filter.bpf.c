/* xdp_filter: ntsd's XDP program (loaded by ntpd/xdp_prog.c, which fills
 * its maps: ntpd/xdp_maps.h).  For each frame on the interface:
 *
 *   Ethernet [one 802.1Q tag] / IPv4 (no options, not a fragment) or
 *   IPv6 (UDP right after the fixed header) / UDP to one of ntsd's NTP
 *   addresses and ports       -> else XDP_PASS (to the kernel, untouched)
 *   the access rules          -> XDP_DROP when they deny the source
 *   the per-client rate limit -> XDP_DROP over the rate (but one request
 *                                per KoD interval goes on, for the KoD)
 *   the receive time          -> struct xdp_ntp_meta prepended to the frame
 *   the AF_XDP socket of the receiving queue -> XDP_REDIRECT, or XDP_PASS
 *                                when the queue has none
 *
 * Every frame is counted once (enum xdp_ntp_counter, per CPU).  The
 * program does only what the socket path would do to the same packet
 * earlier: anything it does not understand goes to the kernel, which
 * hands it to ntsd's sockets or wherever it belongs.
 *
 * Kept simple for the verifier: no loops, every access checked against
 * data_end right before it.  Needs Linux 6.1 (bpf_ktime_get_tai_ns). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ntpd/xdp_abi.h"
#include "ntpd/xdp_maps.h"

#define IP_FRAGMENT_BITS 0x3fff	/* MF and the fragment offset */
#define IPV6_NEXT_FRAGMENT 44

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_CNT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Room for the old and the new set while a reload swaps them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * XDP_LISTEN_MAX);
	__type(key, struct xdp_listen_key);
	__type(value, __u8);
} listen SEC(".maps");

/* One AF_XDP socket per receive queue; the loader sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));	/* sizes, not types: an XSKMAP takes no BTF */
	__uint(value_size, sizeof(__u32));
} xsks SEC(".maps");

/* The access rules and the rate limit sit behind one-slot outer maps: a
 * reload fills a spare inner map and swaps it in with one update, so a
 * packet meets either the old rules or the new ones, never half of each. */
struct acl_trie {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XDP_ACL_MAX);
	/* Sizes, not types, in inner maps: as the loader makes them. */
	__uint(key_size, sizeof(struct xdp_lpm_key));
	__uint(value_size, sizeof(__u8));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct acl_trie);
} acl SEC(".maps");

struct conf_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xdp_conf));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct conf_array);
} conf SEC(".maps");

/* The loader sizes it (rate-limit-table). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xdp_addr);
	__type(value, struct xdp_bucket);
} buckets SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* What the parse found. */
struct ntp_packet {
	struct xdp_addr src, dst;
	__be16 dport;
	__u8 v4;		/* an IPv4 header (src and dst mapped) */
};

enum parse_result { PARSE_UDP, PARSE_OTHER, PARSE_FRAGMENT };

enum rate_result { RATE_ALLOW, RATE_KOD, RATE_DROP };

static __always_inline int count(__u32 c, int action)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &c);

	if (v)
		*v += 1;
	return action;
}

static __always_inline void map_v4(struct xdp_addr *a, __be32 ip)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = bpf_htonl(0xffff);
	a->w[3] = ip;
}

static __always_inline int is_mapped(const struct xdp_addr *a)
{
	return a->w[0] == 0 && a->w[1] == 0 && a->w[2] == bpf_htonl(0xffff);
}

static __always_inline int parse_v4(void *l3, void *end, struct ntp_packet *p,
				    struct udphdr **udp)
{
	struct iphdr *ip = l3;

	if ((void *)(ip + 1) > end)
		return PARSE_OTHER;
	/* Options (ihl > 5) are left to the kernel, like anything odd. */
	if (ip->version != 4 || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return PARSE_OTHER;
	if (ip->frag_off & bpf_htons(IP_FRAGMENT_BITS))
		return PARSE_FRAGMENT;
	map_v4(&p->src, ip->saddr);
	map_v4(&p->dst, ip->daddr);
	p->v4 = 1;
	*udp = (struct udphdr *)(ip + 1);
	return PARSE_UDP;
}

static __always_inline int parse_v6(void *l3, void *end, struct ntp_packet *p,
				    struct udphdr **udp)
{
	struct ipv6hdr *ip6 = l3;

	if ((void *)(ip6 + 1) > end || ip6->version != 6)
		return PARSE_OTHER;
	/* Extension headers (a fragment header among them) go to the kernel. */
	if (ip6->nexthdr == IPV6_NEXT_FRAGMENT)
		return PARSE_FRAGMENT;
	if (ip6->nexthdr != IPPROTO_UDP)
		return PARSE_OTHER;
	__builtin_memcpy(&p->src, &ip6->saddr, sizeof(p->src));
	__builtin_memcpy(&p->dst, &ip6->daddr, sizeof(p->dst));
	/* IPv4-mapped addresses in an IPv6 header: the kernel drops such a
	 * packet (a mapped source) or has no socket for it; it decides. */
	if (is_mapped(&p->src) || is_mapped(&p->dst))
		return PARSE_OTHER;
	p->v4 = 0;
	*udp = (struct udphdr *)(ip6 + 1);
	return PARSE_UDP;
}

static __always_inline int parse(struct xdp_md *ctx, struct ntp_packet *p)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp = 0;
	__be16 proto;
	void *l3;
	int r;

	if ((void *)(eth + 1) > end)
		return PARSE_OTHER;
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr *vlan = l3;

		if ((void *)(vlan + 1) > end)
			return PARSE_OTHER;
		proto = vlan->proto;
		l3 = vlan + 1;
	}
	if (proto == bpf_htons(ETH_P_IP))
		r = parse_v4(l3, end, p, &udp);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = parse_v6(l3, end, p, &udp);
	else
		return PARSE_OTHER;
	if (r != PARSE_UDP)
		return r;
	if ((void *)(udp + 1) > end)
		return PARSE_OTHER;
	p->dport = udp->dest;
	return PARSE_UDP;
}

/* To one of ntsd's addresses and ports, or its family's wildcard. */
static __always_inline int listening(const struct ntp_packet *p)
{
	struct xdp_listen_key k = { .addr = p->dst, .port = p->dport, .pad = 0 };

	if (bpf_map_lookup_elem(&listen, &k))
		return 1;
	if (p->v4)
		map_v4(&k.addr, 0);
	else
		k.addr = (struct xdp_addr){ { 0, 0, 0, 0 } };
	return bpf_map_lookup_elem(&listen, &k) != 0;
}

static __always_inline int acl_allows(const struct ntp_packet *p)
{
	struct xdp_lpm_key k = { .prefixlen = 128, .addr = p->src };
	__u32 zero = 0;
	__u8 *verdict;
	void *trie;

	trie = bpf_map_lookup_elem(&acl, &zero);
	if (!trie)
		return 0;	/* no rules yet: the loader fills them before attaching */
	verdict = bpf_map_lookup_elem(trie, &k);
	return verdict && *verdict;	/* no match cannot happen: fail closed */
}

static __always_inline int rate_check(const struct ntp_packet *p)
{
	struct xdp_bucket *b, fresh = { 0, 0 };
	const struct xdp_addr *m;
	struct xdp_conf *c;
	struct xdp_addr key;
	__u32 zero = 0;
	__u64 now, tat;
	void *inner;

	inner = bpf_map_lookup_elem(&conf, &zero);
	c = inner ? bpf_map_lookup_elem(inner, &zero) : 0;
	if (!c || c->interval_ns == 0)
		return RATE_ALLOW;
	m = is_mapped(&p->src) ? &c->mask_v4 : &c->mask_v6;
	key.w[0] = p->src.w[0] & m->w[0];
	key.w[1] = p->src.w[1] & m->w[1];
	key.w[2] = p->src.w[2] & m->w[2];
	key.w[3] = p->src.w[3] & m->w[3];
	now = bpf_ktime_get_ns();
	b = bpf_map_lookup_elem(&buckets, &key);
	if (!b) {
		/* A new client starts with a full bucket and spends one. */
		fresh.tat_ns = now + c->interval_ns;
		bpf_map_update_elem(&buckets, &key, &fresh, BPF_ANY);
		return RATE_ALLOW;
	}
	tat = b->tat_ns > now ? b->tat_ns : now;
	if (tat - now > c->tolerance_ns) {
		if (b->kod_ns == 0 || now - b->kod_ns >= c->kod_interval_ns) {
			b->kod_ns = now;
			return RATE_KOD;
		}
		return RATE_DROP;
	}
	b->tat_ns = tat + c->interval_ns;
	return RATE_ALLOW;
}

/* The receive time prepended to the frame (xdp_abi.h): the headroom
 * grows by one struct, nothing is copied.  bpf_xdp_adjust_meta would
 * keep the frame where it is, but some kernels refuse it to XDP programs
 * (this one among them); every kernel with XDP has adjust_head.  0, or
 * -1 when the headroom is too small (the frame then goes to the kernel). */
static __always_inline int prepend_meta(struct xdp_md *ctx, __u64 rx_ns)
{
	struct xdp_ntp_meta *m;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*m)) < 0)
		return -1;
	m = (void *)(long)ctx->data;
	if ((void *)(m + 1) > (void *)(long)ctx->data_end)
		return -1;
	m->rx_ns = rx_ns;
	m->pad = 0;
	m->magic = XDP_NTP_META_MAGIC;
	return 0;
}

SEC("xdp")
int ntsd_xdp(struct xdp_md *ctx)
{
	struct ntp_packet p;
	__u32 cnt = XDP_CNT_REDIRECTED;
	__u64 rx_ns;
	long action;
	int r;

	r = parse(ctx, &p);
	if (r == PARSE_FRAGMENT)
		return count(XDP_CNT_PASS_FRAGMENT, XDP_PASS);
	if (r != PARSE_UDP || !listening(&p))
		return count(XDP_CNT_PASS_OTHER, XDP_PASS);
	rx_ns = bpf_ktime_get_tai_ns();
	if (!acl_allows(&p))
		return count(XDP_CNT_DROP_DENIED, XDP_DROP);
	r = rate_check(&p);
	if (r == RATE_DROP)
		return count(XDP_CNT_DROP_RATE, XDP_DROP);
	if (r == RATE_KOD)
		cnt = XDP_CNT_RATE_KOD;
	/* XDP_PASS in the flags: what bpf_redirect_map returns for a queue
	 * without a socket.  The redirect itself happens after we return,
	 * with the frame as it is then. */
	action = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	if (action != XDP_REDIRECT)
		return count(XDP_CNT_PASS_NO_SOCKET, XDP_PASS);
	if (prepend_meta(ctx, rx_ns) < 0)
		return count(XDP_CNT_PASS_OTHER, XDP_PASS);
	return count(cnt, XDP_REDIRECT);
}
