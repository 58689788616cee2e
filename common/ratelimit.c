/* ratelimit: per-address token buckets, two-way set-associative table. */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/monotime.h"
#include "common/rng.h"
#include "common/ratelimit.h"

/* Tables larger than this are refused (2^24 slots = 512 MiB). */
#define RATELIMIT_MAX_ENTRIES (1U << 24)
/* The longest KoD interval: about 11.6 days, far below the 49-day wrap of
 * the 32-bit millisecond clock. */
#define RATELIMIT_KOD_INTERVAL_MAX_MS 1000000000U

/* 32 bytes a slot. */
struct rl_slot {
	uint8_t client[16];	/* netaddr_prefix_key */
	int64_t last_ns;	/* last request; 0: slot unused */
	float tokens;
	uint32_t kod_ms;	/* last KoD sent (wrapping milliseconds); 0: never */
};

struct ratelimit {
	double rate;		/* tokens per nanosecond */
	double burst;
	uint32_t kod_interval_ms;
	struct netaddr_prefix prefix;	/* what one client is */
	size_t mask;
	uint8_t key[16];
	struct rl_slot *slots;
};

struct ratelimit *ratelimit_new(double rate, unsigned burst, unsigned entries,
				const struct netaddr_prefix *prefix)
{
	struct ratelimit *rl;
	size_t n = 1;

	if (!(rate > 0) || burst < 1 || entries < 1 || entries > RATELIMIT_MAX_ENTRIES)
		return NULL;
	while (n < entries)
		n <<= 1;
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return NULL;
	rl->slots = calloc(n, sizeof(*rl->slots));
	if (rl->slots == NULL || rng_bytes(rl->key, sizeof(rl->key)) < 0) {
		ratelimit_free(rl);
		return NULL;
	}
	rl->mask = n - 1;
	rl->prefix = *prefix;
	rl->rate = rate / NS_PER_S;
	rl->burst = burst;
	rl->kod_interval_ms = ratelimit_kod_interval_ms(rate);
	return rl;
}

uint32_t ratelimit_kod_interval_ms(double rate)
{
	/* 1/rate, at least a second and well below the wrap of kod_ms */
	return rate >= 1.0 ? MS_PER_S :
	       rate < 1e-6 ? RATELIMIT_KOD_INTERVAL_MAX_MS : (uint32_t)(MS_PER_S / rate);
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->slots);
	free(rl);
}

size_t ratelimit_size(const struct ratelimit *rl)
{
	return rl->mask + 1;
}

int8_t ratelimit_kod_poll(const struct ratelimit *rl)
{
	int8_t p = 0;

	while (p < 17 && ((uint64_t)1000 << p) < rl->kod_interval_ms)
		p++;
	return p;
}

static struct rl_slot *lookup(struct ratelimit *rl, const struct netaddr *addr,
			      int64_t now_ns)
{
	uint8_t client[16];
	uint64_t h;
	struct rl_slot *a, *b, *victim;

	netaddr_prefix_key(addr, &rl->prefix, client);
	h = netaddr_key_hash(client, rl->key);
	a = &rl->slots[h & rl->mask];
	b = &rl->slots[(h >> 32) & rl->mask];
	if (a->last_ns != 0 && memcmp(a->client, client, 16) == 0)
		return a;
	if (b->last_ns != 0 && memcmp(b->client, client, 16) == 0)
		return b;
	/* New client: take a free slot, else the one idle longest. */
	victim = a->last_ns <= b->last_ns ? a : b;
	memcpy(victim->client, client, 16);
	victim->tokens = (float)rl->burst;
	victim->last_ns = now_ns != 0 ? now_ns : 1;
	victim->kod_ms = 0;
	return victim;
}

enum ratelimit_verdict ratelimit_check(struct ratelimit *rl, const struct netaddr *addr,
				       int64_t now_ns)
{
	struct rl_slot *s = lookup(rl, addr, now_ns);
	int64_t elapsed = now_ns - s->last_ns;
	uint32_t now_ms = (uint32_t)(now_ns / NS_PER_MS);
	double t;

	if (elapsed > 0) {
		t = s->tokens + (double)elapsed * rl->rate;
		s->tokens = (float)(t > rl->burst ? rl->burst : t);
		s->last_ns = now_ns;
	}
	if (s->tokens >= 1.0f) {
		s->tokens -= 1.0f;
		return RATELIMIT_ALLOW;
	}
	/* Unsigned difference: correct across the wrap of now_ms. */
	if (s->kod_ms == 0 || now_ms - s->kod_ms >= rl->kod_interval_ms) {
		s->kod_ms = now_ms != 0 ? now_ms : 1;
		return RATELIMIT_KOD;
	}
	return RATELIMIT_DROP;
}
