/* unit tests for the PHC-to-system-time model (ntpd/phc.h): the choice
 * of a sample among readings, the regression (offset and frequency), the
 * conversion and its span, outliers and steps, and the publication to
 * the workers.  Synthetic samples stand in for /dev/ptpN: the machine
 * that runs make check has no NIC with a PHC. */
#include "build_config.h"

#include <stdint.h>
#include <string.h>

#include "ntpd/phc.h"
#include "unit.h"

#define SEC INT64_C(1000000000)
/* The PHC counts from boot (as most NICs' do after a reset), the system
 * clock from 1970: the offset between them is large. */
#define P0 (INT64_C(5000) * SEC)
#define OFF (INT64_C(1764720000) * SEC - P0)
/* The PHC runs 50 ppm slow against the system clock. */
#define FREQ 50e-6

/* Where the system clock is at PHC time phc, in the synthetic world. */
static int64_t truth(int64_t phc, int64_t off, double freq)
{
	double d = freq * (double)(phc - P0);

	return phc + off + (int64_t)(d >= 0 ? d + 0.5 : d - 0.5);
}

/* Deterministic noise in [-amp, amp] ns. */
static int64_t noise(unsigned i, int64_t amp)
{
	uint32_t x = i * 2654435761U;

	x ^= x >> 15;
	return (int64_t)(x % (uint32_t)(2 * amp + 1)) - amp;
}

/* Sample i of a clock pair one second apart each, with noise. */
static struct phc_sample sample(unsigned i, int64_t off, double freq, int64_t amp)
{
	struct phc_sample s;

	s.phc = P0 + (int64_t)i * SEC + noise(i + 1000, 3000);
	s.sys = truth(s.phc, off, freq) + noise(i, amp);
	s.delay_ns = 2 * amp;
	return s;
}

