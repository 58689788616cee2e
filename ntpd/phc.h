/* phc: a NIC's PTP hardware clock (PHC) seen from the system clock.
 *
 * A NIC that timestamps in hardware writes its own clock's time (the
 * PHC: /dev/ptpN) into each timestamp, not the system's.  The daemon's
 * main loop reads the PHC against the system clock about once a second
 * (ntpd/phc_dev.h: PTP_SYS_OFFSET_PRECISE, _EXTENDED or the basic
 * PTP_SYS_OFFSET); each read gives a few readings, and the one bracketed
 * most tightly by its two system-clock reads is the sample
 * (phc_choose_sample).  A model keeps the last PHC_MAX_SAMPLES samples and
 * fits, by least squares, the system clock's offset from the PHC and its
 * rate of change (the two clocks' relative frequency); a fit converts a
 * hardware timestamp to system time (phc_fit_convert).
 *
 * A conversion is refused (the caller falls back to the kernel's software
 * timestamp) while the model has fewer than PHC_MIN_SAMPLES samples, when
 * the fit's frequency is implausible or its samples stray from it by
 * more than PHC_MAX_ERROR_NS, when the newest sample disagreed with
 * the fit (until the model has either taken the next sample or, after
 * PHC_STEP_CONFIRM disagreeing samples in a row, started over: a step of
 * one clock or the other), and for PHC times outside the span the samples
 * cover, extended by PHC_MAX_EXTRAPOLATE_NS after the newest.
 *
 * All of this is pure (no I/O) so that unit tests drive it with
 * synthetic samples.  A fit is published to the workers through a struct
 * phc_pub, a seqlock over atomic words: one writer, readers never lock. */
#ifndef NTSD_PHC_H
#define NTSD_PHC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Samples the fit is made of: 16 s of history at one sample a second. */
#define PHC_MAX_SAMPLES 16
/* Fewer samples than this give no fit: a frequency needs a few seconds. */
#define PHC_MIN_SAMPLES 4
/* A reading whose system-clock reads are further apart than 100 us says
 * little about when the PHC was read (an interrupt or preemption). */
#define PHC_MAX_DELAY_NS 100000
/* A sample further than 20 us (plus its own uncertainty) from where the
 * fit says disagrees with it.  A disciplined system clock slews by at
 * most 500 ppm, 0.5 us in the 1 ms a sample covers; 20 us is far above
 * the readings' noise and far below a step. */
#define PHC_MAX_ERROR_NS 20000
/* This many disagreeing samples in a row: one clock stepped, start over. */
#define PHC_STEP_CONFIRM 3
/* The two clocks' frequencies differ by less than this (1000 ppm). */
#define PHC_MAX_FREQ 1e-3
/* Timestamps this long after the newest sample are still converted: a
 * main loop that missed a few samples (a reload) does not stop hardware
 * timestamps, and at a fit's frequency error (well under 1 ppm) 4 s add
 * under 4 us. */
#define PHC_MAX_EXTRAPOLATE_NS (INT64_C(4) * 1000000000)
/* ... and this long before the oldest (packets queued before a sample). */
#define PHC_MAX_BEFORE_NS (INT64_C(1) * 1000000000)
/* A sample this long after the previous one starts a new model: the old
 * fit is too old to extend. */
#define PHC_MAX_GAP_NS (INT64_C(16) * 1000000000)

/* One read of the PHC between two reads of the system clock (ns since
 * the epoch, by each clock). */
struct phc_reading {
	int64_t sys_before, phc, sys_after;
};

/* The PHC and the system clock at the same instant; delay_ns is how far
 * apart the system reads around it were (0 for a cross-timestamp). */
struct phc_sample {
	int64_t phc, sys, delay_ns;
};

/* The reading with the smallest delay, as a sample with the system time
 * at the middle of its two reads.  False when none has a delay between 0
 * and PHC_MAX_DELAY_NS. */
bool phc_choose_sample(const struct phc_reading *r, size_t n, struct phc_sample *out);
/* The readings of a basic PTP_SYS_OFFSET: 2n+1 alternating times, system
 * first, each PHC read between its neighbours.  n readings into r. */
void phc_readings_from_interleaved(const int64_t *t, size_t n, struct phc_reading *r);

/* At PHC time phc, system time = phc + offset + freq * (phc - phc0). */
struct phc_fit {
	bool valid;
	int64_t phc0;		/* the newest sample's PHC time */
	int64_t offset;		/* system minus PHC at phc0, fitted */
	double freq;		/* d(system - PHC) / d(PHC) */
	int64_t phc_lo, phc_hi;	/* PHC times it converts */
	double spread_ns;	/* the largest residual of a sample around the fit */
};

/* A hardware timestamp (PHC ns) in system time; false (and *sys
 * untouched) when the fit is not valid or phc is outside its span. */
bool phc_fit_convert(const struct phc_fit *f, int64_t phc, int64_t *sys);

/* What became of a sample given to the model. */
enum phc_add_result {
	PHC_ADD_OK = 0,		/* taken */
	PHC_ADD_OUTLIER,	/* disagrees with the fit: not taken, fit invalid until the next */
	PHC_ADD_RESET,		/* a step, PHC time going backwards or a long gap: model restarted */
	PHC_ADD_COUNT
};
const char *phc_add_result_name(enum phc_add_result r);

struct phc_model {
	struct phc_sample s[PHC_MAX_SAMPLES];	/* a ring, oldest at head */
	size_t n, head;
	unsigned outliers;	/* disagreeing samples in a row */
	struct phc_fit fit;
};

void phc_model_init(struct phc_model *m);
enum phc_add_result phc_model_add(struct phc_model *m, const struct phc_sample *s);
/* The fit to publish: not valid while the model is suspect. */
void phc_model_fit(const struct phc_model *m, struct phc_fit *out);

/* Lock-free publication of a fit: one writer, any number of readers. */
#define PHC_PUB_WORDS 7
struct phc_pub {
	_Atomic uint32_t seq;
	_Atomic uint64_t w[PHC_PUB_WORDS];
};

void phc_pub_init(struct phc_pub *p);	/* an invalid fit */
void phc_pub_store(struct phc_pub *p, const struct phc_fit *f);
void phc_pub_load(const struct phc_pub *p, struct phc_fit *out);

#endif
