/* ntsctl stats: ntsd's /metrics and /health as a table. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/monotime.h"
#include "common/netaddr.h"
#include "tools/hostport.h"
#include "tools/json.h"
#include "tools/ntsctl.h"
#include "tools/stats.h"

#define STATS_DEFAULT_PORT 9123
#define STATS_MAX_LINE 2048
#define STATS_MAX_HEADERS 16384

/* ---------------------------------------------------------------- parsing */

/* Next byte without taking it; -1 at the end. */
static int peek(const struct buf_reader *r)
{
	if (r->err || buf_remaining(r) == 0)
		return -1;
	return r->p[r->off];
}

static bool take(struct buf_reader *r, int c)
{
	uint8_t b;

	if (peek(r) != c)
		return false;
	return buf_get_u8(r, &b);
}

int stats_http_split(const char *resp, size_t len, int *status, const char **body,
		     size_t *body_len)
{
	static const char prefix[] = "HTTP/1.";
	struct buf_reader r;
	uint8_t c, d[3];
	uint32_t last = 0;

	*status = 0;	/* defined for the caller on every failure too */
	buf_reader_init(&r, resp, len);
	for (size_t i = 0; i < sizeof(prefix) - 1; i++)
		if (!buf_get_u8(&r, &c) || c != (uint8_t)prefix[i])
			return -1;
	if (!buf_get_u8(&r, &c) || (c != '0' && c != '1') || !take(&r, ' ') ||
	    !buf_get_bytes(&r, d, 3))
		return -1;
	for (int i = 0; i < 3; i++)
		if (d[i] < '0' || d[i] > '9')
			return -1;
	*status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	/* Headers end at the first empty line (CRLF CRLF, or bare LFs). */
	while (r.off < STATS_MAX_HEADERS && buf_get_u8(&r, &c)) {
		last = last << 8 | c;
		if (last == 0x0d0a0d0a || (last & 0xffff) == 0x0a0a) {
			*body = resp + r.off;
			*body_len = buf_remaining(&r);
			return 0;
		}
	}
	return -1;
}

static bool is_name_char(int c, bool metric)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || (metric && c == ':');
}

