/* keyset: the master key file (doc/key-file.md) and the immutable set of
 * scheduled keys built from it. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/decimal.h"
#include "common/file.h"
#include "common/keyset.h"
#include "common/rng.h"
#include "common/secmem.h"

/* A key file is a few lines per key; anything bigger is not one. */
#define KEYSET_FILE_MAX (64 * 1024)
#define KEYSET_LINE_MAX 1024
/* Creation times up to the end of year 9999: keeps arithmetic far from
 * overflow and rejects nonsense. */
#define KEYSET_TIME_MAX INT64_C(253402300799)
#define KEYSET_HEADER "ntsd-keys"
#define KEYSET_COMMENT "# ntsd master keys: secret, keep mode 0600. Managed by ntsctl.\n"

struct keyset {
	size_t n;
	/* By creation time; keys of the same second in the order they were
	 * added (the file's order), so the key a rotation adds is the newest
	 * even in the second a file was created. */
	struct master_key keys[KEYSET_MAX_KEYS];
};

__attribute__((format(printf, 4, 5)))
static void keyset_seterr(struct keyset_error *err, const char *name, unsigned line,
			  const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(err->msg, sizeof(err->msg), "%s:%u: %s", name, line, msg);
	else
		snprintf(err->msg, sizeof(err->msg), "%s: %s", name, msg);
}

/* Master keys seal cookies with our 16-byte nonces (COOKIE_NONCE_LEN, one
 * nonce_gen nonce). */
static const struct aead_alg *keyset_alg(uint16_t id)
{
	const struct aead_alg *alg = aead_by_id(id);

	if (!alg || alg->nonce_min > NONCE_GEN_LEN || alg->nonce_max < NONCE_GEN_LEN)
		return NULL;
	return alg;
}

/* Key sets live in secmem: out of core dumps, wiped when freed. */
struct keyset *keyset_new(void)
{
	return secmem_alloc(sizeof(struct keyset));
}

struct keyset *keyset_dup(const struct keyset *ks)
{
	struct keyset *copy = secmem_alloc(sizeof(*copy));

	if (copy)
		memcpy(copy, ks, sizeof(*copy));
	return copy;
}

void keyset_free(struct keyset *ks)
{
	if (!ks)
		return;
	secmem_free(ks, sizeof(*ks));
}

int keyset_add(struct keyset *ks, uint32_t id, int64_t created, uint16_t alg_id,
	       const uint8_t *secret, size_t secret_len)
{
	const struct aead_alg *alg = keyset_alg(alg_id);
	struct master_key *k;
	size_t at;

	if (!alg || secret_len != alg->key_len || ks->n >= KEYSET_MAX_KEYS ||
	    created < 0 || created > KEYSET_TIME_MAX || keyset_find(ks, id))
		return -1;
	for (at = ks->n; at > 0 && ks->keys[at - 1].created > created; at--)
		;
	memmove(&ks->keys[at + 1], &ks->keys[at], (ks->n - at) * sizeof(ks->keys[0]));
	k = &ks->keys[at];
	memset(k, 0, sizeof(*k));
	k->id = id;
	k->created = created;
	k->alg = alg_id;
	memcpy(k->secret, secret, secret_len);
	k->secret_len = secret_len;
	if (aead_set_key(&k->ctx, alg_id, k->secret) < 0) {
		/* Cannot happen for an alg keyset_alg() accepted; undo anyway. */
		buf_wipe(k, sizeof(*k));
		memmove(&ks->keys[at], &ks->keys[at + 1],
			(ks->n - at) * sizeof(ks->keys[0]));
		buf_wipe(&ks->keys[ks->n], sizeof(ks->keys[0]));
		return -1;
	}
	ks->n++;
	return 0;
}

const struct master_key *keyset_generate(struct keyset *ks, int64_t now)
{
	const struct aead_alg *alg = keyset_alg(KEYSET_DEFAULT_ALG);
	uint8_t secret[AEAD_MAX_KEY_LEN];
	const struct master_key *k = NULL;
	uint32_t id;

	if (!alg || ks->n >= KEYSET_MAX_KEYS)
		return NULL;
	do {
		if (rng_bytes(&id, sizeof(id)) < 0)
			return NULL;
	} while (keyset_find(ks, id));
	if (rng_bytes(secret, alg->key_len) < 0)
		goto out;
	if (keyset_add(ks, id, now, alg->id, secret, alg->key_len) < 0)
		goto out;
	k = keyset_find(ks, id);
out:
	buf_wipe(secret, sizeof(secret));
	return k;
}

