/* config: the configuration file -> struct config.
 *
 * Lines are split into words at spaces and tabs; a word starting with `#`
 * starts a comment.  The first word names a directive, looked up in a
 * sorted table; each entry has a typed handler and its argument counts.
 * Every error names the file, the line, the directive and the bad value. */
#include "build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/aead.h"
#include "common/config.h"
#include "common/decimal.h"
#include "common/file.h"
#include "common/ke_record.h"
#include "common/log.h"

#define CONFIG_MAX_LINE 1024		/* bytes per line, newline excluded */
#define CONFIG_MAX_FILE (1024 * 1024)	/* bytes per file */
#define CONFIG_MAX_WORDS 8		/* more than any directive takes */
#define CONFIG_MAX_PATH 4095
#define CONFIG_MAX_USER 32
#define CONFIG_MAX_HOST 255		/* fits a Server Negotiation record */
#define CONFIG_MAX_THREADS 256
#define CONFIG_MAX_SESSIONS 1048576
#define CONFIG_MAX_RATE 1000000		/* requests per second */
#define CONFIG_MAX_BURST 1000000
#define CONFIG_MIN_TABLE 256
#define CONFIG_MAX_TABLE 16777216
#define CONFIG_MIN_KE_TIMEOUT_MS 100
#define CONFIG_MAX_KE_TIMEOUT_MS 300000
#define CONFIG_MAX_PROPAGATION_S (365 * 86400)
#define CONFIG_MAX_DRAIN_S 3600
#define SHOWN "%.64s"			/* how much of a bad value a message quotes */

#define DEFAULT_REFID 0x4e545344u	/* "NTSD" */
#define DEFAULT_KE_TIMEOUT_MS 5000
#define DEFAULT_KE_MAX_SESSIONS 4096
#define DEFAULT_KE_MAX_PER_ADDRESS 16
/* ke-rate-limit: see doc/ntsd.conf.5 for how these were chosen. */
#define DEFAULT_KE_RATE 10
#define DEFAULT_KE_BURST 500
#define DEFAULT_KEY_PROPAGATION_S 3600
#define DEFAULT_RATE_LIMIT_TABLE 65536
/* interleaved-table: 64 bytes a slot, 4 MiB shared by the workers; an
 * entry lives one client poll, so this holds 65536 interleaved clients. */
#define DEFAULT_INTERLEAVED_TABLE 65536
#define DEFAULT_STRATUM 2
/* Long enough for a load balancer checking /health every second or two to
 * see two failed checks; short enough not to hold up a restart by hand. */
#define DEFAULT_SHUTDOWN_DRAIN_S 5

/* Defaults that are strings live here; config_free must not free them. */
static const char default_key_file[] = LOCALSTATEDIR "/lib/ntsd/keys";
static const char default_pid_file[] = RUNSTATEDIR "/ntsd/ntsd.pid";

struct directive;

struct parse_ctx {
	struct config *c;
	const char *name;
	size_t line;
	struct config_error *err;
	const struct directive *d;
	size_t seen[CONFIG_MAX_DIRECTIVES];	/* line each directive was first set on */
};

typedef int (*handler_fn)(struct parse_ctx *x, char **args, size_t n);

struct directive {
	const char *name;
	const char *usage;		/* arguments, for messages */
	handler_fn fn;
	size_t min_args, max_args;
	bool repeatable;
	size_t off;			/* field for the typed handlers */
	long lo, hi;			/* range for numbers */
};

