/* ke_admit: may this client open an NTS-KE session now?  Asked at accept,
 * before any TLS, with four limits in this order: the access rules
 * (ke-allow / ke-deny), the client's handshake rate (ke-rate-limit), the
 * open sessions in all (ke-max-sessions) and those from one client
 * (ke-max-sessions-per-address).  A client is an address prefix
 * (rate-limit-prefix: one IPv4 address or one IPv6 /64 by default, so a
 * host cannot walk around the limits within its /64).  The rate comes
 * before the caps so that a connection refused for its rate takes no
 * session slot, not even for a moment; the access rules come first so
 * that a denied client spends no token.  What ke_admit() takes,
 * ke_release() gives back; nothing else touches the counts.
 *
 * Dead sessions: a session whose peer has reset or closed its connection
 * still holds its slot until its own thread gets to it, which may be after
 * the next accept from that client (the accept loop takes a batch first;
 * another thread may take the next connection).  So when the per-address
 * cap would refuse a connection, ke_admit() first polls (without waiting)
 * the sockets of every session that client holds, on whichever thread,
 * and frees the slots of those that report a reset, a hang-up or the
 * peer's FIN; the sessions themselves are still closed by their own
 * threads, which see the same event.  A session can be found dead only
 * while registered, and ke_release() unregisters it under the lock before
 * its socket is closed, so no poll ever sees a reused descriptor.
 *
 * Threads: every KE thread calls ke_admit() on one shared struct.  The
 * total count is an atomic; the per-client counts and lists are under a
 * mutex, held for a few list operations, and for one poll(2) with no
 * timeout only when the cap is reached.  The rate table (common/ratelimit, which
 * has no lock of its own) is one for the whole service, under a mutex:
 * the kernel spreads a client's connections over the threads' listening
 * sockets (by the CPU that received the SYN with cpu-steering, where RSS
 * hashes each new source port anew; by the 4-tuple without), and every
 * connection comes from a new source port, so a table per thread (as the
 * NTP workers keep, whose clients keep their port) would give a client up
 * to `threads` times its rate.
 * The same mutex covers it, held for one table lookup.  Per accepted
 * connection that is two short lock holds: negligible next to the TLS
 * handshake admitted connections go on to do. */
#ifndef NTSD_KE_ADMIT_H
#define NTSD_KE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "common/snapshot.h"

struct ke_admit;

enum ke_admit_verdict {
	KE_ADMIT_OK,			/* admitted: release it when the session ends */
	KE_ADMIT_DENIED,		/* the access rules refuse the address */
	KE_ADMIT_RATE,			/* over ke-rate-limit */
	KE_ADMIT_FULL,			/* ke-max-sessions open */
	KE_ADMIT_ADDRESS_FULL,		/* ke-max-sessions-per-address open from it */
};

/* What one admitted session holds.  It stays where ke_admit() was given
 * it (in the session) until ke_release(): the module links it into its
 * client's list, so that another thread can find it dead. */
struct ke_admission {
	size_t slot;			/* its client's count */
	bool held;
	int fd;				/* the session's socket */
	unsigned reclaimed;		/* dead sessions freed to admit this one */
	struct ke_admission *prev, *next;
};

/* The limits, from the configuration. */
struct ke_admit_limits {
	unsigned max_sessions;		/* ke-max-sessions */
	unsigned max_per_address;	/* ke-max-sessions-per-address */
	struct netaddr_prefix prefix;	/* rate-limit-prefix */
	bool rate_limit;		/* ke-rate-limit RATE BURST, or off */
	double rate;			/* handshakes per second per client */
	unsigned burst;
	unsigned table;			/* clients the rate table tracks (rate-limit-table) */
};

/* Refusals are logged through rl (borrowed).  NULL on error, logged. */
struct ke_admit *ke_admit_new(const struct ke_admit_limits *lim, struct log_ratelimit *rl);
void ke_admit_free(struct ke_admit *a);		/* NULL-safe */
/* acl publishes the current struct acl, NULL meaning no rules (the
 * caller owns it).  Before the first ke_admit(). */
void ke_admit_set_acl(struct ke_admit *a, struct snapshot *acl);
/* fd: the accepted socket (-1: none, never found dead).  KE_ADMIT_OK
 * fills *adm; any other verdict takes nothing (and is logged,
 * rate-limited, with the peer).  adm->reclaimed is set either way. */
enum ke_admit_verdict ke_admit(struct ke_admit *a, const struct netaddr *peer, int fd,
			       struct ke_admission *adm);
/* Give back what ke_admit() took; a second call, or one after the slot
 * was reclaimed, does nothing.  Call it before closing adm->fd. */
void ke_release(struct ke_admit *a, struct ke_admission *adm);
/* A connection from a load balancer (ke-proxy-protocol) is admitted only
 * once its PROXY header names the client; until then it holds one of
 * ke-max-sessions waiting slots of its own, so that headers that never
 * come cannot pile up.  false (logged, rate-limited, with the balancer)
 * when every one is taken.  What ke_admit_wait() took, ke_admit_waited()
 * gives back, once. */
bool ke_admit_wait(struct ke_admit *a, const struct netaddr *lb);
void ke_admit_waited(struct ke_admit *a);
/* Sessions admitted and not released (a gauge). */
unsigned ke_admit_sessions(const struct ke_admit *a);

#endif
