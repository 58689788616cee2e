/* xdp_prog: the XDP program compiled into ntsd (ntpd/xdp_filter_obj.h)
 * opened and loaded with libbpf, attached through a bpf_link (the kernel
 * detaches it when the last descriptor closes, so also when ntsd is
 * killed), and its maps (ntpd/xdp_maps.h) kept in step with the
 * configuration.
 *
 * The access rules and the rate limit live in inner maps behind one-slot
 * outer maps.  Two of each are made at attach time (as root: after the
 * privilege drop ntsd can use its maps but not make new ones); a reload
 * fills the one the program does not read and swaps it in.  The kernel
 * waits for running programs before an outer-map update returns, so the
 * next reload may clear the old one. */
#include "build_config.h"

#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "common/monotime.h"
#include "common/ratelimit.h"
#include "ntpd/xdp_filter_obj.h"
#include "ntpd/xdp_maps.h"
#include "ntpd/xdp_prog.h"

#define XDP_QUEUES_MAX 1024
#define XDP_RATE_TABLE_DEFAULT 65536
#define XDP_RATE_TABLE_MAX (1U << 24)	/* as common/ratelimit's tables */
/* Longest request interval kept (1 / rate, about 11.6 days), and the
 * largest burst tolerance: the program's sums stay far from 2^64. */
#define XDP_INTERVAL_MAX_NS 1000000000000000ULL
#define XDP_TOLERANCE_MAX_NS (1ULL << 62)
#define XDP_LIBBPF_LINES_MAX 400	/* of one libbpf message (a verifier log) */
#define XDP_ERR_LEN 256

static const char *const counter_names[XDP_CNT_COUNT] = {
	[XDP_CNT_REDIRECTED] = "redirected",
	[XDP_CNT_PASS_OTHER] = "pass_other",
	[XDP_CNT_PASS_FRAGMENT] = "pass_fragment",
	[XDP_CNT_PASS_NO_SOCKET] = "pass_no_socket",
	[XDP_CNT_DROP_DENIED] = "drop_denied",
	[XDP_CNT_DROP_RATE] = "drop_rate",
	[XDP_CNT_RATE_KOD] = "rate_kod",
};

struct xdp_prog {
	struct bpf_object *obj;
	int prog_fd, link_fd, ifindex;
	int counters_fd, listen_fd, xsks_fd, acl_outer_fd, conf_outer_fd;
	int acl_fd[2], conf_fd[2];	/* the rules the program reads, and a spare */
	unsigned active;		/* which of the two it reads */
	unsigned n_queues;
	int n_cpus;
	bool native;
	char ifname[IF_NAMESIZE];
};

const char *xdp_counter_name(enum xdp_ntp_counter c)
{
	return (unsigned)c < XDP_CNT_COUNT ? counter_names[c] : "unknown";
}

const char *xdp_prog_mode(const struct xdp_prog *p)
{
	return p->native ? "native" : "generic";
}

int xdp_prog_ifindex(const struct xdp_prog *p)
{
	return p->ifindex;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* What a failed bpf(2) on our own maps means after the privilege drop. */
static const char *eperm_hint(int e)
{
	return e == EPERM ? " (kernels before 6.5 refuse bpf(2) to a process without CAP_BPF "
			    "when kernel.unprivileged_bpf_disabled is set)" : "";
}

/* libbpf's messages (a refused program's verifier log among them) into
 * our log, a line at a time. */
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN ? LOG_LVL_WARN : LOG_LVL_DEBUG;
	char *text = NULL, *line, *save = NULL;
	int n = 0;

	if (!log_enabled(lvl) || vasprintf(&text, fmt, ap) < 0)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && n < XDP_LIBBPF_LINES_MAX;
	     line = strtok_r(NULL, "\n", &save), n++)
		log_msg(lvl, "xdp: %s", line);
	free(text);
	return 0;
}

/* ---- the configuration as the maps hold it ---- */

