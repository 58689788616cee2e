/* keywatch: the daemon's view of the key file.  Loads it (creating it on
 * first start), publishes each good load into a snapshot, and reloads when
 * the file changes on disk.  A bad file is logged and the last good set
 * stays in service. */
#ifndef NTSD_KEYWATCH_H
#define NTSD_KEYWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/file.h"
#include "common/snapshot.h"

struct keywatch {
	const char *path;		/* borrowed from the config */
	struct snapshot *keys;		/* borrowed: where sets are published */
	struct file_watch watch;	/* the state last loaded or tried */
	int64_t loaded_at;		/* Unix seconds of the last good load */
	uint64_t reloads, reload_failures;
};

/* Why a host with key-file-create no does not start without its key file
 * (follows "FILE: "; also printed by ntsd -n). */
#define KEYWATCH_NO_CREATE_MSG                                                    \
	"no key file, and key-file-create is no: this host shares the fleet's key " \
	"file and does not make its own; copy it here first (made once with "      \
	"'ntsctl keys init FILE', see doc/deployment.md)"

/* First load.  Creates the file (mode 0600, one fresh key, owned by user
 * `owner` when not NULL) when it does not exist and `create` is set;
 * without `create` a missing file is an error (KEYWATCH_NO_CREATE_MSG).
 * 0 or -1 (logged). */
int keywatch_init(struct keywatch *kw, const char *path, struct snapshot *keys, bool create,
		  const char *owner);
/* Reload if the file changed since the last load, or the last load failed
 * (or unconditionally when `force`, as on SIGHUP).  1 reloaded, 0
 * unchanged, -1 failed (old set kept; logged once per state of the file). */
int keywatch_check(struct keywatch *kw, bool force);

#endif
