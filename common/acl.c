/* acl: a binary trie per address family; each node may carry a verdict.
 * A family's default (for addresses no rule matches) follows from its
 * allow-rule count and its root's verdict, see acl.h. */
#include "build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/acl.h"
#include "common/decimal.h"

enum verdict { V_NONE = 0, V_ALLOW, V_DENY };

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

struct acl_node {
	uint32_t child[2];	/* index into nodes; 0 = none (node 0 is a root) */
	uint8_t verdict;
};

struct acl {
	struct acl_node *nodes;
	size_t n_nodes, cap;
	uint32_t root[2];	/* [0] IPv4, [1] IPv6 */
	size_t n_rules;
	size_t fam_rules[2], fam_allow[2];	/* per family, as root[] */
};

static int64_t node_new(struct acl *acl)
{
	if (acl->n_nodes == acl->cap) {
		size_t cap = acl->cap ? acl->cap * 2 : 64;
		struct acl_node *n;

		if (cap > UINT32_MAX)
			return -1;
		n = realloc(acl->nodes, cap * sizeof(*n));
		if (!n)
			return -1;
		acl->nodes = n;
		acl->cap = cap;
	}
	memset(&acl->nodes[acl->n_nodes], 0, sizeof(acl->nodes[0]));
	return (int64_t)acl->n_nodes++;
}

struct acl *acl_new(void)
{
	struct acl *acl = calloc(1, sizeof(*acl));

	if (!acl)
		return NULL;
	for (int f = 0; f < 2; f++) {
		int64_t r = node_new(acl);

		if (r < 0) {
			acl_free(acl);
			return NULL;
		}
		acl->root[f] = (uint32_t)r;
	}
	return acl;
}

void acl_free(struct acl *acl)
{
	if (!acl)
		return;
	free(acl->nodes);
	free(acl);
}

size_t acl_count(const struct acl *acl)
{
	return acl ? acl->n_rules : 0;
}

static int bit_at(const uint8_t *bytes, unsigned i)
{
	return (bytes[i / 8] >> (7 - i % 8)) & 1;
}

/* Split "ADDR[/LEN]" into address bytes, family index and prefix length. */
static int parse_cidr(const char *cidr, uint8_t bytes[16], int *fam, unsigned *plen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(cidr, '/');
	size_t hlen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	unsigned max;

	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, cidr, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, bytes) == 1) {
		*fam = 0;
		max = 32;
	} else if (inet_pton(AF_INET6, host, bytes) == 1) {
		*fam = 1;
		max = 128;
	} else {
		return -1;
	}
	*plen = max;
	if (slash) {
		uint64_t v;

		if (!decimal_parse_str(slash + 1, max, &v))
			return -1;
		*plen = (unsigned)v;
	}
	/* Host bits set under the prefix are a typo worth refusing. */
	for (unsigned i = *plen; i < max; i++)
		if (bit_at(bytes, i))
			return -1;
	return 0;
}

/* Inside ::ffff:0:0/96: lookups take such addresses as IPv4, so a rule
 * there in the IPv6 tree would never match. */
static bool is_mapped(const uint8_t bytes[16], int fam, unsigned plen)
{
	return fam == 1 && plen >= 96 && memcmp(bytes, v4mapped, sizeof(v4mapped)) == 0;
}

bool acl_prefix_is_mapped(const char *cidr)
{
	uint8_t bytes[16] = { 0 };
	unsigned plen;
	int fam;

	return parse_cidr(cidr, bytes, &fam, &plen) == 0 && is_mapped(bytes, fam, plen);
}

int acl_add(struct acl *acl, const char *cidr, bool allow)
{
	uint8_t bytes[16] = { 0 };
	unsigned plen;
	uint32_t cur;
	int fam;

	if (parse_cidr(cidr, bytes, &fam, &plen) < 0 || is_mapped(bytes, fam, plen))
		return -1;
	cur = acl->root[fam];
	for (unsigned i = 0; i < plen; i++) {
		int b = bit_at(bytes, i);

		if (!acl->nodes[cur].child[b]) {
			int64_t n = node_new(acl);

			if (n < 0)
				return -1;
			acl->nodes[cur].child[b] = (uint32_t)n;
		}
		cur = acl->nodes[cur].child[b];
	}
	if (acl->nodes[cur].verdict == V_NONE) {
		acl->n_rules++;
		acl->fam_rules[fam]++;
	} else if (acl->nodes[cur].verdict == V_ALLOW) {
		acl->fam_allow[fam]--;	/* replaced below */
	}
	if (allow)
		acl->fam_allow[fam]++;
	acl->nodes[cur].verdict = allow ? V_ALLOW : V_DENY;
	return 0;
}

