/* json: a small streaming JSON writer for ntsctl's --json output.  Keys and
 * strings are escaped; bytes outside printable ASCII in a string become
 * '?', as in the text output, so the result is always valid UTF-8. */
#ifndef NTSD_JSON_H
#define NTSD_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 8

struct json_out {
	FILE *f;
	unsigned depth;
	bool first[JSON_MAX_DEPTH];	/* nothing written yet at this depth */
	char closing[JSON_MAX_DEPTH];	/* '}' or ']' for the one open there */
};

/* The top-level object; json_finish closes it (and whatever is still open)
 * with a newline.  Nesting deeper than JSON_MAX_DEPTH - 1 is not supported
 * (ntsctl needs 4 levels). */
void json_begin(struct json_out *j, FILE *f);
void json_finish(struct json_out *j);
/* KEY is NULL inside an array. */
void json_object(struct json_out *j, const char *key);
void json_array(struct json_out *j, const char *key);
void json_close(struct json_out *j);	/* the innermost object or array */
void json_string(struct json_out *j, const char *key, const char *v);
void json_number(struct json_out *j, const char *key, double v);	/* null if not finite */
void json_uint(struct json_out *j, const char *key, unsigned long long v);
void json_bool(struct json_out *j, const char *key, bool v);
void json_null(struct json_out *j, const char *key);

#endif