static int check_config(const struct xdp_prog_config *c, bool attaching, char *err,
			size_t errlen)
{
	if (c->n_listen == 0 || c->n_listen > XDP_LISTEN_MAX)
		return fail(err, errlen, "%zu NTP addresses: the XDP program takes 1 to %d",
			    c->n_listen, XDP_LISTEN_MAX);
	for (size_t i = 0; i < c->n_listen; i++)
		if (netaddr_family(&c->listen[i]) != AF_INET &&
		    netaddr_family(&c->listen[i]) != AF_INET6)
			return fail(err, errlen, "NTP address %zu is neither IPv4 nor IPv6", i);
	if (acl_count(c->acl) > XDP_ACL_MAX - 2)
		return fail(err, errlen, "%zu access rules: the XDP program holds at most %d",
			    acl_count(c->acl), XDP_ACL_MAX - 2);
	if (c->rate_limit && (!(c->rate > 0) || c->burst < 1))
		return fail(err, errlen, "rate limit %g/s burst %u: need a rate > 0, a burst >= 1",
			    c->rate, c->burst);
	if (attaching && (c->n_queues == 0 || c->n_queues > XDP_QUEUES_MAX))
		return fail(err, errlen, "%u queues: the XDP program takes 1 to %d",
			    c->n_queues, XDP_QUEUES_MAX);
	if (attaching && c->rate_table > XDP_RATE_TABLE_MAX)
		return fail(err, errlen, "rate-limit-table %u: at most %u", c->rate_table,
			    XDP_RATE_TABLE_MAX);
	return 0;
}

static void prefix_mask(struct xdp_addr *m, unsigned bits)
{
	uint8_t *b = (uint8_t *)m;

	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < bits && i < 128; i++)
		b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

/* common/ratelimit's token bucket in the program's terms (xdp_maps.h). */
static void make_conf(const struct xdp_prog_config *c, struct xdp_conf *x)
{
	double interval;
	uint64_t extra;

	memset(x, 0, sizeof(*x));
	if (!c->rate_limit)
		return;
	interval = NS_PER_S / c->rate;
	x->interval_ns = interval < 1.0 ? 1 :
			 interval > (double)XDP_INTERVAL_MAX_NS ? XDP_INTERVAL_MAX_NS :
								   (uint64_t)interval;
	extra = c->burst - 1;
	x->tolerance_ns = extra > XDP_TOLERANCE_MAX_NS / x->interval_ns ? XDP_TOLERANCE_MAX_NS :
									  extra * x->interval_ns;
	x->kod_interval_ns = (uint64_t)ratelimit_kod_interval_ms(c->rate) * NS_PER_MS;
	prefix_mask(&x->mask_v4, 96 + (c->rate_prefix.v4 > 32 ? 32 : c->rate_prefix.v4));
	prefix_mask(&x->mask_v6, c->rate_prefix.v6);
}

static void listen_key(const struct netaddr *a, struct xdp_listen_key *k)
{
	memset(k, 0, sizeof(*k));
	netaddr_host_bytes(a, (uint8_t *)&k->addr);
	k->port = htons(netaddr_port(a));
}

/* Empties a map (at most max entries); 0 or -1 with errno. */
static int map_clear(int fd, unsigned max)
{
	uint8_t key[64];

	for (unsigned n = 0; n <= max; n++) {
		if (bpf_map_get_next_key(fd, NULL, key) < 0)
			return errno == ENOENT ? 0 : -1;
		if (bpf_map_delete_elem(fd, key) < 0)
			return -1;
	}
	errno = E2BIG;
	return -1;
}

/* acl_walk's callback: one rule into the trie whose descriptor arg
 * points to; errno on failure. */
static int put_rule(int family, const uint8_t *addr, unsigned plen, bool allow, void *arg)
{
	struct xdp_lpm_key k;
	uint8_t *b = (uint8_t *)&k.addr, v = allow ? 1 : 0;

	memset(&k, 0, sizeof(k));
	if (family == AF_INET) {
		b[10] = b[11] = 0xff;
		memcpy(b + 12, addr, 4);
		k.prefixlen = 96 + plen;
	} else {
		memcpy(b, addr, 16);
		k.prefixlen = plen;
	}
	return bpf_map_update_elem(*(int *)arg, &k, &v, BPF_ANY) < 0 ? errno : 0;
}

