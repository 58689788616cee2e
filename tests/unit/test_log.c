/* unit tests for log: level names, the stderr line format, errno and
 * OpenSSL helpers, and the rate limiter. */
#include "build_config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "unit.h"

/* stderr goes to a temporary file while a test captures it. */
static int saved_stderr = -1;
static FILE *capture_file;

static void capture_begin(void)
{
	capture_file = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(capture_file);
	saved_stderr = dup(STDERR_FILENO);
	CU_ASSERT_FATAL(saved_stderr >= 0);
	CU_ASSERT_FATAL(dup2(fileno(capture_file), STDERR_FILENO) >= 0);
	/* Not a terminal: no timestamp, so lines are predictable. */
	log_init("ntsd-test", LOG_TO_STDERR, LOG_LVL_INFO);
}

/* Returns what was written (free it) and restores stderr. */
static char *capture_end(void)
{
	long n;
	char *s;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fseek(capture_file, 0, SEEK_END);
	n = ftell(capture_file);
	rewind(capture_file);
	s = calloc(1, (size_t)n + 1);
	if (s && n > 0 && fread(s, 1, (size_t)n, capture_file) != (size_t)n)
		s[0] = '\0';
	fclose(capture_file);
	log_init("ntsd", LOG_TO_STDERR, LOG_LVL_INFO);
	return s;
}

static void test_level_parse(void)
{
	CU_ASSERT_EQUAL(log_level_parse("error"), LOG_LVL_ERR);
	CU_ASSERT_EQUAL(log_level_parse("warning"), LOG_LVL_WARN);
	CU_ASSERT_EQUAL(log_level_parse("notice"), LOG_LVL_NOTICE);
	CU_ASSERT_EQUAL(log_level_parse("info"), LOG_LVL_INFO);
	CU_ASSERT_EQUAL(log_level_parse("debug"), LOG_LVL_DEBUG);
	CU_ASSERT_EQUAL(log_level_parse("warn"), -1);
	CU_ASSERT_EQUAL(log_level_parse("INFO"), -1);
	CU_ASSERT_EQUAL(log_level_parse(""), -1);
	CU_ASSERT_EQUAL(log_level_parse("debug2"), -1);
	CU_ASSERT_EQUAL(log_level_parse(NULL), -1);
}

static void test_levels(void)
{
	enum log_level old = log_get_level();

	log_set_level(LOG_LVL_WARN);
	CU_ASSERT_EQUAL(log_get_level(), LOG_LVL_WARN);
	CU_ASSERT_TRUE(log_enabled(LOG_LVL_ERR));
	CU_ASSERT_TRUE(log_enabled(LOG_LVL_WARN));
	CU_ASSERT_FALSE(log_enabled(LOG_LVL_NOTICE));
	CU_ASSERT_FALSE(log_enabled(LOG_LVL_DEBUG));
	log_set_level(LOG_LVL_DEBUG);
	CU_ASSERT_TRUE(log_enabled(LOG_LVL_DEBUG));
	/* Out of range is clamped. */
	log_set_level((enum log_level)42);
	CU_ASSERT_EQUAL(log_get_level(), LOG_LVL_DEBUG);
	log_set_level(old);
}

static void test_stderr_format(void)
{
	char want[256];
	char *out;

	capture_begin();
	log_info("hello %d", 5);
	log_debug("not shown %d", 6);
	log_err("bad %s", "thing");
	log_warn("peer said \"%s\"", "a\nb\x1b[0m");
	out = capture_end();
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	snprintf(want, sizeof(want),
		 "ntsd-test[%ld]: info: hello 5\n"
		 "ntsd-test[%ld]: error: bad thing\n"
		 "ntsd-test[%ld]: warning: peer said \"a?b?[0m\"\n",
		 (long)getpid(), (long)getpid(), (long)getpid());
	CU_ASSERT_STRING_EQUAL(out, want);
	free(out);
}

static void test_errno(void)
{
	char want[256];
	char *out;

	capture_begin();
	errno = ENOENT;
	log_errno(LOG_LVL_ERR, "open %s", "/x");
	/* errno survives the call. */
	CU_ASSERT_EQUAL(errno, ENOENT);
	out = capture_end();
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	snprintf(want, sizeof(want), "ntsd-test[%ld]: error: open /x: No such file or directory\n",
		 (long)getpid());
	CU_ASSERT_STRING_EQUAL(out, want);
	free(out);
}

