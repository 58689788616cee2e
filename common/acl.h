/* acl: client access rules (ntp-allow / ntp-deny / ke-allow / ke-deny).
 * Most specific prefix wins.  An address no rule matches gets its
 * family's default (chrony's rule): denied when the family (IPv4, IPv6)
 * has at least one allow rule and no rule for its whole space
 * (0.0.0.0/0, ::/0), allowed otherwise.  This file is the one place that
 * says so; anything mirroring the rules elsewhere asks acl_family_info.
 * Built once, then immutable: lookups from many threads need no lock.
 * Lookups walk a binary trie, at most 32 (IPv4) or 128 (IPv6) steps,
 * however many rules there are.  Pure. */
#ifndef NTSD_ACL_H
#define NTSD_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

struct acl;

struct acl *acl_new(void);
void acl_free(struct acl *acl);		/* NULL-safe */
/* "192.0.2.0/24", "2001:db8::/32", "192.0.2.7" (a host), "0.0.0.0/0",
 * "::/0".  The same prefix given twice: the later rule wins.
 * 0, or -1 for a malformed prefix or one acl_prefix_is_mapped. */
int acl_add(struct acl *acl, const char *cidr, bool allow);
/* Whether cidr is a well-formed IPv6 prefix inside ::ffff:0:0/96 (in any
 * spelling, "::ffff:192.0.2.0/120" or "::ffff:c000:200/120"): lookups
 * match IPv4-mapped addresses as IPv4, so such a rule could never match
 * and acl_add refuses it. */
bool acl_prefix_is_mapped(const char *cidr);
size_t acl_count(const struct acl *acl);
/* The verdict of the most specific matching rule, else the family's
 * default.  NULL acl allows.  IPv4-mapped IPv6 addresses are matched as
 * IPv4 (rules and default). */
bool acl_allows(const struct acl *acl, const struct netaddr *a);
/* Whether the most specific matching rule allows a, with no family
 * default: an address no rule covers is not matched.  NULL acl matches
 * nothing.  For lists of addresses (ke-proxy-protocol) rather than access
 * rules. */
bool acl_matches(const struct acl *acl, const struct netaddr *a);

/* One family's rules, as `ntsd -n` reports them. */
struct acl_family_info {
	size_t n_rules, n_allow;	/* rules of this family, allow rules among them */
	bool whole_space;		/* a rule for 0.0.0.0/0 (or ::/0) */
	bool default_allows;		/* what an address no narrower rule matches gets */
};

/* family: AF_INET or AF_INET6.  NULL acl: no rules, default allows. */
void acl_family_info(const struct acl *acl, int family, struct acl_family_info *out);

/* Each rule once, for copies of the rules kept elsewhere (the XDP
 * program's trie, ntpd/xdp_prog.c): family AF_INET or AF_INET6, the
 * prefix's bytes (4 or 16, network order, bits past plen clear), its
 * length, its verdict.  Stops at fn's first nonzero return and returns
 * it; 0 once every rule was seen.  NULL acl: no rules. */
typedef int (*acl_walk_fn)(int family, const uint8_t *addr, unsigned plen, bool allow,
			   void *arg);
int acl_walk(const struct acl *acl, acl_walk_fn fn, void *arg);

#endif