static int fail(struct parse_ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parse_ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!x->err)
		return -1;
	n = snprintf(x->err->msg, sizeof(x->err->msg), "%s:%zu: ", x->name, x->line);
	if (n < 0 || (size_t)n >= sizeof(x->err->msg))
		return -1;
	va_start(ap, fmt);
	vsnprintf(x->err->msg + n, sizeof(x->err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void *field(struct parse_ctx *x)
{
	return (char *)x->c + x->d->off;
}

/* "12" or "1.5" with at most `places` fraction digits, scaled by
 * 10^places: parse_fixed("2.5", 3) = 2500.  Locale-independent. */
static int parse_fixed(const char *s, unsigned places, unsigned long *out)
{
	const char *dot = strchr(s, '.');
	size_t int_len = dot ? (size_t)(dot - s) : strlen(s);
	size_t frac_len = dot ? strlen(dot + 1) : 0;
	uint64_t whole = 0, frac = 0, scale = 1;

	/* ".5" is half; "5." and "." are nothing. */
	if ((int_len > 0 || !dot) && !decimal_parse(s, int_len, ULONG_MAX, &whole))
		return -1;
	if (dot && (frac_len == 0 || frac_len > places ||
		    !decimal_parse(dot + 1, frac_len, ULONG_MAX, &frac)))
		return -1;
	for (size_t i = 0; i < places; i++) {
		if (i >= frac_len)
			frac *= 10;
		scale *= 10;
	}
	if (whole > (ULONG_MAX - frac) / scale)
		return -1;
	*out = (unsigned long)(whole * scale + frac);
	return 0;
}

static int number_in_range(struct parse_ctx *x, const char *s, long lo, long hi, long *out)
{
	uint64_t v;

	/* fail() is variadic, which the analyzer does not follow: it cannot
	 * see the -1, so *out is set on the failure paths too. */
	*out = 0;
	if (!decimal_parse_str(s, ULONG_MAX, &v))
		return fail(x, "%s: '" SHOWN "' is not a number", x->d->name, s);
	if (v < (uint64_t)lo || v > (uint64_t)hi)
		return fail(x, "%s: %s out of range (%ld-%ld)", x->d->name, s, lo, hi);
	*out = (long)v;
	return 0;
}

static int set_bool(struct parse_ctx *x, char **args, size_t n)
{
	bool *b = field(x);

	if (strcmp(args[0], "yes") == 0 || strcmp(args[0], "on") == 0)
		*b = true;
	else if (strcmp(args[0], "no") == 0 || strcmp(args[0], "off") == 0)
		*b = false;
	else
		return fail(x, "%s: '" SHOWN "' is not yes, no, on or off", x->d->name, args[0]);
	return 0;
}

static int set_unsigned(struct parse_ctx *x, char **args, size_t n)
{
	long v;

	if (number_in_range(x, args[0], x->d->lo, x->d->hi, &v) < 0)
		return -1;
	*(unsigned *)field(x) = (unsigned)v;
	return 0;
}

static int set_int(struct parse_ctx *x, char **args, size_t n)
{
	long v;

	if (number_in_range(x, args[0], x->d->lo, x->d->hi, &v) < 0)
		return -1;
	*(int *)field(x) = (int)v;
	return 0;
}

static bool is_default(const char *s)
{
	return s == default_key_file || s == default_pid_file;
}

static void replace_string(char **slot, char *s)
{
	if (!is_default(*slot))
		free(*slot);
	*slot = s;
}

static int store_string(struct parse_ctx *x, const char *s)
{
	char *copy = strdup(s);

	if (!copy)
		return fail(x, "%s: out of memory", x->d->name);
	replace_string(field(x), copy);
	return 0;
}

static int set_path(struct parse_ctx *x, char **args, size_t n)
{
	if (strlen(args[0]) > CONFIG_MAX_PATH)
		return fail(x, "%s: file name longer than %d bytes", x->d->name, CONFIG_MAX_PATH);
	return store_string(x, args[0]);
}

static int set_pid_file(struct parse_ctx *x, char **args, size_t n)
{
	if (strcmp(args[0], "none") == 0) {
		replace_string(field(x), NULL);
		return 0;
	}
	return set_path(x, args, n);
}

static int set_user(struct parse_ctx *x, char **args, size_t n)
{
	const char *s = args[0];

	if (strlen(s) > CONFIG_MAX_USER || s[0] == '-')
		return fail(x, "%s: bad user name '" SHOWN "'", x->d->name, s);
	for (const char *p = s; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '_' && *p != '-' && *p != '.')
			return fail(x, "%s: bad user name '" SHOWN "'", x->d->name, s);
	return store_string(x, s);
}

/* ke-ntp-server: what a Server Negotiation record may name, each once. */
static int add_ntp_server(struct parse_ctx *x, char **args, size_t n)
{
	struct config *c = x->c;
	const char *s = args[0];

	if (strlen(s) > CONFIG_MAX_HOST)
		return fail(x, "%s: host longer than %d bytes", x->d->name, CONFIG_MAX_HOST);
	if (ke_server_name_kind(s) == KE_NAME_INVALID)
		return fail(x, "%s: bad host '" SHOWN "' (a domain name, an IPv4 address or an "
			    "IPv6 address without brackets or zone)", x->d->name, s);
	for (size_t i = 0; i < c->n_ke_ntp_servers; i++)
		if (ke_server_name_equal(s, c->ke_ntp_servers[i]))
			return fail(x, "%s: '" SHOWN "' listed twice", x->d->name, s);
	if (c->n_ke_ntp_servers >= CONFIG_MAX_NTP_SERVERS)
		return fail(x, "%s: too many entries (at most %d)", x->d->name,
			    CONFIG_MAX_NTP_SERVERS);
	c->ke_ntp_servers[c->n_ke_ntp_servers] = strdup(s);
	if (!c->ke_ntp_servers[c->n_ke_ntp_servers])
		return fail(x, "%s: out of memory", x->d->name);
	c->n_ke_ntp_servers++;
	return 0;
}

/* An interface name as the kernel takes it (IFNAMSIZ, no '/', not "."
 * or ".."); -1 (said) if not. */
static int check_ifname(struct parse_ctx *x, const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= CONFIG_IFNAME_LEN || strchr(s, '/') != NULL ||
	    strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return fail(x, "%s: bad interface name '" SHOWN "'", x->d->name, s);
	return 0;
}

/* hw-timestamp: an interface name, each once. */
static int add_hw_iface(struct parse_ctx *x, char **args, size_t n)
{
	struct config *c = x->c;
	const char *s = args[0];
	size_t len = strlen(s);

	if (check_ifname(x, s) < 0)
		return -1;
	for (size_t i = 0; i < c->n_hw_timestamp; i++)
		if (strcmp(s, c->hw_timestamp[i]) == 0)
			return fail(x, "%s: '" SHOWN "' listed twice", x->d->name, s);
	if (c->n_hw_timestamp >= CONFIG_MAX_HW_IFACES)
		return fail(x, "%s: too many entries (at most %d)", x->d->name,
			    CONFIG_MAX_HW_IFACES);
	memcpy(c->hw_timestamp[c->n_hw_timestamp++], s, len + 1);
	return 0;
}

/* ntp-xdp IFACE [QUEUES]: each interface once, QUEUES 1 to
 * CONFIG_MAX_XDP_QUEUES (0 or absent: all the interface has). */
static int add_xdp_iface(struct parse_ctx *x, char **args, size_t n)
{
	struct config *c = x->c;
	const char *s = args[0];
	long queues = 0;

	if (check_ifname(x, s) < 0)
		return -1;
	if (n > 1 && number_in_range(x, args[1], 0, CONFIG_MAX_XDP_QUEUES, &queues) < 0)
		return -1;
	for (size_t i = 0; i < c->n_ntp_xdp; i++)
		if (strcmp(s, c->ntp_xdp[i].ifname) == 0)
			return fail(x, "%s: '" SHOWN "' listed twice", x->d->name, s);
	if (c->n_ntp_xdp >= CONFIG_MAX_XDP_IFACES)
		return fail(x, "%s: too many entries (at most %d)", x->d->name,
			    CONFIG_MAX_XDP_IFACES);
	memcpy(c->ntp_xdp[c->n_ntp_xdp].ifname, s, strlen(s) + 1);
	c->ntp_xdp[c->n_ntp_xdp++].queues = (unsigned)queues;
	return 0;
}

static int set_local_stratum(struct parse_ctx *x, char **args, size_t n)
{
	if (strcmp(args[0], "off") == 0) {
		x->c->local_stratum = -1;
		return 0;
	}
	return set_int(x, args, n);
}

static int set_refid(struct parse_ctx *x, char **args, size_t n)
{
	const char *s = args[0];
	struct in_addr a;
	size_t len = strlen(s);
	uint32_t v = 0;

	if (strchr(s, '.') && inet_pton(AF_INET, s, &a) == 1) {
		x->c->refid = ntohl(a.s_addr);
		return 0;
	}
	if (len < 1 || len > 4)
		return fail(x, "%s: '" SHOWN "' is neither 1-4 characters nor an IPv4 address",
			    x->d->name, s);
	for (size_t i = 0; i < 4; i++) {
		unsigned char ch = i < len ? (unsigned char)s[i] : 0;

		if (i < len && (ch < 0x21 || ch > 0x7e))
			return fail(x, "%s: '" SHOWN "' is not printable ASCII", x->d->name, s);
		v = v << 8 | ch;
	}
	x->c->refid = v;
	return 0;
}

/* rate-limit and ke-rate-limit: the same arguments into their fields. */
static int set_rate_limit(struct parse_ctx *x, char **args, size_t n)
{
	bool ke = x->d->off == offsetof(struct config, ke_rate_limit);
	bool *on = ke ? &x->c->ke_rate_limit : &x->c->rate_limit;
	unsigned long rate;
	long burst;

	if (strcmp(args[0], "off") == 0) {
		if (n != 1)
			return fail(x, "%s: too many arguments (usage: %s %s)", x->d->name,
				    x->d->name, x->d->usage);
		*on = false;
		return 0;
	}
	if (n != 2)
		return fail(x, "%s: missing BURST (usage: %s %s)", x->d->name, x->d->name,
			    x->d->usage);
	/* Micro-requests per second, so 0.000001 is the smallest rate. */
	if (parse_fixed(args[0], 6, &rate) < 0)
		return fail(x, "%s: bad rate '" SHOWN "' (a decimal number, at most 6 "
			    "decimal places)", x->d->name, args[0]);
	if (rate == 0 || rate > (unsigned long)CONFIG_MAX_RATE * 1000000)
		return fail(x, "%s: rate %s out of range (0.000001-%d)", x->d->name, args[0],
			    CONFIG_MAX_RATE);
	if (number_in_range(x, args[1], 1, CONFIG_MAX_BURST, &burst) < 0)
		return -1;
	*on = true;
	*(ke ? &x->c->ke_rate_limit_rate : &x->c->rate_limit_rate) = (double)rate / 1e6;
	*(ke ? &x->c->ke_rate_limit_burst : &x->c->rate_limit_burst) = (unsigned)burst;
	return 0;
}

static int set_prefix(struct parse_ctx *x, char **args, size_t n)
{
	long v4, v6;

	if (number_in_range(x, args[0], NETADDR_PREFIX_V4_MIN, 32, &v4) < 0 ||
	    number_in_range(x, args[1], NETADDR_PREFIX_V6_MIN, 128, &v6) < 0)
		return -1;
	x->c->rate_limit_prefix.v4 = (uint8_t)v4;
	x->c->rate_limit_prefix.v6 = (uint8_t)v6;
	return 0;
}

static int set_ke_timeout(struct parse_ctx *x, char **args, size_t n)
{
	unsigned long ms;

	if (parse_fixed(args[0], 3, &ms) < 0)
		return fail(x, "%s: bad number of seconds '" SHOWN "'", x->d->name, args[0]);
	if (ms < CONFIG_MIN_KE_TIMEOUT_MS || ms > CONFIG_MAX_KE_TIMEOUT_MS)
		return fail(x, "%s: %s out of range (0.1-%d seconds)", x->d->name, args[0],
			    CONFIG_MAX_KE_TIMEOUT_MS / 1000);
	x->c->ke_timeout_ms = (unsigned)ms;
	return 0;
}

/* One ke-aead word: an IANA name or a number, known and supported. */
static int parse_aead(struct parse_ctx *x, const char *s, uint16_t *out)
{
	const uint16_t *ids;
	size_t n_ids;
	long v;
	int id;

	if (s[0] >= '0' && s[0] <= '9') {
		if (number_in_range(x, s, 0, UINT16_MAX, &v) < 0)
			return -1;
		id = (int)v;
	} else {
		id = aead_iana_id(s);
	}
	if (id < 0 || !aead_iana_name((uint16_t)id))
		return fail(x, "%s: unknown AEAD '" SHOWN "' (an IANA name such as "
			    "AEAD_AES_SIV_CMAC_256, or its number)", x->d->name, s);
	ids = aead_supported(&n_ids);
	for (size_t i = 0; i < n_ids; i++)
		if (ids[i] == id) {
			*out = (uint16_t)id;
			return 0;
		}
	return fail(x, "%s: AEAD %d (%s) is not supported by this build%s", x->d->name, id,
		    aead_iana_name((uint16_t)id),
		    id == AEAD_AES_128_GCM_SIV ? " (it needs nettle 3.9 or later)" : "");
}

/* ke-aead: the set of AEADs the KE service offers; the client's order
 * picks among them.  15 must stay: RFC 8915 section 4.1.5. */
static int set_ke_aead(struct parse_ctx *x, char **args, size_t n)
{
	bool has_15 = false;

	x->c->n_ke_aeads = 0;
	for (size_t i = 0; i < n; i++) {
		uint16_t id = 0;

		if (parse_aead(x, args[i], &id) < 0)
			return -1;
		for (size_t j = 0; j < x->c->n_ke_aeads; j++)
			if (x->c->ke_aeads[j] == id)
				return fail(x, "%s: AEAD %u listed twice", x->d->name, id);
		x->c->ke_aeads[x->c->n_ke_aeads++] = id;
		has_15 = has_15 || id == AEAD_AES_SIV_CMAC_256;
	}
	if (!has_15)
		return fail(x, "%s: the list must include AEAD_AES_SIV_CMAC_256 (15), which "
			    "RFC 8915 requires every server to support", x->d->name);
	return 0;
}

/* A DURATION argument into the int64_t field, 0 to max seconds (max_shown
 * in messages, with examples of the form). */
static int set_duration_max(struct parse_ctx *x, const char *arg, int64_t max,
			    const char *max_shown, const char *examples)
{
	int64_t s = config_parse_duration(arg);

	if (s < 0)
		return fail(x, "%s: bad duration '" SHOWN "' (e.g. %s)", x->d->name, arg, examples);
	if (s > max)
		return fail(x, "%s: %s out of range (at most %s)", x->d->name, arg, max_shown);
	*(int64_t *)field(x) = s;
	return 0;
}

static int set_key_propagation(struct parse_ctx *x, char **args, size_t n)
{
	return set_duration_max(x, args[0], CONFIG_MAX_PROPAGATION_S, "365d",
				"30s, 15m, 12h, 7d, 2w");
}

/* key-max-age: "off" (0) or a duration up to 365d. */
static int set_key_max_age(struct parse_ctx *x, char **args, size_t n)
{
	if (strcmp(args[0], "off") == 0) {
		x->c->key_max_age_s = 0;
		return 0;
	}
	return set_duration_max(x, args[0], CONFIG_MAX_PROPAGATION_S, "365d",
				"off, 26h, 2d");
}

static int set_shutdown_drain(struct parse_ctx *x, char **args, size_t n)
{
	return set_duration_max(x, args[0], CONFIG_MAX_DRAIN_S, "1h", "0, 5s, 30s, 2m");
}

static int set_log_level(struct parse_ctx *x, char **args, size_t n)
{
	int level = log_level_parse(args[0]);

	if (level < 0)
		return fail(x, "%s: unknown level '" SHOWN "' (error, warning, notice, info, "
			    "debug)", x->d->name, args[0]);
	x->c->log_level = level;
	return 0;
}

static bool listen_dup(const struct config_listen *l, size_t n, const struct netaddr *a)
{
	for (size_t i = 0; i < n; i++)
		if (netaddr_family(&l[i].addr) == netaddr_family(a) &&
		    netaddr_same_host(&l[i].addr, a) &&
		    netaddr_port(&l[i].addr) == netaddr_port(a))
			return true;
	return false;
}

static int add_listen(struct parse_ctx *x, const char *host, uint16_t port, const char *shown)
{
	bool ke = x->d->off == offsetof(struct config, ke_listen);
	struct config_listen *l = ke ? x->c->ke_listen : x->c->ntp_listen;
	size_t *n = ke ? &x->c->n_ke_listen : &x->c->n_ntp_listen;
	struct netaddr a;

	if (netaddr_parse(host, port, &a) < 0)
		return fail(x, "%s: bad address '" SHOWN "' (an IPv4 or IPv6 literal, or *)",
			    x->d->name, shown);
	if (listen_dup(l, *n, &a))
		return fail(x, "%s: address '" SHOWN "' port %u listed twice", x->d->name,
			    host, (unsigned)port);
	if (*n >= CONFIG_MAX_LISTEN)
		return fail(x, "%s: too many entries (at most %d)", x->d->name,
			    CONFIG_MAX_LISTEN);
	l[(*n)++].addr = a;
	return 0;
}

static int set_listen(struct parse_ctx *x, char **args, size_t n)
{
	long port = x->d->lo;	/* the service's default port */

	if (n > 1 && number_in_range(x, args[1], 1, 65535, &port) < 0)
		return -1;
	if (strcmp(args[0], "*") == 0) {
		if (add_listen(x, "0.0.0.0", (uint16_t)port, args[0]) < 0 ||
		    add_listen(x, "::", (uint16_t)port, args[0]) < 0)
			return -1;
		return 0;
	}
	return add_listen(x, args[0], (uint16_t)port, args[0]);
}

/* One prefix into the struct acl * field; lo is 1 for allow.  A prefix
 * given twice (even with the other verdict) is refused: the file would
 * say two things about the same clients. */
static int add_prefix(struct parse_ctx *x, const char *cidr)
{
	struct acl **acl = field(x);
	size_t before;

	if (acl_prefix_is_mapped(cidr))
		return fail(x, "%s: bad prefix '" SHOWN "' (write IPv4-mapped prefixes in IPv4 "
			    "form)", x->d->name, cidr);
	if (!*acl && !(*acl = acl_new()))
		return fail(x, "%s: out of memory", x->d->name);
	before = acl_count(*acl);
	if (acl_add(*acl, cidr, x->d->lo != 0) < 0)
		return fail(x, "%s: bad prefix '" SHOWN "' (an IPv4 or IPv6 address, optionally "
			    "/LENGTH, with no bits set past LENGTH)", x->d->name, cidr);
	if (acl_count(*acl) == before)
		return fail(x, "%s: prefix '" SHOWN "' already %s", x->d->name, cidr,
			    x->d->off == offsetof(struct config, ke_proxy) ? "listed" : "has a rule");
	return 0;
}

/* ntp-allow, ntp-deny, ke-allow, ke-deny CIDR. */
static int add_rule(struct parse_ctx *x, char **args, size_t n)
{
	return add_prefix(x, args[0]);
}

/* ke-proxy-protocol CIDR...: the load balancers that send a PROXY v2
 * header (matched with acl_matches: no family default). */
static int add_proxy(struct parse_ctx *x, char **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (add_prefix(x, args[i]) < 0)
			return -1;
	return 0;
}

static int set_metrics_listen(struct parse_ctx *x, char **args, size_t n)
{
	long port;

	if (number_in_range(x, args[1], 1, 65535, &port) < 0)
		return -1;
	if (netaddr_parse(args[0], (uint16_t)port, &x->c->metrics_listen) < 0)
		return fail(x, "%s: bad address '" SHOWN "' (an IPv4 or IPv6 literal)",
			    x->d->name, args[0]);
	return 0;
}

/* clock-source kernel | ntp ADDRESS [PORT] (an address literal: the
 * daemon resolves no names). */
static int set_clock_source(struct parse_ctx *x, char **args, size_t n)
{
	long port = NTP_PORT;

	if (strcmp(args[0], "kernel") == 0) {
		if (n != 1)
			return fail(x, "%s: kernel takes no argument (usage: %s %s)", x->d->name,
				    x->d->name, x->d->usage);
		memset(&x->c->clock_source, 0, sizeof(x->c->clock_source));
		return 0;
	}
	if (strcmp(args[0], "ntp") != 0)
		return fail(x, "%s: '" SHOWN "' is neither kernel nor ntp (usage: %s %s)",
			    x->d->name, args[0], x->d->name, x->d->usage);
	if (n < 2)
		return fail(x, "%s: ntp needs an ADDRESS (usage: %s %s)", x->d->name,
			    x->d->name, x->d->usage);
	if (n > 2 && number_in_range(x, args[2], 1, 65535, &port) < 0)
		return -1;
	if (netaddr_parse(args[1], (uint16_t)port, &x->c->clock_source) < 0)
		return fail(x, "%s: bad address '" SHOWN "' (an IPv4 or IPv6 literal)",
			    x->d->name, args[1]);
	x->c->clock_source_line = x->line;
	return 0;
}

#define F(member) offsetof(struct config, member)

/* Sorted by name (strcmp order): looked up with bsearch. */
static const struct directive directives[] = {
	{ "clock-source", "kernel|ntp ADDRESS [PORT]", set_clock_source, 1, 3, false,
	  F(clock_source), 0, 0 },
	{ "clock-source-poll", "SECONDS", set_unsigned, 1, 1, false, F(clock_source_poll_s),
	  CONFIG_MIN_CLOCK_POLL_S, CONFIG_MAX_CLOCK_POLL_S },
	{ "cpu-steering", "yes|no", set_bool, 1, 1, false, F(cpu_steering), 0, 0 },
	{ "hw-timestamp", "IFACE", add_hw_iface, 1, 1, true, F(hw_timestamp), 0, 0 },
	{ "interleaved-table", "N", set_unsigned, 1, 1, false, F(interleaved_table), 0,
	  CONFIG_MAX_INTERLEAVED_TABLE },
	{ "ke-aead", "NAME|ID ...", set_ke_aead, 1, CONFIG_MAX_AEADS, false, F(ke_aeads), 0, 0 },
	{ "ke-allow", "CIDR", add_rule, 1, 1, true, F(ke_acl), 1, 0 },
	{ "ke-certificate", "FILE", set_path, 1, 1, false, F(ke_certificate), 0, 0 },
	{ "ke-deny", "CIDR", add_rule, 1, 1, true, F(ke_acl), 0, 0 },
	{ "ke-listen", "ADDRESS [PORT]", set_listen, 1, 2, true, F(ke_listen),
	  CONFIG_DEFAULT_KE_PORT, 0 },
	{ "ke-max-sessions", "N", set_unsigned, 1, 1, false, F(ke_max_sessions),
	  1, CONFIG_MAX_SESSIONS },
	{ "ke-max-sessions-per-address", "N", set_unsigned, 1, 1, false,
	  F(ke_max_sessions_per_address), 1, CONFIG_MAX_SESSIONS },
	{ "ke-ntp-port", "PORT", set_int, 1, 1, false, F(ke_ntp_port), 1, 65535 },
	{ "ke-ntp-server", "HOST", add_ntp_server, 1, 1, true, F(ke_ntp_servers), 0, 0 },
	{ "ke-private-key", "FILE", set_path, 1, 1, false, F(ke_private_key), 0, 0 },
	{ "ke-proxy-protocol", "CIDR...", add_proxy, 1, CONFIG_MAX_WORDS - 1, true,
	  F(ke_proxy), 1, 0 },
	{ "ke-rate-limit", "RATE BURST|off", set_rate_limit, 1, 2, false, F(ke_rate_limit),
	  0, 0 },
	{ "ke-service", "yes|no", set_bool, 1, 1, false, F(ke_enabled), 0, 0 },
	{ "ke-threads", "N", set_unsigned, 1, 1, false, F(ke_threads), 0, CONFIG_MAX_THREADS },
	{ "ke-timeout", "SECONDS", set_ke_timeout, 1, 1, false, F(ke_timeout_ms), 0, 0 },
	{ "key-file", "FILE", set_path, 1, 1, false, F(key_file), 0, 0 },
	{ "key-file-create", "yes|no", set_bool, 1, 1, false, F(key_file_create), 0, 0 },
	{ "key-max-age", "DURATION|off", set_key_max_age, 1, 1, false, F(key_max_age_s), 0, 0 },
	{ "key-propagation", "DURATION", set_key_propagation, 1, 1, false,
	  F(key_propagation_s), 0, 0 },
	{ "local-stratum", "N|off", set_local_stratum, 1, 1, false, F(local_stratum), 1, 15 },
	{ "log-level", "LEVEL", set_log_level, 1, 1, false, F(log_level), 0, 0 },
	{ "metrics-listen", "ADDRESS PORT", set_metrics_listen, 2, 2, false, F(metrics_listen),
	  0, 0 },
	{ "ntp-allow", "CIDR", add_rule, 1, 1, true, F(ntp_acl), 1, 0 },
	{ "ntp-busy-poll", "USEC", set_unsigned, 1, 1, false, F(ntp_busy_poll_us), 0,
	  CONFIG_MAX_BUSY_POLL_US },
	{ "ntp-deny", "CIDR", add_rule, 1, 1, true, F(ntp_acl), 0, 0 },
	{ "ntp-listen", "ADDRESS [PORT]", set_listen, 1, 2, true, F(ntp_listen),
	  CONFIG_DEFAULT_NTP_PORT, 0 },
	{ "ntp-service", "yes|no", set_bool, 1, 1, false, F(ntp_enabled), 0, 0 },
	{ "ntp-xdp", "IFACE [QUEUES]", add_xdp_iface, 1, 2, true, F(ntp_xdp), 0, 0 },
	{ "pid-file", "FILE|none", set_pid_file, 1, 1, false, F(pid_file), 0, 0 },
	{ "rate-limit", "RATE BURST|off", set_rate_limit, 1, 2, false, F(rate_limit), 0, 0 },
	{ "rate-limit-prefix", "V4LEN V6LEN", set_prefix, 2, 2, false, F(rate_limit_prefix),
	  0, 0 },
	{ "rate-limit-table", "N", set_unsigned, 1, 1, false, F(rate_limit_table),
	  CONFIG_MIN_TABLE, CONFIG_MAX_TABLE },
	{ "refid", "ID", set_refid, 1, 1, false, F(refid), 0, 0 },
	{ "sandbox", "yes|no", set_bool, 1, 1, false, F(sandbox), 0, 0 },
	{ "shutdown-drain", "DURATION", set_shutdown_drain, 1, 1, false, F(shutdown_drain_s),
	  0, 0 },
	{ "stratum", "N", set_int, 1, 1, false, F(stratum), 1, 15 },
	{ "threads", "N", set_unsigned, 1, 1, false, F(threads), 0, CONFIG_MAX_THREADS },
	{ "user", "NAME", set_user, 1, 1, false, F(user), 0, 0 },
};

#define N_DIRECTIVES (sizeof(directives) / sizeof(directives[0]))

/* parse_ctx.seen and struct config.given have one slot per directive. */
_Static_assert(N_DIRECTIVES <= CONFIG_MAX_DIRECTIVES, "raise CONFIG_MAX_DIRECTIVES");

static int directive_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct directive *)elem)->name);
}

