/* xleave: the server side of interleaved mode (RFC 9769).
 *
 * A client in interleaved mode puts our receive timestamp of its previous
 * exchange into its request's origin field; the reply then carries, as its
 * transmit timestamp, the time our previous reply to it really left (the
 * kernel's or the NIC's transmit timestamp, learnt after it was sent),
 * and as its origin the request's receive field.  Our receive timestamps
 * have their lowest bit set and our transmit timestamps have it clear
 * (responder.c), so a request whose origin is even is never interleaved
 * and only odd origins are looked up, as chrony does.
 *
 * The table remembers, per reply to a request that looked interleaved
 * (xleave_request_wants), which client it went to, the receive timestamp
 * it carried and when it left.  A slot is found by a keyed hash of the
 * client's full address and that receive timestamp: a request from
 * another address never meets another client's entry.  Memory is bounded
 * (a fixed number of 64-byte slots, two candidates per entry, the older
 * one replaced); an entry is served once.
 *
 * One table is shared by every worker.  Each slot has a sequence word:
 * odd while it is written.  A writer takes it with one compare-and-swap
 * and gives up (the entry is lost, the client gets a basic reply) when
 * another thread holds it; a reader copies the slot and checks the word
 * did not change.  Nothing waits, nothing locks. */
#ifndef NTSD_XLEAVE_H
#define NTSD_XLEAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a transmit time came from. */
enum xleave_source {
	XLEAVE_TX_DAEMON = 1,	/* read just before the reply was sealed */
	XLEAVE_TX_KERNEL,	/* SO_TIMESTAMPING software transmit timestamp */
	XLEAVE_TX_HARDWARE,	/* the NIC's, in system time */
};

/* A kernel transmit time later than the daemon's by more than this (NTP
 * format: one second) is not that reply's. */
#define XLEAVE_MAX_TX_DELAY (UINT64_C(1) << 32)
/* Tables larger than this are refused (64 MiB). */
#define XLEAVE_MAX_ENTRIES (1U << 20)	/* = CONFIG_MAX_INTERLEAVED_TABLE */

struct xleave;

/* entries >= 1, rounded up to a power of two, at most XLEAVE_MAX_ENTRIES.
 * NULL on allocation failure or a bad size. */
struct xleave *xleave_new(unsigned entries);
void xleave_free(struct xleave *x);	/* NULL-safe */
size_t xleave_size(const struct xleave *x);

/* Whether a request may be interleaved: NTPv4, client mode, an odd
 * origin timestamp (one of our receive timestamps) and receive and
 * transmit fields that differ.  *origin gets the origin field. */
bool xleave_request_wants(const uint8_t *pkt, size_t len, uint64_t *origin);

/* Our reply to client (netaddr_host_bytes) carried receive timestamp rx
 * and, by our clock, left at tx.  Replaces the older of its two slots. */
void xleave_save(struct xleave *x, const uint8_t client[16], uint64_t rx, uint64_t tx);
/* The kernel or NIC says that reply left at tx: kept when the entry is
 * still there and tx is within XLEAVE_MAX_TX_DELAY after the daemon's
 * time, except that a kernel time never replaces the NIC's (both come,
 * in either order, when the NIC timestamps).  True when the entry took
 * it or already had the NIC's. */
bool xleave_set_tx(struct xleave *x, const uint8_t client[16], uint64_t rx, uint64_t tx,
		   enum xleave_source src);
/* The transmit time of our reply to client that carried rx: true and *tx,
 * *src when the table has it (and it was not served yet). */
bool xleave_lookup(const struct xleave *x, const uint8_t client[16], uint64_t rx,
		   uint64_t *tx, enum xleave_source *src);
/* That entry has been served: forget it, so a replayed request gets a
 * basic reply. */
void xleave_forget(struct xleave *x, const uint8_t client[16], uint64_t rx);

#endif
