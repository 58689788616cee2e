/* unit tests for keyset: the key file format (every malformed line with its
 * line number), format/parse round trip, atomic save (also when the write
 * fails), load refusing loose permissions, the sealing-key choice. */
#include "build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/aead.h"
#include "common/keyset.h"
#include "unit.h"

/* 32 and 64 bytes of secret as hex; the second is a distinctive pattern
 * the tests look for in error messages (it must never appear there). */
#define HEX32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX64 HEX32 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define HDR "ntsd-keys 1\n"

static char tmpdir[64];

static int keyset_suite_init(void)
{
	strcpy(tmpdir, "/tmp/ntsd-keyset-test.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int keyset_suite_cleanup(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[320];

	if (d) {
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.' && (!e->d_name[1] ||
			    (e->d_name[1] == '.' && !e->d_name[2])))
				continue;
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
	return 0;
}

static struct keyset *parse(const char *text, struct keyset_error *err)
{
	memset(err, 0, sizeof(*err));
	return keyset_parse(text, strlen(text), "k", err);
}

static void test_parse_valid(void)
{
	const char *text =
		"# comment first\n"
		"\n"
		"   ntsd-keys 1   \n"
		"key 000000b2 2000 15 " HEX32 "\n"
		"  # indented comment\n"
		"\tkey\t000000A1\t1000\t17\t" HEX64 "\t\r\n"
		"key 000000a0 2000 15 "
		"FFFEFDFCFBFAF9F8F7F6F5F4F3F2F1F0F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF";
	struct keyset_error err;
	struct keyset *ks = parse(text, &err);
	const struct master_key *k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	CU_ASSERT_EQUAL(keyset_count(ks), 3);
	/* Sorted by creation time, ties in the file's order. */
	CU_ASSERT_EQUAL(keyset_key_at(ks, 0)->id, 0xa1);
	CU_ASSERT_EQUAL(keyset_key_at(ks, 1)->id, 0xb2);
	CU_ASSERT_EQUAL(keyset_key_at(ks, 2)->id, 0xa0);
	CU_ASSERT_PTR_NULL(keyset_key_at(ks, 3));
	k = keyset_find(ks, 0xa1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->created, 1000);
	CU_ASSERT_EQUAL(k->alg, AEAD_AES_SIV_CMAC_512);
	CU_ASSERT_EQUAL(k->secret_len, 64);
	CU_ASSERT_EQUAL(k->secret[0x3f], 0x3f);
	CU_ASSERT_PTR_EQUAL(k->ctx.alg, aead_by_id(AEAD_AES_SIV_CMAC_512));
	k = keyset_find(ks, 0xa0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->secret_len, 32);
	CU_ASSERT_EQUAL(k->secret[0], 0xff);
	CU_ASSERT_EQUAL(k->secret[31], 0xff);
	CU_ASSERT_PTR_NULL(keyset_find(ks, 0xa2));
	keyset_free(ks);
	keyset_free(NULL);
}

static void assert_same_keys(const struct keyset *a, const struct keyset *b)
{
	CU_ASSERT_EQUAL_FATAL(keyset_count(a), keyset_count(b));
	for (size_t i = 0; i < keyset_count(a); i++) {
		const struct master_key *x = keyset_key_at(a, i), *y = keyset_key_at(b, i);

		CU_ASSERT_EQUAL(x->id, y->id);
		CU_ASSERT_EQUAL(x->created, y->created);
		CU_ASSERT_EQUAL(x->alg, y->alg);
		CU_ASSERT_EQUAL_FATAL(x->secret_len, y->secret_len);
		CU_ASSERT_EQUAL(memcmp(x->secret, y->secret, x->secret_len), 0);
	}
}

static struct keyset *sample_set(int n)
{
	struct keyset *ks = keyset_new();

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	for (int i = 0; i < n; i++) {
		uint8_t secret[64];
		uint16_t alg = i % 3 == 2 ? AEAD_AES_SIV_CMAC_512 : AEAD_AES_SIV_CMAC_256;
		size_t len = aead_by_id(alg)->key_len;

		for (size_t j = 0; j < len; j++)
			secret[j] = (uint8_t)(i * 31 + j);
		CU_ASSERT_EQUAL_FATAL(keyset_add(ks, 0xf0000000u + (uint32_t)i * 0x1357u,
						 1700000000 + i * 86400, alg, secret,
						 len), 0);
	}
	return ks;
}

