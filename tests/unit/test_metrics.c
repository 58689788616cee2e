/* unit tests for metrics: the answer to each request (paths, methods,
 * status codes, content types), then the real HTTP server on a loopback
 * port the kernel picks, spoken to over a plain socket. */
#include "build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ntsd/metrics.h"
#include "unit.h"

struct fake {
	struct health_input in;
	unsigned collects, healths;
	bool bad_name;
};

static void fake_collect(void *arg, struct promtext *p)
{
	struct fake *f = arg;

	f->collects++;
	promtext_counter(p, "ntsd_test_total", "A test counter.", "kind", "a", 41 + f->collects);
	if (f->bad_name)
		promtext_gauge(p, "bad name", "h", NULL, NULL, 1);
}

static void fake_health(void *arg, struct health_input *in)
{
	struct fake *f = arg;

	f->healths++;
	*in = f->in;
}

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->in.ntp_enabled = true;
	f->in.running = true;
	f->in.clock_synchronised = true;
	f->in.n_keys = 1;
	f->in.key_file_ok = true;
}

static void test_answers(void)
{
	struct fake f;
	struct metrics_source src = { fake_collect, fake_health, &f };
	char body[4096];
	const char *type;
	size_t len;
	int status;

	fake_init(&f);
	metrics_answer(&src, "GET", "/metrics", &status, &type, body, sizeof(body), &len);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_STRING_EQUAL(type, "text/plain; version=0.0.4; charset=utf-8");
	CU_ASSERT_STRING_EQUAL(body, "# HELP ntsd_test_total A test counter.\n"
				     "# TYPE ntsd_test_total counter\n"
				     "ntsd_test_total{kind=\"a\"} 42\n");
	CU_ASSERT_EQUAL(len, strlen(body));
	CU_ASSERT_EQUAL(f.collects, 1);

	metrics_answer(&src, "HEAD", "/health", &status, &type, body, sizeof(body), &len);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_STRING_EQUAL(type, "text/plain; charset=utf-8");
	CU_ASSERT_STRING_EQUAL(body, "ok\n");
	CU_ASSERT_EQUAL(len, 3);

	f.in.n_keys = 0;
	metrics_answer(&src, "GET", "/health", &status, &type, body, sizeof(body), &len);
	CU_ASSERT_EQUAL(status, 503);
	CU_ASSERT_STRING_EQUAL(body, "no master keys loaded\n");
	CU_ASSERT_EQUAL(f.healths, 2);

	metrics_answer(&src, "GET", "/", &status, &type, body, sizeof(body), &len);
	CU_ASSERT_EQUAL(status, 404);
	metrics_answer(&src, "GET", "/metrics/", &status, &type, body, sizeof(body), &len);
	CU_ASSERT_EQUAL(status, 404);
	metrics_answer(&src, "GET", "/healthz", &status, &type, body, sizeof(body), &len);
	CU_ASSERT_EQUAL(status, 404);
	metrics_answer(&src, "POST", "/metrics", &status, &type, body, sizeof(body), &len);
	CU_ASSERT_EQUAL(status, 405);
	metrics_answer(&src, "get", "/health", &status, &type, body, sizeof(body), &len);
	CU_ASSERT_EQUAL(status, 405);
	/* Refused requests gather nothing. */
	CU_ASSERT_EQUAL(f.collects, 1);
	CU_ASSERT_EQUAL(f.healths, 2);

	/* A sample the format cannot carry: 500, no partial text. */
	f.bad_name = true;
	metrics_answer(&src, "GET", "/metrics", &status, &type, body, sizeof(body), &len);
	CU_ASSERT_EQUAL(status, 500);
	CU_ASSERT_STRING_EQUAL(body, "cannot render the metrics\n");
	/* Too small a buffer: 500 as well. */
	f.bad_name = false;
	metrics_answer(&src, "GET", "/metrics", &status, &type, body, 40, &len);
	CU_ASSERT_EQUAL(status, 500);
	CU_ASSERT(len < 40);
}