/* The rules, and each family's default unless a rule covers its whole
 * space: what acl_allows answers, as an LPM trie. */
static int fill_acl(int fd, const struct acl *acl, char *err, size_t errlen)
{
	static const uint8_t zeros[16];
	static const int families[2] = { AF_INET, AF_INET6 };
	int rc = 0;

	if (map_clear(fd, XDP_ACL_MAX) < 0)
		return fail(err, errlen, "cannot clear the spare access rules: %s%s",
			    strerror(errno), eperm_hint(errno));
	for (int f = 0; f < 2 && rc == 0; f++) {
		struct acl_family_info fi;

		acl_family_info(acl, families[f], &fi);
		if (!fi.whole_space)
			rc = put_rule(families[f], zeros, 0, fi.default_allows, &fd);
	}
	if (rc == 0)
		rc = acl_walk(acl, put_rule, &fd);
	if (rc != 0)
		return fail(err, errlen, "cannot write the access rules: %s%s", strerror(rc),
			    eperm_hint(rc));
	return 0;
}

static int add_listen(struct xdp_prog *p, const struct xdp_prog_config *c)
{
	const uint8_t one = 1;

	for (size_t i = 0; i < c->n_listen; i++) {
		struct xdp_listen_key k;

		listen_key(&c->listen[i], &k);
		if (bpf_map_update_elem(p->listen_fd, &k, &one, BPF_ANY) < 0)
			return -1;
	}
	return 0;
}

static bool in_config(const struct xdp_prog_config *c, const struct xdp_listen_key *k)
{
	for (size_t i = 0; i < c->n_listen; i++) {
		struct xdp_listen_key l;

		listen_key(&c->listen[i], &l);
		if (memcmp(&l, k, sizeof(l)) == 0)
			return true;
	}
	return false;
}

/* After a swap: addresses the new configuration dropped.  Best effort
 * (a leftover address still meets the new rules). */
static void remove_stale_listen(struct xdp_prog *p, const struct xdp_prog_config *c)
{
	struct xdp_listen_key keys[2 * XDP_LISTEN_MAX], *prev = NULL;
	size_t n = 0;

	while (n < 2 * XDP_LISTEN_MAX && bpf_map_get_next_key(p->listen_fd, prev, &keys[n]) == 0)
		prev = &keys[n++];
	for (size_t i = 0; i < n; i++)
		if (!in_config(c, &keys[i]) && bpf_map_delete_elem(p->listen_fd, &keys[i]) < 0)
			log_errno(LOG_LVL_WARN, "xdp: %s: cannot remove an old NTP address", p->ifname);
}

/* The configuration into the spare maps, then swapped in: access rules
 * first, then the rate limit; a packet in between meets the new rules
 * and the old limit, never none. */
static int apply(struct xdp_prog *p, const struct xdp_prog_config *c, char *err, size_t errlen)
{
	const unsigned spare = p->active ^ 1;
	const uint32_t zero = 0;
	struct xdp_conf x;
	int e;

	make_conf(c, &x);
	if (fill_acl(p->acl_fd[spare], c->acl, err, errlen) < 0)
		return -1;
	if (bpf_map_update_elem(p->conf_fd[spare], &zero, &x, BPF_ANY) < 0 || add_listen(p, c) < 0)
		return fail(err, errlen, "cannot write the rate limit or the NTP addresses: %s%s",
			    strerror(errno), eperm_hint(errno));
	if (bpf_map_update_elem(p->acl_outer_fd, &zero, &p->acl_fd[spare], BPF_ANY) < 0)
		return fail(err, errlen, "cannot swap in the access rules: %s%s", strerror(errno),
			    eperm_hint(errno));
	if (bpf_map_update_elem(p->conf_outer_fd, &zero, &p->conf_fd[spare], BPF_ANY) < 0) {
		e = errno;
		(void)bpf_map_update_elem(p->acl_outer_fd, &zero, &p->acl_fd[p->active], BPF_ANY);
		return fail(err, errlen, "cannot swap in the rate limit: %s%s", strerror(e),
			    eperm_hint(e));
	}
	p->active = spare;
	remove_stale_listen(p, c);
	return 0;
}

