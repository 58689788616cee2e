/* daemon: the process plumbing of ntsd: detach, pid file, dropping
 * privileges.  0 / -1 returns; failures are logged with the file or user
 * involved. */
#ifndef NTSD_DAEMON_H
#define NTSD_DAEMON_H

#include <pwd.h>
#include <stdint.h>
#include <signal.h>
#include <stdbool.h>

/* Fork into the background, new session, stdio on /dev/null. */
int daemon_detach(void);
/* Open path (created 0644) and take an exclusive lock on it for the life
 * of the process (the lock survives daemon_detach's forks): the fd, or -1
 * when another process holds it (logged with its pid: a second ntsd must
 * not start) or the file cannot be opened.  The file is emptied. */
int daemon_pidfile_lock(const char *path);
/* Write our pid into the locked file fd (path for messages). */
int daemon_pidfile_write(int fd, const char *path);
/* Unlink path and close fd (which releases the lock). */
void daemon_pidfile_remove(int fd, const char *path);
/* Switch to user (supplementary groups, gid, uid) for good: afterwards
 * regaining root must fail, which is checked.  A process that already
 * runs as that user and group (a unit's User=) keeps running as it.
 * Root's capabilities in keep_caps (a CAPS_BIT mask, ntsd/caps.h) are
 * kept across the switch, and no others. */
int daemon_drop_privileges(const char *user, uint64_t keep_caps);
/* True when every uid and gid of this process are pw's (and not root). */
bool daemon_is_user(const struct passwd *pw);
/* Block every signal the main loop handles, so the service threads
 * started next inherit the mask; daemon_signals_restore undoes it. */
void daemon_signals_block(sigset_t *saved);
void daemon_signals_restore(const sigset_t *saved);

#endif
