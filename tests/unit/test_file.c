/* unit tests for file: bounded read, private-file checks, atomic save
 * (mode, owner, no temporary left behind), change detection and retry. */
#include "build_config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "unit.h"

static char dir[64];
static char path[128];

static int file_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ntsd-file-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/f", dir);
	return 0;
}

static int file_cleanup(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	CU_ASSERT_EQUAL(chmod(path, mode), 0);
}

static size_t entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

static void test_file_read(void)
{
	char err[FILE_ERR_MAX], want[FILE_ERR_MAX];
	char *text;
	size_t len;

	put("hello\n", 0644);
	CU_ASSERT_EQUAL_FATAL(file_read(path, 100, 0, &text, &len, err), 0);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT_STRING_EQUAL(text, "hello\n");
	file_text_free(text, len);
	/* Exactly at the limit is fine, one byte over is not. */
	CU_ASSERT_EQUAL(file_read(path, 6, 0, &text, &len, err), 0);
	file_text_free(text, len);
	CU_ASSERT_EQUAL(file_read(path, 5, 0, &text, &len, err), -1);
	CU_ASSERT_PTR_NULL(text);
	snprintf(want, sizeof(want), "%s: file too large (at most 5 bytes)", path);
	CU_ASSERT_STRING_EQUAL(err, want);
	/* Empty file. */
	put("", 0600);
	CU_ASSERT_EQUAL(file_read(path, 5, 0, &text, &len, err), 0);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_STRING_EQUAL(text, "");
	file_text_free(text, len);
	CU_ASSERT_EQUAL(file_read("/nonexistent/x", 5, 0, &text, &len, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent/x: cannot open: No such file or directory");
	CU_ASSERT_EQUAL(file_read("/tmp", 5, 0, &text, &len, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "/tmp: cannot read: Is a directory");
}

static void test_file_read_large(void)
{
	char err[FILE_ERR_MAX];
	size_t big = 100000, len;
	char *text, *data = malloc(big + 1);
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	data[big] = '\0';
	fwrite(data, 1, big, f);
	fclose(f);
	/* Past the first buffer: the read grows and keeps every byte. */
	CU_ASSERT_EQUAL_FATAL(file_read(path, big, 0, &text, &len, err), 0);
	CU_ASSERT_EQUAL(len, big);
	CU_ASSERT_EQUAL(memcmp(text, data, big), 0);
	file_text_free(text, len);
	CU_ASSERT_EQUAL(file_read(path, big - 1, 0, &text, &len, err), -1);
	free(data);
}

static void test_file_read_private(void)
{
	char err[FILE_ERR_MAX], want[FILE_ERR_MAX];
	char *text;
	size_t len;

	put("secret\n", 0640);
	CU_ASSERT_EQUAL(file_read(path, 100, FILE_READ_PRIVATE, &text, &len, err), -1);
	snprintf(want, sizeof(want), "%s: mode 0640 is readable by group; run: chmod 600 %s",
		 path, path);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(chmod(path, 0604), 0);
	CU_ASSERT_EQUAL(file_read(path, 100, FILE_READ_PRIVATE, &text, &len, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "readable by others"));
	CU_ASSERT_EQUAL(chmod(path, 0610), 0);
	CU_ASSERT_EQUAL(file_read(path, 100, FILE_READ_PRIVATE, &text, &len, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "accessible by group or others"));
	CU_ASSERT_EQUAL(chmod(path, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(file_read(path, 100, FILE_READ_PRIVATE, &text, &len, err), 0);
	CU_ASSERT_STRING_EQUAL(text, "secret\n");
	file_text_free(text, len);
	CU_ASSERT_EQUAL(file_read(dir, 100, FILE_READ_PRIVATE, &text, &len, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
}

static void test_file_save(void)
{
	char err[FILE_ERR_MAX];
	struct file_owner me = { getuid(), getgid() };
	struct stat st;
	char *text;
	size_t len;

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(file_save(path, "one\n", 4, 0600, NULL, err), 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(entries(), 1);	/* no temporary file left */
	/* Replacing keeps nothing of the old file. */
	CU_ASSERT_EQUAL_FATAL(file_save(path, "two\n", 4, 0640, &me, err), 0);
	CU_ASSERT_EQUAL_FATAL(file_read(path, 100, 0, &text, &len, err), 0);
	CU_ASSERT_STRING_EQUAL(text, "two\n");
	file_text_free(text, len);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
	CU_ASSERT_EQUAL(st.st_uid, me.uid);
	CU_ASSERT_EQUAL(entries(), 1);
	/* A directory that does not exist: an error naming the path. */
	CU_ASSERT_EQUAL(file_save("/nonexistent/dir/f", "x", 1, 0600, NULL, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/dir/f: cannot create temporary file"));
}

static void test_file_save_owner(void)
{
	char err[FILE_ERR_MAX];
	struct file_owner other = { 12345, 12345 };
	struct stat st;

	if (getuid() != 0) {
		/* Not root: giving a file away fails, and nothing is replaced. */
		CU_ASSERT_EQUAL(file_save(path, "x", 1, 0600, &other, err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot keep its owner"));
		CU_ASSERT_EQUAL(entries(), 1);
		return;
	}
	CU_ASSERT_EQUAL_FATAL(file_save(path, "x", 1, 0600, &other, err), 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_uid, 12345);
	CU_ASSERT_EQUAL(st.st_gid, 12345);
	CU_ASSERT_EQUAL(entries(), 1);
}

static void test_file_watch(void)
{
	struct file_watch w;
	struct timespec ts[2] = { { 1000, 0 }, { 1000, 0 } };

	unlink(path);
	file_watch_init(&w, path);
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_STILL_GONE);
	put("a", 0600);
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_CHANGED);
	file_watch_loaded(&w, true);
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_SAME);
	CU_ASSERT_EQUAL(file_watch_poll(&w, true), FILE_WATCH_CHANGED);
	file_watch_loaded(&w, true);
	/* A chmod alone is a new state (it can make a file readable). */
	CU_ASSERT_EQUAL(chmod(path, 0400), 0);
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_CHANGED);
	file_watch_loaded(&w, false);
	/* A failed load is retried while nothing changes... */
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_RETRY);
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_RETRY);
	file_watch_loaded(&w, true);
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_SAME);
	/* ...an edit that keeps size and mtime still changes the ctime. */
	CU_ASSERT_EQUAL(utimensat(AT_FDCWD, path, ts, 0), 0);
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_CHANGED);
	file_watch_loaded(&w, true);
	/* Gone: said once, then quietly. */
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_GONE);
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_STILL_GONE);
	CU_ASSERT_EQUAL(file_watch_poll(&w, true), FILE_WATCH_STILL_GONE);
	put("b", 0600);
	CU_ASSERT_EQUAL(file_watch_poll(&w, false), FILE_WATCH_CHANGED);
}

/* Bug kill_rotate_leaves_temps: an ntsctl killed before its rename left
 * FILE.tmp.XXXXXX (a copy of the secrets) for good. */
static void test_file_remove_stale_temps(void)
{
	static const char *const stale[] = { "f.tmp.abcDEF", "f.tmp.012345" };
	static const char *const kept[] = { "f.tmp.abcde", "f.tmp.abcdefg", "g.tmp.abcdef",
					    "f.tmpXabcdef", "ff.tmp.abcdef", "f.lock" };
	char p[192], err[FILE_ERR_MAX];
	FILE *f;
	int fd;

	put("key file\n", 0600);
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, stale[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(p, "w"));
		fclose(f);
	}
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, kept[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(p, "w"));
		fclose(f);
	}
	/* A directory of that name is not a temporary file. */
	snprintf(p, sizeof(p), "%s/f.tmp.dirdir", dir);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	CU_ASSERT_EQUAL(file_remove_stale_temps(path, err), 2);
	CU_ASSERT_EQUAL(entries(), 1 + sizeof(kept) / sizeof(kept[0]) + 1);
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, stale[i]);
		CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
	}
	CU_ASSERT_EQUAL(access(path, F_OK), 0);
	CU_ASSERT_EQUAL(file_remove_stale_temps(path, err), 0);
	/* A name made the way file_save makes its own (doc/key-file.md). */
	snprintf(p, sizeof(p), "%s.tmp.XXXXXX", path);
	fd = mkstemp(p);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL(file_remove_stale_temps(path, err), 1);
	CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/f.tmp.dirdir", dir);
	CU_ASSERT_EQUAL(rmdir(p), 0);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, kept[i]);
		CU_ASSERT_EQUAL(unlink(p), 0);
	}
	/* A directory that cannot be read: -1, with the reason. */
	snprintf(p, sizeof(p), "%s/none/f", dir);
	CU_ASSERT_EQUAL(file_remove_stale_temps(p, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
}

UNIT_SUITE(file, file_setup, file_cleanup,
	   UNIT_TEST(test_file_read),
	   UNIT_TEST(test_file_read_large),
	   UNIT_TEST(test_file_read_private),
	   UNIT_TEST(test_file_save),
	   UNIT_TEST(test_file_save_owner),
	   UNIT_TEST(test_file_watch),
	   UNIT_TEST(test_file_remove_stale_temps))
