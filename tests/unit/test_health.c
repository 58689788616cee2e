/* unit tests for health: each rule of the /health verdict, its reason,
 * the order the rules apply in, and NTP-only / NTS-KE-only hosts. */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "ntsd/health.h"
#include "unit.h"

/* Both services, synchronised clock, keys, certificate valid 30 days. */
static struct health_input fit(void)
{
	struct health_input in;

	memset(&in, 0, sizeof(in));
	in.ntp_enabled = true;
	in.ke_enabled = true;
	in.running = true;
	in.clock_synchronised = true;
	in.local_stratum = false;
	in.n_keys = 3;
	in.key_file_ok = true;
	in.cert_expiry_s = 30 * 86400;
	return in;
}

static void expect(const struct health_input *in, bool healthy, const char *reason)
{
	char buf[256];

	memset(buf, 'x', sizeof(buf));
	CU_ASSERT_EQUAL(health_check(in, buf, sizeof(buf)), healthy);
	CU_ASSERT_STRING_EQUAL(buf, reason);
	CU_ASSERT_PTR_NULL(strchr(buf, '\n'));
}

static void test_healthy(void)
{
	struct health_input in = fit();

	expect(&in, true, "ok");
	/* One second of validity left is still valid. */
	in.cert_expiry_s = 1;
	expect(&in, true, "ok");
	in.n_keys = 1;
	expect(&in, true, "ok");
}

static void test_not_running(void)
{
	struct health_input in = fit();

	in.running = false;
	expect(&in, false, "services not running");
}

/* SIGTERM with shutdown-drain: unfit however well the rest is. */
static void test_draining(void)
{
	struct health_input in = fit();

	in.draining = true;
	expect(&in, false, "shutting down: draining (shutdown-drain)");
	in.n_keys = 0;
	expect(&in, false, "shutting down: draining (shutdown-drain)");
	in.running = false;
	expect(&in, false, "services not running");
}

static void test_clock(void)
{
	struct health_input in = fit();

	in.clock_synchronised = false;
	expect(&in, false, "system clock not synchronised (and local-stratum is off)");
	/* local-stratum: the operator vouches for the clock. */
	in.local_stratum = true;
	expect(&in, true, "ok");
	/* An NTS-KE-only host serves no time: the clock does not matter. */
	in.local_stratum = false;
	in.ntp_enabled = false;
	expect(&in, true, "ok");
}

/* clock-source ntp: a synchronised source is what replies carry, whatever
 * the kernel says; in a fallback the kernel's rules decide; /health names
 * the source's state either way. */
static void test_clock_source(void)
{
	struct health_input in = fit();

	snprintf(in.clock_source, sizeof(in.clock_source), "127.0.0.1:11123");
	in.clock_source_state = "synchronised";
	in.clock_source_serving = true;
	in.clock_synchronised = false;
	expect(&in, true, "ok; clock-source 127.0.0.1:11123 synchronised");
	in.clock_source_state = "unreachable";
	in.clock_source_serving = false;
	expect(&in, false, "system clock not synchronised (and local-stratum is off); "
	       "clock-source 127.0.0.1:11123 unreachable, serving the kernel's state");
	in.local_stratum = true;
	expect(&in, true, "ok; clock-source 127.0.0.1:11123 unreachable, serving the kernel's "
	       "state");
	in.local_stratum = false;
	in.clock_synchronised = true;
	in.clock_source_state = "unsynchronised";
	expect(&in, true, "ok; clock-source 127.0.0.1:11123 unsynchronised, serving the kernel's "
	       "state");
	/* An NTS-KE-only host polls nothing. */
	in.ntp_enabled = false;
	expect(&in, true, "ok");
}

static void test_keys(void)
{
	struct health_input in = fit();

	in.n_keys = 0;
	expect(&in, false, "no master keys loaded");
	in.n_keys = 2;
	in.key_file_ok = false;
	expect(&in, false, "key file missing or invalid (serving the last good key set)");
	/* Keys matter to an NTP-only host too (it opens cookies). */
	in.ke_enabled = false;
	expect(&in, false, "key file missing or invalid (serving the last good key set)");
}

#define STALE_1D "key file stale: newest key 86401 s old, over key-max-age 86400 s " \
	"(rotations stopped reaching this host)"

/* key-max-age: a newest key older than it means this host was left behind
 * the fleet's rotations. */
static void test_keys_stale(void)
{
	struct health_input in = fit();

	in.newest_key_age_s = 400 * 86400;
	expect(&in, true, "ok");	/* key-max-age off */
	in.key_max_age_s = 86400;
	expect(&in, false, "key file stale: newest key 34560000 s old, over key-max-age 86400 s "
	       "(rotations stopped reaching this host)");
	in.newest_key_age_s = 86400;	/* at the limit: still fresh */
	expect(&in, true, "ok");
	in.newest_key_age_s = 86401;
	expect(&in, false, STALE_1D);
	/* A key dated ahead of our clock is not stale. */
	in.newest_key_age_s = -30;
	expect(&in, true, "ok");
	/* An NTP-only host NAKs the fleet's newer cookies: stale too. */
	in.newest_key_age_s = 86401;
	in.ke_enabled = false;
	expect(&in, false, STALE_1D);
	/* A key file that did not load says so first; a stale one before an
	 * expired certificate. */
	in.ke_enabled = true;
	in.cert_expiry_s = -1;
	expect(&in, false, STALE_1D);
	in.key_file_ok = false;
	expect(&in, false, "key file missing or invalid (serving the last good key set)");
}

static void test_certificate(void)
{
	struct health_input in = fit();

	in.cert_expiry_s = 0;	/* at notAfter: no longer valid */
	expect(&in, false, "certificate expired 0 s ago");
	in.cert_expiry_s = -3600;
	expect(&in, false, "certificate expired 3600 s ago");
	in.cert_expiry_s = INT64_MIN + 1;
	expect(&in, false, "certificate expired 9223372036854775807 s ago");
	in.cert_expiry_s = INT64_MIN;
	expect(&in, false, "certificate expired 9223372036854775807 s ago");
	/* No NTS-KE here: no certificate to check. */
	in.ke_enabled = false;
	expect(&in, true, "ok");
}

static void test_first_reason_wins(void)
{
	struct health_input in = fit();

	in.cert_expiry_s = -1;
	in.n_keys = 0;
	in.clock_synchronised = false;
	expect(&in, false, "system clock not synchronised (and local-stratum is off)");
	in.clock_synchronised = true;
	expect(&in, false, "no master keys loaded");
	in.n_keys = 1;
	expect(&in, false, "certificate expired 1 s ago");
	in.running = false;
	expect(&in, false, "services not running");
}

static void test_small_buffer(void)
{
	struct health_input in = fit();
	char buf[8];

	in.n_keys = 0;
	CU_ASSERT_FALSE(health_check(&in, buf, sizeof(buf)));
	CU_ASSERT_STRING_EQUAL(buf, "no mast");
}

UNIT_SUITE(health, NULL, NULL,
	UNIT_TEST(test_healthy),
	UNIT_TEST(test_not_running),
	UNIT_TEST(test_draining),
	UNIT_TEST(test_clock),
	UNIT_TEST(test_clock_source),
	UNIT_TEST(test_keys),
	UNIT_TEST(test_keys_stale),
	UNIT_TEST(test_certificate),
	UNIT_TEST(test_first_reason_wins),
	UNIT_TEST(test_small_buffer))
