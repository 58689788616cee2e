/* secmem: memory for secrets (master keys): whole pages of their own,
 * marked MADV_DONTDUMP so no core dump carries them, wiped when freed.
 * Thread-safe (mmap/munmap); not for the hot path (a system call each). */
#ifndef NTSD_SECMEM_H
#define NTSD_SECMEM_H

#include <stddef.h>

/* len zeroed bytes (len > 0), page-aligned, excluded from core dumps;
 * NULL when out of memory (errno set).  Free with secmem_free(p, len). */
void *secmem_alloc(size_t len);
/* Zero every page of what secmem_alloc(len) returned (secmem_free does). */
void secmem_wipe(void *p, size_t len);
/* Wipe and unmap what secmem_alloc(len) returned; NULL-safe. */
void secmem_free(void *p, size_t len);
/* len rounded up to whole pages: what secmem_alloc maps (and wipes). */
size_t secmem_size(size_t len);

#endif
