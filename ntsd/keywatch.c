/* keywatch: load, create and reload the key file. */
#include "build_config.h"

#include <errno.h>
#include <pwd.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/monotime.h"
#include "common/keyset.h"
#include "common/log.h"
#include "ntsd/keywatch.h"

/* ctime, uid and gid too: a chown or chmod that makes an unreadable file
 * readable changes nothing else. */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_mode == b->st_mode &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec && a->st_uid == b->st_uid &&
	       a->st_gid == b->st_gid;
}

static int create_key_file(const char *path, const char *owner)
{
	struct keyset_error err;
	struct keyset *ks = keyset_new();
	int rc = -1;

	if (!ks || !keyset_generate(ks, (int64_t)time(NULL))) {
		log_err("%s: cannot generate a master key", path);
		goto out;
	}
	if (keyset_save(ks, path, &err) < 0) {
		log_err("%s", err.msg);
		goto out;
	}
	/* The daemon re-reads the file after dropping privileges. */
	if (owner) {
		struct passwd *pw = getpwnam(owner);

		if (!pw || chown(path, pw->pw_uid, pw->pw_gid) < 0) {
			log_errno(LOG_LVL_ERR, "%s: cannot give the new key file to user %s", path,
				  owner);
			goto out;
		}
	}
	log_notice("%s: key file did not exist; created it with one new key (mode 0600)", path);
	rc = 0;
out:
	keyset_free(ks);
	return rc;
}

/* A failure is logged and counted once per state of the file (`quiet`
 * for the retries of one that failed already). */
static int load(struct keywatch *kw, const struct stat *st, bool quiet)
{
	struct keyset_error err;
	struct keyset *ks;

	kw->last = *st;
	kw->have_last = true;
	ks = keyset_load(kw->path, &err);
	if (!ks) {
		kw->failed = true;
		if (!quiet) {
			kw->reload_failures++;
			log_err("%s; keeping the key set already loaded", err.msg);
		}
		return -1;
	}
	kw->failed = false;
	snapshot_publish(kw->keys, ks, monotime_ms());
	kw->loaded_at = (int64_t)time(NULL);
	kw->reloads++;
	log_info("%s: loaded %zu master keys", kw->path, keyset_count(ks));
	return 1;
}

int keywatch_init(struct keywatch *kw, const char *path, struct snapshot *keys, bool create,
		  const char *owner)
{
	struct stat st;

	memset(kw, 0, sizeof(*kw));
	kw->path = path;
	kw->keys = keys;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !create) {
			log_errno(LOG_LVL_ERR, "%s", path);
			return -1;
		}
		if (create_key_file(path, owner) < 0)
			return -1;
		if (stat(path, &st) < 0) {
			log_errno(LOG_LVL_ERR, "%s", path);
			return -1;
		}
	}
	return load(kw, &st, false) == 1 ? 0 : -1;
}

int keywatch_check(struct keywatch *kw, bool force)
{
	struct stat st;

	snapshot_reap(kw->keys, monotime_ms());
	if (stat(kw->path, &st) < 0) {
		/* Gone (perhaps mid-replace): keep serving what we have. */
		if (kw->have_last) {
			log_warn("%s: %s; keeping the key set already loaded", kw->path,
				 strerror(errno));
			kw->have_last = false;
			kw->reload_failures++;
		}
		return force ? -1 : 0;
	}
	if (!force && kw->have_last && same_file(&st, &kw->last)) {
		if (!kw->failed)
			return 0;
		/* Retry: the cause may lie outside the file's own metadata
		 * (a directory, a security policy, a file descriptor limit). */
		return load(kw, &st, true);
	}
	return load(kw, &st, false);
}