static void feed(struct phc_model *m, unsigned from, unsigned to, int64_t off, double freq)
{
	for (unsigned i = from; i < to; i++) {
		struct phc_sample s = sample(i, off, freq, 200);

		CU_ASSERT_EQUAL(phc_model_add(m, &s), PHC_ADD_OK);
	}
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

static void test_choose_sample(void)
{
	const struct phc_reading r[] = {
		{ 1000, 50000, 6000 },		/* delay 5000 */
		{ 20000, 70000, 20800 },	/* delay 800: the tightest */
		{ 30000, 80000, 29000 },	/* negative: the system clock stepped */
		{ 40000, 90000, 40000 + PHC_MAX_DELAY_NS + 1 },
		{ 50000, 95000, 51000 },	/* delay 1000 */
	};
	struct phc_sample s;

	CU_ASSERT_TRUE_FATAL(phc_choose_sample(r, 5, &s));
	CU_ASSERT_EQUAL(s.phc, 70000);
	CU_ASSERT_EQUAL(s.sys, 20400);
	CU_ASSERT_EQUAL(s.delay_ns, 800);
	/* Only the unusable ones: none. */
	CU_ASSERT_FALSE(phc_choose_sample(r + 2, 2, &s));
	CU_ASSERT_FALSE(phc_choose_sample(r, 0, &s));
	/* A delay of exactly the limit, and of zero, are usable. */
	{
		const struct phc_reading e[] = { { 0, 7, PHC_MAX_DELAY_NS }, { 9, 8, 9 } };

		CU_ASSERT_TRUE(phc_choose_sample(e, 1, &s));
		CU_ASSERT_EQUAL(s.sys, PHC_MAX_DELAY_NS / 2);
		CU_ASSERT_TRUE(phc_choose_sample(e, 2, &s));
		CU_ASSERT_EQUAL(s.phc, 8);
		CU_ASSERT_EQUAL(s.delay_ns, 0);
	}
}

static void test_readings_interleaved(void)
{
	const int64_t t[] = { 10, 15, 20, 26, 30 };
	struct phc_reading r[2];

	phc_readings_from_interleaved(t, 2, r);
	CU_ASSERT_EQUAL(r[0].sys_before, 10);
	CU_ASSERT_EQUAL(r[0].phc, 15);
	CU_ASSERT_EQUAL(r[0].sys_after, 20);
	CU_ASSERT_EQUAL(r[1].sys_before, 20);
	CU_ASSERT_EQUAL(r[1].phc, 26);
	CU_ASSERT_EQUAL(r[1].sys_after, 30);
}

static void test_needs_samples(void)
{
	struct phc_model m;
	struct phc_fit f;
	int64_t sys = 42;

	phc_model_init(&m);
	phc_model_fit(&m, &f);
	CU_ASSERT_FALSE(f.valid);
	feed(&m, 0, PHC_MIN_SAMPLES - 1, OFF, FREQ);
	phc_model_fit(&m, &f);
	CU_ASSERT_FALSE(f.valid);
	CU_ASSERT_FALSE(phc_fit_convert(&f, P0 + SEC, &sys));
	CU_ASSERT_EQUAL(sys, 42);
	feed(&m, PHC_MIN_SAMPLES - 1, PHC_MIN_SAMPLES, OFF, FREQ);
	phc_model_fit(&m, &f);
	CU_ASSERT_TRUE(f.valid);
	CU_ASSERT_TRUE(phc_fit_convert(&f, P0 + SEC, &sys));
}

/* Offset and frequency recovered from noisy samples, across the ring's
 * wrap; conversions within a microsecond of the truth. */
static void test_offset_and_frequency(void)
{
	struct phc_model m;
	struct phc_fit f;
	int64_t sys, phc;

	phc_model_init(&m);
	feed(&m, 0, 40, OFF, FREQ);
	CU_ASSERT_EQUAL(m.n, PHC_MAX_SAMPLES);
	phc_model_fit(&m, &f);
	CU_ASSERT_TRUE_FATAL(f.valid);
	CU_ASSERT_DOUBLE_EQUAL(f.freq, FREQ, 0.05e-6);
	CU_ASSERT_TRUE(f.spread_ns <= 400);
	/* Within the samples, and extrapolated almost to the limit. */
	for (phc = P0 + 25 * SEC; phc < P0 + 39 * SEC + PHC_MAX_EXTRAPOLATE_NS; phc += SEC / 3) {
		CU_ASSERT_TRUE_FATAL(phc_fit_convert(&f, phc, &sys));
		CU_ASSERT_TRUE(abs64(sys - truth(phc, OFF, FREQ)) < 1000);
	}
	/* The frequency changes (a temperature change): followed. */
	{
		int64_t off2 = truth(P0 + 40 * SEC, OFF, FREQ) - (P0 + 40 * SEC) -
			       (int64_t)(-20e-6 * 40 * (double)SEC);

		/* A 70 ppm change is 70 us a second: past PHC_MAX_ERROR_NS,
		 * so the model starts over after PHC_STEP_CONFIRM samples. */
		for (unsigned i = 40; i < 40 + PHC_STEP_CONFIRM + PHC_MIN_SAMPLES + 2; i++) {
			struct phc_sample s = sample(i, off2, -20e-6, 200);

			phc_model_add(&m, &s);
		}
		phc_model_fit(&m, &f);
		CU_ASSERT_TRUE_FATAL(f.valid);
		CU_ASSERT_DOUBLE_EQUAL(f.freq, -20e-6, 0.2e-6);
		phc = P0 + 50 * SEC;
		CU_ASSERT_TRUE(phc_fit_convert(&f, phc, &sys));
		CU_ASSERT_TRUE(abs64(sys - truth(phc, off2, -20e-6)) < 1000);
	}
}

/* A slow drift of the frequency (0.5 ppm over the window) stays within
 * the fit's error bound: no restart. */
static void test_small_drift_kept(void)
{
	struct phc_model m;
	struct phc_fit f;

	phc_model_init(&m);
	for (unsigned i = 0; i < 30; i++) {
		struct phc_sample s = sample(i, OFF, FREQ + 0.5e-6 * i / 16.0, 200);

		CU_ASSERT_EQUAL(phc_model_add(&m, &s), PHC_ADD_OK);
	}
	phc_model_fit(&m, &f);
	CU_ASSERT_TRUE(f.valid);
}

static void test_span(void)
{
	struct phc_model m;
	struct phc_fit f;
	int64_t sys;

	phc_model_init(&m);
	feed(&m, 0, 8, OFF, FREQ);
	phc_model_fit(&m, &f);
	CU_ASSERT_TRUE_FATAL(f.valid);
	CU_ASSERT_EQUAL(f.phc_hi, m.s[7].phc + PHC_MAX_EXTRAPOLATE_NS);
	CU_ASSERT_EQUAL(f.phc_lo, m.s[0].phc - PHC_MAX_BEFORE_NS);
	CU_ASSERT_TRUE(phc_fit_convert(&f, f.phc_hi, &sys));
	CU_ASSERT_TRUE(phc_fit_convert(&f, f.phc_lo, &sys));
	CU_ASSERT_FALSE(phc_fit_convert(&f, f.phc_hi + 1, &sys));
	CU_ASSERT_FALSE(phc_fit_convert(&f, f.phc_lo - 1, &sys));
	/* A timestamp from another clock entirely (a PHC reset to 0). */
	CU_ASSERT_FALSE(phc_fit_convert(&f, 12345, &sys));
}

/* One sample off by a millisecond (a preempted read that still looked
 * tight): not taken, the fit not used until the next good one. */
static void test_outlier(void)
{
	struct phc_model m;
	struct phc_fit f;
	struct phc_sample s;

	phc_model_init(&m);
	feed(&m, 0, 10, OFF, FREQ);
	s = sample(10, OFF, FREQ, 200);
	s.sys += 1000000;
	CU_ASSERT_EQUAL(phc_model_add(&m, &s), PHC_ADD_OUTLIER);
	CU_ASSERT_EQUAL(m.n, 10);
	phc_model_fit(&m, &f);
	CU_ASSERT_FALSE(f.valid);
	feed(&m, 11, 12, OFF, FREQ);
	phc_model_fit(&m, &f);
	CU_ASSERT_TRUE(f.valid);
	CU_ASSERT_EQUAL(m.n, 11);
	/* Just inside the bound (with the sample's own uncertainty): taken. */
	s = sample(12, OFF, FREQ, 0);
	s.delay_ns = 2000;
	s.sys += PHC_MAX_ERROR_NS + 900;
	CU_ASSERT_EQUAL(phc_model_add(&m, &s), PHC_ADD_OK);
}

/* The system clock steps by half a second: PHC_STEP_CONFIRM samples
 * later the model starts over; no conversion uses the old offset after
 * the first disagreeing sample, and the new one is served once
 * PHC_MIN_SAMPLES agree. */
static void test_step(void)
{
	const int64_t off2 = OFF + SEC / 2;
	struct phc_model m;
	struct phc_fit f;
	struct phc_sample s;
	int64_t sys;
	unsigned i = 10;

	phc_model_init(&m);
	feed(&m, 0, i, OFF, FREQ);
	for (unsigned k = 1; k < PHC_STEP_CONFIRM; k++, i++) {
		s = sample(i, off2, FREQ, 200);
		CU_ASSERT_EQUAL(phc_model_add(&m, &s), PHC_ADD_OUTLIER);
		phc_model_fit(&m, &f);
		CU_ASSERT_FALSE(f.valid);
	}
	s = sample(i++, off2, FREQ, 200);
	CU_ASSERT_EQUAL(phc_model_add(&m, &s), PHC_ADD_RESET);
	CU_ASSERT_EQUAL(m.n, 1);
	phc_model_fit(&m, &f);
	CU_ASSERT_FALSE(f.valid);
	feed(&m, i, i + PHC_MIN_SAMPLES - 1, off2, FREQ);
	phc_model_fit(&m, &f);
	CU_ASSERT_TRUE_FATAL(f.valid);
	CU_ASSERT_TRUE(phc_fit_convert(&f, s.phc + SEC, &sys));
	CU_ASSERT_TRUE(abs64(sys - truth(s.phc + SEC, off2, FREQ)) < 2000);
}

static void test_backwards_and_gap(void)
{
	struct phc_model m;
	struct phc_sample s;

	phc_model_init(&m);
	feed(&m, 0, 6, OFF, FREQ);
	s = sample(5, OFF, FREQ, 200);
	s.phc = m.s[5].phc;	/* the same PHC time again */
	CU_ASSERT_EQUAL(phc_model_add(&m, &s), PHC_ADD_RESET);
	CU_ASSERT_EQUAL(m.n, 1);
	feed(&m, 6, 10, OFF, FREQ);
	s = sample(9 + 17, OFF, FREQ, 200);	/* 17 s since the last one */
	CU_ASSERT_EQUAL(phc_model_add(&m, &s), PHC_ADD_RESET);
	CU_ASSERT_EQUAL(m.n, 1);
	CU_ASSERT_STRING_EQUAL(phc_add_result_name(PHC_ADD_OK), "ok");
	CU_ASSERT_STRING_EQUAL(phc_add_result_name(PHC_ADD_OUTLIER), "outlier");
	CU_ASSERT_STRING_EQUAL(phc_add_result_name(PHC_ADD_RESET), "reset");
	CU_ASSERT_STRING_EQUAL(phc_add_result_name(PHC_ADD_COUNT), "unknown");
}

/* Implausible fits are not used: a frequency past PHC_MAX_FREQ, and
 * samples scattered more than PHC_MAX_ERROR_NS about the line. */
static void test_implausible_fits(void)
{
	struct phc_model m;
	struct phc_fit f;

	phc_model_init(&m);
	feed(&m, 0, 8, OFF, 2e-3);
	phc_model_fit(&m, &f);
	CU_ASSERT_DOUBLE_EQUAL(f.freq, 2e-3, 1e-6);
	CU_ASSERT_FALSE(f.valid);

	phc_model_init(&m);
	for (unsigned i = 0; i < 8; i++) {
		struct phc_sample s = sample(i, OFF, FREQ, 100000);

		phc_model_add(&m, &s);
	}
	phc_model_fit(&m, &f);
	CU_ASSERT_TRUE(f.spread_ns > PHC_MAX_ERROR_NS);
	CU_ASSERT_FALSE(f.valid);
}

/* Cross-timestamps (PTP_SYS_OFFSET_PRECISE: delay 0, no noise): exact. */
static void test_precise_samples(void)
{
	struct phc_model m;
	struct phc_fit f;
	int64_t sys;

	phc_model_init(&m);
	for (unsigned i = 0; i < 5; i++) {
		struct phc_sample s = { P0 + (int64_t)i * SEC, 0, 0 };

		s.sys = truth(s.phc, OFF, FREQ);
		CU_ASSERT_EQUAL(phc_model_add(&m, &s), PHC_ADD_OK);
	}
	phc_model_fit(&m, &f);
	CU_ASSERT_TRUE_FATAL(f.valid);
	CU_ASSERT_TRUE(f.spread_ns < 2);
	CU_ASSERT_TRUE(phc_fit_convert(&f, P0 + 2 * SEC + 123456789, &sys));
	CU_ASSERT_TRUE(abs64(sys - truth(P0 + 2 * SEC + 123456789, OFF, FREQ)) <= 2);
}

static void test_pub(void)
{
	struct phc_fit a, b;
	struct phc_pub p;

	phc_pub_init(&p);
	phc_pub_load(&p, &b);
	CU_ASSERT_FALSE(b.valid);
	memset(&a, 0, sizeof(a));
	a.valid = true;
	a.phc0 = P0;
	a.offset = -OFF;
	a.freq = -123.456e-6;
	a.phc_lo = -5;
	a.phc_hi = INT64_MAX;
	a.spread_ns = 17.5;
	phc_pub_store(&p, &a);
	/* Both zeroed first: their padding compares equal. */
	memset(&b, 0, sizeof(b));
	phc_pub_load(&p, &b);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	a.valid = false;
	phc_pub_store(&p, &a);
	phc_pub_load(&p, &b);
	CU_ASSERT_FALSE(b.valid);
}

UNIT_SUITE(phc, NULL, NULL,
	   UNIT_TEST(test_choose_sample),
	   UNIT_TEST(test_readings_interleaved),
	   UNIT_TEST(test_needs_samples),
	   UNIT_TEST(test_offset_and_frequency),
	   UNIT_TEST(test_small_drift_kept),
	   UNIT_TEST(test_span),
	   UNIT_TEST(test_outlier),
	   UNIT_TEST(test_step),
	   UNIT_TEST(test_backwards_and_gap),
	   UNIT_TEST(test_implausible_fits),
	   UNIT_TEST(test_precise_samples),
	   UNIT_TEST(test_pub))
