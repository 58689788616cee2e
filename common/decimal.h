/* decimal: the one parser of unsigned decimal numbers in ntsd.  Digits
 * only: no sign, no spaces, no "0x", no empty string; the value at most
 * `max`.  Locale-independent and overflow-safe; used for config values,
 * key-file fields, ports, prefix lengths and scope ids alike. */
#ifndef NTSD_DECIMAL_H
#define NTSD_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The span s[0..len). */
bool decimal_parse(const char *s, size_t len, uint64_t max, uint64_t *out);
/* A NUL-terminated string. */
bool decimal_parse_str(const char *s, uint64_t max, uint64_t *out);

#endif