/* ke-aead's default: every supported AEAD but 30 (aead_ke_default). */
static void config_default_ke_aeads(struct config *c)
{
	size_t n;
	const uint16_t *ids = aead_supported(&n);

	c->n_ke_aeads = 0;
	for (size_t i = 0; i < n && c->n_ke_aeads < CONFIG_MAX_AEADS; i++)
		if (aead_ke_default(ids[i]))
			c->ke_aeads[c->n_ke_aeads++] = ids[i];
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->ntp_enabled = true;
	c->ke_enabled = true;
	c->threads = 0;
	c->cpu_steering = true;
	c->ntp_busy_poll_us = 0;
	c->local_stratum = -1;
	c->stratum = DEFAULT_STRATUM;
	c->refid = DEFAULT_REFID;
	c->clock_source_poll_s = CONFIG_DEFAULT_CLOCK_POLL_S;
	c->rate_limit = false;
	c->rate_limit_table = DEFAULT_RATE_LIMIT_TABLE;
	c->interleaved_table = DEFAULT_INTERLEAVED_TABLE;
	c->rate_limit_prefix.v4 = NETADDR_PREFIX_V4_DEFAULT;
	c->rate_limit_prefix.v6 = NETADDR_PREFIX_V6_DEFAULT;
	c->ke_ntp_port = -1;
	c->ke_threads = 0;
	c->ke_timeout_ms = DEFAULT_KE_TIMEOUT_MS;
	c->ke_max_sessions = DEFAULT_KE_MAX_SESSIONS;
	c->ke_max_sessions_per_address = DEFAULT_KE_MAX_PER_ADDRESS;
	config_default_ke_aeads(c);
	c->ke_rate_limit = true;
	c->ke_rate_limit_rate = DEFAULT_KE_RATE;
	c->ke_rate_limit_burst = DEFAULT_KE_BURST;
	c->key_file = (char *)default_key_file;
	c->key_file_create = true;
	c->sandbox = true;
	c->key_propagation_s = DEFAULT_KEY_PROPAGATION_S;
	c->pid_file = (char *)default_pid_file;
	c->log_level = LOG_LVL_INFO;
	c->shutdown_drain_s = DEFAULT_SHUTDOWN_DRAIN_S;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	replace_string(&c->ke_certificate, NULL);
	replace_string(&c->ke_private_key, NULL);
	for (size_t i = 0; i < c->n_ke_ntp_servers; i++)
		free(c->ke_ntp_servers[i]);
	c->n_ke_ntp_servers = 0;
	replace_string(&c->key_file, NULL);
	replace_string(&c->user, NULL);
	replace_string(&c->pid_file, NULL);
	acl_free(c->ntp_acl);
	acl_free(c->ke_acl);
	acl_free(c->ke_proxy);
	c->ntp_acl = NULL;
	c->ke_acl = NULL;
	c->ke_proxy = NULL;
	for (size_t i = 0; i < CONFIG_MAX_DIRECTIVES; i++) {
		free(c->given[i]);
		c->given[i] = NULL;
	}
}

