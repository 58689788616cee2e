/* keyset: the master keys that seal and open cookies.
 *
 * A key file holds several keys (see doc/key-file.md).  A loaded keyset is
 * an immutable snapshot: every key's AEAD context is scheduled at load, so
 * opening a cookie needs no key schedule and readers on many threads share
 * one set without locks.  A reload builds a new set; the old one is freed
 * when no reader can hold it any more (see common/snapshot.h).  Secrets are
 * wiped when freed and never printed. */
#ifndef NTSD_KEYSET_H
#define NTSD_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/aead.h"
#include "common/file.h"

#define KEYSET_FILE_VERSION 1
#define KEYSET_MAX_KEYS 64
/* Master keys are used with this AEAD to seal cookies. */
#define KEYSET_DEFAULT_ALG AEAD_AES_SIV_CMAC_256

struct master_key {
	uint32_t id;
	int64_t created;	/* Unix seconds */
	uint16_t alg;		/* AEAD id the key seals cookies with */
	uint8_t secret[AEAD_MAX_KEY_LEN];
	size_t secret_len;	/* == aead_by_id(alg)->key_len */
	struct aead_ctx ctx;	/* scheduled from secret */
	unsigned line;		/* its line in the parsed text; 0: not parsed */
};

struct keyset;

/* Errors name the file and line: "FILE:LINE: message" (line 0 when the
 * error is about the whole file, e.g. permissions). */
struct keyset_error {
	char msg[FILE_ERR_MAX];
};

/* Parse key-file text (pure; `name` is used in error messages).  NULL on
 * error, with err filled. */
struct keyset *keyset_parse(const char *text, size_t len, const char *name,
			    struct keyset_error *err);
/* Read and parse a file.  Refuses a file readable or writable by group or
 * others ("chmod 600 FILE").  NULL on error, with err filled. */
struct keyset *keyset_load(const char *path, struct keyset_error *err);
/* keyset_load, then keyset_check_dates against now: what a daemon serves. */
struct keyset *keyset_load_dated(const char *path, int64_t now, struct keyset_error *err);
/* Serialise to text; returns a malloc'd NUL-terminated string (caller
 * wipes and frees it with keyset_text_free), NULL on allocation failure. */
char *keyset_format(const struct keyset *ks, size_t *len);
void keyset_text_free(char *text, size_t len);
/* Write atomically: temp file in the same directory (mode 0600), write,
 * fsync, rename over path, fsync the directory.  On any failure the old
 * file is untouched.  0 or -1 with err filled. */
int keyset_save(const struct keyset *ks, const char *path, struct keyset_error *err);
/* The same, the new file given to `owner` (NULL: whoever saves it), so a
 * timer running as root does not hand the daemon's key file to root. */
int keyset_save_owned(const struct keyset *ks, const char *path,
		      const struct file_owner *owner, struct keyset_error *err);

/* A daemon refuses a set in which every key is dated more than this
 * ahead of its clock: a clock is wrong where the file was made, or here,
 * and the oldest key would seal cookies and stay until then. */
#define KEYSET_FUTURE_MAX_S 3600
/* 0 when some key of ks was created at most KEYSET_FUTURE_MAX_S after
 * now; else -1 with "NAME:LINE: ..." (the oldest key's line) in err. */
int keyset_check_dates(const struct keyset *ks, int64_t now, const char *name,
		       struct keyset_error *err);

/* Building (for ntsctl and first start): an empty set, add keys. */
struct keyset *keyset_new(void);
/* Copy of ks (for rotation: copy, add, prune, save). */
struct keyset *keyset_dup(const struct keyset *ks);
/* Add a key, after every key created in the same second or before; -1 if
 * the id exists, the set is full, or alg/len is wrong. */
int keyset_add(struct keyset *ks, uint32_t id, int64_t created, uint16_t alg,
	       const uint8_t *secret, size_t secret_len);
/* Add a fresh random key of KEYSET_DEFAULT_ALG with a random unused id;
 * returns it or NULL. */
const struct master_key *keyset_generate(struct keyset *ks, int64_t now);
/* Remove the key with this id; -1 if absent. */
int keyset_remove(struct keyset *ks, uint32_t id);
void keyset_free(struct keyset *ks);	/* NULL-safe; wipes secrets */
/* keyset_free for common/snapshot.h, which frees through a void pointer. */
void keyset_snapshot_free(void *ks);

size_t keyset_count(const struct keyset *ks);
/* Keys sorted by creation time, oldest first; keys of the same second in
 * the order they were added (for a parsed file: the file's order). */
const struct master_key *keyset_key_at(const struct keyset *ks, size_t i);
const struct master_key *keyset_find(const struct keyset *ks, uint32_t id);
/* The key that seals new cookies: the newest key created at least
 * `propagation` seconds before now, else (no key is that old) the oldest
 * key, never one other hosts may not have yet.  NULL if empty. */
const struct master_key *keyset_sealing_key(const struct keyset *ks, int64_t now,
					    int64_t propagation);

#endif
