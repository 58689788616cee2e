/* Unit tests for keypolicy: roles and pruning of master keys. */
#include "build_config.h"

#include <string.h>

#include "common/keypolicy.h"
#include "unit.h"

#define NOW 1800000000LL
#define HOUR 3600
#define DAY 86400

static struct keyset *make_set(const int64_t *created, size_t n)
{
	struct keyset *ks = keyset_new();
	uint8_t secret[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	for (size_t i = 0; i < n; i++) {
		memset(secret, (int)i + 1, sizeof(secret));
		CU_ASSERT_EQUAL_FATAL(keyset_add(ks, (uint32_t)(0x100 + i), created[i],
						 AEAD_AES_SIV_CMAC_256, secret, sizeof(secret)), 0);
	}
	return ks;
}

static void test_roles(void)
{
	/* Three keys: 2 days old, 1 day old, 10 minutes old (inside 1h propagation). */
	int64_t created[] = { NOW - 2 * DAY, NOW - DAY, NOW - 600 };
	struct keyset *ks = make_set(created, 3);

	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x100), NOW, HOUR), KEY_ROLE_ACCEPTED);
	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x101), NOW, HOUR), KEY_ROLE_SEALING);
	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x102), NOW, HOUR), KEY_ROLE_PENDING);
	/* Without a propagation delay the newest key seals. */
	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x102), NOW, 0), KEY_ROLE_SEALING);
	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x101), NOW, 0), KEY_ROLE_ACCEPTED);
	CU_ASSERT_STRING_EQUAL(key_role_str(KEY_ROLE_PENDING), "pending");
	keyset_free(ks);
}

static void test_only_new_key_seals(void)
{
	/* A fresh file: its one key is inside the window and still seals. */
	int64_t created[] = { NOW - 5 };
	struct keyset *ks = make_set(created, 1);

	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x100), NOW, HOUR), KEY_ROLE_SEALING);
	keyset_free(ks);
}

/* Bug rotation_seals_unpropagated_key: init, then rotate within the
 * propagation delay.  The new key sealed at once, and NTP hosts that did
 * not have the new file yet NAKed its cookies.  The init key, which every
 * host has had longest, keeps sealing until the new one is old enough. */
static void test_rotation_seals_unpropagated_key(void)
{
	int64_t created[] = { NOW - 600, NOW - 5 };
	struct keyset *ks = make_set(created, 2);

	CU_ASSERT_EQUAL(keyset_sealing_key(ks, NOW, HOUR)->id, 0x100);
	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x100), NOW, HOUR), KEY_ROLE_SEALING);
	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x101), NOW, HOUR), KEY_ROLE_PENDING);
	/* Once the new key has been there for the whole delay, it takes over. */
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, NOW - 5 + HOUR, HOUR)->id, 0x101);
	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x100), NOW - 5 + HOUR, HOUR),
			KEY_ROLE_ACCEPTED);
	/* A rotation inside the window prunes neither. */
	CU_ASSERT_EQUAL(keypolicy_prune(ks, NOW, 7 * DAY, HOUR), 0);
	keyset_free(ks);
}

/* The same bug within one second (init; rotate): the new key, whatever its
 * random id, sorts after the init key, in memory and in the file. */
static void test_rotation_same_second(void)
{
	struct keyset *ks = keyset_new(), *again;
	struct keyset_error err;
	uint8_t secret[32] = { 7 };
	size_t len;
	char *text;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	CU_ASSERT_EQUAL(keyset_add(ks, 0xffffffff, NOW, AEAD_AES_SIV_CMAC_256, secret, 32), 0);
	CU_ASSERT_EQUAL(keyset_add(ks, 0x1, NOW, AEAD_AES_SIV_CMAC_256, secret, 32), 0);
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, NOW, HOUR)->id, 0xffffffff);
	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x1), NOW, HOUR), KEY_ROLE_PENDING);
	text = keyset_format(ks, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	again = keyset_parse(text, len, "k", &err);
	keyset_text_free(text, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(again);
	CU_ASSERT_EQUAL(keyset_sealing_key(again, NOW, HOUR)->id, 0xffffffff);
	CU_ASSERT_EQUAL(keyset_sealing_key(again, NOW + HOUR, HOUR)->id, 0x1);
	keyset_free(again);
	keyset_free(ks);
}

static void test_prune_old_keys(void)
{
	int64_t created[] = { NOW - 10 * DAY, NOW - 8 * DAY, NOW - 3 * DAY, NOW - 60 };
	struct keyset *ks = make_set(created, 4);

	CU_ASSERT_EQUAL(keypolicy_prune(ks, NOW, 7 * DAY, HOUR), 2);
	CU_ASSERT_EQUAL(keyset_count(ks), 2);
	CU_ASSERT_PTR_NULL(keyset_find(ks, 0x100));
	CU_ASSERT_PTR_NULL(keyset_find(ks, 0x101));
	CU_ASSERT_PTR_NOT_NULL(keyset_find(ks, 0x102));
	CU_ASSERT_PTR_NOT_NULL(keyset_find(ks, 0x103));
	keyset_free(ks);
}

static void test_prune_keeps_sealing_key(void)
{
	/* Every key is past retention, but the newest old one still seals and
	 * the brand-new one is inside the propagation window: both stay. */
	int64_t created[] = { NOW - 30 * DAY, NOW - 20 * DAY, NOW - 10 };
	struct keyset *ks = make_set(created, 3);

	CU_ASSERT_EQUAL(keypolicy_prune(ks, NOW, 7 * DAY, HOUR), 1);
	CU_ASSERT_PTR_NULL(keyset_find(ks, 0x100));
	CU_ASSERT_PTR_NOT_NULL(keyset_find(ks, 0x101));
	CU_ASSERT_PTR_NOT_NULL(keyset_find(ks, 0x102));
	CU_ASSERT_EQUAL(keypolicy_role(ks, keyset_find(ks, 0x101), NOW, HOUR), KEY_ROLE_SEALING);
	keyset_free(ks);
}

static void test_newest_age(void)
{
	int64_t created[] = { NOW - DAY, NOW - 42 };
	struct keyset *ks = make_set(created, 2);
	struct keyset *empty = keyset_new();

	CU_ASSERT_EQUAL(keypolicy_newest_age(ks, NOW), 42);
	CU_ASSERT_EQUAL(keypolicy_newest_age(empty, NOW), -1);
	keyset_free(ks);
	keyset_free(empty);
}

UNIT_SUITE(keypolicy, NULL, NULL,
	   UNIT_TEST(test_roles),
	   UNIT_TEST(test_only_new_key_seals),
	   UNIT_TEST(test_rotation_seals_unpropagated_key),
	   UNIT_TEST(test_rotation_same_second),
	   UNIT_TEST(test_prune_old_keys),
	   UNIT_TEST(test_prune_keeps_sealing_key),
	   UNIT_TEST(test_newest_age))