/* A name into out (cap bytes, NUL included). */
static bool get_name(struct buf_reader *r, char *out, size_t cap, bool metric)
{
	size_t n = 0;
	uint8_t c;

	while (is_name_char(peek(r), metric)) {
		if (n + 1 >= cap || !buf_get_u8(r, &c))
			return false;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n > 0 && !(out[0] >= '0' && out[0] <= '9');
}

static bool append(char *out, size_t cap, size_t *n, char c)
{
	if (*n + 1 >= cap)
		return false;
	out[(*n)++] = c;
	out[*n] = '\0';
	return true;
}

/* {a="x",b="y"} -> "a=x,b=y" */
static bool get_labels(struct buf_reader *r, char *out, size_t cap)
{
	size_t n = 0;
	uint8_t c;

	out[0] = '\0';
	if (!take(r, '{'))
		return true;
	while (!take(r, '}')) {
		char name[STATS_MAX_NAME];

		if (n && !append(out, cap, &n, ','))
			return false;
		if (!get_name(r, name, sizeof(name), false) || !take(r, '=') || !take(r, '"'))
			return false;
		for (const char *p = name; *p; p++)
			if (!append(out, cap, &n, *p))
				return false;
		if (!append(out, cap, &n, '='))
			return false;
		for (;;) {
			if (!buf_get_u8(r, &c))
				return false;
			if (c == '"')
				break;
			if (c == '\\') {
				if (!buf_get_u8(r, &c) || (c != '\\' && c != '"' && c != 'n'))
					return false;
				if (c == 'n')
					c = '\n';
			}
			if (!append(out, cap, &n, (char)c))
				return false;
		}
		/* A comma may follow the last label. */
		if (!take(r, ',') && peek(r) != '}')
			return false;
	}
	return true;
}

static bool get_value(struct buf_reader *r, double *out)
{
	char tok[64], *end;
	size_t n = 0;
	uint8_t c;

	while (peek(r) > ' ') {
		if (n + 1 >= sizeof(tok) || !buf_get_u8(r, &c))
			return false;
		tok[n++] = (char)c;
	}
	tok[n] = '\0';
	if (n == 0)
		return false;
	if (strcmp(tok, "NaN") == 0 || strcmp(tok, "+Inf") == 0 || strcmp(tok, "-Inf") == 0) {
		*out = strtod(tok[0] == 'N' ? "nan" : tok[0] == '+' ? "inf" : "-inf", NULL);
		return true;
	}
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789.eE+-", tok[i]))
			return false;
	errno = 0;
	*out = strtod(tok, &end);
	return *end == '\0' && errno != EINVAL;
}

/* A whole line; an optional timestamp after the value is ignored. */
static bool parse_sample(struct buf_reader *r, struct stats_sample *s)
{
	double ts;

	if (!get_name(r, s->name, sizeof(s->name), true) ||
	    !get_labels(r, s->labels, sizeof(s->labels)) || !take(r, ' '))
		return false;
	while (take(r, ' '))
		;
	if (!get_value(r, &s->value))
		return false;
	while (take(r, ' '))
		;
	if (buf_remaining(r) && !get_value(r, &ts))
		return false;
	while (take(r, ' '))
		;
	return buf_remaining(r) == 0 && !r->err;
}

/* "# TYPE name counter": remember which family is a counter. */
static void parse_comment(struct buf_reader *r, char *family, size_t cap, bool *counter)
{
	static const char type[] = "# TYPE ";
	uint8_t c;

	for (size_t i = 0; i < sizeof(type) - 1; i++)
		if (!buf_get_u8(r, &c) || c != (uint8_t)type[i])
			return;
	const uint8_t *word;

	if (!get_name(r, family, cap, true) || !take(r, ' ')) {
		family[0] = '\0';
		return;
	}
	*counter = buf_remaining(r) == 7 && buf_get_span(r, 7, &word) &&
		   memcmp(word, "counter", 7) == 0;
}

int stats_parse(const char *text, size_t len, struct stats_sample *out, size_t max, size_t *n,
		size_t *bad_line)
{
	struct buf_reader r;
	char family[STATS_MAX_NAME] = "";
	bool counter = false;
	size_t line_no = 0;

	*n = 0;
	*bad_line = 0;
	buf_reader_init(&r, text, len);
	while (buf_remaining(&r) > 0) {
		struct buf_reader line;
		size_t start = r.off, llen = 0;
		uint8_t c;

		line_no++;
		while (buf_get_u8(&r, &c) && c != '\n')
			llen++;
		if (llen && text[start + llen - 1] == '\r')
			llen--;
		buf_reader_init(&line, text + start, llen);
		if (llen == 0)
			continue;
		if (peek(&line) == '#') {
			parse_comment(&line, family, sizeof(family), &counter);
			continue;
		}
		if (llen > STATS_MAX_LINE || *n == max || !parse_sample(&line, &out[*n])) {
			*bad_line = line_no;
			return -1;
		}
		out[*n].counter = counter && strcmp(out[*n].name, family) == 0;
		(*n)++;
	}
	return 0;
}

/* ---------------------------------------------------------------- HTTP */

/* Wait for fd until the deadline.  0 ready, -1 timeout or error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline - monotime_ms();
		int r;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static void io_error(const char *host, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", host,
		 errno == ETIMEDOUT ? "no answer within 5 s" : strerror(errno));
}

/* GET path; the whole response (at most STATS_MAX_RESPONSE bytes) in a
 * malloc'd buffer.  0 or -1 with err set. */
static int http_get(const struct netaddr *a, const char *path, char **resp, size_t *len,
		    char *err, size_t errlen)
{
	int64_t deadline = monotime_ms() + STATS_TIMEOUT_MS;
	char req[256], host[NETADDR_STRLEN];
	size_t sent = 0, n = 0;
	char *buf = NULL;
	int fd, soerr = 0, rc = -1;
	socklen_t sl = sizeof(soerr);

	netaddr_str(a, host, sizeof(host));
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: ntsctl/%s\r\n"
		 "Connection: close\r\n\r\n", path, host, PACKAGE_VERSION);
	fd = socket(netaddr_family(a), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, &a->u.sa, a->len) < 0 &&
	    (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) < 0 ||
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || (errno = soerr) != 0)) {
		snprintf(err, errlen, "%s: cannot connect: %s", host, strerror(errno));
		goto out;
	}
	while (sent < strlen(req)) {
		ssize_t w = send(fd, req + sent, strlen(req) - sent, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR) &&
		    wait_fd(fd, POLLOUT, deadline) == 0)
			continue;
		if (w < 0) {
			io_error(host, err, errlen);
			goto out;
		}
		sent += (size_t)w;
	}
	buf = malloc(STATS_MAX_RESPONSE + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (n == STATS_MAX_RESPONSE) {
			snprintf(err, errlen, "%s: response larger than %d bytes", host,
				 STATS_MAX_RESPONSE);
			goto out;
		}
		r = recv(fd, buf + n, STATS_MAX_RESPONSE - n, 0);
		if (r == 0)
			break;
		if (r < 0 && (errno == EAGAIN || errno == EINTR) &&
		    wait_fd(fd, POLLIN, deadline) == 0)
			continue;
		if (r < 0) {
			io_error(host, err, errlen);
			goto out;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*resp = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- output */

static void human_duration(double s, char *out, size_t cap)
{
	const char *sign = s < 0 ? "-" : "";
	long long v = (long long)(s < 0 ? -s : s);

	if (v >= 86400)
		snprintf(out, cap, "%s%lldd %02lldh", sign, v / 86400, v % 86400 / 3600);
	else if (v >= 3600)
		snprintf(out, cap, "%s%lldh %02lldm", sign, v / 3600, v % 3600 / 60);
	else if (v >= 60)
		snprintf(out, cap, "%s%lldm %02llds", sign, v / 60, v % 60);
	else
		snprintf(out, cap, "%s%llds", sign, v);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *find_label(const struct stats_sample *s, size_t n, const char *name,
			      const char *prefix)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0 && strncmp(s[i].labels, prefix, strlen(prefix)) == 0)
			return s[i].labels + strlen(prefix);
	return NULL;
}

static const struct stats_sample *find(const struct stats_sample *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0)
			return &s[i];
	return NULL;
}

