/* phc: the PHC-to-system-time model (ntpd/phc.h).  Pure. */
#include "build_config.h"

#include <string.h>

#include "common/seqlock.h"
#include "ntpd/phc.h"

static int64_t round_ns(double v)
{
	return (int64_t)(v >= 0 ? v + 0.5 : v - 0.5);
}

bool phc_choose_sample(const struct phc_reading *r, size_t n, struct phc_sample *out)
{
	const struct phc_reading *best = NULL;
	int64_t best_delay = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t d = r[i].sys_after - r[i].sys_before;

		if (d < 0 || d > PHC_MAX_DELAY_NS)
			continue;
		if (best == NULL || d < best_delay) {
			best = &r[i];
			best_delay = d;
		}
	}
	if (best == NULL)
		return false;
	out->phc = best->phc;
	out->sys = best->sys_before + best_delay / 2;
	out->delay_ns = best_delay;
	return true;
}

void phc_readings_from_interleaved(const int64_t *t, size_t n, struct phc_reading *r)
{
	for (size_t i = 0; i < n; i++) {
		r[i].sys_before = t[2 * i];
		r[i].phc = t[2 * i + 1];
		r[i].sys_after = t[2 * i + 2];
	}
}

/* System minus PHC at phc by the fit, validity and span aside. */
static int64_t fit_offset_at(const struct phc_fit *f, int64_t phc)
{
	return f->offset + round_ns(f->freq * (double)(phc - f->phc0));
}

bool phc_fit_convert(const struct phc_fit *f, int64_t phc, int64_t *sys)
{
	if (!f->valid || phc < f->phc_lo || phc > f->phc_hi)
		return false;
	*sys = phc + fit_offset_at(f, phc);
	return true;
}

static const char *const add_names[PHC_ADD_COUNT] = {
	[PHC_ADD_OK] = "ok",
	[PHC_ADD_OUTLIER] = "outlier",
	[PHC_ADD_RESET] = "reset",
};

const char *phc_add_result_name(enum phc_add_result r)
{
	return (unsigned)r < PHC_ADD_COUNT ? add_names[r] : "unknown";
}

void phc_model_init(struct phc_model *m)
{
	memset(m, 0, sizeof(*m));
}

static const struct phc_sample *sample_at(const struct phc_model *m, size_t i)
{
	return &m->s[(m->head + i) % PHC_MAX_SAMPLES];
}

/* Least squares over the samples: y = system - PHC (relative to the
 * newest sample's, so that doubles keep nanoseconds) against x = PHC
 * time since the newest sample. */
static void refit(struct phc_model *m)
{
	const struct phc_sample *last = sample_at(m, m->n - 1);
	int64_t off_last = last->sys - last->phc;
	double sx = 0, sy = 0, sxx = 0, sxy = 0, a, b = 0, spread = 0;
	struct phc_fit *f = &m->fit;
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct phc_sample *s = sample_at(m, i);
		double x = (double)(s->phc - last->phc), y = (double)(s->sys - s->phc - off_last);

		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
	}
	if (m->n >= 2 && (double)m->n * sxx - sx * sx > 0)
		b = ((double)m->n * sxy - sx * sy) / ((double)m->n * sxx - sx * sx);
	a = (sy - b * sx) / (double)m->n;
	for (i = 0; i < m->n; i++) {
		const struct phc_sample *s = sample_at(m, i);
		double x = (double)(s->phc - last->phc), y = (double)(s->sys - s->phc - off_last);
		double r = y - (a + b * x);

		if (r < 0)
			r = -r;
		if (r > spread)
			spread = r;
	}
	f->phc0 = last->phc;
	f->offset = off_last + round_ns(a);
	f->freq = b;
	f->spread_ns = spread;
	f->phc_lo = sample_at(m, 0)->phc - PHC_MAX_BEFORE_NS;
	f->phc_hi = last->phc + PHC_MAX_EXTRAPOLATE_NS;
	f->valid = m->n >= PHC_MIN_SAMPLES && b <= PHC_MAX_FREQ && b >= -PHC_MAX_FREQ &&
		   spread <= (double)PHC_MAX_ERROR_NS;
}

