/* keywatch: load, create and reload the key file. */
#include "build_config.h"

#include <errno.h>
#include <pwd.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/file.h"
#include "common/keyset.h"
#include "common/log.h"
#include "ntsd/keywatch.h"

static int create_key_file(const char *path, const char *owner)
{
	struct keyset_error err;
	struct keyset *ks = keyset_new();
	struct file_owner fo;
	int rc = -1;

	if (!ks || !keyset_generate(ks, (int64_t)time(NULL))) {
		log_err("%s: cannot generate a master key", path);
		goto out;
	}
	/* The daemon re-reads the file after dropping privileges: it is
	 * born belonging to the run user. */
	if (owner) {
		/* cppcheck-suppress getpwnamCalled ; at startup, in the main thread,
		 * the only one that looks users up. */
		struct passwd *pw = getpwnam(owner);

		if (!pw) {
			log_err("%s: cannot give the new key file to user %s: no such user", path,
				owner);
			goto out;
		}
		fo.uid = pw->pw_uid;
		fo.gid = pw->pw_gid;
		/* Running as that user already (ntsd.service's User=): the
		 * file is born ours, and the fchown() would only be denied by
		 * the unit's system-call filter (~@privileged). */
		if (fo.uid == geteuid() && fo.gid == getegid())
			owner = NULL;
	}
	if (keyset_save_owned(ks, path, owner ? &fo : NULL, &err) < 0) {
		log_err("%s", err.msg);
		goto out;
	}
	log_notice("%s: key file did not exist; created it with one new key (mode 0600)", path);
	rc = 0;
out:
	keyset_free(ks);
	return rc;
}

/* A failure is logged and counted once per state of the file (`quiet`
 * for the retries of one that failed already). */
static int load(struct keywatch *kw, bool quiet)
{
	struct keyset_error err;
	struct keyset *ks;
	size_t n;

	ks = keyset_load(kw->path, &err);
	file_watch_loaded(&kw->watch, ks != NULL);
	if (!ks) {
		if (!quiet) {
			kw->reload_failures++;
			log_err("%s; keeping the key set already loaded", err.msg);
		}
		return -1;
	}
	n = keyset_count(ks);
	if (snapshot_publish(kw->keys, ks) < 0) {
		kw->reload_failures++;
		return -1;
	}
	kw->loaded_at = (int64_t)time(NULL);
	kw->reloads++;
	log_info("%s: loaded %zu master keys", kw->path, n);
	return 1;
}

int keywatch_init(struct keywatch *kw, const char *path, struct snapshot *keys, bool create,
		  const char *owner)
{
	memset(kw, 0, sizeof(*kw));
	kw->path = path;
	kw->keys = keys;
	file_watch_init(&kw->watch, path);
	if (file_watch_poll(&kw->watch, true) != FILE_WATCH_CHANGED) {
		if (errno != ENOENT) {
			log_errno(LOG_LVL_ERR, "%s", path);
			return -1;
		}
		if (!create) {
			log_err("%s: " KEYWATCH_NO_CREATE_MSG, path);
			return -1;
		}
		if (create_key_file(path, owner) < 0)
			return -1;
		if (file_watch_poll(&kw->watch, true) != FILE_WATCH_CHANGED) {
			log_errno(LOG_LVL_ERR, "%s", path);
			return -1;
		}
	}
	return load(kw, false) == 1 ? 0 : -1;
}

int keywatch_check(struct keywatch *kw, bool force)
{
	switch (file_watch_poll(&kw->watch, force)) {
	case FILE_WATCH_SAME:
		return 0;
	case FILE_WATCH_CHANGED:
		return load(kw, false);
	case FILE_WATCH_RETRY:
		/* The cause may lie outside the file's own metadata (a
		 * directory, a security policy, a file descriptor limit). */
		return load(kw, true);
	case FILE_WATCH_GONE:
		/* Gone (perhaps mid-replace): keep serving what we have. */
		log_warn("%s: %s; keeping the key set already loaded", kw->path, strerror(errno));
		kw->reload_failures++;
		break;
	case FILE_WATCH_STILL_GONE:
		break;
	}
	return force ? -1 : 0;
}