int keyset_remove(struct keyset *ks, uint32_t id)
{
	for (size_t i = 0; i < ks->n; i++) {
		if (ks->keys[i].id != id)
			continue;
		buf_wipe(&ks->keys[i], sizeof(ks->keys[i]));
		memmove(&ks->keys[i], &ks->keys[i + 1],
			(ks->n - i - 1) * sizeof(ks->keys[0]));
		ks->n--;
		buf_wipe(&ks->keys[ks->n], sizeof(ks->keys[0]));
		return 0;
	}
	return -1;
}

size_t keyset_count(const struct keyset *ks)
{
	return ks ? ks->n : 0;
}

const struct master_key *keyset_key_at(const struct keyset *ks, size_t i)
{
	return ks && i < ks->n ? &ks->keys[i] : NULL;
}

const struct master_key *keyset_find(const struct keyset *ks, uint32_t id)
{
	if (!ks)
		return NULL;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->keys[i].id == id)
			return &ks->keys[i];
	return NULL;
}

const struct master_key *keyset_sealing_key(const struct keyset *ks, int64_t now,
					    int64_t propagation)
{
	int64_t limit;

	if (!ks || ks->n == 0)
		return NULL;
	/* An overflowing limit is one no key can meet (or every key does). */
	if (__builtin_sub_overflow(now, propagation, &limit))
		limit = propagation > 0 ? INT64_MIN : INT64_MAX;
	for (size_t i = ks->n; i > 0; i--)
		if (ks->keys[i - 1].created <= limit)
			return &ks->keys[i - 1];
	/* None has been there that long (a new file rotated at once): the
	 * oldest, the one other hosts have had longest. */
	return &ks->keys[0];
}

/* ---- parsing ---- */

/* A span of one line's text, consumed field by field. */
struct keyset_line {
	const uint8_t *p;
	size_t len, off;
};

static bool is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Next whitespace-separated field; false at the end of the line. */
static bool line_field(struct keyset_line *l, const uint8_t **f, size_t *flen)
{
	size_t start;

	while (l->off < l->len && is_blank(l->p[l->off]))
		l->off++;
	if (l->off == l->len)
		return false;
	start = l->off;
	while (l->off < l->len && !is_blank(l->p[l->off]))
		l->off++;
	*f = l->p + start;
	*flen = l->off - start;
	return true;
}

static bool field_is(const uint8_t *f, size_t flen, const char *word)
{
	return flen == strlen(word) && memcmp(f, word, flen) == 0;
}

