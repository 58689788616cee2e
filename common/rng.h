/* rng: random bytes and fast unique, unlinkable nonces.
 *
 * rng_bytes() reads the kernel CSPRNG (getrandom).  A nonce_gen makes
 * cookie and reply nonces without a syscall per packet: each nonce is
 * AES-128 under a random per-generator key of (random prefix || counter),
 * so nonces never repeat within a generator and look random on the wire
 * (an observer cannot link cookies by a visible counter).  One generator
 * per thread; not thread-safe. */
#ifndef NTSD_RNG_H
#define NTSD_RNG_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/aes.h>

/* 0 or -1 (errno set) */
int rng_bytes(void *out, size_t n);

struct nonce_gen {
	struct aes128_ctx aes;
	uint8_t prefix[8];
	uint64_t counter;
};

/* One nonce: an AES block. */
#define NONCE_GEN_LEN AES_BLOCK_SIZE

int nonce_gen_init(struct nonce_gen *g);
void nonce_gen_next(struct nonce_gen *g, uint8_t out[NONCE_GEN_LEN]);
void nonce_gen_wipe(struct nonce_gen *g);

#endif
