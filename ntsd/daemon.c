/* daemon: detach, pid file (and its lock), privilege drop, signal masks. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "ntsd/caps.h"
#include "ntsd/daemon.h"

/* Fork; the parent exits, the child goes on.  0 in the child, -1 logged. */
static int fork_away(void)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_errno(LOG_LVL_ERR, "fork");
		return -1;
	}
	if (pid > 0)
		_exit(0);
	return 0;
}

int daemon_detach(void)
{
	int fd;

	if (fork_away() < 0)
		return -1;
	if (setsid() < 0) {
		log_errno(LOG_LVL_ERR, "setsid");
		return -1;
	}
	/* A second fork: the daemon can never reacquire a terminal. */
	if (fork_away() < 0)
		return -1;
	if (chdir("/") < 0)
		log_errno(LOG_LVL_WARN, "chdir /");
	fd = open("/dev/null", O_RDWR);
	if (fd < 0) {
		log_errno(LOG_LVL_ERR, "/dev/null");
		return -1;
	}
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

/* The pid file's own directory (RUNSTATEDIR/ntsd by default): created
 * when missing, where no service manager made it.  Its parent must exist. */
static int pidfile_dir(const char *path)
{
	char dir[4096];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		log_err("%s: pid file path too long", path);
		return -1;
	}
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0)
		log_info("%s: created the pid file's directory", dir);
	else if (errno != EEXIST) {
		log_errno(LOG_LVL_ERR, "%s: cannot create the pid file's directory", dir);
		return -1;
	}
	return 0;
}

/* The pid a held pid file names, for the message; 0 when unreadable. */
static long pidfile_holder(int fd)
{
	char line[32];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	line[n] = '\0';
	errno = 0;
	pid = strtol(line, &end, 10);
	return errno == 0 && end != line && pid > 0 ? pid : 0;
}

int daemon_pidfile_lock(const char *path)
{
	long holder;
	int fd;

	if (pidfile_dir(path) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		log_errno(LOG_LVL_ERR, "%s: cannot open pid file", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		if (ftruncate(fd, 0) == 0)	/* a stale pid is no one's */
			return fd;
		log_errno(LOG_LVL_ERR, "%s: cannot truncate pid file", path);
	} else if (errno == EWOULDBLOCK) {
		holder = pidfile_holder(fd);
		if (holder)
			log_err("%s: locked by a running ntsd (pid %ld): refusing to start a "
				"second one", path, holder);
		else
			log_err("%s: locked by a running ntsd: refusing to start a second one",
				path);
	} else {
		log_errno(LOG_LVL_ERR, "%s: cannot lock pid file", path);
	}
	close(fd);
	return -1;
}

int daemon_pidfile_write(int fd, const char *path)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n) {
		log_errno(LOG_LVL_ERR, "%s: cannot write pid file", path);
		return -1;
	}
	return 0;
}

void daemon_pidfile_remove(int fd, const char *path)
{
	/* After dropping privileges this may fail; the lock goes with the
	 * process, and the next start takes the file over. */
	if (unlink(path) < 0 && errno != ENOENT)
		log_debug("%s: cannot remove pid file: %s", path, strerror(errno));
	close(fd);
}

bool daemon_is_user(const struct passwd *pw)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	return pw->pw_uid != 0 && getresuid(&r, &e, &s) == 0 && getresgid(&rg, &eg, &sg) == 0 &&
	       r == pw->pw_uid && e == pw->pw_uid && s == pw->pw_uid && rg == pw->pw_gid &&
	       eg == pw->pw_gid && sg == pw->pw_gid;
}

int daemon_drop_privileges(const char *user, uint64_t keep_caps)
{
	struct passwd *pw;

	errno = 0;
	/* cppcheck-suppress getpwnamCalled ; only the main thread looks users up,
	 * so no other thread can overwrite getpwnam's static result. */
	pw = getpwnam(user);
	if (!pw) {
		if (errno)
			log_errno(LOG_LVL_ERR, "user %s", user);
		else
			log_err("user %s: no such user", user);
		return -1;
	}
	if (daemon_is_user(pw)) {
		/* Started as that user (ntsd.service's User=): nothing to drop. */
		log_info("running as user %s (uid %u, gid %u) already", user,
			 (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
		return 0;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0) {
		log_errno(LOG_LVL_ERR, "user %s: initgroups", user);
		return -1;
	}
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0) {
		log_errno(LOG_LVL_ERR, "user %s: setresgid %u", user, (unsigned)pw->pw_gid);
		return -1;
	}
	/* Root's capabilities survive the switch only when some are to be
	 * kept, and then only until caps_limit keeps just those. */
	if (keep_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		log_errno(LOG_LVL_ERR, "user %s: PR_SET_KEEPCAPS", user);
		return -1;
	}
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		log_errno(LOG_LVL_ERR, "user %s: setresuid %u", user, (unsigned)pw->pw_uid);
		return -1;
	}
	if (keep_caps) {
		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		if (caps_limit(keep_caps) < 0)
			return -1;
	}
	/* Prove there is no way back. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_err("user %s: could regain root after dropping privileges", user);
		return -1;
	}
	log_info("running as user %s (uid %u, gid %u)", user, (unsigned)pw->pw_uid,
		 (unsigned)pw->pw_gid);
	return 0;
}

void daemon_signals_block(sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, saved);
}

void daemon_signals_restore(const sigset_t *saved)
{
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}
