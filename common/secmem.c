/* secmem: page-aligned, dump-excluded, wiped allocations for secrets. */
#include "build_config.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/secmem.h"

size_t secmem_size(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return len > SIZE_MAX - page ? 0 : (len + page - 1) / page * page;
}

void *secmem_alloc(size_t len)
{
	size_t n = secmem_size(len);
	void *p;

	if (len == 0 || n == 0) {
		errno = EINVAL;
		return NULL;
	}
	/* cppcheck-suppress invalidFunctionArg ; MAP_ANONYMOUS takes fd -1, as
	 * mmap(2) asks for portability; cppcheck's mmap model wants fd >= 0. */
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Fail closed: a secret that could land in a core is not handed out. */
	if (madvise(p, n, MADV_DONTDUMP) < 0) {
		int e = errno;

		munmap(p, n);
		errno = e;
		return NULL;
	}
	return p;
}

void secmem_wipe(void *p, size_t len)
{
	buf_wipe(p, secmem_size(len));
}

void secmem_free(void *p, size_t len)
{
	if (!p)
		return;
	secmem_wipe(p, len);
	munmap(p, secmem_size(len));
}
