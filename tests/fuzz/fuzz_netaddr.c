/* fuzz target: the address texts of the configuration and of ntsctl's
 * arguments: netaddr_parse, acl_add (ntp-allow / ke-deny prefixes) and
 * hostport_parse.  What parses prints back to a text that parses to the
 * same thing; a lone rule decides for the address it names. */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "common/acl.h"
#include "common/netaddr.h"
#include "tools/hostport.h"
#include "tests/fuzz/fuzz_check.h"

#define TEXT_MAX 300

static void addr(const char *s, uint16_t port)
{
	struct netaddr a, b;
	char host[NETADDR_STRLEN], full[NETADDR_STRLEN];

	if (netaddr_parse(s, port, &a) < 0) {
		check(a.len == 0);
		return;
	}
	check(netaddr_family(&a) == AF_INET || netaddr_family(&a) == AF_INET6);
	check(netaddr_port(&a) == port);
	netaddr_host_str(&a, host, sizeof(host));
	check(strlen(netaddr_str(&a, full, sizeof(full))) < sizeof(full) - 1);
	check(netaddr_parse(host, port, &b) == 0 && netaddr_same_host(&a, &b) &&
	      netaddr_port(&b) == port && a.len == b.len && memcmp(&a.u, &b.u, a.len) == 0);
}

/* A lone rule decides for its own prefix's address. */
static void rule(const char *s, bool allow)
{
	struct acl *acl = acl_new();
	char host[TEXT_MAX + 1];
	struct netaddr a;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	check(acl != NULL);
	if (acl_add(acl, s, allow) == 0) {
		check(acl_count(acl) == 1);
		memcpy(host, s, n);
		host[n] = '\0';
		check(netaddr_parse(host, 0, &a) == 0);
		check(acl_allows(acl, &a) == allow);
		/* the same prefix again: still one rule, the later verdict */
		check(acl_add(acl, s, !allow) == 0 && acl_count(acl) == 1 &&
		      acl_allows(acl, &a) == !allow);
	} else {
		check(acl_count(acl) == 0);
	}
	acl_free(acl);
}

static void hostport(const char *s)
{
	char host[64], host2[64], err[HOSTPORT_ERR_MAX], again[200];
	uint16_t port, port2;

	if (hostport_parse(s, host, sizeof(host), &port, err, sizeof(err)) < 0) {
		check(err[0] != '\0' && strlen(err) < sizeof(err));
		return;
	}
	check(host[0] != '\0' && strlen(host) < sizeof(host) && !strpbrk(host, "[]"));
	/* written back the canonical way, it reads the same */
	if (strchr(host, ':'))
		snprintf(again, sizeof(again), port ? "[%s]:%u" : "[%s]", host, port);
	else
		snprintf(again, sizeof(again), port ? "%s:%u" : "%s", host, port);
	check(hostport_parse(again, host2, sizeof(host2), &port2, err, sizeof(err)) == 0);
	check(strcmp(host, host2) == 0 && port == port2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[TEXT_MAX + 1];
	uint16_t port;

	if (size < 1 || size > TEXT_MAX)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	port = (uint16_t)(data[0] * 257u);
	addr(s, port);
	rule(s, data[0] & 1);
	hostport(s);
	return 0;
}
