/* ntp_service: the UDP NTP responder's sockets and worker threads.  Each
 * worker owns one SO_REUSEPORT socket per ntp-listen address, receives in
 * batches (recvmmsg) with kernel timestamps, answers through the pure
 * responder (ntpd/responder.h) and sends in batches (sendmmsg).  Replies
 * a client may ask about in interleaved mode get kernel transmit
 * timestamps (SO_TIMESTAMPING), read back from the error queue in batches.
 * Workers also serve the AF_XDP sockets of ntp-xdp interfaces
 * (ntpd/ntp_xdp.h), with the same per-datagram steps (ntpd/ntp_judge.h).
 * With cpu-steering each worker is pinned to its CPU and receives what
 * that CPU receives (common/listener.h); with ntp-busy-poll it spins on
 * its sockets for a while after each datagram before it sleeps.
 *
 *   ntp_service_new()   binds (as root, before privileges are dropped)
 *   ntp_service_start() starts the workers and the clock-state refresh
 *   ntp_service_stop(), ntp_service_free()
 */
#ifndef NTSD_NTP_SERVICE_H
#define NTSD_NTP_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/listener.h"
#include "common/netaddr.h"
#include "common/snapshot.h"
#include "common/thread_start.h"
#include "ntpd/clock.h"

struct acl;
struct ntp_service;
struct ntp_xdp;
struct phc_dev;

/* `keys` publishes the current struct keyset (the daemon owns it).
 * NULL on error (logged with the address involved). */
struct ntp_service *ntp_service_new(const struct config *cfg, struct snapshot *keys);
int ntp_service_start(struct ntp_service *ns);
/* Access rules (ntp-allow / ntp-deny): acl publishes the current struct
 * acl, NULL meaning no rules (the daemon owns it).  Checked per datagram
 * before anything else: denied ones are dropped and counted
 * (NTP_CNT_DROP_DENIED).  Call before ntp_service_start(). */
void ntp_service_set_acl(struct ntp_service *ns, struct snapshot *acl);
/* Called by each worker after its set-up, before its loop (before start). */
void ntp_service_set_thread_start(struct ntp_service *ns, const struct thread_start *ts);
/* clock-source ntp: samples publishes the struct clock_sample to serve
 * (ntpd/clock_source.h), NULL meaning the kernel's state; worker 0 reads
 * it with the kernel's state about once a second.  Call before
 * ntp_service_start(). */
void ntp_service_set_clock_source(struct ntp_service *ns, struct snapshot *samples);
/* Any thread: the clock state replies carry now. */
void ntp_service_clock(const struct ntp_service *ns, struct clock_state *out);
/* The UDP port of the first listener (what NTS-KE advertises). */
uint16_t ntp_service_port(const struct ntp_service *ns);
/* The addresses listened on, ports resolved (a configured port 0 becomes
 * the port the kernel chose; tests use that). */
size_t ntp_service_n_listen(const struct ntp_service *ns);
const struct netaddr *ntp_service_listen_addr(const struct ntp_service *ns, size_t i);
/* Sum of every worker's counters, indexed by enum ntp_counter
 * (ntpd/responder.h); names from ntp_counter_name(). */
void ntp_service_counters(const struct ntp_service *ns, uint64_t *out, size_t n);
/* cpu-steering: every listen address's group steered by receiving CPU. */
bool ntp_service_steered(const struct ntp_service *ns);
/* The per-worker view (/metrics): for each worker, up to max, the
 * datagrams it received and the CPU it is pinned to.  How many written. */
unsigned ntp_service_workers(const struct ntp_service *ns, struct listener_thread_view *v,
			     unsigned max);
/* Transmit timestamps and interleaved mode (RFC 9769, ntpd/xleave.h). */
enum ntp_ts_counter {
	NTP_TS_INTERLEAVED = 0,	/* replies sent in interleaved mode */
	NTP_TS_TX_KERNEL,	/* kernel transmit timestamps matched to their reply */
	NTP_TS_TX_UNMATCHED,	/* a timestamp whose reply's entry was gone or busy */
	NTP_TS_TX_UNPARSED,	/* an error-queue message that was not our reply's timestamp */
	/* hw-timestamp interfaces with a PHC (ntpd/phc_dev.h) */
	NTP_TS_RX_HARDWARE,	/* requests served with the NIC's receive time */
	NTP_TS_RX_HW_MISSING,	/* ... that came without one: the kernel's used */
	NTP_TS_RX_HW_UNCONVERTED, /* ... whose hardware time had no valid conversion: the kernel's */
	NTP_TS_TX_HARDWARE,	/* the NIC's transmit timestamps matched to their reply */
	NTP_TS_TX_HW_UNCONVERTED, /* ... not convertible: the kernel's stays */
	NTP_TS_COUNT
};
const char *ntp_ts_counter_name(enum ntp_ts_counter c);
/* Sum of every worker's, indexed by enum ntp_ts_counter. */
void ntp_service_ts_counters(const struct ntp_service *ns, uint64_t out[NTP_TS_COUNT]);
/* hw-timestamp: the daemon's main loop calls this about once a second
 * to sample each NIC's PHC against the system clock (ntpd/phc_dev.h). */
void ntp_service_hw_poll(struct ntp_service *ns);
/* The hw-timestamp interfaces with hardware timestamps on. */
size_t ntp_service_n_hw(const struct ntp_service *ns);
const struct phc_dev *ntp_service_hw(const struct ntp_service *ns, size_t i);
/* ntp-xdp: the interfaces served through XDP (ntpd/ntp_xdp.h), NULL if
 * none, for /metrics; and on SIGHUP, before the new rules are published,
 * the new rules for their programs (-1, logged: a program keeps its old
 * ones). */
const struct ntp_xdp *ntp_service_xdp(const struct ntp_service *ns);
int ntp_service_xdp_update(struct ntp_service *ns, const struct acl *acl);
void ntp_service_stop(struct ntp_service *ns);
void ntp_service_free(struct ntp_service *ns);	/* NULL-safe */

#endif
