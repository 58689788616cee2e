/* metrics: /metrics and /health over libmicrohttpd. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/log.h"
#include "ntsd/metrics.h"

#define METRICS_BACKLOG 16
#define HEALTH_MAX_BODY 256

static const char type_prometheus[] = "text/plain; version=0.0.4; charset=utf-8";
static const char type_text[] = "text/plain; charset=utf-8";

struct metrics {
	struct metrics_source src;
	struct netaddr addr;
	int fd;				/* ours until MHD has it */
	struct MHD_Daemon *mhd;
};

static void answer_metrics(const struct metrics_source *src, int *status, char *body,
			   size_t cap, size_t *len)
{
	struct promtext *p = malloc(sizeof(*p));

	*status = 500;
	if (!p) {
		*len = (size_t)snprintf(body, cap, "out of memory\n");
		return;
	}
	promtext_init(p);
	src->collect(src->arg, p);
	if (promtext_render(p, body, cap, len) == 0)
		*status = 200;
	else
		/* Our bug (a bad name, too many samples): say so, serve nothing. */
		*len = (size_t)snprintf(body, cap, "cannot render the metrics\n");
	free(p);
}

void metrics_answer(const struct metrics_source *src, const char *method, const char *url,
		    int *status, const char **type, char *body, size_t cap, size_t *len)
{
	int n;

	*type = type_text;
	if (strcmp(url, "/metrics") != 0 && strcmp(url, "/health") != 0) {
		*status = 404;
		n = snprintf(body, cap, "not found: try /metrics or /health\n");
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*status = 405;
		n = snprintf(body, cap, "method not allowed: GET or HEAD\n");
	} else if (strcmp(url, "/metrics") == 0) {
		*type = type_prometheus;
		answer_metrics(src, status, body, cap, len);
		return;
	} else {
		struct health_input in;
		char reason[HEALTH_MAX_BODY];

		memset(&in, 0, sizeof(in));
		src->health(src->arg, &in);
		*status = health_check(&in, reason, sizeof(reason)) ? 200 : 503;
		n = snprintf(body, cap, "%s\n", reason);
	}
	*len = n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *resp;
	const char *type;
	enum MHD_Result ret;
	size_t len = 0;
	char *body;
	int status;

	/* Answer on the first call, before any request body: nothing we
	 * serve takes one, and MHD closes the connection after a response
	 * queued with a body still unread. */
	body = malloc(METRICS_MAX_BODY);
	if (!body)
		return MHD_NO;
	metrics_answer(&m->src, method, url, &status, &type, body, METRICS_MAX_BODY, &len);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
	    (status == 405 &&
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* libmicrohttpd's own messages are about clients (bad requests, resets):
 * debug level. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("metrics: %s", msg);
}
#pragma GCC diagnostic pop

struct metrics *metrics_new(const struct netaddr *addr, const struct metrics_source *src)
{
	struct metrics *m = calloc(1, sizeof(*m));
	char s[NETADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct netaddr bound;
	int one = 1;

	if (!m) {
		log_err("metrics: out of memory");
		return NULL;
	}
	m->src = *src;
	m->addr = *addr;
	netaddr_str(addr, s, sizeof(s));
	m->fd = socket(netaddr_family(addr), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->fd < 0) {
		log_errno(LOG_LVL_ERR, "metrics-listen %s: socket", s);
		goto out;
	}
	if (setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (netaddr_family(addr) == AF_INET6 &&
	     setsockopt(m->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)) {
		log_errno(LOG_LVL_ERR, "metrics-listen %s: setsockopt", s);
		goto out;
	}
	if (bind(m->fd, &addr->u.sa, addr->len) < 0) {
		log_errno(LOG_LVL_ERR, "metrics-listen %s: bind", s);
		goto out;
	}
	if (listen(m->fd, METRICS_BACKLOG) < 0) {
		log_errno(LOG_LVL_ERR, "metrics-listen %s: listen", s);
		goto out;
	}
	/* A port 0 becomes the port the kernel chose. */
	memset(&ss, 0, sizeof(ss));
	if (getsockname(m->fd, (struct sockaddr *)&ss, &sslen) == 0 &&
	    netaddr_from_sockaddr((struct sockaddr *)&ss, sslen, &bound) == 0)
		m->addr = bound;
	return m;
out:
	metrics_free(m);
	return NULL;
}

const struct netaddr *metrics_addr(const struct metrics *m)
{
	return &m->addr;
}

int metrics_start(struct metrics *m)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
	char s[NETADDR_STRLEN];

	if (netaddr_family(&m->addr) == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Port 0 and the socket: MHD serves the socket we bound. */
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)m->fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_MAX_PER_ADDRESS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
				  MHD_OPTION_END);
	netaddr_str(&m->addr, s, sizeof(s));
	if (!m->mhd) {
		log_err("metrics-listen %s: cannot start the HTTP server", s);
		return -1;
	}
	m->fd = -1;	/* MHD closes it when stopped */
	log_info("metrics: serving /metrics and /health on http://%s", s);
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}
