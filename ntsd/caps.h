/* caps: the capabilities ntsd keeps once it has started.
 *
 * Everything that needs a privilege (binding port 123, raising socket
 * buffers, loading and attaching the XDP program, registering UMEM) is
 * done before the service threads start.  After that a process that is
 * not root keeps none, or only what it still uses: CAP_BPF while it
 * serves through XDP, because kernels before 6.5 refuse the program's
 * map updates on SIGHUP to a process without it.  A unit's
 * AmbientCapabilities= would otherwise stay in every thread for the
 * daemon's whole life. */
#ifndef NTSD_CAPS_H
#define NTSD_CAPS_H

#include <linux/capability.h>
#include <stddef.h>
#include <stdint.h>

#ifndef CAP_BPF
#define CAP_BPF 39		/* Linux 5.8; older headers lack it */
#endif

/* Bit of capability number c (linux/capability.h's CAP_*) in a mask. */
#define CAPS_BIT(c) (UINT64_C(1) << (c))

/* This thread's permitted capabilities as a mask; 0 when unreadable. */
uint64_t caps_permitted(void);
/* This thread's ambient capabilities as a mask. */
uint64_t caps_ambient(void);
/* Keep only the capabilities in keep that are held: permitted and
 * effective become held & keep, inheritable and ambient empty.  Call it
 * while single-threaded: capabilities are per thread, and the threads
 * started afterwards inherit the result.  0, or -1 with a warning that
 * says what is kept when the kernel or a seccomp filter refused (the
 * daemon runs on: the capabilities are a second line behind its
 * sandbox).  Makes no system call but capget when there is nothing to
 * drop. */
int caps_limit(uint64_t keep);
/* "CAP_BPF CAP_NET_ADMIN" for a mask (the ones ntsd names; others as
 * their numbers), or "none", into buf. */
const char *caps_describe(uint64_t mask, char *buf, size_t size);

#endif
