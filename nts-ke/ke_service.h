/* ke_service: the NTS-KE server (RFC 8915 section 4): TLS 1.3 listeners on
 * TCP 4460, several threads each with its own libev loop, one session state
 * machine per connection.  The daemon owns it:
 *
 *   ke_service_new()   loads certificate and key, binds every ke-listen
 *                      address (as root, before privileges are dropped);
 *                      takes the config's values as they are (config_init
 *                      sets the defaults)
 *   ke_service_start() starts the threads (none left running on failure)
 *   ke_service_reload_tls() / ke_service_check_tls()  from the main loop
 *   ke_service_stop(), ke_service_free()
 */
#ifndef NTSD_KE_SERVICE_H
#define NTSD_KE_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/listener.h"
#include "common/netaddr.h"
#include "common/snapshot.h"
#include "common/thread_start.h"

struct ke_service;

enum ke_counter {
	KE_CNT_ACCEPTED,		/* TCP connections accepted */
	KE_CNT_HANDSHAKE_OK,
	KE_CNT_HANDSHAKE_FAILED,	/* includes no ALPN / TLS < 1.3 */
	KE_CNT_RESPONSES,		/* successful responses with cookies */
	KE_CNT_NO_COMMON,		/* responses with an empty protocol or AEAD record */
	KE_CNT_ERROR_UNRECOGNIZED,	/* Error 0 sent */
	KE_CNT_ERROR_BAD_REQUEST,	/* Error 1 sent */
	KE_CNT_ERROR_INTERNAL,		/* Error 2 sent */
	KE_CNT_DEADLINE,		/* sessions cut off at the deadline */
	KE_CNT_TOO_LARGE,		/* requests over the size limit */
	KE_CNT_REFUSED_TOTAL,		/* closed at accept: ke-max-sessions */
	KE_CNT_REFUSED_PER_ADDRESS,	/* closed at accept: ke-max-sessions-per-address */
	KE_CNT_REFUSED_FD,		/* accept failed with EMFILE/ENFILE */
	KE_CNT_REFUSED_DENIED,		/* closed at accept: ke-allow / ke-deny */
	KE_CNT_REFUSED_RATE,		/* closed at accept: ke-rate-limit */
	KE_CNT_RECLAIMED,		/* slots of sessions whose peer reset or closed, freed at the cap */
	KE_CNT_IO_ERROR,		/* reset / EOF before the request was complete */
	/* PROXY v2 (ke-proxy-protocol): headers taken, then connections
	 * closed before TLS for each reason.  The *_BAD_* ones follow
	 * enum proxy_v2_status in its order. */
	KE_CNT_PROXY_HEADER,		/* PROXY command: the header's client used */
	KE_CNT_PROXY_LOCAL,		/* LOCAL command: the connection's own address used */
	KE_CNT_PROXY_UNEXPECTED,	/* a PROXY header from a peer not in ke-proxy-protocol */
	KE_CNT_PROXY_BAD_SIGNATURE,	/* a listed peer's stream did not start with a v2 header */
	KE_CNT_PROXY_BAD_VERSION,
	KE_CNT_PROXY_BAD_COMMAND,
	KE_CNT_PROXY_BAD_FAMILY,	/* PROXY for other than TCP over IPv4 / IPv6 */
	KE_CNT_PROXY_TOO_LONG,		/* header over PROXY_V2_MAX */
	KE_CNT_PROXY_BAD_ADDRESS,	/* address block too short for its family */
	KE_CNT_PROXY_BAD_TLV,		/* a TLV running past the header */
	KE_CNT_PROXY_TRUNCATED,		/* EOF or reset before the header was complete */
	KE_CNT_PROXY_TIMEOUT,		/* no complete header within ke-timeout */
	KE_CNT_PROXY_PENDING,		/* ke-max-sessions connections already waiting for theirs */
	KE_CNT_COUNT
};

/* Stable names for metrics and logs ("handshake_ok", ...). */
const char *ke_counter_name(enum ke_counter c);

/* `keys` publishes the current struct keyset (the daemon owns it).
 * `ntp_port` is this host's own NTP port, advertised with a Port
 * Negotiation record when neither ke-ntp-port nor ke-ntp-server is set
 * (0: none).  NULL on error, logged with the file,
 * address or limit involved. */
struct ke_service *ke_service_new(const struct config *cfg, struct snapshot *keys,
				  uint16_t ntp_port);
/* 0, or -1 logged with every thread it had started stopped and joined. */
int ke_service_start(struct ke_service *ks);
/* Access rules (ke-allow / ke-deny): acl publishes the current struct acl,
 * NULL meaning no rules (the daemon owns it).  A denied connection is
 * closed right after accept, before TLS, and counted
 * (KE_CNT_REFUSED_DENIED).  Call before ke_service_start(). */
void ke_service_set_acl(struct ke_service *ks, struct snapshot *acl);
/* Called by each NTS-KE thread before its loop (set before start). */
void ke_service_set_thread_start(struct ke_service *ks, const struct thread_start *ts);
/* ke-proxy-protocol: proxy publishes the current struct acl of load
 * balancers (allow rules, matched with acl_matches; NULL: none), the
 * daemon owns it.  A connection from one of them must start with a PROXY
 * v2 header, whose client then stands for the connection's peer in the
 * access rules, the rate limit, the caps and the logs.  Call before
 * ke_service_start(). */
void ke_service_set_proxy(struct ke_service *ks, struct snapshot *proxy);
/* Load certificate and key again; on any error keep serving the old pair
 * and return -1 (logged).  Open sessions are not dropped. */
int ke_service_reload_tls(struct ke_service *ks);
/* Reload when the certificate or key file changed on disk (any field of
 * its stat, so a chown or chmod counts); a pair that failed to load is
 * retried quietly at every call until it loads.  Call periodically.
 * 1 loaded, 0 nothing new (or a retry failed again), -1 failed (logged). */
int ke_service_check_tls(struct ke_service *ks);
/* Seconds until the served certificate expires (negative once expired). */
int64_t ke_service_cert_expiry(const struct ke_service *ks);
/* Number of listening addresses and the i-th one, port filled in (useful
 * when a ke-listen port was 0).  -1 when i is out of range. */
size_t ke_service_n_listen(const struct ke_service *ks);
int ke_service_listen_addr(const struct ke_service *ks, size_t i, struct netaddr *out);
/* Sessions open right now (a gauge for metrics). */
unsigned ke_service_sessions(const struct ke_service *ks);
/* Sum of every thread's counters. */
void ke_service_counters(const struct ke_service *ks, uint64_t out[KE_CNT_COUNT]);
/* cpu-steering: every listen address's group steered by receiving CPU. */
bool ke_service_steered(const struct ke_service *ks);
/* The per-thread view (/metrics): for each thread, up to max, the
 * connections it accepted and the CPU it is pinned to.  How many written. */
unsigned ke_service_threads(const struct ke_service *ks, struct listener_thread_view *v,
			    unsigned max);
/* Stop accepting, close sessions, join threads. */
void ke_service_stop(struct ke_service *ks);
void ke_service_free(struct ke_service *ks);	/* NULL-safe */

#endif