/* Append a line's arguments to what directive idx was given.  Bounded by
 * the file size cap. */
static int note_given(struct parse_ctx *x, size_t idx, char **args, size_t n)
{
	char **slot = &x->c->given[idx];
	size_t len = *slot ? strlen(*slot) + 1 : 0, add = 0;
	char *s;

	for (size_t i = 0; i < n; i++)
		add += strlen(args[i]) + 1;
	s = realloc(*slot, len + add + 1);
	if (!s)
		return fail(x, "%s: out of memory", x->d->name);
	if (len)
		s[len - 1] = '\n';
	for (size_t i = 0; i < n; i++) {
		size_t w = strlen(args[i]);

		memcpy(s + len, args[i], w);
		len += w;
		s[len++] = i + 1 < n ? ' ' : '\0';
	}
	if (n == 0)
		s[len] = '\0';
	*slot = s;
	return 0;
}

size_t config_changed(const struct config *a, const struct config *b, const char **names,
		      size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < N_DIRECTIVES; i++) {
		const char *x = a->given[i], *y = b->given[i];

		if (x == y || (x && y && strcmp(x, y) == 0))
			continue;
		if (n < max)
			names[n] = directives[i].name;
		n++;
	}
	return n;
}

/* Split line (modified in place) into words; a word starting with '#'
 * ends the line.  Returns the number of words, or -1 if too many. */
