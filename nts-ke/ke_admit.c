/* ke_admit: access rules, the handshake rate, the session cap and the
 * per-address cap. */
#include "build_config.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/acl.h"
#include "common/monotime.h"
#include "common/ratelimit.h"
#include "common/rng.h"
#include "nts-ke/ke_admit.h"

/* Per-client session counts live in this many slots (keyed hash of the
 * client's prefix); two clients sharing a slot share a cap, so keep
 * collisions rare. */
#define KE_ADDR_SLOTS 16384
/* Sockets polled at once when looking for dead sessions. */
#define KE_RECLAIM_BATCH 64

struct ke_admit {
	unsigned max_sessions, max_per_address;
	struct netaddr_prefix prefix;
	struct snapshot *acl;		/* struct acl; NULL: no access rules */
	struct log_ratelimit *rl;
	pthread_mutex_t lock;		/* rate, addr_count, addr_head */
	struct ratelimit *rate;		/* NULL: ke-rate-limit off */
	uint8_t hash_key[16];
	atomic_uint n_sessions;
	atomic_uint n_waiting;		/* load balancers' connections before their header */
	unsigned addr_count[KE_ADDR_SLOTS];
	struct ke_admission *addr_head[KE_ADDR_SLOTS];
};

struct ke_admit *ke_admit_new(const struct ke_admit_limits *lim, struct log_ratelimit *rl)
{
	struct ke_admit *a = calloc(1, sizeof(*a));

