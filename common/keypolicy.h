/* keypolicy: the rotation rules for master keys, pure so they are tested
 * apart from files and clocks.
 *
 * Roles: the *sealing* key seals new cookies (keyset_sealing_key); a
 * *pending* key is newer than the sealing key and still inside the
 * propagation window (other hosts may not have it yet); every other key is
 * *accepted*: cookies sealed under it still open. */
#ifndef NTSD_KEYPOLICY_H
#define NTSD_KEYPOLICY_H

#include <stddef.h>
#include <stdint.h>

#include "keyset.h"

enum key_role {
	KEY_ROLE_SEALING,
	KEY_ROLE_PENDING,
	KEY_ROLE_ACCEPTED,
};

const char *key_role_str(enum key_role r);
enum key_role keypolicy_role(const struct keyset *ks, const struct master_key *k,
			     int64_t now, int64_t propagation);
/* Remove keys created more than `retain` seconds ago, except the sealing
 * key and keys inside the propagation window.  Returns how many were
 * removed. */
size_t keypolicy_prune(struct keyset *ks, int64_t now, int64_t retain, int64_t propagation);
/* Age in seconds of the newest key; -1 if the set is empty. */
int64_t keypolicy_newest_age(const struct keyset *ks, int64_t now);

#endif
