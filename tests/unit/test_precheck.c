/* unit tests for precheck (ntsd -n): it used to pass for a user that does
 * not exist and for a key-file directory that does not exist, and the
 * real start failed after it.  As root, the run-user checks run in a child
 * that becomes user nobody; as another user they say it cannot switch. */
#include "build_config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "ntsd/precheck.h"
#include "unit.h"

#define RUN_USER "nobody"

static char dir[64];
static char keydir[96], keyfile[128], piddir[96], pidfile[128];
static char out_text[4096], err_text[4096];

static int precheck_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ntsd-precheck-test.XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
		return -1;
	snprintf(keydir, sizeof(keydir), "%s/state", dir);
	snprintf(keyfile, sizeof(keyfile), "%s/keys", keydir);
	snprintf(piddir, sizeof(piddir), "%s/run", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/ntsd.pid", piddir);
	return mkdir(keydir, 0700) == 0 && mkdir(piddir, 0755) == 0 ? 0 : -1;
}

static int precheck_cleanup(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void slurp(FILE *f, char *text, size_t n)
{
	size_t got;

	rewind(f);
	got = fread(text, 1, n - 1, f);
	text[got] = '\0';
	fclose(f);
}

/* precheck_run on a config with these paths and user; the messages in
 * out_text and err_text. */
static int run(const char *user, const char *key_file, const char *pid_file)
{
	struct config c;
	FILE *out = tmpfile(), *err = tmpfile();
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	memset(&c, 0, sizeof(c));
	c.user = (char *)user;
	c.key_file = (char *)key_file;
	c.pid_file = (char *)pid_file;
	rc = precheck_run(&c, out, err);
	slurp(out, out_text, sizeof(out_text));
	slurp(err, err_text, sizeof(err_text));
	return rc;
}

static void put_key_file(mode_t mode)
{
	FILE *f = fopen(keyfile, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("x\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(chmod(keyfile, mode), 0);
}

static void test_precheck_ok(void)
{
	CU_ASSERT_EQUAL(run(NULL, keyfile, pidfile), 0);
	CU_ASSERT_STRING_EQUAL(err_text, "");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "pid-file"));
	/* A missing last directory of the pid file: ntsd creates it. */
	snprintf(pidfile, sizeof(pidfile), "%s/run/sub/ntsd.pid", dir);
	CU_ASSERT_EQUAL(run(NULL, keyfile, pidfile), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "ntsd creates"));
	snprintf(pidfile, sizeof(pidfile), "%s/ntsd.pid", piddir);
	/* pid-file none */
	CU_ASSERT_EQUAL(run(NULL, keyfile, NULL), 0);
}

static void test_precheck_missing_user(void)
{
	CU_ASSERT_EQUAL(run("ntsd-precheck-no-such-user", keyfile, pidfile), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "ntsd-precheck-no-such-user: no such user"));
}

static void test_precheck_missing_key_dir(void)
{
	char missing[160];

	snprintf(missing, sizeof(missing), "%s/no-such-dir/keys", dir);
	CU_ASSERT_EQUAL(run(NULL, missing, pidfile), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "no-such-dir: No such file or directory"));
}

static void test_precheck_pid_dir(void)
{
	CU_ASSERT_EQUAL(run(NULL, keyfile, "/nonexistent-ntsd-test/a/ntsd.pid"), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "pid-file /nonexistent-ntsd-test/a/ntsd.pid: "
						"cannot create its directory"));
}

/* The run user cannot reach the key file: the start would load it as
 * root, then fail every re-read after dropping privileges. */
static void test_precheck_run_user(void)
{
	struct passwd *pw = getpwnam(RUN_USER);

	CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
	if (geteuid() != 0) {
		CU_ASSERT_EQUAL(run(RUN_USER, keyfile, pidfile), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "cannot switch to that user"));
		return;
	}
	/* Directory root's, mode 0700. */
	CU_ASSERT_EQUAL(run(RUN_USER, keyfile, pidfile), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "not usable by user " RUN_USER));
	/* The directory the user's, the file root's, mode 0600. */
	CU_ASSERT_EQUAL_FATAL(chown(keydir, pw->pw_uid, pw->pw_gid), 0);
	put_key_file(0600);
	CU_ASSERT_EQUAL(run(RUN_USER, keyfile, pidfile), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "not readable by user " RUN_USER));
	/* Both the user's: OK, and so is a key file still to be created. */
	CU_ASSERT_EQUAL_FATAL(chown(keyfile, pw->pw_uid, pw->pw_gid), 0);
	CU_ASSERT_EQUAL(run(RUN_USER, keyfile, pidfile), 0);
	CU_ASSERT_STRING_EQUAL(err_text, "");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "user " RUN_USER ": can read the key file"));
	CU_ASSERT_EQUAL(unlink(keyfile), 0);
	CU_ASSERT_EQUAL(run(RUN_USER, keyfile, pidfile), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "key file ntsd will create"));
	CU_ASSERT_EQUAL(chown(keydir, 0, 0), 0);
}

UNIT_SUITE(precheck, precheck_setup, precheck_cleanup,
	   UNIT_TEST(test_precheck_ok),
	   UNIT_TEST(test_precheck_missing_user),
	   UNIT_TEST(test_precheck_missing_key_dir),
	   UNIT_TEST(test_precheck_pid_dir),
	   UNIT_TEST(test_precheck_run_user))
