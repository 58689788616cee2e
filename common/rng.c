/* rng: the kernel CSPRNG, and nonces that are unique per generator and
 * unlinkable on the wire. */
#include "build_config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/aes.h>

#include "buf.h"
#include "rng.h"

int rng_bytes(void *out, size_t n)
{
	uint8_t *p = out;
	size_t done = 0;

	while (done < n) {
		ssize_t r = getrandom(p + done, n - done, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

int nonce_gen_init(struct nonce_gen *g)
{
	uint8_t key[AES128_KEY_SIZE];
	int ret = -1;

	if (rng_bytes(key, sizeof(key)) < 0 ||
	    rng_bytes(g->prefix, sizeof(g->prefix)) < 0)
		goto out;
	aes128_set_encrypt_key(&g->aes, key);
	g->counter = 0;
	ret = 0;
out:
	buf_wipe(key, sizeof(key));
	return ret;
}

void nonce_gen_next(struct nonce_gen *g, uint8_t out[NONCE_GEN_LEN])
{
	uint8_t block[AES_BLOCK_SIZE];

	/* A permutation of distinct blocks gives distinct nonces; 2^64 of
	 * them outlast any process. */
	memcpy(block, g->prefix, sizeof(g->prefix));
	buf_store_u64(block + sizeof(g->prefix), g->counter);
	g->counter++;
	aes128_encrypt(&g->aes, AES_BLOCK_SIZE, out, block);
	buf_wipe(block, sizeof(block));
}

void nonce_gen_wipe(struct nonce_gen *g)
{
	if (g)
		buf_wipe(g, sizeof(*g));
}