static int split_words(char *line, char **words)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == CONFIG_MAX_WORDS)
			return -1;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

static int parse_line(struct parse_ctx *x, char *line)
{
	char *words[CONFIG_MAX_WORDS];
	const struct directive *d;
	size_t n_args, idx;
	int n;

	n = split_words(line, words);
	if (n == 0)
		return 0;
	d = bsearch(words[0], directives, N_DIRECTIVES, sizeof(directives[0]),
		    directive_cmp);
	if (!d)
		return fail(x, "unknown directive '" SHOWN "'", words[0]);
	x->d = d;
	if (n < 0)
		return fail(x, "%s: too many arguments (usage: %s %s)", d->name, d->name,
			    d->usage);
	n_args = (size_t)n - 1;
	if (n_args < d->min_args)
		return fail(x, "%s: missing argument (usage: %s %s)", d->name, d->name,
			    d->usage);
	if (n_args > d->max_args)
		return fail(x, "%s: too many arguments (usage: %s %s)", d->name, d->name,
			    d->usage);
	idx = (size_t)(d - directives);
	if (!d->repeatable && x->seen[idx])
		return fail(x, "%s: duplicate directive (first set on line %zu)", d->name,
			    x->seen[idx]);
	if (d->fn(x, words + 1, n_args) < 0 || note_given(x, idx, words + 1, n_args) < 0)
		return -1;
	if (!x->seen[idx])
		x->seen[idx] = x->line;
	return 0;
}