/* ---- loading and attaching ---- */

static int map_fd(struct xdp_prog *p, const char *name, int *fd, char *err, size_t errlen)
{
	*fd = bpf_object__find_map_fd_by_name(p->obj, name);
	return *fd < 0 ? fail(err, errlen, "the program has no map %s", name) : 0;
}

static int size_map(struct xdp_prog *p, const char *name, unsigned n, char *err, size_t errlen)
{
	struct bpf_map *m = bpf_object__find_map_by_name(p->obj, name);

	if (!m || bpf_map__set_max_entries(m, n) < 0)
		return fail(err, errlen, "cannot size the map %s", name);
	return 0;
}

static int load(struct xdp_prog *p, const struct xdp_prog_config *c, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .object_name = XDP_NTP_PROG_NAME);
	struct bpf_program *prog;
	int rc;

	p->obj = bpf_object__open_mem(xdp_filter_obj, xdp_filter_obj_len, &o);
	if (!p->obj)
		return fail(err, errlen, "cannot open the XDP program: %s", strerror(errno));
	if (size_map(p, "xsks", c->n_queues, err, errlen) < 0 ||
	    size_map(p, "buckets", c->rate_table ? c->rate_table : XDP_RATE_TABLE_DEFAULT, err,
		     errlen) < 0)
		return -1;
	rc = bpf_object__load(p->obj);
	if (rc < 0)
		return fail(err, errlen, "the kernel refused the XDP program (%s): it needs Linux 6.1 "
			    "or later with BPF, and CAP_BPF and CAP_NET_ADMIN (the libbpf lines "
			    "above say more)", strerror(-rc));
	prog = bpf_object__find_program_by_name(p->obj, XDP_NTP_PROG_NAME);
	p->prog_fd = prog ? bpf_program__fd(prog) : -1;
	if (p->prog_fd < 0)
		return fail(err, errlen, "the XDP program has no function %s", XDP_NTP_PROG_NAME);
	if (map_fd(p, "counters", &p->counters_fd, err, errlen) < 0 ||
	    map_fd(p, "listen", &p->listen_fd, err, errlen) < 0 ||
	    map_fd(p, "xsks", &p->xsks_fd, err, errlen) < 0 ||
	    map_fd(p, "acl", &p->acl_outer_fd, err, errlen) < 0 ||
	    map_fd(p, "conf", &p->conf_outer_fd, err, errlen) < 0)
		return -1;
	return 0;
}

/* Both sets of inner maps, now, while we may still create maps. */
static int make_inner(struct xdp_prog *p, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, trie, .map_flags = BPF_F_NO_PREALLOC);

	for (int i = 0; i < 2; i++) {
		p->acl_fd[i] = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "ntsd_acl",
					      sizeof(struct xdp_lpm_key), sizeof(uint8_t),
					      XDP_ACL_MAX, &trie);
		if (p->acl_fd[i] < 0)
			return fail(err, errlen, "cannot create the access-rule trie: %s",
				    strerror(errno));
		p->conf_fd[i] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ntsd_conf", sizeof(uint32_t),
					       sizeof(struct xdp_conf), 1, NULL);
		if (p->conf_fd[i] < 0)
			return fail(err, errlen, "cannot create the rate-limit map: %s",
				    strerror(errno));
	}
	return 0;
}

/* One program found on the interface: ours from an earlier start
 * (attached through netlink by an older ntsd, or left by a tool) is
 * removed; anything else is not ours to touch. */
