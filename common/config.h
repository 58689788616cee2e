/* config: the daemon's configuration file -> one immutable struct.
 *
 * One directive per line, `#` starts a comment, keywords from a sorted
 * table with typed handlers.  Errors read "FILE:LINE: message".  The
 * reference is doc/ntsd.conf.5 (every directive, its default). */
#ifndef NTSD_CONFIG_H
#define NTSD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "ke_record.h"
#include "netaddr.h"
#include "ntp_packet.h"

#define CONFIG_MAX_LISTEN 16
#define CONFIG_MAX_NTP_SERVERS 8
#define CONFIG_MAX_AEADS 4		/* ke-aead: the AEADs this code knows of */
#define CONFIG_MAX_DIRECTIVES 64	/* room in struct config for each directive's lines */
#define CONFIG_MAX_HW_IFACES 8		/* hw-timestamp lines */
#define CONFIG_MAX_XDP_IFACES 4		/* ntp-xdp lines */
#define CONFIG_MAX_XDP_QUEUES 64	/* ntp-xdp IFACE QUEUES */
#define CONFIG_IFNAME_LEN 16		/* IFNAMSIZ: 15 characters and a NUL */
#define CONFIG_MAX_BUSY_POLL_US 10000	/* ntp-busy-poll: 10 ms */
#define CONFIG_MAX_INTERLEAVED_TABLE 1048576	/* ntpd/xleave.h: XLEAVE_MAX_ENTRIES */
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/ntsd.conf"
#define CONFIG_DEFAULT_NTP_PORT NTP_PORT
#define CONFIG_DEFAULT_KE_PORT KE_DEFAULT_PORT
/* clock-source-poll: doc/ntsd.conf.5 says why. */
#define CONFIG_DEFAULT_CLOCK_POLL_S 4
#define CONFIG_MIN_CLOCK_POLL_S 1
#define CONFIG_MAX_CLOCK_POLL_S 64

struct config_listen {
	struct netaddr addr;		/* port set */
};