static int hex_val(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_id(const uint8_t *f, size_t flen, uint32_t *out)
{
	uint32_t v = 0;

	if (flen != 8)
		return false;
	for (size_t i = 0; i < flen; i++) {
		int h = hex_val(f[i]);

		if (h < 0)
			return false;
		v = v << 4 | (uint32_t)h;
	}
	*out = v;
	return true;
}

/* Where a parse is, for its error messages. */
struct keyset_pos {
	const char *name;
	unsigned lineno;
	struct keyset_error *err;
};

#define pos_err(pos, ...) keyset_seterr((pos)->err, (pos)->name, (pos)->lineno, __VA_ARGS__)

/* The next field, or an error saying it is `missing`. */
static bool need_field(struct keyset_line *l, const struct keyset_pos *pos, const char *missing,
		       const uint8_t **f, size_t *flen)
{
	if (line_field(l, f, flen))
		return true;
	pos_err(pos, "missing %s", missing);
	return false;
}

/* "ID CREATED ALG": the fields before the secret. */
static int parse_key_meta(struct keyset_line *l, const struct keyset_pos *pos, uint32_t *id,
			  uint64_t *created, const struct aead_alg **alg)
{
	const uint8_t *f;
	size_t flen;
	uint64_t alg_id;

	if (!need_field(l, pos, "key id", &f, &flen))
		return -1;
	if (!parse_id(f, flen, id)) {
		pos_err(pos, "bad key id (expected 8 hex digits)");
		return -1;
	}
	if (!need_field(l, pos, "creation time", &f, &flen))
		return -1;
	if (!decimal_parse((const char *)f, flen, (uint64_t)KEYSET_TIME_MAX, created)) {
		pos_err(pos, "bad creation time (expected Unix seconds, 0 to %" PRId64 ")",
			KEYSET_TIME_MAX);
		return -1;
	}
	if (!need_field(l, pos, "AEAD id", &f, &flen))
		return -1;
	if (!decimal_parse((const char *)f, flen, UINT16_MAX, &alg_id)) {
		pos_err(pos, "bad AEAD id (expected a number)");
		return -1;
	}
	*alg = keyset_alg((uint16_t)alg_id);
	if (!*alg) {
		pos_err(pos, "unsupported AEAD id %" PRIu64 " (expected %u or %u)", alg_id,
			AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512);
		return -1;
	}
	return 0;
}

/* The hex secret, exactly alg's key length, and nothing after it. */
static int parse_secret(struct keyset_line *l, const struct keyset_pos *pos,
			const struct aead_alg *alg, uint8_t secret[AEAD_MAX_KEY_LEN])
{
	const uint8_t *f;
	size_t flen;

	if (!need_field(l, pos, "secret", &f, &flen))
		return -1;
	if (flen % 2) {
		pos_err(pos, "secret has an odd number of hex digits");
		return -1;
	}
	/* Checked and decoded in one pass, so no digit is decoded unchecked;
	 * only the bytes that fit are kept until the length is known. */
	for (size_t i = 0; i < flen; i += 2) {
		int hi = hex_val(f[i]), lo = hex_val(f[i + 1]);

		if (hi < 0 || lo < 0) {
			pos_err(pos, "secret is not hex");
			return -1;
		}
		if (i / 2 < alg->key_len)
			secret[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	if (flen / 2 != alg->key_len) {
		pos_err(pos, "secret is %zu bytes; AEAD %u needs %zu", flen / 2, alg->id,
			alg->key_len);
		return -1;
	}
	if (line_field(l, &f, &flen)) {
		pos_err(pos, "trailing junk after the secret");
		return -1;
	}
	return 0;
}

/* Parse one "key ID CREATED ALG SECRET" line (after the word "key") into
 * ks.  Error messages never quote fields: a misplaced field may be the
 * secret. */
static int parse_key_line(struct keyset *ks, struct keyset_line *l, const struct keyset_pos *pos)
{
	const struct aead_alg *alg;
	uint8_t secret[AEAD_MAX_KEY_LEN];
	uint64_t created;
	uint32_t id;
	int ret = -1;

	if (parse_key_meta(l, pos, &id, &created, &alg) < 0 ||
	    parse_secret(l, pos, alg, secret) < 0)
		goto out;
	if (keyset_find(ks, id)) {
		pos_err(pos, "duplicate key id %08" PRIx32, id);
		goto out;
	}
	if (ks->n >= KEYSET_MAX_KEYS) {
		pos_err(pos, "too many keys (at most %d)", KEYSET_MAX_KEYS);
		goto out;
	}
	if (keyset_add(ks, id, (int64_t)created, alg->id, secret, alg->key_len) < 0) {
		pos_err(pos, "cannot add key");
		goto out;
	}
	ret = 0;
out:
	buf_wipe(secret, sizeof(secret));
	return ret;
}

/* Cut the next line off r into l.  -1 (error set) on a line too long or
 * with a control character in it. */
static int next_line(struct buf_reader *r, struct keyset_line *l, const struct keyset_pos *pos)
{
	const uint8_t *rest = r->p + r->off;
	const uint8_t *nl = memchr(rest, '\n', buf_remaining(r));
	size_t line_len = nl ? (size_t)(nl - rest) : buf_remaining(r);

	memset(l, 0, sizeof(*l));
	buf_get_span(r, line_len, &l->p);
	l->len = line_len;
	if (nl)
		buf_skip(r, 1);
	if (r->err) {
		pos_err(pos, "read error");
		return -1;
	}
	if (line_len > KEYSET_LINE_MAX) {
		pos_err(pos, "line too long");
		return -1;
	}
	for (size_t i = 0; i < line_len; i++) {
		if ((l->p[i] < 0x20 && !is_blank(l->p[i])) || l->p[i] == 0x7f) {
			pos_err(pos, "control character in line");
			return -1;
		}
	}
	return 0;
}

/* "ntsd-keys VERSION", its first word f already read. */
static int parse_header(struct keyset_line *l, const struct keyset_pos *pos, const uint8_t *f,
			size_t flen)
{
	uint64_t version;

	if (!field_is(f, flen, KEYSET_HEADER)) {
		pos_err(pos, "missing version header (expected \"%s %d\")", KEYSET_HEADER,
			KEYSET_FILE_VERSION);
		return -1;
	}
	if (!line_field(l, &f, &flen) ||
	    !decimal_parse((const char *)f, flen, UINT32_MAX, &version)) {
		pos_err(pos, "bad version number");
		return -1;
	}
	if (version != KEYSET_FILE_VERSION) {
		pos_err(pos, "unsupported key file version %" PRIu64 " (this ntsd reads version %d)",
			version, KEYSET_FILE_VERSION);
		return -1;
	}
	if (line_field(l, &f, &flen)) {
		pos_err(pos, "trailing junk after the version");
		return -1;
	}
	return 0;
}

/* One line after the header: a key, or an error. */
static int parse_body_line(struct keyset *ks, struct keyset_line *l,
			   const struct keyset_pos *pos, const uint8_t *f, size_t flen)
{
	if (field_is(f, flen, KEYSET_HEADER)) {
		pos_err(pos, "duplicate version header");
		return -1;
	}
	if (!field_is(f, flen, "key")) {
		pos_err(pos, "unknown directive (expected \"key\")");
		return -1;
	}
	return parse_key_line(ks, l, pos);
}

static int parse_lines(struct keyset *ks, const char *text, size_t len, struct keyset_pos *pos)
{
	struct buf_reader r;
	bool have_header = false;

	buf_reader_init(&r, text, len);
	while (buf_remaining(&r) > 0) {
		struct keyset_line l;
		const uint8_t *f;
		size_t flen;

		pos->lineno++;
		if (next_line(&r, &l, pos) < 0)
			return -1;
		if (!line_field(&l, &f, &flen) || f[0] == '#')
			continue;
		if (have_header ? parse_body_line(ks, &l, pos, f, flen) < 0 :
				  parse_header(&l, pos, f, flen) < 0)
			return -1;
		have_header = true;
	}
	pos->lineno = 0;
	if (!have_header) {
		pos_err(pos, "no version header (expected \"%s %d\"): not a key file",
			KEYSET_HEADER, KEYSET_FILE_VERSION);
		return -1;
	}
	if (ks->n == 0) {
		pos_err(pos, "no keys");
		return -1;
	}
	return 0;
}

struct keyset *keyset_parse(const char *text, size_t len, const char *name,
			    struct keyset_error *err)
{
	struct keyset_pos pos = { name ? name : "(key text)", 0, err };
	struct keyset *ks = keyset_new();

	if (!ks) {
		pos_err(&pos, "out of memory");
		return NULL;
	}
	if (parse_lines(ks, text, len, &pos) < 0) {
		keyset_free(ks);
		return NULL;
	}
	return ks;
}

/* ---- the file ---- */

struct keyset *keyset_load(const char *path, struct keyset_error *err)
{
	char msg[FILE_ERR_MAX];
	struct keyset *ks;
	char *text;
	size_t len;

	if (file_read(path, KEYSET_FILE_MAX, FILE_READ_PRIVATE, &text, &len, msg) < 0) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s", msg);
		return NULL;
	}
	ks = keyset_parse(text, len, path, err);
	file_text_free(text, len);
	return ks;
}

static void hex_put(char *dst, const uint8_t *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 0xf];
	}
	dst[2 * n] = '\0';
}

