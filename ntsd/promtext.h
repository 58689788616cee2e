/* promtext: a list of metric samples and its Prometheus text exposition
 * (format 0.0.4).  Pure: the metrics endpoint fills a list per scrape and
 * renders it; the unit tests check names, escaping and grouping.
 *
 * Samples of one metric (one family) must be added one after another;
 * HELP and TYPE are written once, before the first.  Strings are borrowed:
 * they must outlive the render. */
#ifndef NTSD_PROMTEXT_H
#define NTSD_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* About 140 on a host without hw-timestamp or ntp-xdp interfaces; each
 * ntp-xdp interface adds 29, each hw-timestamp NIC 5, each NTP worker and
 * KE thread 2 (cpu-steering's per-thread view): 2048 fits 256 threads. */
#define PROMTEXT_MAX_SAMPLES 2048
#define PROMTEXT_MAX_LABELS 2

enum promtext_type {
	PROMTEXT_COUNTER,	/* name ends in _total */
	PROMTEXT_GAUGE,
};

struct promtext_label {
	const char *name;	/* NULL: unused */
	const char *value;
};

struct promtext_sample {
	const char *name;
	const char *help;
	enum promtext_type type;
	struct promtext_label label[PROMTEXT_MAX_LABELS];
	double value;
};

struct promtext {
	struct promtext_sample s[PROMTEXT_MAX_SAMPLES];
	size_t n;
	bool overflow;		/* a sample did not fit: render refuses */
};

void promtext_init(struct promtext *p);
void promtext_add(struct promtext *p, const struct promtext_sample *s);
/* One sample with at most one label (lname NULL: none). */
void promtext_counter(struct promtext *p, const char *name, const char *help,
		      const char *lname, const char *lvalue, uint64_t v);
void promtext_gauge(struct promtext *p, const char *name, const char *help,
		    const char *lname, const char *lvalue, double v);

/* Valid metric and label names (Prometheus data model; label names may
 * not start with "__"). */
bool promtext_valid_name(const char *s);
bool promtext_valid_label(const char *s);

/* Write the exposition into buf (NUL-terminated, length in *len).  -1 when
 * buf is too small, a sample did not fit the list, a name is invalid, a
 * counter's name does not end in _total, or a family's samples are not
 * together or disagree on help or type. */
int promtext_render(const struct promtext *p, char *buf, size_t cap, size_t *len);

#endif