static void test_format_round_trip(void)
{
	struct keyset *ks = sample_set(5), *back;
	struct keyset_error err;
	size_t len;
	char *text = keyset_format(ks, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strlen(text), len);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nntsd-keys 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nkey f0000000 1700000000 15 00010203"));
	CU_ASSERT_EQUAL(text[0], '#');
	back = keyset_parse(text, len, "round", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	assert_same_keys(ks, back);
	keyset_text_free(text, len);
	keyset_free(back);
	keyset_free(ks);
}

struct bad_case {
	const char *text;
	const char *want;	/* exact message */
};

static void test_malformed(void)
{
	static const struct bad_case cases[] = {
		{ "", "k: no version header (expected \"ntsd-keys 1\"): not a key file" },
		{ "# nothing\n\n", "k: no version header (expected \"ntsd-keys 1\"): not a key file" },
		{ "key 00000001 1 15 " HEX32 "\n",
		  "k:1: missing version header (expected \"ntsd-keys 1\")" },
		{ "\n# c\nntsd-key 1\n", "k:3: missing version header (expected \"ntsd-keys 1\")" },
		{ "ntsd-keys 2\n", "k:1: unsupported key file version 2 (this ntsd reads version 1)" },
		{ "ntsd-keys\n", "k:1: bad version number" },
		{ "ntsd-keys one\n", "k:1: bad version number" },
		{ "ntsd-keys 1 2\n", "k:1: trailing junk after the version" },
		{ HDR, "k: no keys" },
		{ HDR "# just a comment\n", "k: no keys" },
		{ HDR HDR, "k:2: duplicate version header" },
		{ HDR "kee 00000001 1 15 " HEX32 "\n", "k:2: unknown directive (expected \"key\")" },
		{ HDR "key\n", "k:2: missing key id" },
		{ HDR "key 0000001 1 15 " HEX32 "\n", "k:2: bad key id (expected 8 hex digits)" },
		{ HDR "key 000000001 1 15 " HEX32 "\n", "k:2: bad key id (expected 8 hex digits)" },
		{ HDR "key 0000000g 1 15 " HEX32 "\n", "k:2: bad key id (expected 8 hex digits)" },
		{ HDR "key " HEX32 "\n", "k:2: bad key id (expected 8 hex digits)" },
		{ HDR "key 00000001\n", "k:2: missing creation time" },
		{ HDR "key 00000001 -5 15 " HEX32 "\n",
		  "k:2: bad creation time (expected Unix seconds, 0 to 253402300799)" },
		{ HDR "key 00000001 +5 15 " HEX32 "\n",
		  "k:2: bad creation time (expected Unix seconds, 0 to 253402300799)" },
		{ HDR "key 00000001 12x 15 " HEX32 "\n",
		  "k:2: bad creation time (expected Unix seconds, 0 to 253402300799)" },
		{ HDR "key 00000001 253402300800 15 " HEX32 "\n",
		  "k:2: bad creation time (expected Unix seconds, 0 to 253402300799)" },
		{ HDR "key 00000001 99999999999999999999999 15 " HEX32 "\n",
		  "k:2: bad creation time (expected Unix seconds, 0 to 253402300799)" },
		{ HDR "key 00000001 1\n", "k:2: missing AEAD id" },
		{ HDR "key 00000001 1 aes " HEX32 "\n", "k:2: bad AEAD id (expected a number)" },
		{ HDR "key 00000001 1 65536 " HEX32 "\n", "k:2: bad AEAD id (expected a number)" },
		{ HDR "key 00000001 1 16 " HEX32 "\n",
		  "k:2: unsupported AEAD id 16 (expected 15 or 17)" },
		{ HDR "key 00000001 1 30 " HEX32 "\n",
		  "k:2: unsupported AEAD id 30 (expected 15 or 17)" },
		{ HDR "key 00000001 1 0 " HEX32 "\n",
		  "k:2: unsupported AEAD id 0 (expected 15 or 17)" },
		{ HDR "key 00000001 1 15\n", "k:2: missing secret" },
		{ HDR "key 00000001 1 15   \n", "k:2: missing secret" },
		{ HDR "key 00000001 1 15 " HEX32 "0\n",
		  "k:2: secret has an odd number of hex digits" },
		{ HDR "key 00000001 1 15 " HEX32 "zz\n", "k:2: secret is not hex" },
		{ HDR "key 00000001 1 15 0x" HEX32 "\n", "k:2: secret is not hex" },
		{ HDR "key 00000001 1 15 " HEX64 "\n", "k:2: secret is 64 bytes; AEAD 15 needs 32" },
		{ HDR "key 00000001 1 17 " HEX32 "\n", "k:2: secret is 32 bytes; AEAD 17 needs 64" },
		{ HDR "key 00000001 1 15 \n", "k:2: missing secret" },
		{ HDR "key 00000001 1 15 " HEX32 " x\n", "k:2: trailing junk after the secret" },
		{ HDR "key 00000001 1 15 " HEX32 " " HEX32 "\n",
		  "k:2: trailing junk after the secret" },
		{ HDR "key 00000001 1 15 " HEX32 "\n# c\n\nkey 00000001 2 17 " HEX64 "\n",
		  "k:5: duplicate key id 00000001" },
		{ HDR "key 00000001 1 15 " HEX32 "\nkey 00000002 1 15 " HEX32 "\x01\n",
		  "k:3: control character in line" },
	};
	struct keyset_error err;
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct keyset *ks = parse(cases[i].text, &err);

		if (ks || strcmp(err.msg, cases[i].want) != 0) {
			fprintf(stderr, "\ncase %zu: got \"%s\", want \"%s\"\n", i,
				ks ? "(parsed)" : err.msg, cases[i].want);
			bad++;
		}
		/* Never echo a secret. */
		if (strstr(err.msg, "0001020304"))
			bad++;
		keyset_free(ks);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Text is bytes, not a C string: a NUL inside is an error, not the end. */
static void test_nul_byte(void)
{
	static const char text[] = HDR "key 00000001 1 15 " HEX32 "\n"
				   "key 00000002 1 15 \0" HEX32 "\n";
	struct keyset_error err;

	CU_ASSERT_PTR_NULL(keyset_parse(text, sizeof(text) - 1, "k", &err));
	CU_ASSERT_STRING_EQUAL(err.msg, "k:3: control character in line");
}

static void test_too_many_and_too_long(void)
{
	size_t cap = 100 + (KEYSET_MAX_KEYS + 1) * 100;
	char *text = malloc(cap), *p;
	struct keyset_error err;
	struct keyset *ks;
	size_t off;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	off = (size_t)snprintf(text, cap, HDR);
	for (int i = 0; i < KEYSET_MAX_KEYS; i++)
		off += (size_t)snprintf(text + off, cap - off, "key %08x %d 15 %s\n",
					i, i, HEX32);
	ks = parse(text, &err);
	CU_ASSERT_PTR_NOT_NULL(ks);
	CU_ASSERT_EQUAL(keyset_count(ks), KEYSET_MAX_KEYS);
	/* Full: keyset_add and generate refuse a 65th key. */
	CU_ASSERT_EQUAL(keyset_add(ks, 0xffffffffu, 5, 15, (const uint8_t *)HEX32, 32), -1);
	CU_ASSERT_PTR_NULL(keyset_generate(ks, 5));
	keyset_free(ks);
	snprintf(text + off, cap - off, "key %08x %d 15 %s\n", 999, 999, HEX32);
	ks = parse(text, &err);
	CU_ASSERT_PTR_NULL(ks);
	CU_ASSERT_STRING_EQUAL(err.msg, "k:66: too many keys (at most 64)");

	p = malloc(2000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, ' ', 2000);
	memcpy(p, HDR "#", strlen(HDR) + 1);
	p[1999] = '\0';
	ks = parse(p, &err);
	CU_ASSERT_PTR_NULL(ks);
	CU_ASSERT_STRING_EQUAL(err.msg, "k:2: line too long");
	free(p);
	free(text);
}

static void test_build_api(void)
{
	struct keyset *ks = keyset_new(), *copy;
	const struct master_key *g;
	uint8_t s[64] = { 1 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	CU_ASSERT_EQUAL(keyset_count(ks), 0);
	CU_ASSERT_PTR_NULL(keyset_sealing_key(ks, 100, 0));
	CU_ASSERT_EQUAL(keyset_add(ks, 1, 10, AEAD_AES_SIV_CMAC_256, s, 32), 0);
	CU_ASSERT_EQUAL(keyset_add(ks, 1, 11, AEAD_AES_SIV_CMAC_256, s, 32), -1);
	CU_ASSERT_EQUAL(keyset_add(ks, 2, 10, AEAD_AES_SIV_CMAC_256, s, 64), -1);
	CU_ASSERT_EQUAL(keyset_add(ks, 2, 10, AEAD_AES_SIV_CMAC_512, s, 32), -1);
	CU_ASSERT_EQUAL(keyset_add(ks, 2, 10, AEAD_AES_SIV_CMAC_384, s, 48), -1);
	CU_ASSERT_EQUAL(keyset_add(ks, 2, 10, AEAD_AES_128_GCM_SIV, s, 16), -1);
	CU_ASSERT_EQUAL(keyset_add(ks, 2, -1, AEAD_AES_SIV_CMAC_256, s, 32), -1);
	CU_ASSERT_EQUAL(keyset_count(ks), 1);

	g = keyset_generate(ks, 50);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->created, 50);
	CU_ASSERT_EQUAL(g->alg, KEYSET_DEFAULT_ALG);
	CU_ASSERT_EQUAL(g->secret_len, aead_by_id(KEYSET_DEFAULT_ALG)->key_len);
	CU_ASSERT_PTR_EQUAL(keyset_find(ks, g->id), g);
	CU_ASSERT_PTR_EQUAL(keyset_key_at(ks, 1), g);
	CU_ASSERT_EQUAL(keyset_count(ks), 2);

	copy = keyset_dup(ks);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	CU_ASSERT_EQUAL(keyset_remove(copy, 1), 0);
	CU_ASSERT_EQUAL(keyset_remove(copy, 1), -1);
	CU_ASSERT_EQUAL(keyset_count(copy), 1);
	CU_ASSERT_EQUAL(keyset_key_at(copy, 0)->id, g->id);
	/* The original is untouched. */
	CU_ASSERT_EQUAL(keyset_count(ks), 2);
	CU_ASSERT_PTR_NOT_NULL(keyset_find(ks, 1));
	keyset_free(copy);
	keyset_free(ks);
}

static void test_sealing_key(void)
{
	struct keyset *ks = keyset_new();
	uint8_t s[32] = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	CU_ASSERT_EQUAL(keyset_add(ks, 0xc, 3000, 15, s, 32), 0);
	CU_ASSERT_EQUAL(keyset_add(ks, 0xa, 1000, 15, s, 32), 0);
	CU_ASSERT_EQUAL(keyset_add(ks, 0xb, 2000, 15, s, 32), 0);
	/* No delay: the newest. */
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, 3000, 0)->id, 0xc);
	/* The newest key not yet propagated is skipped... */
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, 3000, 500)->id, 0xb);
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, 3499, 500)->id, 0xb);
	/* ...until it has been there for the whole delay (inclusive). */
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, 3500, 500)->id, 0xc);
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, 2500, 1000)->id, 0xa);
	/* None old enough: the oldest, the one every host has had longest
	 * (bug: rotation_seals_unpropagated_key sealed with the newest). */
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, 1000, 500)->id, 0xa);
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, INT64_MIN, INT64_MAX)->id, 0xa);
	/* An overflowing limit the other way: every key is old enough. */
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, INT64_MAX, INT64_MIN)->id, 0xc);
	/* Every key dated in the future (clock skew), no delay: the oldest. */
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, 500, 0)->id, 0xa);
	/* Same creation time: the key added later is newer, whatever its id. */
	CU_ASSERT_EQUAL(keyset_add(ks, 0x9, 3000, 15, s, 32), 0);
	CU_ASSERT_EQUAL(keyset_sealing_key(ks, 9000, 0)->id, 0x9);
	CU_ASSERT_EQUAL(keyset_key_at(ks, 2)->id, 0xc);
	CU_ASSERT_EQUAL(keyset_key_at(ks, 3)->id, 0x9);
	keyset_free(ks);
}