int config_parse(struct config *c, const char *text, size_t len, const char *name,
		 struct config_error *err)
{
	struct parse_ctx x;
	char line[CONFIG_MAX_LINE + 1];
	size_t pos = 0;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.name = name ? name : "(config)";
	x.err = err;
	if (err)
		err->msg[0] = '\0';
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - pos;

		x.line++;
		x.d = NULL;
		if (n > 0 && text[end - 1] == '\r')
			n--;	/* CRLF files */
		if (n > CONFIG_MAX_LINE)
			return fail(&x, "line too long (at most %d bytes)", CONFIG_MAX_LINE);
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)text[pos + i];

			if (ch == '\0')
				return fail(&x, "NUL byte in line");
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return fail(&x, "control character 0x%02x in line", ch);
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (parse_line(&x, line) < 0)
			return -1;
		pos = end + 1;
	}
	return 0;
}

int config_load(struct config *c, const char *path, struct config_error *err)
{
	char msg[FILE_ERR_MAX];
	char *text;
	size_t len;
	int ret;

	config_init(c);
	if (file_read(path, CONFIG_MAX_FILE, 0, &text, &len, msg) < 0) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s", msg);
		return -1;
	}
	ret = config_parse(c, text, len, path, err);
	file_text_free(text, len);
	return ret;
}

