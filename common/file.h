/* file: the daemon's and ntsctl's three ways of touching their files,
 * each written once: a whole-file read with a size limit, an atomic save
 * (temporary file, fsync, rename, directory fsync), and change detection
 * that also tells when a failed load should be tried again. */
#ifndef NTSD_FILE_H
#define NTSD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Room for "PATH: reason" messages. */
#define FILE_ERR_MAX 512

/* file_read flags. */
#define FILE_READ_PRIVATE 0x1	/* a regular file no group or other may access (keys) */

/* Read the whole of path, at most max bytes, into *text (NUL-terminated,
 * *len bytes before the NUL; free with file_text_free, which wipes it).
 * Symlinks are followed (Kubernetes Secret volumes are made of them).
 * -1 with "PATH: reason" in err: cannot open, cannot read, file too
 * large, and with FILE_READ_PRIVATE not a regular file or a mode that
 * lets others in (with the chmod that fixes it). */
int file_read(const char *path, size_t max, unsigned flags, char **text, size_t *len,
	      char err[FILE_ERR_MAX]);
void file_text_free(char *text, size_t len);

/* Who a saved file belongs to; NULL in file_save: whoever saves it. */
struct file_owner {
	uid_t uid;
	gid_t gid;
};

/* Replace path with data[0..len) atomically: a temporary file in the same
 * directory with `mode`, given to `owner` when not NULL, fsync'ed, renamed
 * over path, and the directory fsync'ed so the rename survives a crash.
 * Either path is the old file or the complete new one.  -1 with
 * "PATH: reason" in err. */
int file_save(const char *path, const void *data, size_t len, mode_t mode,
	      const struct file_owner *owner, char err[FILE_ERR_MAX]);

/* Remove the temporary files file_save(path) leaves when killed before its
 * rename (path.tmp.XXXXXX in path's directory).  Only for a caller that
 * knows no file_save of path is under way (it holds the writers' lock).
 * How many were removed, or -1 with "PATH: reason" in err. */
int file_remove_stale_temps(const char *path, char err[FILE_ERR_MAX]);

/* Change detection for a file that is loaded and reloaded.  A state of
 * the file is its stat: a replace, an edit, a chown or a chmod each make
 * a new one (a chown or chmod that makes an unreadable file readable
 * changes nothing else). */
struct file_watch {
	const char *path;		/* borrowed */
	struct stat last;		/* the state last loaded or tried */
	bool have_last;			/* false before the first poll, or while gone */
	bool failed;			/* loading `last` failed */
};

enum file_watch_event {
	FILE_WATCH_SAME,		/* loaded fine and unchanged: nothing to do */
	FILE_WATCH_CHANGED,		/* a new state (or forced): load it, report a failure */
	FILE_WATCH_RETRY,		/* unchanged but its load failed: load again quietly
					 * (the cause may lie outside the file's metadata) */
	FILE_WATCH_GONE,		/* stat failed just now (errno set): report once */
	FILE_WATCH_STILL_GONE,		/* stat keeps failing (errno set) */
};

void file_watch_init(struct file_watch *w, const char *path);
/* Look at the file; `force` makes any state that can be stat'ed CHANGED.
 * On CHANGED and RETRY the new state is recorded before the caller loads,
 * so a change during the load is seen at the next poll. */
enum file_watch_event file_watch_poll(struct file_watch *w, bool force);
/* The outcome of the load that CHANGED or RETRY asked for. */
void file_watch_loaded(struct file_watch *w, bool ok);

#endif