static void path_in_tmp(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
}

static int count_dir_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static char *read_whole(const char *path, size_t *len)
{
	static char data[70000];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	CU_ASSERT_FATAL(fd >= 0);
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	CU_ASSERT_FATAL(n >= 0);
	data[n] = '\0';
	*len = (size_t)n;
	return data;
}

static void test_save_load(void)
{
	char path[256], link[256];
	struct keyset *ks = sample_set(4), *back;
	struct keyset_error err;
	struct stat st;

	path_in_tmp(path, sizeof(path), "keys");
	CU_ASSERT_EQUAL_FATAL(keyset_save(ks, path, &err), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(count_dir_entries(), 1);
	back = keyset_load(path, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	assert_same_keys(ks, back);
	keyset_free(back);

	/* Overwrite with a different set: replaced, still 0600, no leftovers. */
	CU_ASSERT_EQUAL(keyset_remove(ks, keyset_key_at(ks, 0)->id), 0);
	CU_ASSERT_EQUAL_FATAL(keyset_save(ks, path, &err), 0);
	back = keyset_load(path, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	assert_same_keys(ks, back);
	keyset_free(back);
	CU_ASSERT_EQUAL(count_dir_entries(), 1);

	/* Symlinks are followed (Kubernetes Secret volumes use them). */
	path_in_tmp(link, sizeof(link), "keys-link");
	CU_ASSERT_EQUAL_FATAL(symlink(path, link), 0);
	back = keyset_load(link, &err);
	CU_ASSERT_PTR_NOT_NULL(back);
	keyset_free(back);
	unlink(link);

	/* Missing file and missing directory. */
	path_in_tmp(link, sizeof(link), "absent");
	CU_ASSERT_PTR_NULL(keyset_load(link, &err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "absent: cannot open: "));
	path_in_tmp(link, sizeof(link), "no-such-dir/keys");
	CU_ASSERT_EQUAL(keyset_save(ks, link, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot create temporary file"));
	/* A directory is not a key file. */
	CU_ASSERT_PTR_NULL(keyset_load(tmpdir, &err));
	keyset_free(ks);
	unlink(path);
}

/* A save whose write fails for real (file size limit, EFBIG) in a child:
 * the old file must be byte for byte intact and no temp file left. */
static void test_interrupted_save(void)
{
	char path[256], before[70000];
	struct keyset *old = sample_set(2), *big = sample_set(40);
	struct keyset_error err;
	size_t len, len2;
	const char *now;
	pid_t pid;
	int status;

	path_in_tmp(path, sizeof(path), "keys-interrupted");
	CU_ASSERT_EQUAL_FATAL(keyset_save(old, path, &err), 0);
	now = read_whole(path, &len);
	memcpy(before, now, len);
	CU_ASSERT_FATAL(len < 1000);

	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 1000, 1000 };
		struct keyset_error cerr;

		/* Past the limit write() fails with EFBIG instead of a signal. */
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(3);
		if (keyset_save(big, path, &cerr) == 0)
			_exit(1);
		_exit(strstr(cerr.msg, "cannot write") &&
		      strstr(cerr.msg, strerror(EFBIG)) ? 0 : 2);
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);

	now = read_whole(path, &len2);
	CU_ASSERT_EQUAL(len2, len);
	CU_ASSERT_EQUAL(memcmp(before, now, len), 0);
	CU_ASSERT_EQUAL(count_dir_entries(), 1);
	keyset_free(old);
	keyset_free(big);
	unlink(path);
}

/* A corrupted file is refused with its line number; a caller that keeps
 * its current set on failure still has it, unchanged. */
static void test_corrupted_keeps_previous(void)
{
	char path[256], text[4096];
	struct keyset *ks = sample_set(3), *cur, *next;
	struct keyset_error err;
	const char *data;
	size_t len;
	char *key2;
	int fd;

	path_in_tmp(path, sizeof(path), "keys-corrupt");
	CU_ASSERT_EQUAL_FATAL(keyset_save(ks, path, &err), 0);
	cur = keyset_load(path, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cur);

	/* Damage the secret of the third key (line 5: comment, header, keys). */
	data = read_whole(path, &len);
	CU_ASSERT_FATAL(len < sizeof(text));
	memcpy(text, data, len + 1);
	key2 = strstr(text, "\nkey ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(key2);
	key2 = strstr(key2 + 1, "\nkey ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(key2);
	key2 = strstr(key2 + 1, "\nkey ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(key2);
	key2[40] = 'x';
	fd = open(path, O_WRONLY | O_TRUNC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL((size_t)write(fd, text, len), len);
	close(fd);

	next = keyset_load(path, &err);
	CU_ASSERT_PTR_NULL(next);
	{
		char want[300];

		snprintf(want, sizeof(want), "%s:5: secret is not hex", path);
		CU_ASSERT_STRING_EQUAL(err.msg, want);
	}
	if (next) {
		keyset_free(cur);
		cur = next;
	}
	assert_same_keys(ks, cur);
	keyset_free(cur);
	keyset_free(ks);
	unlink(path);
}

static void test_permissions(void)
{
	char path[256], want[600];
	struct keyset *ks = sample_set(1), *back;
	struct keyset_error err;

	path_in_tmp(path, sizeof(path), "keys-perm");
	CU_ASSERT_EQUAL_FATAL(keyset_save(ks, path, &err), 0);

	CU_ASSERT_EQUAL_FATAL(chmod(path, 0644), 0);
	CU_ASSERT_PTR_NULL(keyset_load(path, &err));
	snprintf(want, sizeof(want),
		 "%s: mode 0644 is readable by others; run: chmod 600 %s", path, path);
	CU_ASSERT_STRING_EQUAL(err.msg, want);

	CU_ASSERT_EQUAL_FATAL(chmod(path, 0640), 0);
	CU_ASSERT_PTR_NULL(keyset_load(path, &err));
	snprintf(want, sizeof(want),
		 "%s: mode 0640 is readable by group; run: chmod 600 %s", path, path);
	CU_ASSERT_STRING_EQUAL(err.msg, want);

	CU_ASSERT_EQUAL_FATAL(chmod(path, 0602), 0);
	CU_ASSERT_PTR_NULL(keyset_load(path, &err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "mode 0602 is accessible by group or others"));

	CU_ASSERT_EQUAL_FATAL(chmod(path, 0400), 0);
	back = keyset_load(path, &err);
	CU_ASSERT_PTR_NOT_NULL(back);
	keyset_free(back);
	keyset_free(ks);
	unlink(path);
}

static void test_too_large(void)
{
	char path[256], chunk[4096];
	struct keyset_error err;
	int fd;

	path_in_tmp(path, sizeof(path), "keys-large");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	memset(chunk, '#', sizeof(chunk));
	for (int i = 0; i < 17; i++)
		CU_ASSERT_EQUAL(write(fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
	close(fd);
	CU_ASSERT_PTR_NULL(keyset_load(path, &err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too large"));
	unlink(path);
}

/* Bug future_only_key_served: a key file whose only key was dated a year
 * ahead was loaded, and that key sealed cookies. */
static void test_check_dates(void)
{
	const char *text = "ntsd-keys 1\n"
			   "# the second line\n"
			   "key 000000b2 200000 15 " HEX32 "\n"
			   "key 000000a1 100000 15 " HEX32 "\n";
	struct keyset_error err;
	struct keyset *ks = parse(text, &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	CU_ASSERT_EQUAL(keyset_find(ks, 0xa1)->line, 4);
	CU_ASSERT_EQUAL(keyset_find(ks, 0xb2)->line, 3);
	/* Some key at most KEYSET_FUTURE_MAX_S ahead: fine. */
	CU_ASSERT_EQUAL(keyset_check_dates(ks, 300000, "k", &err), 0);
	CU_ASSERT_EQUAL(keyset_check_dates(ks, 150000, "k", &err), 0);
	CU_ASSERT_EQUAL(keyset_check_dates(ks, 100000 - KEYSET_FUTURE_MAX_S, "k", &err), 0);
	/* Every key further ahead: refused at the oldest key's line. */
	CU_ASSERT_EQUAL(keyset_check_dates(ks, 100000 - KEYSET_FUTURE_MAX_S - 1, "k", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "k:4: every key is dated in the future"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "000000a1"));
	CU_ASSERT_EQUAL(keyset_check_dates(ks, 0, "k", &err), -1);
	CU_ASSERT_EQUAL(keyset_check_dates(ks, INT64_MIN, "k", &err), -1);
	CU_ASSERT_EQUAL(keyset_check_dates(ks, INT64_MAX, "k", &err), 0);
	keyset_free(ks);
	/* Keys not parsed have no line: the message names the file only. */
	ks = keyset_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	CU_ASSERT_EQUAL(keyset_check_dates(ks, 0, "k", &err), 0);
	CU_ASSERT_PTR_NOT_NULL(keyset_generate(ks, 1000000));
	CU_ASSERT_EQUAL(keyset_check_dates(ks, 0, "k", &err), -1);
	CU_ASSERT_EQUAL(strncmp(err.msg, "k: every key", 12), 0);
	keyset_free(ks);
}

UNIT_SUITE(keyset, keyset_suite_init, keyset_suite_cleanup,
	   UNIT_TEST(test_parse_valid),
	   UNIT_TEST(test_format_round_trip),
	   UNIT_TEST(test_malformed),
	   UNIT_TEST(test_nul_byte),
	   UNIT_TEST(test_too_many_and_too_long),
	   UNIT_TEST(test_build_api),
	   UNIT_TEST(test_sealing_key),
	   UNIT_TEST(test_save_load),
	   UNIT_TEST(test_interrupted_save),
	   UNIT_TEST(test_corrupted_keeps_previous),
	   UNIT_TEST(test_permissions),
	   UNIT_TEST(test_too_large),
	   UNIT_TEST(test_check_dates))