static int remove_one(struct xdp_prog *p, uint32_t id, uint32_t mode_flag, const char *mode,
		      char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, d);
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), rc;

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		rc = errno;
		if (fd >= 0)
			close(fd);
		return fail(err, errlen, "%s has XDP program id %u attached (%s mode), which ntsd "
			    "cannot inspect (%s)", p->ifname, id, mode, strerror(rc));
	}
	if (strcmp(info.name, XDP_NTP_PROG_NAME) != 0 || mode_flag == XDP_FLAGS_HW_MODE) {
		close(fd);
		return fail(err, errlen, "%s already has another XDP program attached (\"%s\", id "
			    "%u, %s mode): ntsd does not replace it; detach it (ip link set dev %s "
			    "xdp off) or serve this interface on sockets", p->ifname, info.name, id,
			    mode, p->ifname);
	}
	d.old_prog_fd = fd;
	rc = bpf_xdp_detach(p->ifindex, mode_flag, &d) < 0 ? errno : 0;
	close(fd);
	if (rc == EBUSY)
		return fail(err, errlen, "%s: ntsd's XDP program (id %u) is attached through a "
			    "bpf_link: another ntsd is serving this interface", p->ifname, id);
	if (rc)
		return fail(err, errlen, "%s: cannot remove the XDP program (id %u) an earlier "
			    "ntsd left: %s", p->ifname, id, strerror(rc));
	log_notice("xdp: %s: removed the XDP program (id %u, %s mode) an earlier ntsd left "
		   "attached", p->ifname, id, mode);
	return 0;
}

static int remove_stale(struct xdp_prog *p, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(p->ifindex, 0, &q) < 0)
		return fail(err, errlen, "%s: cannot query its XDP programs: %s", p->ifname,
			    strerror(errno));
	if (q.drv_prog_id &&
	    remove_one(p, q.drv_prog_id, XDP_FLAGS_DRV_MODE, "native", err, errlen) < 0)
		return -1;
	if (q.skb_prog_id &&
	    remove_one(p, q.skb_prog_id, XDP_FLAGS_SKB_MODE, "generic", err, errlen) < 0)
		return -1;
	if (q.hw_prog_id &&
	    remove_one(p, q.hw_prog_id, XDP_FLAGS_HW_MODE, "offloaded", err, errlen) < 0)
		return -1;
	return 0;
}

static const char *attach_hint(int e)
{
	switch (e) {
	case EOPNOTSUPP:
		return ": the driver has no native XDP";
	case ERANGE:
		return ": the MTU is too large for native XDP on this driver";
	case EBUSY:
	case EEXIST:
		return ": another XDP program is attached";
	default:
		return "";
	}
}

/* Native (driver) mode, else generic (the kernel's copy into a socket
 * buffer first), each refusal said with its reason. */
static int attach(struct xdp_prog *p, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = XDP_FLAGS_DRV_MODE);
	int native_err, generic_err;

	p->link_fd = bpf_link_create(p->prog_fd, p->ifindex, BPF_XDP, &o);
	if (p->link_fd >= 0) {
		p->native = true;
		return 0;
	}
	native_err = errno;
	log_warn("xdp: %s: cannot attach in native mode (%s%s); trying generic mode",
		 p->ifname, strerror(native_err), attach_hint(native_err));
	o.flags = XDP_FLAGS_SKB_MODE;
	p->link_fd = bpf_link_create(p->prog_fd, p->ifindex, BPF_XDP, &o);
	if (p->link_fd >= 0)
		return 0;
	generic_err = errno;
	return fail(err, errlen, "%s: cannot attach the XDP program in native mode (%s%s) nor in "
		    "generic mode (%s%s)", p->ifname, strerror(native_err), attach_hint(native_err),
		    strerror(generic_err), attach_hint(generic_err));
}

static int setup(struct xdp_prog *p, const char *ifname, const struct xdp_prog_config *c,
		 char *err, size_t errlen)
{
	if (check_config(c, true, err, errlen) < 0)
		return -1;
	if (strlen(ifname) >= sizeof(p->ifname) || (p->ifindex = (int)if_nametoindex(ifname)) == 0)
		return fail(err, errlen, "%s: no such interface", ifname);
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	p->n_queues = c->n_queues;
	p->n_cpus = libbpf_num_possible_cpus();
	if (p->n_cpus <= 0)
		return fail(err, errlen, "cannot count the possible CPUs: %s", strerror(-p->n_cpus));
	if (load(p, c, err, errlen) < 0 || make_inner(p, err, errlen) < 0 ||
	    apply(p, c, err, errlen) < 0 || remove_stale(p, err, errlen) < 0)
		return -1;
	return attach(p, err, errlen);
}