static int invalid(const char *name, struct config_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int invalid(const char *name, struct config_error *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return -1;
	n = snprintf(err->msg, sizeof(err->msg), "%s: ", name ? name : "(config)");
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Would a listener on l receive what is sent to a?  Same host and port,
 * or a wildcard of a's family on a's port when a is a loopback address. */
static bool listens_on(const struct netaddr *l, const struct netaddr *a)
{
	static const uint8_t any4[16] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t any6[16];
	uint8_t lb[16], ab[16];
	bool v4 = netaddr_host_family(a) == AF_INET;

	if (netaddr_port(l) != netaddr_port(a) || netaddr_host_family(l) != netaddr_host_family(a))
		return false;
	if (netaddr_same_host(l, a))
		return true;
	netaddr_host_bytes(l, lb);
	netaddr_host_bytes(a, ab);
	if (memcmp(lb, v4 ? any4 : any6, 16) != 0)
		return false;
	if (v4)
		return ab[12] == 127;
	return memcmp(ab, any6, 15) == 0 && ab[15] == 1;
}

/* clock-source must not name our own NTP listener: ntsd would serve its
 * own answers back to itself (a timing loop of one). */
static int check_clock_source(const struct config *c, const char *name,
			      struct config_error *err)
{
	struct netaddr defaults[2];
	const struct netaddr *l[CONFIG_MAX_LISTEN];
	size_t n = c->n_ntp_listen;
	char buf[NETADDR_STRLEN];

	if (!c->clock_source.len || !c->ntp_enabled)
		return 0;
	for (size_t i = 0; i < n; i++)
		l[i] = &c->ntp_listen[i].addr;
	if (n == 0) {
		netaddr_parse("0.0.0.0", CONFIG_DEFAULT_NTP_PORT, &defaults[0]);
		netaddr_parse("::", CONFIG_DEFAULT_NTP_PORT, &defaults[1]);
		l[n++] = &defaults[0];
		l[n++] = &defaults[1];
	}
	for (size_t i = 0; i < n; i++) {
		if (!listens_on(l[i], &c->clock_source))
			continue;
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s:%zu: clock-source: %s is ntsd's "
				 "own ntp-listen address; point it at the discipline daemon (e.g. "
				 "chronyd with port 11123)", name ? name : "(config)",
				 c->clock_source_line,
				 netaddr_str(&c->clock_source, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

int config_validate(const struct config *c, const char *name, struct config_error *err)
{
	if (!c->ntp_enabled && !c->ke_enabled)
		return invalid(name, err, "ntp-service and ke-service are both off: nothing to run");
	if (c->ke_enabled && !c->ke_certificate)
		return invalid(name, err, "ke-service is on but ke-certificate is not set");
	if (c->ke_enabled && !c->ke_private_key)
		return invalid(name, err, "ke-service is on but ke-private-key is not set");
	if (c->stratum < 1 || c->stratum > 15)
		return invalid(name, err, "stratum %d out of range (1-15)", c->stratum);
	if (c->local_stratum != -1 && (c->local_stratum < 1 || c->local_stratum > 15))
		return invalid(name, err, "local-stratum %d out of range (1-15)",
			       c->local_stratum);
	if (c->n_ntp_listen > CONFIG_MAX_LISTEN || c->n_ke_listen > CONFIG_MAX_LISTEN)
		return invalid(name, err, "too many listen entries (at most %d)",
			       CONFIG_MAX_LISTEN);
	return check_clock_source(c, name, err);
}

int64_t config_parse_duration(const char *s)
{
	static const struct {
		char suffix;
		int64_t mult;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	uint64_t v;
	int64_t mult = 1;
	const char *p = s;

	if (!s)
		return -1;
	while (*p >= '0' && *p <= '9')
		p++;
	if (!decimal_parse(s, (size_t)(p - s), INT64_MAX, &v))
		return -1;
	if (*p) {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (*p == units[i].suffix)
				break;
		if (i == sizeof(units) / sizeof(units[0]) || p[1] != '\0')
			return -1;
		mult = units[i].mult;
	}
	if (v > (uint64_t)(INT64_MAX / mult))
		return -1;
	return (int64_t)v * mult;
}
