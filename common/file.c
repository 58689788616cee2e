/* file: bounded whole-file read, atomic save, change detection. */
#include "build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/file.h"

__attribute__((format(printf, 3, 4)))
static int file_err(char err[FILE_ERR_MAX], const char *path, const char *fmt, ...)
{
	char msg[FILE_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, FILE_ERR_MAX, "%s: %.*s", path, FILE_ERR_MAX / 2, msg);
	return -1;
}

static int check_private(int fd, const char *path, char err[FILE_ERR_MAX])
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return file_err(err, path, "cannot stat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return file_err(err, path, "not a regular file");
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		const char *what = st.st_mode & S_IROTH ? "readable by others" :
				   st.st_mode & S_IRGRP ? "readable by group" :
				   "accessible by group or others";

		return file_err(err, path, "mode %04o is %s; run: chmod 600 %s",
				(unsigned)(st.st_mode & 07777), what, path);
	}
	return 0;
}

/* A bigger buffer for a file that outgrew the first; the old one is wiped,
 * since it may hold secrets. */
static char *grow(char *text, size_t len, size_t cap)
{
	char *p = malloc(cap);

	if (p && text)
		memcpy(p, text, len);
	file_text_free(text, len);
	return p;
}

/* Fill *text from fd; one byte past max tells "too large" from "exactly
 * max". */
static int read_all(int fd, const char *path, size_t max, char **text, size_t *len,
		    char err[FILE_ERR_MAX])
{
	size_t cap = 0;

	/* So max + 2 below cannot wrap to a zero-sized buffer. */
	if (max > SIZE_MAX / 2)
		max = SIZE_MAX / 2;
	*text = NULL;
	*len = 0;
	for (;;) {
		ssize_t r;

		if (*len + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 4096;

			if (ncap > max + 2)
				ncap = max + 2;
			if (ncap <= cap)
				break;
			*text = grow(*text, *len, ncap);
			if (!*text)
				return file_err(err, path, "out of memory");
			cap = ncap;
		}
		r = read(fd, *text + *len, cap - 1 - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return file_err(err, path, "cannot read: %s", strerror(errno));
		if (r == 0)
			break;
		*len += (size_t)r;
	}
	if (*len > max)
		return file_err(err, path, "file too large (at most %zu bytes)", max);
	(*text)[*len] = '\0';
	return 0;
}

int file_read(const char *path, size_t max, unsigned flags, char **text, size_t *len,
	      char err[FILE_ERR_MAX])
{
	int fd, rc;

	*text = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return file_err(err, path, "cannot open: %s", strerror(errno));
	rc = (flags & FILE_READ_PRIVATE) ? check_private(fd, path, err) : 0;
	if (rc == 0)
		rc = read_all(fd, path, max, text, len, err);
	close(fd);
	if (rc < 0) {
		file_text_free(*text, *len);
		*text = NULL;
		*len = 0;
	}
	return rc;
}

void file_text_free(char *text, size_t len)
{
	if (!text)
		return;
	buf_wipe(text, len + 1);
	free(text);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The directory that holds path (malloc'd), NULL when out of memory. */
static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Make the rename durable: fsync the directory that holds path. */
static int fsync_parent(const char *path)
{
	char *dir = parent_dir(path);
	int fd, ret = -1;

	if (!dir)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		ret = fsync(fd);
		close(fd);
	}
	free(dir);
	return ret;
}

/* Write, own and sync the temporary file; fd is closed either way. */
static int fill_temp(int fd, const char *path, const char *tmp, const void *data, size_t len,
		     mode_t mode, const struct file_owner *owner, char err[FILE_ERR_MAX])
{
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		file_err(err, path, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		return -1;
	}
	if (owner && fchown(fd, owner->uid, owner->gid) < 0) {
		file_err(err, path, "cannot keep its owner (uid %u, gid %u): %s; "
			 "run as that user or as root", (unsigned)owner->uid,
			 (unsigned)owner->gid, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return file_err(err, path, "cannot write %s: %s", tmp, strerror(errno));
	return 0;
}

/* file_save's temporary names: path + FILE_TEMP_SUFFIX, its Xs replaced. */
#define FILE_TEMP_SUFFIX ".tmp.XXXXXX"
#define FILE_TEMP_RANDOM 6

int file_save(const char *path, const void *data, size_t len, mode_t mode,
	      const struct file_owner *owner, char err[FILE_ERR_MAX])
{
	size_t tmp_len = strlen(path) + sizeof(FILE_TEMP_SUFFIX);
	char *tmp = malloc(tmp_len);
	int fd, ret = -1;

	if (!tmp)
		return file_err(err, path, "out of memory");
	snprintf(tmp, tmp_len, "%s" FILE_TEMP_SUFFIX, path);
	/* Same directory, so the rename is atomic. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		file_err(err, path, "cannot create temporary file: %s", strerror(errno));
		free(tmp);
		return -1;
	}
	if (fill_temp(fd, path, tmp, data, len, mode, owner, err) < 0)
		goto out;
	if (rename(tmp, path) < 0) {
		file_err(err, path, "cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if (fsync_parent(path) < 0) {
		file_err(err, path, "written, but syncing its directory failed: %s",
			 strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return ret;
}

/* name is base + FILE_TEMP_SUFFIX with its Xs replaced. */
static bool is_temp_of(const char *name, const char *base)
{
	size_t blen = strlen(base), fixed = sizeof(FILE_TEMP_SUFFIX) - 1 - FILE_TEMP_RANDOM;

	return strncmp(name, base, blen) == 0 &&
	       strncmp(name + blen, FILE_TEMP_SUFFIX, fixed) == 0 &&
	       strlen(name + blen + fixed) == FILE_TEMP_RANDOM;
}

int file_remove_stale_temps(const char *path, char err[FILE_ERR_MAX])
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *dir = parent_dir(path);
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (!dir)
		return file_err(err, path, "out of memory");
	d = opendir(dir);
	if (!d) {
		file_err(err, path, "cannot read its directory %s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	/* cppcheck-suppress readdirCalled ; the stream is this call's own, and
	 * readdir_r is deprecated (readdir(3)): readdir on it is thread-safe. */
	while ((e = readdir(d))) {
		struct stat st;

		if (!is_temp_of(e->d_name, base) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0) {
			n = file_err(err, path, "cannot remove %s/%s: %s", dir, e->d_name,
				     strerror(errno));
			break;
		}
		n++;
	}
	closedir(d);
	free(dir);
	return n;
}

/* ctime, mode, uid and gid too: a chown or chmod that makes an unreadable
 * file readable changes nothing else. */
static bool same_state(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_mode == b->st_mode &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec && a->st_uid == b->st_uid &&
	       a->st_gid == b->st_gid;
}

void file_watch_init(struct file_watch *w, const char *path)
{
	memset(w, 0, sizeof(*w));
	w->path = path;
}

enum file_watch_event file_watch_poll(struct file_watch *w, bool force)
{
	struct stat st;

	if (stat(w->path, &st) < 0) {
		int err = errno;
		bool was_there = w->have_last;

		w->have_last = false;
		errno = err;
		return was_there ? FILE_WATCH_GONE : FILE_WATCH_STILL_GONE;
	}
	if (!force && w->have_last && same_state(&st, &w->last))
		return w->failed ? FILE_WATCH_RETRY : FILE_WATCH_SAME;
	w->last = st;
	w->have_last = true;
	return FILE_WATCH_CHANGED;
}

void file_watch_loaded(struct file_watch *w, bool ok)
{
	w->failed = !ok;
}
