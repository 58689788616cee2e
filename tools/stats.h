/* stats: `ntsctl stats`: fetch ntsd's /metrics and /health over plain
 * HTTP (metrics-listen) and print them as a table.  The HTTP response and
 * the Prometheus text are parsed by the pure functions below, through the
 * bounded reader, with every size capped. */
#ifndef NTSD_STATS_H
#define NTSD_STATS_H

#include <stdbool.h>
#include <stddef.h>

#define STATS_DEFAULT_TARGET "127.0.0.1:9123"
#define STATS_MAX_RESPONSE (1024 * 1024)
#define STATS_MAX_SAMPLES 2048
#define STATS_MAX_NAME 128
#define STATS_MAX_LABELS 256	/* "a=x,b=y" as printed */
#define STATS_TIMEOUT_MS 5000

struct stats_sample {
	char name[STATS_MAX_NAME];
	char labels[STATS_MAX_LABELS];	/* label values unescaped, "" when none */
	double value;
	bool counter;			/* from the family's # TYPE line */
};

/* Split an HTTP/1.x response into status code and body.  0 or -1
 * (not HTTP, no blank line after the headers). */
int stats_http_split(const char *resp, size_t len, int *status, const char **body,
		     size_t *body_len);
/* Parse Prometheus text into at most max samples (*n of them).  0, or -1
 * for a malformed line (its number in *bad_line) or too many samples. */
int stats_parse(const char *text, size_t len, struct stats_sample *out, size_t max, size_t *n,
		size_t *bad_line);

#endif
