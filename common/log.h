/* log: leveled logging to stderr (foreground) or syslog (daemon), and a
 * rate limiter for lines caused by network input or the hot path.
 * Thread-safe.  Never log secrets. */
#ifndef NTSD_LOG_H
#define NTSD_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

void log_init(const char *ident, enum log_target target, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);
/* "error", "warning", "notice", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *name);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends ": strerror(errno)". */
void log_errno(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drain OpenSSL's error queue into the log, each line prefixed by what. */
void log_openssl(enum log_level level, const char *what);
/* Drain OpenSSL's error queue into buf (for a message of the caller's):
 * the text of the last error, or `fallback` when none is queued.  Returns
 * buf.  These two are the only readers of the queue. */
const char *log_openssl_reason(char *buf, size_t len, const char *fallback);

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_enabled(LOG_LVL_DEBUG)) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

/* At most `burst` lines per `interval_s` seconds per limiter; lock-free. */
struct log_ratelimit {
	_Atomic int64_t window_start;
	_Atomic uint32_t count;
	uint32_t burst;
	uint32_t interval_s;
};
#define LOG_RATELIMIT_INIT(burst_, interval_) { 0, 0, (burst_), (interval_) }
bool log_ratelimit_ok(struct log_ratelimit *rl);

/* Log at `level` if the limiter allows. */
#define log_limited(rl, level, ...) \
	do { if (log_enabled(level) && log_ratelimit_ok(rl)) log_msg((level), __VA_ARGS__); } while (0)

#endif
