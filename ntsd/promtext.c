/* promtext: Prometheus text exposition of a sample list. */
#include "build_config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ntsd/promtext.h"

/* Integers print exactly up to 2^53; past that a double is all we have. */
#define EXACT_LIMIT 9007199254740992.0

struct out {
	char *buf;
	size_t cap, len;
	bool err;
};

void promtext_init(struct promtext *p)
{
	p->n = 0;
	p->overflow = false;
}

void promtext_add(struct promtext *p, const struct promtext_sample *s)
{
	if (p->n == PROMTEXT_MAX_SAMPLES) {
		p->overflow = true;
		return;
	}
	p->s[p->n++] = *s;
}

static void add_one(struct promtext *p, const char *name, const char *help,
		    enum promtext_type type, const char *lname, const char *lvalue, double v)
{
	struct promtext_sample s;

	memset(&s, 0, sizeof(s));
	s.name = name;
	s.help = help;
	s.type = type;
	s.label[0].name = lname;
	s.label[0].value = lvalue;
	s.value = v;
	promtext_add(p, &s);
}

void promtext_counter(struct promtext *p, const char *name, const char *help,
		      const char *lname, const char *lvalue, uint64_t v)
{
	add_one(p, name, help, PROMTEXT_COUNTER, lname, lvalue, (double)v);
}

void promtext_gauge(struct promtext *p, const char *name, const char *help,
		    const char *lname, const char *lvalue, double v)
{
	add_one(p, name, help, PROMTEXT_GAUGE, lname, lvalue, v);
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool promtext_valid_name(const char *s)
{
	if (!s || !(is_alpha(*s) || *s == ':'))
		return false;
	for (s++; *s; s++)
		if (!is_alpha(*s) && !is_digit(*s) && *s != ':')
			return false;
	return true;
}

bool promtext_valid_label(const char *s)
{
	if (!s || !is_alpha(*s) || strncmp(s, "__", 2) == 0)
		return false;
	for (s++; *s; s++)
		if (!is_alpha(*s) && !is_digit(*s))
			return false;
	return true;
}

static void put(struct out *o, const char *s, size_t n)
{
	if (o->err || n >= o->cap - o->len) {
		o->err = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		o->err = true;
		return;
	}
	put(o, tmp, (size_t)n);
}

/* HELP text escapes \ and newline; label values also escape ". */
static void put_escaped(struct out *o, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(o, "\\\\");
		else if (*s == '\n')
			puts_(o, "\\n");
		else if (quote && *s == '"')
			puts_(o, "\\\"");
		else
			put(o, s, 1);
	}
}

static void put_value(struct out *o, double v)
{
	if (isnan(v))
		puts_(o, "NaN");
	else if (isinf(v))
		puts_(o, v > 0 ? "+Inf" : "-Inf");
	else if (v > -EXACT_LIMIT && v < EXACT_LIMIT && (double)(int64_t)v == v)
		putf(o, "%lld", (long long)v);
	else
		putf(o, "%.17g", v);
}

static bool same_labels(const struct promtext_sample *a, const struct promtext_sample *b)
{
	for (size_t i = 0; i < PROMTEXT_MAX_LABELS; i++) {
		const char *an = a->label[i].name, *bn = b->label[i].name;

		if (!an != !bn)
			return false;
		if (an && (strcmp(an, bn) != 0 || strcmp(a->label[i].value, b->label[i].value) != 0))
			return false;
	}
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool sample_ok(const struct promtext_sample *s)
{
	if (!promtext_valid_name(s->name) || !s->help)
		return false;
	/* The convention readers rely on: _total means a counter. */
	if ((s->type == PROMTEXT_COUNTER) != ends_with(s->name, "_total"))
		return false;
	if (s->type != PROMTEXT_COUNTER && s->type != PROMTEXT_GAUGE)
		return false;
	for (size_t i = 0; i < PROMTEXT_MAX_LABELS; i++) {
		const struct promtext_label *l = &s->label[i];

		if (l->name && (!promtext_valid_label(l->name) || !l->value))
			return false;
		for (size_t j = 0; l->name && j < i; j++)
			if (s->label[j].name && strcmp(s->label[j].name, l->name) == 0)
				return false;
	}
	return true;
}

/* Families are contiguous, agree on help and type, hold no sample twice. */
static bool list_ok(const struct promtext *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct promtext_sample *s = &p->s[i];
		bool first = i == 0 || strcmp(p->s[i - 1].name, s->name) != 0;

		if (!sample_ok(s))
			return false;
		if (!first && (p->s[i - 1].type != s->type || strcmp(p->s[i - 1].help, s->help)))
			return false;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(p->s[j].name, s->name) != 0)
				continue;
			if (first || same_labels(&p->s[j], s))
				return false;
		}
	}
	return true;
}

int promtext_render(const struct promtext *p, char *buf, size_t cap, size_t *len)
{
	struct out o = { buf, cap, 0, false };

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	*len = 0;
	if (p->overflow || !list_ok(p))
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		const struct promtext_sample *s = &p->s[i];
		bool labels = false;

		if (i == 0 || strcmp(p->s[i - 1].name, s->name) != 0) {
			puts_(&o, "# HELP ");
			puts_(&o, s->name);
			puts_(&o, " ");
			put_escaped(&o, s->help, false);
			puts_(&o, "\n# TYPE ");
			puts_(&o, s->name);
			puts_(&o, s->type == PROMTEXT_COUNTER ? " counter\n" : " gauge\n");
		}
		puts_(&o, s->name);
		for (size_t k = 0; k < PROMTEXT_MAX_LABELS; k++) {
			if (!s->label[k].name)
				continue;
			puts_(&o, labels ? "," : "{");
			labels = true;
			puts_(&o, s->label[k].name);
			puts_(&o, "=\"");
			put_escaped(&o, s->label[k].value, true);
			puts_(&o, "\"");
		}
		puts_(&o, labels ? "} " : " ");
		put_value(&o, s->value);
		puts_(&o, "\n");
	}
	if (o.err) {
		buf[0] = '\0';
		return -1;
	}
	*len = o.len;
	return 0;
}