static void push(struct phc_model *m, const struct phc_sample *s)
{
	if (m->n == PHC_MAX_SAMPLES) {
		m->s[m->head] = *s;
		m->head = (m->head + 1) % PHC_MAX_SAMPLES;
	} else {
		m->s[(m->head + m->n) % PHC_MAX_SAMPLES] = *s;
		m->n++;
	}
	refit(m);
}

static void restart(struct phc_model *m, const struct phc_sample *s)
{
	phc_model_init(m);
	push(m, s);
}

/* Whether sample s is where the (valid) fit expects it. */
static bool agrees(const struct phc_fit *f, const struct phc_sample *s)
{
	int64_t err = s->sys - (s->phc + fit_offset_at(f, s->phc));

	if (err < 0)
		err = -err;
	return err <= PHC_MAX_ERROR_NS + s->delay_ns / 2;
}

enum phc_add_result phc_model_add(struct phc_model *m, const struct phc_sample *s)
{
	if (m->n > 0) {
		const struct phc_sample *last = sample_at(m, m->n - 1);

		if (s->phc <= last->phc || s->phc - last->phc > PHC_MAX_GAP_NS) {
			restart(m, s);
			return PHC_ADD_RESET;
		}
	}
	if (m->fit.valid && !agrees(&m->fit, s)) {
		if (++m->outliers < PHC_STEP_CONFIRM)
			return PHC_ADD_OUTLIER;
		restart(m, s);
		return PHC_ADD_RESET;
	}
	m->outliers = 0;
	push(m, s);
	return PHC_ADD_OK;
}

void phc_model_fit(const struct phc_model *m, struct phc_fit *out)
{
	*out = m->fit;
	if (m->n == 0 || m->outliers > 0)
		out->valid = false;
}

void phc_pub_init(struct phc_pub *p)
{
	struct phc_fit none;

	atomic_init(&p->seq, 0);
	for (int i = 0; i < PHC_PUB_WORDS; i++)
		atomic_init(&p->w[i], 0);
	memset(&none, 0, sizeof(none));
	phc_pub_store(p, &none);
}

static void fit_to_words(const struct phc_fit *f, uint64_t w[PHC_PUB_WORDS])
{
	w[0] = f->valid;
	w[1] = (uint64_t)f->phc0;
	w[2] = (uint64_t)f->offset;
	memcpy(&w[3], &f->freq, sizeof(w[3]));
	w[4] = (uint64_t)f->phc_lo;
	w[5] = (uint64_t)f->phc_hi;
	memcpy(&w[6], &f->spread_ns, sizeof(w[6]));
}

static void words_to_fit(const uint64_t w[PHC_PUB_WORDS], struct phc_fit *f)
{
	f->valid = w[0] != 0;
	f->phc0 = (int64_t)w[1];
	f->offset = (int64_t)w[2];
	memcpy(&f->freq, &w[3], sizeof(f->freq));
	f->phc_lo = (int64_t)w[4];
	f->phc_hi = (int64_t)w[5];
	memcpy(&f->spread_ns, &w[6], sizeof(f->spread_ns));
}

void phc_pub_store(struct phc_pub *p, const struct phc_fit *f)
{
	uint64_t w[PHC_PUB_WORDS];

	fit_to_words(f, w);
	seqlock_store(&p->seq, p->w, w, PHC_PUB_WORDS);
}

void phc_pub_load(const struct phc_pub *p, struct phc_fit *out)
{
	struct phc_pub *q = (struct phc_pub *)p;
	uint64_t w[PHC_PUB_WORDS];

	seqlock_load(&q->seq, q->w, w, PHC_PUB_WORDS);
	words_to_fit(w, out);
}
