/* acl: client access rules (ntp-allow / ntp-deny / ke-allow / ke-deny).
 * Most specific prefix wins; with no matching rule a client is allowed.
 * Built once, then immutable: lookups from many threads need no lock.
 * Lookups walk a binary trie, at most 32 (IPv4) or 128 (IPv6) steps,
 * however many rules there are.  Pure. */
#ifndef NTSD_ACL_H
#define NTSD_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "netaddr.h"

struct acl;

struct acl *acl_new(void);
void acl_free(struct acl *acl);		/* NULL-safe */
/* "192.0.2.0/24", "2001:db8::/32", "192.0.2.7" (a host), "0.0.0.0/0",
 * "::/0".  The same prefix given twice: the later rule wins.
 * 0, or -1 for a malformed prefix. */
int acl_add(struct acl *acl, const char *cidr, bool allow);
size_t acl_count(const struct acl *acl);
/* True unless the most specific matching rule denies.  NULL acl allows.
 * IPv4-mapped IPv6 addresses are matched as IPv4. */
bool acl_allows(const struct acl *acl, const struct netaddr *a);

#endif
