/* xleave: interleaved-mode entries, a two-way table of seqlocked slots. */
#include "build_config.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/netaddr.h"
#include "common/ntp_packet.h"
#include "common/rng.h"
#include "ntpd/xleave.h"

/* Header offsets of the timestamps a request carries. */
#define ORIGIN_OFFSET 24
#define RECEIVE_OFFSET 32
#define TRANSMIT_OFFSET 40

/* One entry; seq is odd while a writer holds the slot. */
struct xl_slot {
	alignas(64) _Atomic uint64_t seq;
	_Atomic uint64_t c0, c1;	/* the client's address, 16 bytes */
	_Atomic uint64_t rx;		/* our receive timestamp in that reply; 0: empty */
	_Atomic uint64_t tx;		/* when it left; 0: already served */
	_Atomic uint64_t daemon_tx;	/* when we thought it would */
	_Atomic uint64_t src;		/* enum xleave_source of tx */
};

/* A consistent copy of a slot. */
struct xl_entry {
	uint64_t c0, c1, rx, tx, daemon_tx, src;
};

struct xleave {
	size_t mask;
	uint8_t key[16];
	struct xl_slot *slots;
};

struct xleave *xleave_new(unsigned entries)
{
	struct xleave *x;
	size_t n = 1;

	if (entries < 1 || entries > XLEAVE_MAX_ENTRIES)
		return NULL;
	while (n < entries)
		n <<= 1;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return NULL;
	x->slots = aligned_alloc(alignof(struct xl_slot), n * sizeof(*x->slots));
	if (x->slots == NULL || rng_bytes(x->key, sizeof(x->key)) < 0) {
		xleave_free(x);
		return NULL;
	}
	memset(x->slots, 0, n * sizeof(*x->slots));
	x->mask = n - 1;
	return x;
}

void xleave_free(struct xleave *x)
{
	if (x == NULL)
		return;
	free(x->slots);
	free(x);
}

size_t xleave_size(const struct xleave *x)
{
	return x->mask + 1;
}

bool xleave_request_wants(const uint8_t *pkt, size_t len, uint64_t *origin)
{
	if (len < NTP_HEADER_LEN || (pkt[0] >> 3 & 7) != 4 || (pkt[0] & 7) != NTP_MODE_CLIENT)
		return false;
	*origin = buf_load_u64(pkt + ORIGIN_OFFSET);
	return (*origin & 1) != 0 &&
	       buf_load_u64(pkt + RECEIVE_OFFSET) != buf_load_u64(pkt + TRANSMIT_OFFSET);
}

/* The client's address as two words, in host order either way. */
static void client_words(const uint8_t client[16], uint64_t *c0, uint64_t *c1)
{
	memcpy(c0, client, 8);
	memcpy(c1, client + 8, 8);
}

