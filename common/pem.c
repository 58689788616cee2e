/* pem: BEGIN/END pairing and base64 bodies, line by line. */
#include "build_config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/pem.h"

#define PEM_BEGIN "-----BEGIN "
#define PEM_END "-----END "
#define PEM_DASHES "-----"
/* RFC 7468 labels are short ("CERTIFICATE", "ENCRYPTED PRIVATE KEY"). */
#define PEM_LABEL_MAX 64

struct pem_state {
	bool inside, body;		/* in a block; its base64 has begun */
	unsigned begin_line, first_line, blocks;
	char label[PEM_LABEL_MAX + 1];
};

static bool starts(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(p, prefix, k) == 0;
}

/* The label of a "-----BEGIN L-----" or "-----END L-----" line (prefix
 * already matched) into out; false when it is not such a line. */
static bool boundary_label(const char *p, size_t n, const char *prefix, char *out)
{
	size_t k = strlen(prefix), d = strlen(PEM_DASHES), l;

	if (n < k + d || memcmp(p + n - d, PEM_DASHES, d) != 0)
		return false;
	l = n - k - d;
	if (l > PEM_LABEL_MAX)
		return false;
	for (size_t i = 0; i < l; i++) {
		char c = p[k + i];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '-'))
			return false;
	}
	memcpy(out, p + k, l);
	out[l] = '\0';
	return true;
}

static bool is_base64(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '='))
			return false;
	}
	return true;
}

/* One line inside a block.  0, or -1 with why. */
static int inside_line(struct pem_state *st, const char *p, size_t n, char why[PEM_WHY_MAX])
{
	char label[PEM_LABEL_MAX + 1];

	if (starts(p, n, PEM_END)) {
		if (!boundary_label(p, n, PEM_END, label) || strcmp(label, st->label) != 0) {
			snprintf(why, PEM_WHY_MAX, "END line does not match the BEGIN %s of line %u",
				 st->label, st->begin_line);
			return -1;
		}
		st->inside = false;
		st->blocks++;
		return 0;
	}
	if (starts(p, n, PEM_BEGIN)) {
		snprintf(why, PEM_WHY_MAX, "BEGIN line inside the %s begun at line %u, which has "
			 "no END line (cut short?)", st->label, st->begin_line);
		return -1;
	}
	if (n == 0 || (!st->body && memchr(p, ':', n)))
		return 0;	/* the blank line after headers, or a header */
	if (!is_base64(p, n)) {
		snprintf(why, PEM_WHY_MAX, "not base64, inside the %s begun at line %u", st->label,
			 st->begin_line);
		return -1;
	}
	st->body = true;
	return 0;
}

/* One line outside blocks. */
static int outside_line(struct pem_state *st, const char *p, size_t n, unsigned lineno,
			char why[PEM_WHY_MAX])
{
	if (starts(p, n, PEM_END)) {
		snprintf(why, PEM_WHY_MAX, "END line without a BEGIN line");
		return -1;
	}
	if (!starts(p, n, PEM_BEGIN))
		return 0;
	if (!boundary_label(p, n, PEM_BEGIN, st->label)) {
		snprintf(why, PEM_WHY_MAX, "malformed BEGIN line");
		return -1;
	}
	st->inside = true;
	st->body = false;
	st->begin_line = lineno;
	if (!st->first_line)
		st->first_line = lineno;
	return 0;
}

int pem_check(const char *text, size_t len, unsigned *line, char why[PEM_WHY_MAX])
{
	struct pem_state st;
	size_t off = 0;
	unsigned lineno = 0;

	memset(&st, 0, sizeof(st));
	while (off < len) {
		const char *p = text + off, *nl = memchr(p, '\n', len - off);
		size_t n = nl ? (size_t)(nl - p) : len - off;

		off += n + (nl != NULL);
		lineno++;
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if ((st.inside ? inside_line(&st, p, n, why) :
				 outside_line(&st, p, n, lineno, why)) < 0) {
			*line = lineno;
			return -1;
		}
	}
	if (st.inside) {
		*line = st.begin_line;
		snprintf(why, PEM_WHY_MAX, "%s has no END line: the file is cut short", st.label);
		return -1;
	}
	if (st.blocks == 0) {
		*line = 0;
		snprintf(why, PEM_WHY_MAX, "no PEM block (a -----BEGIN ...----- line)");
		return -1;
	}
	*line = st.first_line;
	return 0;
}