/* Rows are grouped by subsystem: "ntsd_ke_events_total" -> "ke"; names
 * of no subsystem (build_info, healthy, ...) form one group. */
static const char *group_of(const char *name)
{
	static const char *const groups[] = { "ntp_", "xdp_", "ke_", "keyset_", "clock_", "access_",
						"reclaim_" };
	const char *p = strncmp(name, "ntsd_", 5) == 0 ? name + 5 : name;

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (strncmp(p, groups[i], strlen(groups[i])) == 0)
			return groups[i];
	return "";
}

/* What the server sent, made safe for a terminal. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static void print_table(const struct stats_sample *s, size_t n, bool all)
{
	const char *group = NULL;
	char val[64], human[32];
	size_t hidden = 0;

	printf("%-32s %-36s %12s\n", "METRIC", "LABELS", "VALUE");
	for (size_t i = 0; i < n; i++) {
		const char *name = strncmp(s[i].name, "ntsd_", 5) == 0 ? s[i].name + 5 : s[i].name;
		char labels[STATS_MAX_LABELS];

		/* Zero counters of a breakdown are noise: --all shows them. */
		if (!all && s[i].counter && s[i].labels[0] && s[i].value == 0) {
			hidden++;
			continue;
		}
		snprintf(labels, sizeof(labels), "%s", s[i].labels);
		printable(labels);
		if (group && strcmp(group_of(s[i].name), group) != 0)
			printf("\n");
		group = group_of(s[i].name);
		if (s[i].value == (double)(long long)s[i].value && s[i].value < 1e15 &&
		    s[i].value > -1e15)
			snprintf(val, sizeof(val), "%lld", (long long)s[i].value);
		else
			snprintf(val, sizeof(val), "%.6g", s[i].value);
		human[0] = '\0';
		if (ends_with(s[i].name, "_time_seconds"))
			human_duration((double)time(NULL) - s[i].value, human, sizeof(human));
		else if (ends_with(s[i].name, "_seconds") && (s[i].value >= 60 || s[i].value <= -60))
			human_duration(s[i].value, human, sizeof(human));
		if (ends_with(s[i].name, "_time_seconds") && human[0])
			snprintf(human + strlen(human), sizeof(human) - strlen(human), " ago");
		printf("%-32s %-36s %12s%s%s\n", name, labels, val, human[0] ? "  " : "",
		       human);
	}
	if (hidden)
		printf("\n(%zu zero counters not shown; --all shows them)\n", hidden);
}

