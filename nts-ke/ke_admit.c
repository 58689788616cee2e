/* ke_admit: access rules, the handshake rate, the session cap and the
 * per-address cap. */
#include "build_config.h"

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

struct ke_admit {
	unsigned max_sessions, max_per_address;
	struct netaddr_prefix prefix;
	struct snapshot *acl;		/* struct acl; NULL: no access rules */
	struct log_ratelimit *rl;
	pthread_mutex_t lock;		/* rate */
	struct ratelimit *rate;		/* NULL: ke-rate-limit off */
	uint8_t hash_key[16];
	atomic_uint n_sessions;
	atomic_uint addr_count[KE_ADDR_SLOTS];
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

enum ke_admit_verdict ke_admit(struct ke_admit *a, const struct netaddr *peer,
			       struct ke_admission *adm)
{
	char who[NETADDR_STRLEN];
	uint8_t client[16];
	unsigned n;
	size_t slot;

	adm->held = false;
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
	if (!take(&a->addr_count[slot], a->max_per_address, &n)) {
		give(&a->n_sessions);
		log_limited(a->rl, LOG_LVL_NOTICE,
			    "%s: NTS-KE refused: %u sessions open from this address "
			    "(ke-max-sessions-per-address)", netaddr_str(peer, who, sizeof(who)), n);
		return KE_ADMIT_ADDRESS_FULL;
	}
	adm->slot = slot;
	adm->held = true;
	return KE_ADMIT_OK;
}

void ke_release(struct ke_admit *a, struct ke_admission *adm)
{
	if (!adm->held)
		return;
	give(&a->addr_count[adm->slot]);
	give(&a->n_sessions);
	adm->held = false;
}

unsigned ke_admit_sessions(const struct ke_admit *a)
{
	return atomic_load_explicit((atomic_uint *)&a->n_sessions, memory_order_relaxed);
}
