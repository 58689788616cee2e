/* vmflags: what the kernel says about the mapping holding an address. */
#ifndef NTSD_TESTS_VMFLAGS_H
#define NTSD_TESTS_VMFLAGS_H

/* 1 when the VmFlags (/proc/self/smaps) of the mapping holding p carry
 * "dd" (MADV_DONTDUMP: left out of core dumps), 0 when not, -1 when the
 * mapping or the file is not there. */
int vmflags_dontdump(const void *p);

#endif