/* ---------------------------------------------------------------- command */

/* ADDRESS[:PORT] into a; -1 with the reason printed. */
static int parse_target(const char *s, struct netaddr *a)
{
	char host[NETADDR_STRLEN], err[HOSTPORT_ERR_MAX];
	uint16_t port;

	if (hostport_parse(s, host, sizeof(host), &port, err, sizeof(err)) < 0) {
		fprintf(stderr, "ntsctl: stats: %s\n", err);
		return -1;
	}
	if (netaddr_parse(host, port ? port : STATS_DEFAULT_PORT, a) < 0) {
		fprintf(stderr, "ntsctl: stats: bad address '%s' (ADDRESS[:PORT], e.g. %s or "
				"[::1]:9123)\n", s, STATS_DEFAULT_TARGET);
		return -1;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "Usage: ntsctl stats [ADDRESS[:PORT]] [--all] [--raw | --json]\n");
	return NTSCTL_USAGE;
}

/* "ntsd VERSION at WHERE, up UPTIME" from the build-info and start-time
 * series. */
static void print_identity(const struct stats_sample *samples, size_t n, const char *where)
{
	const char *v = find_label(samples, n, "ntsd_build_info", "version=");
	const struct stats_sample *st = find(samples, n, "ntsd_start_time_seconds");
	char up[32] = "", version[64];

	snprintf(version, sizeof(version), "%s", v ? v : "?");
	printable(version);
	if (st)
		human_duration((double)time(NULL) - st->value, up, sizeof(up));
	printf("ntsd %s at %s%s%s\n", version, where, up[0] ? ", up " : "", up);
}

#define HEALTH_REASON_MAX 201

/* /health's HTTP status, and in reason the first line of its body (made
 * printable); 0 when there was no HTTP answer, reason saying why. */
static int health_get(const struct netaddr *a, char reason[HEALTH_REASON_MAX])
{
	char *resp = NULL;
	const char *body;
	size_t len, body_len;
	int status = 0;

	/* A failed http_get leaves its reason in reason. */
	if (http_get(a, "/health", &resp, &len, reason, HEALTH_REASON_MAX) == 0) {
		if (stats_http_split(resp, len, &status, &body, &body_len) == 0) {
			snprintf(reason, HEALTH_REASON_MAX, "%.*s", (int)strcspn(body, "\r\n"),
				 body);
		} else {
			status = 0;
			snprintf(reason, HEALTH_REASON_MAX, "not an HTTP response");
		}
	}
	printable(reason);
	free(resp);
	return status;
}

/* The exit status a /health answer gives (ntsctl(8)): 200 healthy, any
 * other status unhealthy, no answer a failure. */
static int health_exit(int status)
{
	if (status == 200)
		return NTSCTL_OK;
	return status ? NTSCTL_UNHEALTHY : NTSCTL_FAIL;
}

/* One line from /health: its status and the first line of its body.
 * Returns the exit status it gives. */
static int print_health(const struct netaddr *a)
{
	char reason[HEALTH_REASON_MAX];
	int status = health_get(a, reason);

	if (status == 0)
		printf("health: unknown (%s)\n\n", reason);
	else
		printf("health: %s (HTTP %d: %s)\n\n", status == 200 ? "healthy" : "UNHEALTHY",
		       status, reason);
	return health_exit(status);
}

/* --raw: the exit status /health gives, and a line on stderr unless healthy. */
static int check_health(const struct netaddr *a, const char *where)
{
	char reason[HEALTH_REASON_MAX];
	int status = health_get(a, reason);

	if (status == 0)
		fprintf(stderr, "ntsctl: stats: %s: /health: %s\n", where, reason);
	else if (status != 200)
		fprintf(stderr, "ntsctl: stats: %s: UNHEALTHY (HTTP %d: %s)\n", where, status,
			reason);
	return health_exit(status);
}

/* The /metrics body parsed (*n samples; free() them), or NULL with the
 * reason on stderr. */
