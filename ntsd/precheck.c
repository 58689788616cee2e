/* precheck: what `ntsd -n` checks beyond the files' contents, by the
 * process that will use them: the starting process for the pid file and
 * for creating the key file, the run user for what is read after the
 * privilege drop (in a child that drops to that user, when it differs). */
#include "build_config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "ntsd/daemon.h"
#include "ntsd/precheck.h"
#include "ntsd/sandbox.h"

#define PRECHECK_PATH_MAX 4096

/* The directory part of path ("." for a bare name, "/" for "/x"). */
static void dir_of(const char *path, char dir[PRECHECK_PATH_MAX])
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		snprintf(dir, PRECHECK_PATH_MAX, ".");
		return;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	snprintf(dir, PRECHECK_PATH_MAX, "%.*s", (int)n, path);
}

/* The run user exists and this process can become it.  *as_user: the
 * run-user checks need a child that drops to it. */
static int check_user(const struct config *cfg, FILE *out, FILE *err, bool *as_user)
{
	struct passwd *pw;

	*as_user = false;
	if (!cfg->user)
		return 0;
	errno = 0;
	/* cppcheck-suppress getpwnamCalled ; ntsd -n runs no other thread. */
	pw = getpwnam(cfg->user);
	if (!pw) {
		fprintf(err, "user %s: %s\n", cfg->user,
			errno ? strerror(errno)
			      : "no such user; create it as a system user (ntsd-setup.service does)");
		return -1;
	}
	if (daemon_is_user(pw)) {
		fprintf(out, "user %s: running as that user already\n", cfg->user);
		return 0;
	}
	if (geteuid() != 0) {
		fprintf(err, "user %s: ntsd runs as uid %u and cannot switch to that user; "
			"start it as root or as %s\n", cfg->user, (unsigned)geteuid(), cfg->user);
		return -1;
	}
	fprintf(out, "user %s: OK (uid %u, gid %u)\n", cfg->user, (unsigned)pw->pw_uid,
		(unsigned)pw->pw_gid);
	*as_user = true;
	return 0;
}

/* Written by the starting process, before the privilege drop; ntsd
 * creates a missing last directory. */
static int check_pid_file(const struct config *cfg, FILE *out, FILE *err)
{
	char dir[PRECHECK_PATH_MAX], parent[PRECHECK_PATH_MAX];

	if (!cfg->pid_file)
		return 0;
	dir_of(cfg->pid_file, dir);
	if (access(dir, F_OK) < 0 && errno == ENOENT) {
		dir_of(dir, parent);
		if (access(parent, W_OK | X_OK) < 0) {
			fprintf(err, "pid-file %s: cannot create its directory %s: %s: %s\n",
				cfg->pid_file, dir, parent, strerror(errno));
			return -1;
		}
		fprintf(out, "pid-file %s: OK (ntsd creates %s)\n", cfg->pid_file, dir);
		return 0;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		fprintf(err, "pid-file %s: cannot write in %s: %s\n", cfg->pid_file, dir,
			strerror(errno));
		return -1;
	}
	fprintf(out, "pid-file %s: OK\n", cfg->pid_file);
	return 0;
}

/* The key file's directory exists; a missing key file can be created
 * there by the starting process (an existing one is loaded by the caller). */
static int check_key_dir(const struct config *cfg, FILE *err)
{
	char dir[PRECHECK_PATH_MAX];

	dir_of(cfg->key_file, dir);
	if (access(dir, F_OK) < 0) {
		fprintf(err, "key-file %s: directory %s: %s; create it owned by user %s, "
			"mode 0700 (ntsd-setup.service does)\n", cfg->key_file, dir,
			strerror(errno), cfg->user ? cfg->user : "ntsd runs as");
		return -1;
	}
	if (access(cfg->key_file, F_OK) < 0 && errno == ENOENT &&
	    access(dir, W_OK | X_OK) < 0) {
		fprintf(err, "key-file %s: does not exist and cannot be created in %s: %s\n",
			cfg->key_file, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* As the run user: the key file is re-read after the privilege drop (a
 * failure there leaves /health at 503 and rotations unseen); so are the
 * certificate and key, but only on a reload (a warning). */
static int check_run_user_files(const struct config *cfg, FILE *out, FILE *err)
{
	const char *tls[] = { cfg->ke_enabled ? cfg->ke_certificate : NULL,
			      cfg->ke_enabled ? cfg->ke_private_key : NULL };
	char dir[PRECHECK_PATH_MAX];
	int rc = 0;

	dir_of(cfg->key_file, dir);
	if (access(dir, X_OK) < 0) {
		fprintf(err, "key-file %s: directory %s not usable by user %s: %s; "
			"give it to that user (chown %s %s)\n", cfg->key_file, dir, cfg->user,
			strerror(errno), cfg->user, dir);
		rc = -1;
	} else if (access(cfg->key_file, R_OK) < 0 && errno != ENOENT) {
		fprintf(err, "key-file %s: not readable by user %s: %s; ntsd re-reads it as "
			"that user (chown %s %s)\n", cfg->key_file, cfg->user, strerror(errno),
			cfg->user, cfg->key_file);
		rc = -1;
	}
	for (size_t i = 0; i < sizeof(tls) / sizeof(tls[0]); i++)
		if (tls[i] && access(tls[i], R_OK) < 0)
			fprintf(err, "warning: %s: not readable by user %s (%s): ntsd reads it "
				"at start, but a reload (a renewed certificate) will fail; "
				"see certs/README.md\n", tls[i], cfg->user, strerror(errno));
	if (rc == 0)
		fprintf(out, "user %s: can read the key file%s\n", cfg->user,
			access(cfg->key_file, F_OK) == 0 ? "" : " ntsd will create");
	return rc;
}

/* check_run_user_files in a child that has become the run user. */
static int as_run_user(const struct config *cfg, FILE *out, FILE *err)
{
	pid_t pid;
	int status;

	fflush(out);
	fflush(err);
	pid = fork();
	if (pid < 0) {
		fprintf(err, "user %s: fork: %s\n", cfg->user, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int rc;

		log_set_level(LOG_LVL_WARN);	/* not "running as user ..." */
		rc = daemon_drop_privileges(cfg->user, 0) < 0 ? -1
							   : check_run_user_files(cfg, out, err);
		fflush(out);
		fflush(err);
		_exit(rc < 0 ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(err, "user %s: waitpid: %s\n", cfg->user, strerror(errno));
			return -1;
		}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int precheck_run(const struct config *cfg, FILE *out, FILE *err)
{
	bool as_user;
	int rc = 0;

	if (check_user(cfg, out, err, &as_user) < 0)
		return -1;
	if (check_pid_file(cfg, out, err) < 0)
		rc = -1;
	if (check_key_dir(cfg, err) < 0)
		return -1;
	if (as_user && as_run_user(cfg, out, err) < 0)
		rc = -1;
	if (sandbox_describe(cfg->sandbox, out, err) < 0)
		rc = -1;
	return rc;
}