	if (!a) {
		log_err("NTS-KE: out of memory");
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	if (rng_bytes(a->hash_key, sizeof(a->hash_key)) < 0) {
		log_errno(LOG_LVL_ERR, "NTS-KE: random bytes");
		ke_admit_free(a);
		return NULL;
	}
	if (lim->rate_limit &&
	    !(a->rate = ratelimit_new(lim->rate, lim->burst, lim->table, &lim->prefix))) {
		log_err("NTS-KE: cannot set up ke-rate-limit (%u clients)", lim->table);
		ke_admit_free(a);
		return NULL;
	}
	a->max_sessions = lim->max_sessions;
	a->max_per_address = lim->max_per_address;
	a->prefix = lim->prefix;
	a->rl = rl;
	return a;
}

void ke_admit_free(struct ke_admit *a)
{
	if (!a)
		return;
	ratelimit_free(a->rate);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void ke_admit_set_acl(struct ke_admit *a, struct snapshot *acl)
{
	a->acl = acl;
}

/* Take one of *count unless `max` are taken; the count seen in *seen. */
static bool take(atomic_uint *count, unsigned max, unsigned *seen)
{
	*seen = atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
	if (*seen < max)
		return true;
	atomic_fetch_sub_explicit(count, 1, memory_order_relaxed);
	return false;
}

static void give(atomic_uint *count)
{
	atomic_fetch_sub_explicit(count, 1, memory_order_relaxed);
}

/* true when the client has a token for one more handshake (or no limit). */
static bool rate_ok(struct ke_admit *a, const struct netaddr *peer)
{
	enum ratelimit_verdict v;

	if (!a->rate)
		return true;
	pthread_mutex_lock(&a->lock);
	v = ratelimit_check(a->rate, peer, monotime_ns());
	pthread_mutex_unlock(&a->lock);
	return v == RATELIMIT_ALLOW;
}

/* Unregister adm and give back its slots (a->lock held). */
static void unhold(struct ke_admit *a, struct ke_admission *adm)
{
	if (adm->prev)
		adm->prev->next = adm->next;
	else
		a->addr_head[adm->slot] = adm->next;
	if (adm->next)
		adm->next->prev = adm->prev;
	adm->prev = adm->next = NULL;
	a->addr_count[adm->slot]--;
	give(&a->n_sessions);
	adm->held = false;
}

/* Free the slots of `slot`'s sessions whose peer has reset or closed
 * (a->lock held); how many. */
static unsigned reclaim_dead(struct ke_admit *a, size_t slot)
{
	struct ke_admission *batch[KE_RECLAIM_BATCH], *e = a->addr_head[slot];
	struct pollfd pfd[KE_RECLAIM_BATCH];
	unsigned freed = 0;

	while (e) {
		nfds_t n = 0;

		for (; e && n < KE_RECLAIM_BATCH; e = e->next, n++) {
			batch[n] = e;
			pfd[n] = (struct pollfd){ .fd = e->fd, .events = POLLRDHUP };
		}
		if (poll(pfd, n, 0) <= 0)
			continue;
		/* e is past the batch: unlinking batch members leaves it valid */
		for (nfds_t i = 0; i < n; i++) {
			if (pfd[i].revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) {
				unhold(a, batch[i]);
				freed++;
			}
		}
	}
	return freed;
}

/* The per-client cap: take one of `slot` for adm, after freeing dead
 * sessions' slots when it is full.  The count seen in *seen. */
static bool take_client(struct ke_admit *a, size_t slot, struct ke_admission *adm,
			unsigned *seen)
{
	bool ok;

	pthread_mutex_lock(&a->lock);
	if (a->addr_count[slot] >= a->max_per_address)
		adm->reclaimed = reclaim_dead(a, slot);
	*seen = a->addr_count[slot];
	ok = *seen < a->max_per_address;
	if (ok) {
		a->addr_count[slot]++;
		adm->slot = slot;
		adm->held = true;
		adm->prev = NULL;
		adm->next = a->addr_head[slot];
		if (adm->next)
			adm->next->prev = adm;
		a->addr_head[slot] = adm;
	}
	pthread_mutex_unlock(&a->lock);
	return ok;
}

enum ke_admit_verdict ke_admit(struct ke_admit *a, const struct netaddr *peer, int fd,
			       struct ke_admission *adm)
{
	char who[NETADDR_STRLEN];
	uint8_t client[16];
	unsigned n;
	size_t slot;

	adm->held = false;
	adm->fd = fd;
	adm->reclaimed = 0;
	/* Access rules first: a denied client takes no session slot. */
	if (a->acl && !acl_allows(snapshot_get(a->acl), peer)) {
		log_limited(a->rl, LOG_LVL_DEBUG, "%s: NTS-KE denied by ke-allow / ke-deny",
			    netaddr_str(peer, who, sizeof(who)));
		return KE_ADMIT_DENIED;
	}
	if (!rate_ok(a, peer)) {
		log_limited(a->rl, LOG_LVL_NOTICE, "%s: NTS-KE refused: over ke-rate-limit",
			    netaddr_str(peer, who, sizeof(who)));
		return KE_ADMIT_RATE;
	}
	if (!take(&a->n_sessions, a->max_sessions, &n)) {
		log_limited(a->rl, LOG_LVL_NOTICE,
			    "%s: NTS-KE refused: %u sessions open (ke-max-sessions)",
			    netaddr_str(peer, who, sizeof(who)), n);
		return KE_ADMIT_FULL;
	}
	netaddr_prefix_key(peer, &a->prefix, client);
	slot = (size_t)(netaddr_key_hash(client, a->hash_key) % KE_ADDR_SLOTS);
	if (!take_client(a, slot, adm, &n)) {
		give(&a->n_sessions);
		log_limited(a->rl, LOG_LVL_NOTICE,
			    "%s: NTS-KE refused: %u sessions open from this address "
			    "(ke-max-sessions-per-address)", netaddr_str(peer, who, sizeof(who)), n);
		return KE_ADMIT_ADDRESS_FULL;
	}
	return KE_ADMIT_OK;
}

void ke_release(struct ke_admit *a, struct ke_admission *adm)
{
	pthread_mutex_lock(&a->lock);
	if (adm->held)
		unhold(a, adm);
	pthread_mutex_unlock(&a->lock);
}

bool ke_admit_wait(struct ke_admit *a, const struct netaddr *lb)
{
	char who[NETADDR_STRLEN];
	unsigned n;

	if (take(&a->n_waiting, a->max_sessions, &n))
		return true;
	log_limited(a->rl, LOG_LVL_NOTICE,
		    "%s: NTS-KE refused: %u connections waiting for their PROXY header "
		    "(ke-max-sessions)", netaddr_str(lb, who, sizeof(who)), n);
	return false;
}

void ke_admit_waited(struct ke_admit *a)
{
	give(&a->n_waiting);
}

unsigned ke_admit_sessions(const struct ke_admit *a)
{
	return atomic_load_explicit((atomic_uint *)&a->n_sessions, memory_order_relaxed);
}
