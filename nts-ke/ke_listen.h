/* ke_listen: the NTS-KE service's threads and their listening sockets.
 * Each thread runs its own libev loop with its own SO_REUSEPORT socket
 * per address, so no lock sits on the accept path: with cpu-steering
 * (common/listener.h) thread k is pinned to CPU k and a connection goes to
 * the thread on the CPU that received its SYN, else the kernel spreads
 * them by a hash.  TCP_DEFER_ACCEPT: a connection is accepted with its
 * first data.  What a thread accepts becomes one of its ke_sessions.  Out of descriptors, a thread sheds the waiting connection
 * with a reserve descriptor and stops accepting for a moment. */
#ifndef NTSD_KE_LISTEN_H
#define NTSD_KE_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/netaddr.h"
#include "common/thread_start.h"
#include "nts-ke/ke_service.h"
#include "nts-ke/ke_session.h"

/* Most addresses one service listens on: the configured ones, or the two
 * defaults. */
#define KE_LISTEN_MAX (CONFIG_MAX_LISTEN > 2 ? CONFIG_MAX_LISTEN : 2)

struct ke_listen;

/* n_threads threads, not running yet, whose sessions use env (borrowed);
 * cpu_steering: cpu-steering.  NULL on error, logged. */
struct ke_listen *ke_listen_new(unsigned n_threads, bool cpu_steering,
			       const struct ke_session_env *env);
/* One listening socket per thread for each of addrs[0..n) (n at most
 * KE_LISTEN_MAX; as root, before privileges are dropped).  A port 0 is
 * replaced in addrs by the one bound.  0, or -1 logged with the address. */
int ke_listen_bind(struct ke_listen *kl, struct netaddr *addrs, size_t n);
/* Start the threads with every signal blocked (signals belong to the main
 * thread).  When one cannot start, those already running are stopped and
 * joined: -1, logged. */
int ke_listen_start(struct ke_listen *kl);
/* Called by each thread before its loop (set before ke_listen_start). */
void ke_listen_set_thread_start(struct ke_listen *kl, const struct thread_start *ts);
/* Stop accepting, join the threads, close their sessions.  NULL-safe. */
void ke_listen_stop(struct ke_listen *kl);
void ke_listen_free(struct ke_listen *kl);	/* NULL-safe; stops first */
/* Sum of every thread's counters. */
void ke_listen_counters(const struct ke_listen *kl, uint64_t out[KE_CNT_COUNT]);
/* cpu-steering: every listen address's group steered by receiving CPU. */
bool ke_listen_steered(const struct ke_listen *kl);
/* The per-thread view (nts-ke/ke_service.h). */
unsigned ke_listen_threads(const struct ke_listen *kl, struct listener_thread_view *v,
			   unsigned max);

#endif