/* chrony's rule: allow rules without one for the whole space deny the rest. */
static bool family_default_allows(const struct acl *acl, int fam)
{
	return acl->fam_allow[fam] == 0 || acl->nodes[acl->root[fam]].verdict != V_NONE;
}

void acl_family_info(const struct acl *acl, int family, struct acl_family_info *out)
{
	int fam = family == AF_INET6 ? 1 : 0;

	memset(out, 0, sizeof(*out));
	out->default_allows = true;
	if (!acl)
		return;
	out->n_rules = acl->fam_rules[fam];
	out->n_allow = acl->fam_allow[fam];
	out->whole_space = acl->nodes[acl->root[fam]].verdict != V_NONE;
	/* With a rule for the whole space, that rule is what the rest gets. */
	out->default_allows = out->whole_space ? acl->nodes[acl->root[fam]].verdict == V_ALLOW
					       : family_default_allows(acl, fam);
}

/* The verdict of the most specific rule matching a (V_NONE: none), and
 * its family index in *fam. */
static uint8_t lookup(const struct acl *acl, const struct netaddr *a, int *fam)
{
	uint8_t key[16];
	const uint8_t *bytes;
	unsigned bits;
	uint8_t verdict = V_NONE;
	uint32_t cur;

	/* netaddr_host_bytes maps IPv4 to ::ffff:a.b.c.d */
	netaddr_host_bytes(a, key);
	if (memcmp(key, v4mapped, sizeof(v4mapped)) == 0) {
		*fam = 0;
		bytes = key + 12;
		bits = 32;
	} else {
		*fam = 1;
		bytes = key;
		bits = 128;
	}
	cur = acl->root[*fam];
	for (unsigned i = 0;; i++) {
		if (acl->nodes[cur].verdict != V_NONE)
			verdict = acl->nodes[cur].verdict;
		if (i == bits)
			break;
		cur = acl->nodes[cur].child[bit_at(bytes, i)];
		if (!cur)
			break;
	}
	return verdict;
}

bool acl_allows(const struct acl *acl, const struct netaddr *a)
{
	uint8_t verdict;
	int fam;

	if (!acl || acl->n_rules == 0)
		return true;
	verdict = lookup(acl, a, &fam);
	if (verdict == V_NONE)
		return family_default_allows(acl, fam);
	return verdict == V_ALLOW;
}

bool acl_matches(const struct acl *acl, const struct netaddr *a)
{
	int fam;

	if (!acl || acl->n_rules == 0)
		return false;
	return lookup(acl, a, &fam) == V_ALLOW;
}

struct walk {
	const struct acl *acl;
	int family;
	uint8_t bytes[16];	/* the prefix down to the node being visited */
	acl_walk_fn fn;
	void *arg;
};

static void set_bit(uint8_t *bytes, unsigned i, int b)
{
	uint8_t m = (uint8_t)(0x80 >> (i % 8));

	bytes[i / 8] = (uint8_t)(b ? bytes[i / 8] | m : bytes[i / 8] & ~m);
}

/* Depth first; at most 129 levels deep (an IPv6 host rule). */
static int walk_node(struct walk *w, uint32_t node, unsigned depth)
{
	const struct acl_node *n = &w->acl->nodes[node];
	int rc;

	if (n->verdict != V_NONE) {
		rc = w->fn(w->family, w->bytes, depth, n->verdict == V_ALLOW, w->arg);
		if (rc)
			return rc;
	}
	for (int b = 0; b < 2; b++) {
		if (!n->child[b])
			continue;
		set_bit(w->bytes, depth, b);
		rc = walk_node(w, n->child[b], depth + 1);
		set_bit(w->bytes, depth, 0);
		if (rc)
			return rc;
	}
	return 0;
}

int acl_walk(const struct acl *acl, acl_walk_fn fn, void *arg)
{
	static const int families[2] = { AF_INET, AF_INET6 };
	struct walk w = { .acl = acl, .fn = fn, .arg = arg };
	int rc;

	if (!acl)
		return 0;
	for (int f = 0; f < 2; f++) {
		memset(w.bytes, 0, sizeof(w.bytes));
		w.family = families[f];
		rc = walk_node(&w, acl->root[f], 0);
		if (rc)
			return rc;
	}
	return 0;
}
