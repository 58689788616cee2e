/* metrics: the HTTP endpoint of metrics-listen (libmicrohttpd, one
 * internal thread): GET /metrics in the Prometheus text format, GET
 * /health for load balancers (200 "ok" or 503 and a one-line reason), 404
 * for anything else.  Connections are few, bounded and timed out.
 *
 * It knows nothing of the services: per request it asks the daemon, through
 * struct metrics_source, for the samples and for the health inputs.  Those
 * callbacks run on the metrics thread.
 *
 *   metrics_new()   binds (as root, before the daemon detaches)
 *   metrics_start() starts the thread (after the fork and privilege drop)
 *   metrics_free()  stops it and closes the socket */
#ifndef NTSD_METRICS_H
#define NTSD_METRICS_H

#include "common/netaddr.h"
#include "ntsd/health.h"
#include "ntsd/promtext.h"

#define METRICS_MAX_CONNECTIONS 16
#define METRICS_MAX_PER_ADDRESS 4
#define METRICS_TIMEOUT_S 10
#define METRICS_MAX_BODY (256 * 1024)	/* largest /metrics answer */

struct metrics_source {
	/* Append the current figures to out (families kept together). */
	void (*collect)(void *arg, struct promtext *out);
	/* Fill in what /health decides on. */
	void (*health)(void *arg, struct health_input *in);
	void *arg;
};

struct metrics;

/* Bind and listen on addr (port set).  src is copied.  NULL on error
 * (logged with the address). */
struct metrics *metrics_new(const struct netaddr *addr, const struct metrics_source *src);
/* The address bound, port resolved (tests may bind port 0). */
const struct netaddr *metrics_addr(const struct metrics *m);
/* Start serving.  0 or -1 (logged). */
int metrics_start(struct metrics *m);
/* Stop serving (joins the thread), close the socket, free.  NULL-safe. */
void metrics_free(struct metrics *m);

/* Pure, for the tests: the answer to one request.  Sets *status (200,
 * 404, 405, 500, 503), points *type at the Content-Type and fills body
 * (NUL-terminated, *len bytes). */
void metrics_answer(const struct metrics_source *src, const char *method, const char *url,
		    int *status, const char **type, char *body, size_t cap, size_t *len);

#endif
