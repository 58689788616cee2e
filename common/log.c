/* log: leveled logging to stderr or syslog, and a lock-free rate limiter.
 *
 * Each line is formatted into a stack buffer and written with one write(2)
 * (or one syslog(3) call), so lines from different threads never mix. */
#include "build_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "common/log.h"
#include "common/monotime.h"

#define LOG_LINE_MAX 1024
#define LOG_IDENT_MAX 32

/* The module's single instance: set by log_init before threads start;
 * only the level changes afterwards, atomically. */
static char log_ident[LOG_IDENT_MAX] = "ntsd";
static enum log_target log_dest = LOG_TO_STDERR;
static bool log_stamp;
static _Atomic int cur_level = LOG_LVL_INFO;

static const char *const level_names[] = {
	[LOG_LVL_ERR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

static enum log_level clamp_level(enum log_level level)
{
	if ((int)level < LOG_LVL_ERR)
		return LOG_LVL_ERR;
	if (level > LOG_LVL_DEBUG)
		return LOG_LVL_DEBUG;
	return level;
}

void log_init(const char *ident, enum log_target target, enum log_level level)
{
	if (ident && *ident)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_dest = target;
	log_set_level(level);
	/* A timestamp helps someone watching a terminal; journald and
	 * syslog add their own. */
	log_stamp = target == LOG_TO_STDERR && isatty(STDERR_FILENO);
	if (target == LOG_TO_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&cur_level, (int)clamp_level(level), memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&cur_level, memory_order_relaxed);
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load_explicit(&cur_level, memory_order_relaxed);
}

int log_level_parse(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

static int syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERR:
		return LOG_ERR;
	case LOG_LVL_WARN:
		return LOG_WARNING;
	case LOG_LVL_NOTICE:
		return LOG_NOTICE;
	case LOG_LVL_INFO:
		return LOG_INFO;
	case LOG_LVL_DEBUG:
		break;
	}
	return LOG_DEBUG;
}

/* Messages may quote network input: never let it forge lines or send
 * terminal escapes. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

static void emit(enum log_level level, const char *msg)
{
	char line[LOG_LINE_MAX + 128];
	size_t off = 0;
	int n;

	level = clamp_level(level);
	if (log_dest == LOG_TO_SYSLOG) {
		syslog(syslog_priority(level), "%s", msg);
		return;
	}
	if (log_stamp) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		off = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line + off, sizeof(line) - off, ".%03ldZ ",
			     (long)(ts.tv_nsec / 1000000));
		if (n > 0 && (size_t)n < sizeof(line) - off)
			off += (size_t)n;
	}
	n = snprintf(line + off, sizeof(line) - off, "%s[%ld]: %s: %s\n", log_ident,
		     (long)getpid(), level_names[level], msg);
	if (n < 0)
		return;
	off += (size_t)n;
	if (off >= sizeof(line)) {
		/* Truncated: keep the newline so the next line starts clean. */
		off = sizeof(line) - 1;
		line[off - 1] = '\n';
	}
	/* One write per line; a short write to stderr is not worth a retry
	 * loop that could interleave with other threads. */
	if (write(STDERR_FILENO, line, off) < 0)
		return;
}

static void vlog(enum log_level level, const char *suffix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vlog(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (suffix && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", suffix);
	sanitize(msg);
	emit(level, msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vlog(level, NULL, fmt, ap);
	va_end(ap);
}

void log_errno(enum log_level level, const char *fmt, ...)
{
	int saved = errno;
	char ebuf[128];
	const char *estr;
	va_list ap;

	if (!log_enabled(level)) {
		errno = saved;
		return;
	}
	estr = strerror_r(saved, ebuf, sizeof(ebuf));
	va_start(ap, fmt);
	vlog(level, estr, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_openssl(enum log_level level, const char *what)
{
	unsigned long e;
	const char *data;
	int flags;
	char buf[256];
	bool any = false;

	/* Drain even when the level is off: a stale queue would be blamed on
	 * the next unrelated failure. */
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		any = true;
		if (!log_enabled(level))
			continue;
		ERR_error_string_n(e, buf, sizeof(buf));
		if (data && *data && (flags & ERR_TXT_STRING))
			log_msg(level, "%s: %s (%s)", what, buf, data);
		else
			log_msg(level, "%s: %s", what, buf);
	}
	if (!any)
		log_msg(level, "%s: failed (no OpenSSL error queued)", what);
}

const char *log_openssl_reason(char *buf, size_t len, const char *fallback)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last)
		ERR_error_string_n(last, buf, len);
	else
		snprintf(buf, len, "%s", fallback);
	return buf;
}

bool log_ratelimit_ok(struct log_ratelimit *rl)
{
	/* +1: a window_start of 0 means "no window yet". */
	int64_t now = monotime_ms() / 1000 + 1;
	int64_t start = atomic_load_explicit(&rl->window_start, memory_order_relaxed);

	if (start == 0 || now - start >= (int64_t)rl->interval_s) {
		/* One thread wins the new window and takes its first slot;
		 * the others count against it. */
		if (atomic_compare_exchange_strong_explicit(&rl->window_start, &start, now,
							    memory_order_relaxed,
							    memory_order_relaxed)) {
			atomic_store_explicit(&rl->count, 1, memory_order_relaxed);
			return rl->burst > 0;
		}
	}
	/* Saturate instead of wrapping after 2^32 suppressed lines. */
	if (atomic_load_explicit(&rl->count, memory_order_relaxed) >= rl->burst)
		return false;
	return atomic_fetch_add_explicit(&rl->count, 1, memory_order_relaxed) < rl->burst;
}