static void test_long_line(void)
{
	char *big = malloc(5000);
	char *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	capture_begin();
	log_notice("%s", big);
	log_notice("after");
	out = capture_end();
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	/* Truncated, but still one line followed by the next. */
	CU_ASSERT_TRUE(strlen(out) < 2000);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "xxx\nntsd-test["));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ": notice: after\n"));
	free(out);
	free(big);
}

static void test_openssl(void)
{
	char *out;

	capture_begin();
	ERR_raise_data(ERR_LIB_EVP, EVP_R_UNSUPPORTED_ALGORITHM, "name=%s", "nope");
	ERR_raise(ERR_LIB_EVP, EVP_R_BAD_DECRYPT);
	log_openssl(LOG_LVL_ERR, "loading key");
	CU_ASSERT_EQUAL(ERR_peek_error(), 0);
	/* Below the level: nothing printed, yet the queue is drained. */
	ERR_raise(ERR_LIB_EVP, EVP_R_BAD_DECRYPT);
	log_openssl(LOG_LVL_DEBUG, "hidden");
	CU_ASSERT_EQUAL(ERR_peek_error(), 0);
	/* Nothing queued: still one line saying so. */
	log_openssl(LOG_LVL_WARN, "handshake");
	out = capture_end();
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ": error: loading key: error:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(name=nope)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bad decrypt\n"));
	CU_ASSERT_PTR_NULL(strstr(out, "hidden"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ": warning: handshake: failed (no OpenSSL error queued)\n"));
	free(out);
}

static void test_ratelimit_burst(void)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(3, 3600);

	CU_ASSERT_TRUE(log_ratelimit_ok(&rl));
	CU_ASSERT_TRUE(log_ratelimit_ok(&rl));
	CU_ASSERT_TRUE(log_ratelimit_ok(&rl));
	for (int i = 0; i < 100; i++)
		CU_ASSERT_FALSE(log_ratelimit_ok(&rl));
	/* The window has passed (moved back rather than sleeping). */
	atomic_store(&rl.window_start, atomic_load(&rl.window_start) - 3600);
	CU_ASSERT_TRUE(log_ratelimit_ok(&rl));
	CU_ASSERT_TRUE(log_ratelimit_ok(&rl));
	CU_ASSERT_TRUE(log_ratelimit_ok(&rl));
	CU_ASSERT_FALSE(log_ratelimit_ok(&rl));
	/* Not yet passed: still blocked. */
	atomic_store(&rl.window_start, atomic_load(&rl.window_start) - 3599);
	CU_ASSERT_FALSE(log_ratelimit_ok(&rl));
}

static void test_ratelimit_zero_burst(void)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(0, 60);

	for (int i = 0; i < 10; i++)
		CU_ASSERT_FALSE(log_ratelimit_ok(&rl));
}

static void test_log_limited(void)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(2, 3600);
	char *out;
	size_t lines = 0;

	capture_begin();
	for (int i = 0; i < 10; i++)
		log_limited(&rl, LOG_LVL_WARN, "flood %d", i);
	out = capture_end();
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	CU_ASSERT_EQUAL(lines, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "flood 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "flood 1\n"));
	free(out);
}

#define RL_THREADS 4
#define RL_CALLS 2000
#define RL_BURST 100

static void *ratelimit_worker(void *arg)
{
	struct log_ratelimit *rl = arg;
	size_t ok = 0;

	for (int i = 0; i < RL_CALLS; i++)
		ok += log_ratelimit_ok(rl);
	return (void *)ok;
}

static void test_ratelimit_threads(void)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(RL_BURST, 3600);
	pthread_t t[RL_THREADS];
	size_t total = 0;

	/* Open the window first; within it, exactly `burst` calls pass no
	 * matter how many threads race. */
	CU_ASSERT_TRUE(log_ratelimit_ok(&rl));
	for (int i = 0; i < RL_THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, ratelimit_worker, &rl), 0);
	for (int i = 0; i < RL_THREADS; i++) {
		void *r;

		pthread_join(t[i], &r);
		total += (size_t)r;
	}
	CU_ASSERT_EQUAL(total, RL_BURST - 1);
}

UNIT_SUITE(log, NULL, NULL,
	UNIT_TEST(test_level_parse),
	UNIT_TEST(test_levels),
	UNIT_TEST(test_stderr_format),
	UNIT_TEST(test_errno),
	UNIT_TEST(test_long_line),
	UNIT_TEST(test_openssl),
	UNIT_TEST(test_ratelimit_burst),
	UNIT_TEST(test_ratelimit_zero_burst),
	UNIT_TEST(test_log_limited),
	UNIT_TEST(test_ratelimit_threads))