struct config {
	/* services */
	bool ntp_enabled;		/* ntp-service yes|no (default yes) */
	bool ke_enabled;		/* ke-service yes|no (default yes) */
	/* NTP responder */
	struct config_listen ntp_listen[CONFIG_MAX_LISTEN];	/* ntp-listen ADDRESS [PORT] */
	size_t n_ntp_listen;		/* 0: defaults 0.0.0.0 and :: port 123 */
	unsigned threads;		/* threads N: NTP workers; 0 = one per core */
	/* cpu-steering yes|no (default yes): NTP workers and NTS-KE threads
	 * pinned to CPUs, packets steered to the thread on the receiving CPU */
	bool cpu_steering;
	/* ntp-busy-poll USEC (default 0 = off): NTP workers spin this long
	 * after a datagram before sleeping, with SO_BUSY_POLL on their sockets */
	unsigned ntp_busy_poll_us;
	int local_stratum;		/* local-stratum N (1-15); -1 = off */
	int stratum;			/* stratum N (1-15), default 2 */
	uint32_t refid;			/* refid ABCD or an IPv4 address, default "NTSD" */
	/* clock-source kernel | ntp ADDRESS [PORT]: where the served clock
	 * state comes from; len 0 = kernel (the default), else the local
	 * discipline daemon polled over NTP (ntpd/clock_source.h) */
	struct netaddr clock_source;
	size_t clock_source_line;	/* where it was set, for config_validate */
	unsigned clock_source_poll_s;	/* clock-source-poll SECONDS, default 4 */
	bool rate_limit;		/* rate-limit RATE BURST | off (default off) */
	double rate_limit_rate;		/* requests per second per address */
	unsigned rate_limit_burst;
	unsigned rate_limit_table;	/* rate-limit-table N entries (default 65536) */
	/* rate-limit-prefix V4LEN V6LEN (default 32 64): what one client is for
	 * rate-limit, ke-rate-limit and the KE per-address cap */
	struct netaddr_prefix rate_limit_prefix;
	/* interleaved-table N (default 65536; 0 = off): slots of the table of
	 * interleaved-mode clients (RFC 9769), shared by the NTP workers */
	unsigned interleaved_table;
	/* hw-timestamp IFACE (repeatable): interfaces whose NIC should
	 * timestamp in hardware; none by default */
	char hw_timestamp[CONFIG_MAX_HW_IFACES][CONFIG_IFNAME_LEN];
	size_t n_hw_timestamp;
	/* ntp-xdp IFACE [QUEUES] (repeatable): serve NTP on IFACE through
	 * the XDP program and AF_XDP sockets (ntpd/ntp_xdp.h); QUEUES 0 or
	 * absent: every receive queue the interface has */
	struct config_xdp {
		char ifname[CONFIG_IFNAME_LEN];
		unsigned queues;
	} ntp_xdp[CONFIG_MAX_XDP_IFACES];
	size_t n_ntp_xdp;
	/* NTS-KE */
	struct config_listen ke_listen[CONFIG_MAX_LISTEN];	/* ke-listen ADDRESS [PORT] */
	size_t n_ke_listen;		/* 0: defaults 0.0.0.0 and :: port 4460 */
	char *ke_certificate;		/* ke-certificate FILE (PEM chain) */
	char *ke_private_key;		/* ke-private-key FILE */
	/* ke-ntp-server HOST (repeatable): the NTP servers a Server
	 * Negotiation record may name (see ke_handler); none if unset */
	char *ke_ntp_servers[CONFIG_MAX_NTP_SERVERS];
	size_t n_ke_ntp_servers;
	int ke_ntp_port;		/* ke-ntp-port PORT, -1 if unset */
	unsigned ke_threads;		/* ke-threads N; 0 = one per core */
	unsigned ke_timeout_ms;		/* ke-timeout SECONDS (decimal), default 5 */
	unsigned ke_max_sessions;	/* ke-max-sessions N, default 4096 */
	unsigned ke_max_sessions_per_address;	/* ke-max-sessions-per-address N, default 16 */
	/* ke-aead NAME|ID ...: the AEADs offered, a set (the client's order
	 * picks); default every supported one but 30 (AES-128-GCM-SIV). */
	uint16_t ke_aeads[CONFIG_MAX_AEADS];
	size_t n_ke_aeads;
	bool ke_rate_limit;		/* ke-rate-limit RATE BURST | off (default 10 500) */
	double ke_rate_limit_rate;	/* handshakes per second per client */
	unsigned ke_rate_limit_burst;
	/* access rules: ntp-allow / ntp-deny / ke-allow / ke-deny CIDR (repeatable).
	 * Owned by the config (config_free frees them); NULL: no rules, every
	 * client allowed.  The daemon may take them (set the field to NULL). */
	struct acl *ntp_acl;
	struct acl *ke_acl;
	/* ke-proxy-protocol CIDR... (repeatable): the load balancers whose
	 * connections start with a PROXY v2 header (allow rules, matched
	 * with acl_matches).  Owned like the access rules; NULL: none. */
	struct acl *ke_proxy;
	/* metrics-listen ADDRESS PORT: HTTP /metrics and /health; len 0 = off */
	struct netaddr metrics_listen;
	/* keys */
	char *key_file;			/* key-file FILE, default LOCALSTATEDIR/lib/ntsd/keys */
	bool key_file_create;		/* key-file-create yes|no: make a missing one (default yes) */
	bool sandbox;			/* sandbox yes|no: seccomp on every thread (default yes) */
	int64_t key_propagation_s;	/* key-propagation DURATION, default 1h */
	int64_t key_max_age_s;		/* key-max-age DURATION|off (0), default off */
	/* process */
	char *user;			/* user NAME, NULL: stay as started */
	char *pid_file;			/* pid-file FILE, default RUNSTATEDIR/ntsd.pid; "none" -> NULL */
	int log_level;			/* log-level LEVEL (enum log_level), default info */
	int64_t shutdown_drain_s;	/* shutdown-drain DURATION, default 5s; 0: off */
	/* Each directive's arguments as written (words joined by one space,
	 * lines by '\n'; NULL: not in the file), by table index: what
	 * config_changed compares.  Owned, freed by config_free. */
	char *given[CONFIG_MAX_DIRECTIVES];
};

struct config_error {
	char msg[512];			/* "FILE:LINE: message" */
};

/* Defaults for every field. */
void config_init(struct config *c);
/* Parse text (pure; `name` is the file name for messages).  On error the
 * struct is left with whatever was parsed (free it) and -1 returned. */
int config_parse(struct config *c, const char *text, size_t len, const char *name,
		 struct config_error *err);
/* Read and parse a file: config_init + config_parse.  0 or -1. */
int config_load(struct config *c, const char *path, struct config_error *err);
/* Cross-directive checks (certificate set when KE runs, ...). */
int config_validate(const struct config *c, const char *name, struct config_error *err);
void config_free(struct config *c);

/* The directives written differently in a and b (their arguments word
 * for word; spacing, comments and the order of different directives do
 * not count), in table order: the first max names go into names.
 * Returns how many differ.  A value written out that equals the default
 * counts as a change. */
size_t config_changed(const struct config *a, const struct config *b, const char **names,
		      size_t max);

/* "30", "30s", "15m", "12h", "7d", "2w" -> seconds; -1 if malformed. */
int64_t config_parse_duration(const char *s);

#endif