/* One HTTP/1.0 exchange; the whole response (headers and body) in out. */
static int http(const struct netaddr *a, const char *request, char *out, size_t cap)
{
	struct pollfd pfd;
	size_t len = 0;
	int fd = socket(netaddr_family(a), SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, &a->u.sa, a->len) < 0)
		goto fail;
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) != (ssize_t)strlen(request))
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (len < cap - 1) {
		ssize_t n;

		if (poll(&pfd, 1, 2000) != 1)
			goto fail;
		n = recv(fd, out + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void test_server(void)
{
	struct fake f;
	struct metrics_source src = { fake_collect, fake_health, &f };
	struct metrics *m;
	struct netaddr a;
	char resp[8192];

	fake_init(&f);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("127.0.0.1", 0, &a), 0);
	m = metrics_new(&a, &src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_NOT_EQUAL(netaddr_port(metrics_addr(m)), 0);
	CU_ASSERT_EQUAL_FATAL(metrics_start(m), 0);
	a = *metrics_addr(m);

	CU_ASSERT_EQUAL_FATAL(http(&a, "GET /metrics HTTP/1.0\r\n\r\n", resp, sizeof(resp)), 0);
	CU_ASSERT_EQUAL(strncmp(resp, "HTTP/1.0 200", 12) == 0 ||
			strncmp(resp, "HTTP/1.1 200", 12) == 0, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "Content-Type: text/plain; version=0.0.4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "\r\n\r\n# HELP ntsd_test_total A test counter.\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "ntsd_test_total{kind=\"a\"} 42\n"));

	/* A query string is not part of the path. */
	CU_ASSERT_EQUAL_FATAL(http(&a, "GET /health?x=1 HTTP/1.1\r\nHost: t\r\n"
				       "Connection: close\r\n\r\n", resp, sizeof(resp)), 0);
	CU_ASSERT_EQUAL(strncmp(resp, "HTTP/1.1 200", 12), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "\r\n\r\nok\n"));

	f.in.key_file_ok = false;
	CU_ASSERT_EQUAL_FATAL(http(&a, "GET /health HTTP/1.0\r\n\r\n", resp, sizeof(resp)), 0);
	CU_ASSERT_EQUAL(strncmp(resp + 8, " 503", 4), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "\r\n\r\nkey file missing or invalid"));

	/* HEAD: the status and headers, no body. */
	CU_ASSERT_EQUAL_FATAL(http(&a, "HEAD /health HTTP/1.0\r\n\r\n", resp, sizeof(resp)), 0);
	CU_ASSERT_EQUAL(strncmp(resp + 8, " 503", 4), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "\r\n\r\n"));
	CU_ASSERT_STRING_EQUAL(strstr(resp, "\r\n\r\n"), "\r\n\r\n");

	CU_ASSERT_EQUAL_FATAL(http(&a, "GET /nope HTTP/1.0\r\n\r\n", resp, sizeof(resp)), 0);
	CU_ASSERT_EQUAL(strncmp(resp + 8, " 404", 4), 0);
	CU_ASSERT_EQUAL_FATAL(http(&a, "DELETE /metrics HTTP/1.0\r\n\r\n", resp, sizeof(resp)),
			      0);
	CU_ASSERT_EQUAL(strncmp(resp + 8, " 405", 4), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "Allow: GET, HEAD\r\n"));
	/* Not HTTP at all (a TLS hello): closed without an answer, and the
	 * server lives on. */
	CU_ASSERT_EQUAL_FATAL(http(&a, "\x16\x03\x01\x02\x05hello\r\n\r\n", resp, sizeof(resp)),
			      0);
	CU_ASSERT_PTR_NULL(strstr(resp, "ntsd_test_total"));
	CU_ASSERT_PTR_NULL(strstr(resp, " 200 "));
	CU_ASSERT_EQUAL_FATAL(http(&a, "GET /metrics HTTP/1.0\r\n\r\n", resp, sizeof(resp)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp, "ntsd_test_total{kind=\"a\"} 43\n"));
	metrics_free(m);
	metrics_free(NULL);

	/* The port is free again. */
	m = metrics_new(&a, &src);
	CU_ASSERT_PTR_NOT_NULL(m);
	metrics_free(m);
}

static void test_bind_failure(void)
{
	struct fake f;
	struct metrics_source src = { fake_collect, fake_health, &f };
	struct metrics *m1, *m2;
	struct netaddr a;

	fake_init(&f);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("127.0.0.1", 0, &a), 0);
	m1 = metrics_new(&a, &src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m1);
	/* The same port twice: the second bind fails, cleanly. */
	m2 = metrics_new(metrics_addr(m1), &src);
	CU_ASSERT_PTR_NULL(m2);
	metrics_free(m1);
	/* An address this host does not have. */
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 0, &a), 0);
	CU_ASSERT_PTR_NULL(metrics_new(&a, &src));
}

UNIT_SUITE(metrics, NULL, NULL,
	UNIT_TEST(test_answers),
	UNIT_TEST(test_server),
	UNIT_TEST(test_bind_failure))