char *keyset_format(const struct keyset *ks, size_t *len)
{
	/* "key " + 8 + " " + 20 + " " + 5 + " " + hex + "\n" */
	size_t line_max = 4 + 8 + 1 + 20 + 1 + 5 + 1 + 2 * AEAD_MAX_KEY_LEN + 1;
	size_t cap = sizeof(KEYSET_COMMENT) + sizeof(KEYSET_HEADER) + 16 +
		     ks->n * line_max + 1;
	char hex[2 * AEAD_MAX_KEY_LEN + 1];
	char *text = malloc(cap);
	size_t off = 0;
	int n;

	if (!text)
		return NULL;
	n = snprintf(text, cap, "%s%s %d\n", KEYSET_COMMENT, KEYSET_HEADER,
		     KEYSET_FILE_VERSION);
	off = (size_t)n;
	for (size_t i = 0; i < ks->n; i++) {
		const struct master_key *k = &ks->keys[i];

		hex_put(hex, k->secret, k->secret_len);
		n = snprintf(text + off, cap - off, "key %08" PRIx32 " %" PRId64 " %u %s\n",
			     k->id, k->created, k->alg, hex);
		off += (size_t)n;
	}
	buf_wipe(hex, sizeof(hex));
	if (len)
		*len = off;
	return text;
}

void keyset_text_free(char *text, size_t len)
{
	if (!text)
		return;
	buf_wipe(text, len);
	free(text);
}

int keyset_save_owned(const struct keyset *ks, const char *path,
		      const struct file_owner *owner, struct keyset_error *err)
{
	char msg[FILE_ERR_MAX];
	size_t len = 0;
	char *text = keyset_format(ks, &len);
	int ret;

	if (!text) {
		keyset_seterr(err, path, 0, "out of memory");
		return -1;
	}
	ret = file_save(path, text, len, 0600, owner, msg);
	if (ret < 0 && err)
		snprintf(err->msg, sizeof(err->msg), "%s", msg);
	keyset_text_free(text, len);
	return ret;
}

int keyset_save(const struct keyset *ks, const char *path, struct keyset_error *err)
{
	return keyset_save_owned(ks, path, NULL, err);
}

void keyset_snapshot_free(void *ks)
{
	keyset_free(ks);
}