struct xdp_prog *xdp_prog_attach(const char *ifname, const struct xdp_prog_config *c,
				 char *err, size_t errlen)
{
	struct xdp_prog *p = calloc(1, sizeof(*p));

	if (!p) {
		fail(err, errlen, "%s: out of memory", ifname);
		log_err("xdp: %s", err);
		return NULL;
	}
	p->prog_fd = p->link_fd = -1;
	p->acl_fd[0] = p->acl_fd[1] = p->conf_fd[0] = p->conf_fd[1] = -1;
	p->active = 1;		/* the first apply fills set 0 */
	libbpf_set_print(print_libbpf);
	if (setup(p, ifname, c, err, errlen) < 0) {
		log_warn("xdp: %s", err);
		xdp_prog_detach(p);
		return NULL;
	}
	log_info("xdp: %s: program attached in %s mode, %u queue%s", p->ifname, xdp_prog_mode(p),
		 p->n_queues, p->n_queues == 1 ? "" : "s");
	return p;
}

int xdp_prog_set_socket(struct xdp_prog *p, unsigned queue, int xsk_fd)
{
	uint32_t q = queue, fd = (uint32_t)xsk_fd;
	int rc;

	if (queue >= p->n_queues) {
		log_err("xdp: %s: queue %u: the program serves queues 0 to %u", p->ifname, queue,
			p->n_queues - 1);
		return -1;
	}
	if (xsk_fd < 0) {
		rc = bpf_map_delete_elem(p->xsks_fd, &q);
		if (rc < 0 && errno == ENOENT)
			rc = 0;
	} else {
		rc = bpf_map_update_elem(p->xsks_fd, &q, &fd, BPF_ANY);
	}
	if (rc < 0) {
		log_err("xdp: %s: queue %u: cannot %s the AF_XDP socket: %s%s", p->ifname, queue,
			xsk_fd < 0 ? "remove" : "set", strerror(errno), eperm_hint(errno));
		return -1;
	}
	return 0;
}

int xdp_prog_update(struct xdp_prog *p, const struct xdp_prog_config *c)
{
	char err[XDP_ERR_LEN];

	if (check_config(c, false, err, sizeof(err)) < 0 || apply(p, c, err, sizeof(err)) < 0) {
		log_err("xdp: %s: the XDP program keeps its old rules: %s", p->ifname, err);
		return -1;
	}
	log_info("xdp: %s: access rules, rate limit and NTP addresses updated", p->ifname);
	return 0;
}

void xdp_prog_counters(const struct xdp_prog *p, uint64_t out[XDP_CNT_COUNT])
{
	uint64_t *v = calloc((size_t)p->n_cpus, sizeof(*v));

	memset(out, 0, sizeof(uint64_t) * XDP_CNT_COUNT);
	if (!v)
		return;
	for (uint32_t i = 0; i < XDP_CNT_COUNT; i++) {
		if (bpf_map_lookup_elem(p->counters_fd, &i, v) < 0)
			continue;
		for (int cpu = 0; cpu < p->n_cpus; cpu++)
			out[i] += v[cpu];
	}
	free(v);
}

void xdp_prog_detach(struct xdp_prog *p)
{
	if (!p)
		return;
	/* The last reference to the link: the kernel detaches the program. */
	if (p->link_fd >= 0) {
		close(p->link_fd);
		log_info("xdp: %s: program detached", p->ifname);
	}
	for (int i = 0; i < 2; i++) {
		if (p->acl_fd[i] >= 0)
			close(p->acl_fd[i]);
		if (p->conf_fd[i] >= 0)
			close(p->conf_fd[i]);
	}
	bpf_object__close(p->obj);
	free(p);
}