/* The two candidate slots of (client, rx); equal only in a 1-slot table. */
static void candidates(const struct xleave *x, const uint8_t client[16], uint64_t rx,
		       size_t idx[2])
{
	uint64_t h = netaddr_key_hash(client, x->key) ^ (rx * UINT64_C(0x9e3779b97f4a7c15));

	/* splitmix64's finaliser */
	h = (h ^ (h >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	h = (h ^ (h >> 27)) * UINT64_C(0x94d049bb133111eb);
	h ^= h >> 31;
	idx[0] = h & x->mask;
	idx[1] = (idx[0] ^ ((h >> 32) | 1)) & x->mask;
}

/* Holder of a slot: read it as the writer (no other writer runs). */
static void slot_peek(const struct xl_slot *s, struct xl_entry *e)
{
	e->c0 = atomic_load_explicit(&s->c0, memory_order_relaxed);
	e->c1 = atomic_load_explicit(&s->c1, memory_order_relaxed);
	e->rx = atomic_load_explicit(&s->rx, memory_order_relaxed);
	e->tx = atomic_load_explicit(&s->tx, memory_order_relaxed);
	e->daemon_tx = atomic_load_explicit(&s->daemon_tx, memory_order_relaxed);
	e->src = atomic_load_explicit(&s->src, memory_order_relaxed);
}

/* A consistent copy of the slot, or false when a writer held it. */
static bool slot_read(const struct xl_slot *s, struct xl_entry *e)
{
	uint64_t q = atomic_load_explicit(&s->seq, memory_order_acquire);

	if (q & 1)
		return false;
	slot_peek(s, e);
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&s->seq, memory_order_relaxed) == q;
}

/* Take the slot for writing, or false when another thread holds it. */
static bool slot_lock(struct xl_slot *s, uint64_t *q)
{
	uint64_t v = atomic_load_explicit(&s->seq, memory_order_relaxed);

	if ((v & 1) || !atomic_compare_exchange_strong_explicit(&s->seq, &v, v + 1,
								memory_order_acquire,
								memory_order_relaxed))
		return false;
	atomic_thread_fence(memory_order_release);
	*q = v;
	return true;
}

static void slot_unlock(struct xl_slot *s, uint64_t q)
{
	atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

static bool entry_is(const struct xl_entry *e, uint64_t c0, uint64_t c1, uint64_t rx)
{
	return e->rx == rx && e->c0 == c0 && e->c1 == c1;
}

/* Which of the two slots a new entry takes: its own, an empty one, else
 * the one holding the older receive timestamp. */
static size_t pick_slot(const struct xleave *x, const size_t idx[2], uint64_t c0,
			uint64_t c1, uint64_t rx)
{
	struct xl_entry e[2];
	bool ok[2];
	int k;

	for (k = 0; k < 2; k++) {
		ok[k] = slot_read(&x->slots[idx[k]], &e[k]);
		if (ok[k] && (e[k].rx == 0 || entry_is(&e[k], c0, c1, rx)))
			return idx[k];
	}
	if (!ok[0] || !ok[1])
		return ok[0] ? idx[0] : idx[1];
	return (int64_t)(e[0].rx - e[1].rx) <= 0 ? idx[0] : idx[1];
}

void xleave_save(struct xleave *x, const uint8_t client[16], uint64_t rx, uint64_t tx)
{
	struct xl_slot *s;
	uint64_t c0, c1, q;
	size_t idx[2];

	if (rx == 0)
		return;
	client_words(client, &c0, &c1);
	candidates(x, client, rx, idx);
	s = &x->slots[pick_slot(x, idx, c0, c1, rx)];
	if (!slot_lock(s, &q))
		return;
	atomic_store_explicit(&s->c0, c0, memory_order_relaxed);
	atomic_store_explicit(&s->c1, c1, memory_order_relaxed);
	atomic_store_explicit(&s->rx, rx, memory_order_relaxed);
	atomic_store_explicit(&s->tx, tx, memory_order_relaxed);
	atomic_store_explicit(&s->daemon_tx, tx, memory_order_relaxed);
	atomic_store_explicit(&s->src, XLEAVE_TX_DAEMON, memory_order_relaxed);
	slot_unlock(s, q);
}

/* The slot holding (client, rx) in *e (a consistent copy), or NULL. */
static struct xl_slot *find(const struct xleave *x, const uint8_t client[16], uint64_t rx,
			    struct xl_entry *e)
{
	uint64_t c0, c1;
	size_t idx[2];
	int k;

	if (rx == 0)
		return NULL;
	client_words(client, &c0, &c1);
	candidates(x, client, rx, idx);
	for (k = 0; k < 2; k++)
		if (slot_read(&x->slots[idx[k]], e) && entry_is(e, c0, c1, rx))
			return &x->slots[idx[k]];
	return NULL;
}

/* Take the slot holding (client, rx), *e its content; false if it is
 * gone or busy. */
static bool lock_entry(struct xleave *x, const uint8_t client[16], uint64_t rx,
		       struct xl_slot **sp, uint64_t *q, struct xl_entry *e)
{
	struct xl_entry seen;
	struct xl_slot *s = find(x, client, rx, &seen);

	if (s == NULL || !slot_lock(s, q))
		return false;
	slot_peek(s, e);
	if (!entry_is(e, seen.c0, seen.c1, rx)) {
		slot_unlock(s, *q);
		return false;
	}
	*sp = s;
	return true;
}

bool xleave_set_tx(struct xleave *x, const uint8_t client[16], uint64_t rx, uint64_t tx,
		   enum xleave_source src)
{
	struct xl_entry e;
	struct xl_slot *s;
	uint64_t q, delay;
	bool kept = false;

	if (!lock_entry(x, client, rx, &s, &q, &e))
		return false;
	delay = tx - e.daemon_tx;
	if (e.tx != 0 && delay < XLEAVE_MAX_TX_DELAY) {
		/* The NIC's time is never replaced by the kernel's. */
		if (e.src != XLEAVE_TX_HARDWARE || src == XLEAVE_TX_HARDWARE) {
			atomic_store_explicit(&s->tx, tx, memory_order_relaxed);
			atomic_store_explicit(&s->src, src, memory_order_relaxed);
		}
		kept = true;
	}
	slot_unlock(s, q);
	return kept;
}

bool xleave_lookup(const struct xleave *x, const uint8_t client[16], uint64_t rx,
		   uint64_t *tx, enum xleave_source *src)
{
	struct xl_entry e;

	if (find(x, client, rx, &e) == NULL || e.tx == 0)
		return false;
	*tx = e.tx;
	*src = (enum xleave_source)e.src;
	return true;
}

void xleave_forget(struct xleave *x, const uint8_t client[16], uint64_t rx)
{
	struct xl_entry e;
	struct xl_slot *s;
	uint64_t q;

	if (!lock_entry(x, client, rx, &s, &q, &e))
		return;
	atomic_store_explicit(&s->tx, 0, memory_order_relaxed);
	slot_unlock(s, q);
}

_Static_assert(XLEAVE_MAX_ENTRIES == CONFIG_MAX_INTERLEAVED_TABLE,
	       "interleaved-table's limit is the table's");
