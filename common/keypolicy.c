/* keypolicy: which keys seal, which wait, which may go. */
#include "build_config.h"

#include "keypolicy.h"

const char *key_role_str(enum key_role r)
{
	switch (r) {
	case KEY_ROLE_SEALING:
		return "sealing";
	case KEY_ROLE_PENDING:
		return "pending";
	case KEY_ROLE_ACCEPTED:
		return "accepted";
	}
	return "?";
}

enum key_role keypolicy_role(const struct keyset *ks, const struct master_key *k,
			     int64_t now, int64_t propagation)
{
	const struct master_key *sealing = keyset_sealing_key(ks, now, propagation);

	if (sealing && sealing->id == k->id)
		return KEY_ROLE_SEALING;
	if (k->created > now - propagation &&
	    (!sealing || k->created >= sealing->created))
		return KEY_ROLE_PENDING;
	return KEY_ROLE_ACCEPTED;
}

size_t keypolicy_prune(struct keyset *ks, int64_t now, int64_t retain, int64_t propagation)
{
	const struct master_key *sealing = keyset_sealing_key(ks, now, propagation);
	uint32_t sealing_id = sealing ? sealing->id : 0;
	uint32_t doomed[KEYSET_MAX_KEYS];
	size_t n = 0;

	for (size_t i = 0; i < keyset_count(ks); i++) {
		const struct master_key *k = keyset_key_at(ks, i);

		if (sealing && k->id == sealing_id)
			continue;
		if (k->created > now - propagation)
			continue;
		if (k->created < now - retain)
			doomed[n++] = k->id;
	}
	/* Collect first: removing while walking would skip keys. */
	for (size_t i = 0; i < n; i++)
		keyset_remove(ks, doomed[i]);
	return n;
}

int64_t keypolicy_newest_age(const struct keyset *ks, int64_t now)
{
	size_t n = keyset_count(ks);

	if (n == 0)
		return -1;
	return now - keyset_key_at(ks, n - 1)->created;
}
