/* The one way a fuzz target states an invariant.  check(x) aborts when x
 * is false, first naming the target's file and line and the expression:
 * libFuzzer then saves the input as a crash, and the log says which
 * invariant it broke.  Also declares the entry point every target
 * defines. */
#ifndef NTSD_FUZZ_CHECK_H
#define NTSD_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn)) static inline void fuzz_broken(const char *file, int line,
							 const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

#define check(ok) ((ok) ? (void)0 : fuzz_broken(__FILE__, __LINE__, #ok))

#endif
