/* unit tests for secmem: page-aligned, zeroed, whole pages wiped, and the
 * pages (a key set's too) carry the kernel's dontdump flag ("dd" in
 * /proc/self/smaps VmFlags). */
#include "build_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/keyset.h"
#include "common/secmem.h"
#include "unit.h"
#include "vmflags.h"

static void test_secmem_alloc(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *p = secmem_alloc(100), zero[100] = { 0 };
	char *plain = malloc(100);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	CU_ASSERT_EQUAL((uintptr_t)p % page, 0);
	CU_ASSERT_EQUAL(memcmp(p, zero, sizeof(zero)), 0);
	CU_ASSERT_EQUAL(secmem_size(100), page);
	CU_ASSERT_EQUAL(secmem_size(page + 1), 2 * page);
	CU_ASSERT_EQUAL(vmflags_dontdump(p), 1);
	CU_ASSERT_EQUAL(vmflags_dontdump(plain), 0);	/* the check can tell */
	free(plain);
	secmem_free(p, 100);
	CU_ASSERT_PTR_NULL(secmem_alloc(0));
	CU_ASSERT_PTR_NULL(secmem_alloc(SIZE_MAX));
	secmem_free(NULL, 1);
}

/* The wipe secmem_free does covers every page, not only len bytes. */
static void test_secmem_wipe(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = page + 10;
	unsigned char *p = secmem_alloc(n);
	size_t i, nonzero = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 0xa5, secmem_size(n));
	secmem_wipe(p, n);
	for (i = 0; i < secmem_size(n); i++)
		nonzero += p[i] != 0;
	CU_ASSERT_EQUAL(nonzero, 0);
	secmem_free(p, n);
}

/* A key set, new or copied, sits in dontdump pages. */
static void test_secmem_keyset(void)
{
	struct keyset *ks = keyset_new(), *copy;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	copy = keyset_dup(ks);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	CU_ASSERT_EQUAL(vmflags_dontdump(ks), 1);
	CU_ASSERT_EQUAL(vmflags_dontdump(copy), 1);
	keyset_free(ks);
	keyset_free(copy);
}

UNIT_SUITE(secmem, NULL, NULL,
	   UNIT_TEST(test_secmem_alloc),
	   UNIT_TEST(test_secmem_wipe),
	   UNIT_TEST(test_secmem_keyset))
