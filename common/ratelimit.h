/* ratelimit: per-client token buckets in a fixed-size table.  A client is
 * an address prefix (rate-limit-prefix, netaddr_prefix_key): by default
 * one IPv4 address or one IPv6 /64, so an IPv6 host cannot walk around
 * the limit by changing the low 64 bits of its address.
 *
 * Checked for every request before any parsing or crypto.  Each client
 * earns `rate` tokens per second up to `burst`; a request spends one.  A
 * request that finds no token gets one KoD RATE per KoD interval (the
 * time to earn one token, at least one second) and is dropped silently
 * otherwise.
 *
 * Memory is bounded: the table has a fixed number of slots (rounded up to
 * a power of two), 32 bytes each.  A client hashes (keyed with a
 * random key, so clients cannot aim at a slot) to two candidate slots;
 * when neither holds it, it replaces the one used least recently and
 * starts with a full bucket.
 *
 * A table has no lock: its owner keeps it to one thread or locks around
 * it.  The NTP service gives each worker its own table, which holds
 * while a client's packets keep reaching one worker.  With cpu-steering
 * (common/listener.h) a packet goes to the worker on the CPU that
 * received it, and the NIC keeps a flow on one queue and so one CPU (RSS
 * or RPS hash the flow; many NICs hash UDP by addresses only): a client's
 * requests meet one table for as long as that queue's interrupt stays on
 * its CPU.  Moving the interrupt (irqbalance) moves its clients to another
 * worker's table, where they start with a full bucket; on loopback and
 * veth the receiving CPU is the sender's, so a local sender that migrates
 * reaches several workers.  Without steering SO_REUSEPORT's hash of the
 * 4-tuple keeps a client (address and port) on one socket.  Either way a
 * client that spreads its requests (over source ports, or over queues by
 * them) can reach several workers and get up to `workers` times the rate.
 * The NTS-KE service keeps one table under a mutex (nts-ke/ke_admit.h
 * says why).
 */
#ifndef NTSD_RATELIMIT_H
#define NTSD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "common/netaddr.h"

enum ratelimit_verdict {
	RATELIMIT_ALLOW = 0,
	RATELIMIT_KOD,		/* answer KoD RATE and nothing else */
	RATELIMIT_DROP,
};

struct ratelimit;

/* rate: tokens per second (> 0); burst >= 1; entries >= 1; prefix: what
 * one client is (copied).  NULL on allocation failure or bad parameters. */
struct ratelimit *ratelimit_new(double rate, unsigned burst, unsigned entries,
				const struct netaddr_prefix *prefix);
void ratelimit_free(struct ratelimit *rl);	/* NULL-safe */
/* now_ns: a monotonic clock in nanoseconds. */
enum ratelimit_verdict ratelimit_check(struct ratelimit *rl, const struct netaddr *addr,
				       int64_t now_ns);
/* Slots in the table (after rounding). */
size_t ratelimit_size(const struct ratelimit *rl);
/* The KoD interval of a table with this rate (> 0), in milliseconds: the
 * time to earn one token, at least a second (the XDP program's copy of
 * the limit uses it too, ntpd/xdp_prog.c). */
uint32_t ratelimit_kod_interval_ms(double rate);
/* The poll exponent to advertise in a KoD: log2 of the KoD interval. */
int8_t ratelimit_kod_poll(const struct ratelimit *rl);

#endif
