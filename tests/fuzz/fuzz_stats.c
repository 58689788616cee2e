/* fuzz target: what `ntsctl stats` reads from a metrics endpoint
 * (tools/stats): the HTTP response split, then the Prometheus text.  The
 * body lies inside the response; samples are bounded, named with metric
 * characters and NUL-terminated; a refusal names a line of the input;
 * parsing again gives the same samples. */
#include "build_config.h"

#include <stdint.h>
#include <string.h>

#include "tools/stats.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_SAMPLES 64

static size_t lines(const char *p, size_t len)
{
	size_t n = len > 0 && p[len - 1] != '\n';

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

static void samples(const char *text, size_t len)
{
	static struct stats_sample s[MAX_SAMPLES], again[MAX_SAMPLES];
	size_t n, n2, bad, bad2;
	int rc = stats_parse(text, len, s, MAX_SAMPLES, &n, &bad);

	check(stats_parse(text, len, again, MAX_SAMPLES, &n2, &bad2) == rc && n2 == n &&
	      bad2 == bad);
	check(n <= MAX_SAMPLES);
	if (rc < 0)
		check(bad >= 1 && bad <= lines(text, len));
	else
		check(bad == 0);
	for (size_t i = 0; i < n; i++) {
		size_t nl = strnlen(s[i].name, sizeof(s[i].name));

		check(nl > 0 && nl < sizeof(s[i].name));
		check(strnlen(s[i].labels, sizeof(s[i].labels)) < sizeof(s[i].labels));
		check(!(s[i].name[0] >= '0' && s[i].name[0] <= '9'));
		check(strspn(s[i].name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789_:") == nl);
		check(strcmp(s[i].name, again[i].name) == 0 &&
		      strcmp(s[i].labels, again[i].labels) == 0 &&
		      s[i].counter == again[i].counter);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *resp = (const char *)data, *body;
	size_t body_len;
	int status;

	if (stats_http_split(resp, size, &status, &body, &body_len) == 0) {
		check(status >= 0 && status <= 999);
		check(body >= resp && body_len <= size && body + body_len == resp + size);
		samples(body, body_len);
	} else {
		samples(resp, size);
	}
	return 0;
}