static struct stats_sample *load_samples(const char *body, size_t body_len, const char *where,
					 size_t *n)
{
	struct stats_sample *samples = calloc(STATS_MAX_SAMPLES, sizeof(*samples));
	size_t bad;

	if (!samples) {
		fprintf(stderr, "ntsctl: stats: out of memory\n");
		return NULL;
	}
	if (stats_parse(body, body_len, samples, STATS_MAX_SAMPLES, n, &bad) < 0) {
		fprintf(stderr, "ntsctl: stats: %s: /metrics line %zu is malformed\n", where, bad);
		free(samples);
		return NULL;
	}
	return samples;
}

/* Parse the /metrics body and print the summary. */
static int print_summary(const char *body, size_t body_len, const struct netaddr *a,
			 const char *where, bool all)
{
	size_t n;
	struct stats_sample *samples = load_samples(body, body_len, where, &n);
	int rc;

	if (!samples)
		return NTSCTL_FAIL;
	print_identity(samples, n, where);
	rc = print_health(a);
	print_table(samples, n, all);
	free(samples);
	return rc;
}

/* --json: what the summary shows, every sample included (as with --all). */
static int print_json(const char *body, size_t body_len, const struct netaddr *a,
		      const char *where)
{
	size_t n;
	struct stats_sample *samples = load_samples(body, body_len, where, &n);
	const struct stats_sample *st;
	const char *v;
	char reason[HEALTH_REASON_MAX];
	struct json_out j;
	int status;

	if (!samples)
		return NTSCTL_FAIL;
	status = health_get(a, reason);
	v = find_label(samples, n, "ntsd_build_info", "version=");
	st = find(samples, n, "ntsd_start_time_seconds");
	json_begin(&j, stdout);
	json_object(&j, "ntsd");
	json_string(&j, "version", v ? v : "?");
	json_string(&j, "address", where);
	if (st) {
		json_number(&j, "start_time_seconds", st->value);
		json_number(&j, "uptime_seconds", (double)time(NULL) - st->value);
	}
	json_close(&j);
	json_object(&j, "health");
	json_string(&j, "status", status == 200 ? "healthy" : status ? "unhealthy" : "unknown");
	if (status)
		json_uint(&j, "http_status", (unsigned)status);
	else
		json_null(&j, "http_status");
	json_string(&j, "reason", reason);
	json_close(&j);
	json_array(&j, "metrics");
	for (size_t i = 0; i < n; i++) {
		json_object(&j, NULL);
		json_string(&j, "name", samples[i].name);
		json_string(&j, "labels", samples[i].labels);
		json_number(&j, "value", samples[i].value);
		json_bool(&j, "counter", samples[i].counter);
		json_close(&j);
	}
	json_close(&j);
	json_finish(&j);
	free(samples);
	return health_exit(status);
}

/* -1: go on; otherwise the exit status of a usage error. */
static int stats_args(int argc, char **argv, const char **target, bool *all, bool *raw,
		      bool *json)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "raw", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'a')
			*all = true;
		else if (opt == 'r')
			*raw = true;
		else if (opt == 'j')
			*json = true;
		else
			return usage();
	}
	if (optind < argc - 1 || (*raw && *json))
		return usage();
	if (optind == argc - 1)
		*target = argv[optind];
	return -1;
}

int ntsctl_stats(int argc, char **argv)
{
	const char *target = STATS_DEFAULT_TARGET, *body;
	char *resp = NULL, err[512], where[NETADDR_STRLEN];
	size_t len, body_len;
	bool all = false, raw = false, json = false;
	struct netaddr a;
	int status, rc = stats_args(argc, argv, &target, &all, &raw, &json);

	if (rc >= 0)
		return rc;
	if (parse_target(target, &a) < 0)
		return NTSCTL_USAGE;
	netaddr_str(&a, where, sizeof(where));
	rc = NTSCTL_FAIL;
	if (http_get(&a, "/metrics", &resp, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "ntsctl: stats: %s (is metrics-listen set in ntsd.conf?)\n", err);
		goto out;
	}
	if (stats_http_split(resp, len, &status, &body, &body_len) < 0 || status != 200) {
		fprintf(stderr, "ntsctl: stats: %s: /metrics: %s\n", where,
			status ? "unexpected HTTP status" : "not an HTTP response");
		goto out;
	}
	if (raw) {
		fwrite(body, 1, body_len, stdout);
		rc = check_health(&a, where);
	} else if (json) {
		rc = print_json(body, body_len, &a, where);
	} else {
		rc = print_summary(body, body_len, &a, where, all);
	}
out:
	free(resp);
	return rc;
}
